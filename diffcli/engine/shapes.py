"""Output shapes from input shapes, before anything is computed.

Each is a primitive's ``shape`` rule: the engine's API and the expression walk
call it first, so a call that cannot work is refused with a message naming
the shapes, and the size of what a call would make is known in advance.
"""

from __future__ import annotations

import numpy as np

from diffcli.errors import ShapeError


def broadcast(*shapes: tuple[int, ...], **params) -> tuple[int, ...]:
    """Elementwise: the inputs' broadcast shape."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(
            f"shapes {listed} do not broadcast together in '{{op}}'"
        ) from None


def same(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    return shape


def _dims(dim, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    size = max(ndim, 1)
    for d in dims:
        if not -size <= d < size:
            raise ShapeError(f"dim {d} is out of range for a {ndim}-D value")
    return tuple(d % size for d in dims)


def reduction(shape: tuple[int, ...], dim=None, keepdim=False, **params):
    """sum, mean, max, norm, ... over ``dim`` (all dims when None)."""
    dims = _dims(dim, len(shape))
    if keepdim:
        return tuple(1 if i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def nonempty_reduction(shape: tuple[int, ...], dim=None, keepdim=False, **params):
    """max/min: an empty input has no value."""
    if 0 in shape:
        raise ShapeError("{op} of an empty value")
    return reduction(shape, dim, keepdim)


def _product(name: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        raise ShapeError(f"{name} needs arrays, got shapes {a} and {b}")
    inner = b[-2] if len(b) > 1 else b[0]
    if a[-1] != inner:
        raise ShapeError(
            f"shapes {a} and {b} cannot be multiplied in {name} ({a[-1]} != {inner})"
        )
    head = broadcast(a[:-2], b[:-2])
    return head + a[-2:-1] + b[-1:] if len(b) > 1 else head + a[-2:-1]


def matmul(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return _product("matmul", a, b)


def _exactly(name: str, ndims: tuple[int, int]):
    def rule(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
        if (len(a), len(b)) != ndims:
            raise ShapeError(
                f"{name} needs {ndims[0]}-D and {ndims[1]}-D arguments, got "
                f"shapes {a} and {b}"
            )
        return _product(name, a, b)

    return rule


dot = _exactly("dot", (1, 1))
mm = _exactly("mm", (2, 2))


def swap_last(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    if len(shape) < 2:
        raise ShapeError(f"a transpose needs at least 2 dimensions, got {shape}")
    return shape[:-2] + (shape[-1], shape[-2])


def transpose(shape: tuple[int, ...], dim0: int, dim1: int) -> tuple[int, ...]:
    d0, d1 = _dims((dim0, dim1), len(shape))
    out = list(shape)
    out[d0], out[d1] = out[d1], out[d0]
    return tuple(out)


# --- layout: cat, flip, roll, repeat (table/layout.py) ------------------------------


def concatenated(*shapes: tuple[int, ...], axis: int = 0) -> tuple[int, ...]:
    """cat: one shape but along ``axis``, where the sizes add up."""
    first = shapes[0]
    if not first:
        raise ShapeError("zero-dimensional tensor cannot be concatenated")
    (d,) = _dims(axis, len(first))
    for k, s in enumerate(shapes[1:], start=1):
        if len(s) != len(first) or any(
            a != b for i, (a, b) in enumerate(zip(s, first, strict=True)) if i != d
        ):
            raise ShapeError(
                f"cat: shapes {first} and {s} (tensor {k}) differ outside dim {axis}"
            )
    return first[:d] + (sum(s[d] for s in shapes),) + first[d + 1 :]


def same_along(
    shape: tuple[int, ...], dims=None, dim=None, **params
) -> tuple[int, ...]:
    """flip, roll, cumsum, softmax: the same shape, once the dims are checked."""
    _dims(dims if dims is not None else dim, len(shape))
    return shape


def tiled(shape: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[int, ...]:
    """repeat: each dimension times its count (leading counts add dims)."""
    if len(sizes) < len(shape):
        raise ShapeError(
            f"repeat: {len(sizes)} counts cannot be fewer than the {len(shape)} "
            "dimensions"
        )
    if any(n < 0 for n in sizes):
        raise ShapeError(f"repeat: counts must be non-negative, got {tuple(sizes)}")
    padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    return tuple(a * n for a, n in zip(padded, sizes, strict=True))
