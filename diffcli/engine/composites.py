"""Bodies of table functions that take more than one line: argument checks
and choices made before a primitive runs, and functions built from others.

Each is ``body(F, *arguments in signature order)`` and is written with ``F``
only (``F.op`` for a primitive, ``F.name`` for another function), so the same
body runs on engine tensors and on SymPy arrays.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError

MaxResult = namedtuple("MaxResult", ["values", "indices"])
MAX_CONSTRUCTED_ELEMENTS = 10_000_000  # ones/zeros/eye/arange/linspace output


def clamp(F, x, min=None, max=None):
    if min is None and max is None:
        raise DiffcliError("clamp needs min or max")
    return F.op("clamp", x, min=_number(min), max=_number(max))


def _number(v: Any) -> Any:
    """A bound given as a 0-d tensor is its value: bounds are constants."""
    return v if v is None or isinstance(v, int | float) else np.asarray(v).item()


def extreme(name: str):
    """max(x) / min(x), or along ``dim``: the gradient goes to the index the
    reduction picks (the first on a tie, as PyTorch's max(x, dim))."""

    def body(F, x, dim=None, keepdim=False):
        shape = np.shape(x)
        if 0 in shape:
            raise DiffcliError(f"{name} of an empty value")
        if dim is None or not shape:
            return F.op(f"a{name}", x, dim=None, keepdim=keepdim)
        return F.op(f"{name}_dim", x, dim=dim, keepdim=keepdim)

    return body


def extreme_api(name: str, index_fn):
    """PyTorch's max/min: a tensor second argument means maximum/minimum, and
    a dim gives (values, indices)."""
    plain = extreme(name)

    def body(F, x, dim=None, keepdim=False):
        if dim is not None and not isinstance(dim, int | np.integer):
            return F.op(f"{name}imum", x, dim)
        if np.size(x) == 0:
            raise DiffcliError(f"{name}() of an empty tensor has no value")
        values = plain(F, x, dim, keepdim)
        if dim is None:
            return values
        indices = index_fn(np.asarray(x), axis=dim, keepdims=keepdim)
        return MaxResult(values, F.constant(indices))

    return body


def all_dims(name: str):
    """amax/amin: no dim means every dim spelled out (PyTorch names that
    AmaxBackward0, where max() is MaxBackward1)."""

    def body(F, x, dim=None, keepdim=False):
        dim = tuple(range(np.ndim(x))) if dim is None else dim
        return F.op(name, x, dim=dim, keepdim=keepdim)

    return body


def mean(F, x, dim=None, keepdim=False):
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind in "iub":
        raise DiffcliError(
            "mean(): could not infer output dtype; input dtype must be floating "
            f"point, got {dtype}"
        )
    return F.op("mean", x, dim=dim, keepdim=keepdim)


def norm(F, x, p=2, dim=None, keepdim=False):
    """Vector norm over all elements (or ``dim``)."""
    if p in ("fro", None):
        p = 2
    if (
        isinstance(p, bool)
        or not isinstance(p, int | float | np.number)
        or not p > 0
        or not np.isfinite(p)
    ):
        raise DiffcliError(f"norm needs p > 0, got {p}")
    p = int(p) if float(p).is_integer() else float(p)
    return F.op("norm", x, dim=dim, keepdim=keepdim, p=p)


def transpose(F, x, dim0=None, dim1=None):
    """transpose(x, dim0, dim1) as PyTorch; transpose(x) swaps the last two
    dimensions (a matrix transpose), leaving a vector or scalar as it is."""
    if (dim0 is None) != (dim1 is None):
        raise DiffcliError("transpose() takes 1 or 3 arguments, got 2")
    ndim = np.ndim(x)
    if dim0 is None:
        return x if ndim < 2 else F.op("mT", x)
    return x if ndim < 2 else F.op("transpose", x, dim0=dim0, dim1=dim1)


def t(F, x):
    return F.transpose(x, 0, 1) if np.ndim(x) == 2 else x


def shape_arg(size: tuple) -> tuple:
    """A shape as PyTorch takes it, ``f(2, 3)`` or ``f((2, 3))``, as one tuple."""
    if len(size) == 1 and not isinstance(size[0], int | np.integer):
        return tuple(size[0])
    return tuple(size)


def permute(F, x, dims):
    return F.op("permute", x, dims=shape_arg(dims))


def reshape(F, x, shape):
    shape = shape_arg(shape)
    _check_reshape(np.shape(x), shape)
    return F.op("reshape", x, shape=shape)


def _check_reshape(old: tuple, new: tuple) -> None:
    size = int(np.prod(old, dtype=np.int64))
    known = int(np.prod([n for n in new if n != -1], dtype=np.int64))
    free = sum(n == -1 for n in new)
    if free > 1 or any(n < -1 for n in new):
        raise DiffcliError(f"reshape: invalid shape {new}")
    fits = size % known == 0 if free and known else size == known
    if not fits:
        raise DiffcliError(f"reshape: shape {new} is invalid for {size} elements")


def flatten(F, x):
    return F.reshape(x, -1)


def squeezed(shape: tuple, dim=None) -> tuple:
    """torch.squeeze's shape: the axes of size 1 (of dim, if given) removed;
    an axis of dim whose size is not 1 stays, as in PyTorch."""
    if dim is None:
        return tuple(n for n in shape if n != 1)
    picked = {d % max(len(shape), 1) for d in np.atleast_1d(dim).tolist()}
    return tuple(n for i, n in enumerate(shape) if i not in picked or n != 1)


def expand(F, x, size):
    """broadcast_to, with -1 keeping that dimension's current size."""
    shape, current = shape_arg(size), np.shape(x)
    lead = len(shape) - len(current)
    shape = tuple(
        current[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape)
    )
    return F.op("broadcast_to", x, shape=shape)


def broadcast_to(F, x, shape):
    return F.op("broadcast_to", x, shape=shape_arg((shape,)))


def stack(F, tensors, dim=0):
    """Join values of one shape along a new axis, keeping their graphs."""
    if not tensors:
        raise DiffcliError("stack expects a non-empty list of tensors")
    shapes = {np.shape(x) for x in tensors}
    if len(shapes) > 1:
        raise DiffcliError(
            f"stack expects each tensor to be equal size, got {sorted(shapes)}"
        )
    return F.op("stack", *tensors, axis=dim)


def equal(F, a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def allclose(F, a, b, rtol=1e-5, atol=1e-8) -> bool:
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol))


