"""In-place changes with PyTorch's semantics, on a graph whose tensors are
its nodes.

``y op= x`` on a recorded tensor makes ``y`` the new node (AddBackward0 for
``y += 1``) and moves the node ``y`` was into a fresh tensor, ``before``.
Nodes recorded earlier still name ``y`` as their input; the backward pass
finds, from the tensor's history (``hooks.CHANGES``), the node ``y`` was when
they were recorded, and follows that edge (``as_recorded``).  As in PyTorch,
the pass refuses only where a node saved a value that has changed since:
an input its rules read (``grad_fn.saved``), or its own output, changed by a
later in-place operation (the node's rules are then replaced by ones that
raise: ``outdate``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.engine import hooks as H
from diffcli.engine.dtypes import type_name
from diffcli.engine.grad_fn import is_custom, needed, saved
from diffcli.engine.table import PRIMITIVES
from diffcli.engine.tensor import GradMode, Tensor, _unwrap_index, apply
from diffcli.errors import DiffcliError

LEAF_MESSAGE = (
    "a leaf Variable that requires grad is being used in an in-place operation. "
    "Change a copy (x.clone()), or change it under dc.no_grad()"
)
MODIFIED = (
    "one of the variables needed for gradient computation has been modified by an "
    "inplace operation: [{what}], {which}is at version {now}; expected version "
    "{then} instead. Compute it again after the change, or change a copy "
    "(x.clone()) instead"
)


def setitem(self: Tensor, index: Any, value: Any) -> None:
    """``self[index] = value``: recorded as CopySlices when a graph is kept."""
    index = _unwrap_index(index)
    records = GradMode.enabled and (
        self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    )
    if not records:
        if not self._data.flags.writeable:
            self._data = np.array(self._data)
        self._data[index] = value._data if isinstance(value, Tensor) else value
        written(self)
        return
    if self._prim is None and self._requires_grad:
        raise DiffcliError(LEAF_MESSAGE)
    before = retire(self)
    operand = before if value is self else value
    out = apply(PRIMITIVES["index_put"], before, operand, index=index)
    become(self, out, before, aliased=value is self)


def assign(
    self: Tensor, compute: Callable[..., Tensor], operands: tuple = ()
) -> Tensor:
    """``self := compute(self, *operands)`` in place (``y += x``, ``y.exp_()``).
    When recorded, self becomes the op's node, computed from its old node."""
    tracked = self._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in operands
    )
    if not (GradMode.enabled and tracked) or (
        self._prim is None and self._requires_grad
    ):
        setitem(self, ..., compute(self, *operands))  # a plain write, or the leaf error
        return self
    before = retire(self)
    out = compute(before, *(before if o is self else o for o in operands))
    if out.shape != self.shape:
        raise DiffcliError(
            f"output with shape {list(self.shape)} doesn't match the broadcast "
            f"shape {list(out.shape)}"
        )
    if out.dtype != self.dtype:
        out = apply(PRIMITIVES["cast"], out, dtype=self.dtype)
    become(self, out, before, aliased=any(o is self for o in operands))
    return self


_SLOT = object()  # where a tensor argument goes back in


def binary(prim: Any) -> Callable[[Tensor, Any], Tensor]:
    """The in-place operator of a two-input primitive (``__iadd__``, ``add_``)."""

    def method(self: Tensor, other: Any) -> Tensor:
        return assign(self, lambda a, b: apply(prim, a, b), (other,))

    return method


