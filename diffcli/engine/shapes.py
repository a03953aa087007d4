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


# --- linear algebra (table/linalg.py) -----------------------------------------------


def matrices(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    """A (batch of) matrices, any size: pinv's output swaps the last two."""
    if len(shape) < 2:
        raise ShapeError(f"{{op}} needs a matrix (2 or more dimensions), got {shape}")
    return shape[:-2] + (shape[-1], shape[-2])


def same_matrices(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    """tril, triu: a (batch of) matrices, kept."""
    matrices(shape)
    return shape


def square(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    """inv, cholesky: square matrices, kept."""
    matrices(shape)
    if shape[-1] != shape[-2]:
        raise ShapeError(f"{{op}} needs square matrices, got shape {shape}")
    return shape


def determinant(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    """det, log|det|: one number per square matrix."""
    return square(shape)[:-2]


def solved(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """solve(A, B): B a vector (or A's shape without its last) or matrices."""
    square(a)
    n = a[-1]
    if len(b) == 1 or tuple(b) == tuple(a[:-1]):
        if b[-1] != n:
            raise ShapeError(f"solve: A {a} and b {b} do not fit ({n} != {b[-1]})")
        return broadcast(a[:-2], b[:-1]) + (n,)
    if len(b) < 2 or b[-2] != n:
        raise ShapeError(f"solve: A {a} and B {b} do not fit")
    return broadcast(a[:-2], b[:-2]) + b[-2:]


def trace_of(shape: tuple[int, ...], **params) -> tuple[int, ...]:
    if len(shape) != 2:
        raise ShapeError(f"trace needs a matrix, got shape {shape}")
    return ()


def crossed(a: tuple[int, ...], b: tuple[int, ...], dim: int = -1) -> tuple[int, ...]:
    out = broadcast(a, b)
    (d,) = _dims(dim, len(out))
    if not out or out[d] != 3:
        raise ShapeError(f"cross needs size 3 along dim {dim}, got shapes {a}, {b}")
    return out


def diagonal_of(shape: tuple[int, ...], offset=0, dim1=0, dim2=1) -> tuple[int, ...]:
    if len(shape) < 2:
        raise ShapeError(f"diagonal needs 2 or more dimensions, got {shape}")
    d1, d2 = _dims((dim1, dim2), len(shape))
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 are the same dimension ({dim1})")
    return np.diagonal(np.empty(shape, dtype=bool), offset, d1, d2).shape


def diagonal_embedded(shape: tuple[int, ...], offset=0, dim1=-2, dim2=-1):
    if not shape:
        raise ShapeError("diag_embed needs at least 1 dimension")
    out = list(shape[:-1])
    n = shape[-1] + abs(offset)
    d1, d2 = sorted(_dims((dim1, dim2), len(shape) + 1))
    if d1 == d2:
        raise ShapeError(f"diag_embed: dim1 and dim2 are the same dimension ({dim1})")
    out.insert(d1, n)
    out.insert(d2, n)
    return tuple(out)


def scattered(shape: tuple[int, ...], size: tuple[int, ...] = (), **params):
    return tuple(size)


def loss(a: tuple[int, ...], b: tuple[int, ...], reduction="mean", **params):
    """mse_loss, ...: input and target broadcast; reduced unless 'none'."""
    shape = broadcast(a, b)
    return shape if reduction == "none" else ()


def class_loss(shape: tuple[int, ...], target=None, reduction="mean", **params):
    """nll_loss: one loss per sample (the class dimension drops) or one."""
    if reduction != "none":
        return ()
    axis = 1 if len(shape) >= 2 else 0
    return shape[:axis] + shape[axis + 1 :]