# --- constant arrays: the values a user may type --------------------------------


def _check_count(name: str, count: float) -> int:
    if count > MAX_CONSTRUCTED_ELEMENTS:
        raise DiffcliError(
            f"{name}() would make {count:.0f} elements "
            f"(limit {MAX_CONSTRUCTED_ELEMENTS})"
        )
    return int(count)


def _sizes(name: str, sizes) -> tuple[int, ...]:
    if not sizes:
        raise DiffcliError(f"{name}() takes at least 1 argument, got 0")
    if any(n != int(n) or n < 0 for n in sizes):
        raise DiffcliError(f"{name}() sizes must be non-negative integers")
    sizes = tuple(int(n) for n in sizes)
    _check_count(name, float(np.prod(sizes, dtype=float)))
    return sizes


def ones(F, size):
    return F.constant(np.ones(_sizes("ones", shape_arg(size))))


def zeros(F, size):
    return F.constant(np.zeros(_sizes("zeros", shape_arg(size))))


def eye(F, n, m=None):
    n, m = _sizes("eye", (n, n if m is None else m))
    return F.constant(np.eye(n, m))


def arange(F, start, end=None, step=1.0):
    start, end = (0.0, start) if end is None else (start, end)
    if step == 0:
        raise DiffcliError("arange step must not be zero")
    _check_count("arange", max(0.0, np.ceil((end - start) / step)))
    return F.constant(np.arange(start, end, step, dtype=np.float64))


def linspace(F, start, end, steps):
    (steps,) = _sizes("linspace", (steps,))
    return F.constant(np.linspace(start, end, steps))


def norm_any(F, x, p=2, dim=None, keepdim=False):
    """norm as torch.norm takes p: a number, +-inf (the largest or smallest
    |element|), 'fro' (the 2-norm of the elements) or 'nuc' (the sum of
    singular values of a matrix, or of the matrices over dim's two dims)."""
    if isinstance(p, str):
        if p == "fro":
            return norm(F, x, 2, dim, keepdim)
        if p == "nuc":
            return F.nuclear_norm(x, dim, keepdim)
        raise DiffcliError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
    if p is not None and not isinstance(p, bool) and abs(p) == float("inf"):
        return F.op("norm_inf", x, dim=dim, keepdim=keepdim, p=float(p))
    return norm(F, x, p, dim, keepdim)