def method_(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``x.name_(...)`` from ``dc.name``: the result written into ``x``."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        operands = tuple(a for a in args if isinstance(a, Tensor))
        rest = [_SLOT if isinstance(a, Tensor) else a for a in args]

        def compute(x: Tensor, *tensors: Tensor) -> Tensor:
            it = iter(tensors)
            call = [next(it) if a is _SLOT else a for a in rest]
            return function(x, *call, **kwargs)

        return assign(self, compute, operands)

    method.__name__ = method.__qualname__ = function.__name__ + "_"
    return method


def retire(self: Tensor) -> Tensor:
    """Move ``self``'s node into a new tensor, which keeps the old values;
    a node whose rules read its output can no longer run (its output is
    about to change), as PyTorch's version check says."""
    before = Tensor._wrap(self._data)
    before._take(self)
    if self._prim is not None:
        if H.EXTRAS.data:
            H.move_node(self, before)
        if not is_custom(before) and saved(before)[1]:
            outdate(before, None, _describe(self, 1, 0))
    return before


def become(self: Tensor, out: Tensor, before: Tensor, aliased: bool) -> None:
    """``self`` takes ``out``'s node after an in-place change.  ``aliased``:
    the operand was ``self`` itself (``d *= d``), a value PyTorch saves and
    then finds changed by this very operation."""
    self._take(out)
    changes = self._bump()
    changes.history.append((self._tick, before))
    if aliased and saved(self)[0] - {0}:
        outdate(self, None, _describe(self, changes.edits, changes.edits - 1))


def fill_(self: Tensor, value: float) -> Tensor:
    """Fill in place (the idiom to reset ``.grad``): views such as ``.data``
    see the change.  Recorded on a tensor in a graph (no gradient flows back
    through the old values), refused on a leaf that requires grad."""
    if GradMode.enabled and self._requires_grad:
        setitem(self, ..., value)
        return self
    if self._data.flags.writeable:
        self._data[...] = value
    else:
        self._data = np.full_like(self._data, value)
    written(self)
    return self


def zero_(self: Tensor) -> Tensor:
    return fill_(self, 0)


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Write ``src`` (broadcast) into ``self``; recorded, the gradient goes
    to ``src`` only."""
    setitem(self, ..., src)
    return self


def written(self: Tensor) -> None:
    """``self``'s memory was written without recording (no_grad, no graph)."""
    changes = self._bump()
    if self._prim is not None and not is_custom(self) and saved(self)[1]:
        outdate(self, None, _describe(self, changes.edits, changes.edits - 1))


# --- the backward pass's side: edges as recorded ---------------------------------


def as_recorded(node: Tensor, x: Tensor) -> Tensor:
    """The tensor ``x`` was when ``node`` recorded it (``x`` changed in place
    since): raise if a rule that will run reads that value, as PyTorch
    does; else point the node's edge at it."""
    inputs = node._inputs
    positions = [k for k, y in enumerate(inputs) if y is x]
    read = set() if is_custom(node) else saved(node)[0]
    if read.intersection(positions):
        changes = H.CHANGES.get(x)
        now = 0 if changes is None else changes.edits
        then = now - (0 if changes is None else changes.since(node._tick))
        raise DiffcliError(MODIFIED.format(**_what(x, now, then)))
    changes = H.CHANGES.get(x)
    recorded = x
    if changes is not None:
        for tick, prior in reversed(changes.history):
            if node._tick >= tick:
                break
            recorded = prior
    if recorded is not x:
        node._inputs = tuple(recorded if y is x else y for y in inputs)
    return recorded


def outdate(node: Tensor, rules: set[int] | None, message: str) -> None:
    """Replace ``node``'s rules (all, or those of ``rules``) by ones that
    raise ``message``: a value they read has changed."""
    prim = node._prim
    wanted = set(needed(node)) if rules is None else rules

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise DiffcliError(message)

    vjps = prim.vjps
    if isinstance(vjps, tuple):
        new: Any = tuple(refuse if j in wanted else r for j, r in enumerate(vjps))
    else:
        new = _variadic_refusing(vjps, wanted, refuse)
    node._prim = dataclasses.replace(prim, vjps=new)


def _variadic_refusing(rule: Callable, wanted: set[int], refuse: Callable):
    def variadic(argnum: int, *args: Any, **kwargs: Any) -> Any:
        return (refuse if argnum in wanted else rule)(argnum, *args, **kwargs)

    return variadic


def _describe(t: Tensor, now: int, then: int) -> str:
    return MODIFIED.format(**_what(t, now, then))


def _what(t: Tensor, now: int, then: int) -> dict[str, Any]:
    fn = t.grad_fn
    op = None if fn is None else re.sub(r"Backward\d*$", "", fn.name())
    return {
        "what": f"{type_name(t.dtype)} {list(t.shape)}",
        "which": "" if fn is None else f"which is output 0 of {op}, ",
        "now": now,
        "then": then,
    }
