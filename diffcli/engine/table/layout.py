"""THE table, arranging elements: cat (concatenate), flip, roll and repeat.
Each moves values without computing any, so each rule moves the cotangent
back (CatBackward0 slices it, FlipBackward0 flips it again, ...)."""

from __future__ import annotations

import numpy as np

from diffcli.engine import shapes as S
from diffcli.engine.composites import shape_arg
from diffcli.engine.table.declare import composite, define, primitive
from diffcli.errors import DiffcliError

_SHAPE = {"category": "shape"}
_VIEW = {"saves_inputs": False, "reads_ans": False}


def _cat_vjp(i, F, g, ans, *xs, axis=0):
    """The i-th input's part of g: its slice along ``axis``."""
    d = axis % np.ndim(g)
    sizes = [np.shape(x)[d] for x in xs]
    start = sum(sizes[:i])
    index = (slice(None),) * d + (slice(start, start + sizes[i]),)
    return F.getitem(g, index=index)


primitive(
    "cat",
    lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    _cat_vjp,
    shape=S.concatenated,
    **_VIEW,
)


def _cat(F, tensors, dim=0):
    if not tensors:
        raise DiffcliError("cat expects a non-empty list of tensors")
    return F.op("cat", *tensors, axis=dim)


composite(
    "cat(tensors: tensors, dim: int = 0)",
    "tensors joined end to end along dim (their sizes there add up)",
    _cat,
    aliases=("concatenate", "concat"),
    method=False,
    **_SHAPE,
)
define(
    "flip(input: T, dims: dims)",
    "the order of the elements reversed along dims",
    lambda x, dims: np.flip(x, axis=dims),
    (lambda F, g, ans, x, dims: F.flip(g, dims=dims),),
    shape=S.same_along,
    **_VIEW,
    **_SHAPE,
)


def _roll_vjp(F, g, ans, x, shifts, dims=None):
    back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return F.roll(g, shifts=back, dims=dims)


define(
    "roll(input: T, shifts: dims, dims: dims = None)",
    "elements shifted by shifts along dims, wrapping around (no dims: the "
    "flattened elements, then the shape back)",
    lambda x, shifts, dims=None: np.roll(x, shifts, axis=dims),
    (_roll_vjp,),
    shape=S.same_along,
    body=lambda F, x, shifts, dims=None: _roll(F, x, shifts, dims),
    **_VIEW,
    **_SHAPE,
)


def _roll(F, x, shifts, dims):
    count = 1 if isinstance(shifts, int) else len(shifts)
    if dims is not None and count != (1 if isinstance(dims, int) else len(dims)):
        raise DiffcliError(
            f"roll: shifts and dims must match in length, got {shifts} and {dims}"
        )
    return F.op("roll", x, shifts=shifts, dims=dims)


def _repeat_vjp(F, g, ans, x, sizes):
    """Each copy's cotangent summed back: g viewed as (count, size) pairs."""
    shape = (1,) * (len(sizes) - np.ndim(x)) + tuple(np.shape(x))
    pairs = tuple(
        n for count, size in zip(sizes, shape, strict=True) for n in (count, size)
    )
    total = F.sum(F.reshape(g, shape=pairs), dim=tuple(range(0, len(pairs), 2)))
    return F.reshape(total, shape=np.shape(x))


define(
    "repeat(input: T, *sizes: int)",
    "input tiled: each dimension repeated sizes[i] times (leading sizes add "
    "dimensions)",
    lambda x, sizes: np.tile(x, sizes),
    (_repeat_vjp,),
    shape=S.tiled,
    body=lambda F, x, sizes: F.op("repeat", x, sizes=shape_arg(sizes)),
    **_VIEW,
    **_SHAPE,
)
