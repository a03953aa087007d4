"""The public functions of ``import diffcli as dc``, each a thin call into the table.

Argument conventions follow PyTorch (``dim``, ``keepdim``); anything that is
not a Tensor is a constant.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from diffcli.engine.table import PRIMITIVES as P
from diffcli.engine.tensor import Tensor, _as_array, apply
from diffcli.errors import DiffcliError

MaxResult = namedtuple("MaxResult", ["values", "indices"])
Dim = int | tuple[int, ...] | None


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(_as_array(x, None))


def _unary(name: str):
    prim = P[name]

    def fn(input: Any) -> Tensor:
        return apply(prim, _t(input))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, differentiable."
    return fn


sin, cos, tan, exp, log, sqrt = map(_unary, ["sin", "cos", "tan", "exp", "log", "sqrt"])
abs, tanh, sigmoid, relu, neg = map(_unary, ["abs", "tanh", "sigmoid", "relu", "neg"])
sign = _unary("sign")


def add(input: Any, other: Any) -> Tensor:
    return apply(P["add"], _t(input), other)


def sub(input: Any, other: Any) -> Tensor:
    return apply(P["sub"], _t(input), other)


def mul(input: Any, other: Any) -> Tensor:
    return apply(P["mul"], _t(input), other)


def div(input: Any, other: Any) -> Tensor:
    return apply(P["div"], _t(input), other)


def pow(input: Any, exponent: Any) -> Tensor:
    return apply(P["pow"], input, exponent)


def maximum(input: Any, other: Any) -> Tensor:
    return apply(P["maximum"], _t(input), _t(other))


def minimum(input: Any, other: Any) -> Tensor:
    return apply(P["minimum"], _t(input), _t(other))


def where(condition: Any, input: Any, other: Any) -> Tensor:
    return apply(P["where"], condition, input, other)


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise DiffcliError("clamp needs at least one of min and max")
    return apply(P["clamp"], _t(input), min=_scalar(min), max=_scalar(max))


def _scalar(v: Any) -> Any:
    return v._data if isinstance(v, Tensor) else v


def sum(input: Any, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return apply(P["sum"], _t(input), dim=dim, keepdim=keepdim)


def mean(input: Any, dim: Dim = None, keepdim: bool = False) -> Tensor:
    t = _t(input)
    if t.dtype.kind not in "fc":
        raise DiffcliError(
            f"mean(): could not infer output dtype; input dtype must be floating "
            f"point, got {t.dtype}"
        )
    return apply(P["mean"], t, dim=dim, keepdim=keepdim)


def _extreme(name: str, index_fn):
    prim, along = P[name], P[name[1:] + "_dim"]

    def fn(input: Any, dim: Any = None, keepdim: bool = False):
        t = _t(input)
        if isinstance(dim, (Tensor, np.ndarray)):
            return (maximum if name == "amax" else minimum)(t, dim)
        if t.numel() == 0:
            raise DiffcliError(f"{fn.__name__}() of an empty tensor has no value")
        if dim is None:
            return apply(prim, t, dim=None, keepdim=keepdim)
        values = apply(along, t, dim=dim, keepdim=keepdim)
        indices = index_fn(t._data, axis=dim, keepdims=keepdim)
        return MaxResult(values, Tensor._wrap(indices))

    fn.__name__ = fn.__qualname__ = name[1:]
    fn.__doc__ = (
        f"The {name[1:]}imum of all elements (ties share the gradient evenly), or "
        "along ``dim`` as (values, indices), the gradient going to those indices; "
        f"a tensor second argument means {name[1:]}imum()."
    )
    return fn


max = _extreme("amax", np.argmax)
min = _extreme("amin", np.argmin)


def _amax_amin(name: str):
    prim = P[name]

    def fn(input: Any, dim: Dim = None, keepdim: bool = False) -> Tensor:
        t = _t(input)
        # No dim means every dim, spelled out: PyTorch names that AmaxBackward0.
        dim = tuple(range(t.ndim)) if dim is None else dim
        return apply(prim, t, dim=dim, keepdim=keepdim)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The {name[1:]}imum over ``dim`` (all dims by default); ties share."
    return fn


amax, amin = _amax_amin("amax"), _amax_amin("amin")


def norm(input: Any, p: float = 2, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Vector norm over all elements (or ``dim``); gradient 0 at the zero vector."""
    if p in ("fro", None):
        p = 2
    if not isinstance(p, (int, float)) or p <= 0 or not np.isfinite(p):
        raise DiffcliError(f"norm: p must be a positive finite number, got {p!r}")
    return apply(P["norm"], _t(input), dim=dim, keepdim=keepdim, p=p)


def dot(input: Any, other: Any) -> Tensor:
    a, b = _t(input), _t(other)
    if a.ndim != 1 or b.ndim != 1:
        raise DiffcliError(
            f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors"
        )
    _match("dot", a.shape[0], b.shape[0], a, b)
    return apply(P["dot"], a, b)


def mm(input: Any, mat2: Any) -> Tensor:
    a, b = _t(input), _t(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise DiffcliError(f"mm: expected 2-D matrices, got {a.ndim}-D and {b.ndim}-D")
    _match("mm", a.shape[1], b.shape[0], a, b)
    return apply(P["mm"], a, b)


def matmul(input: Any, other: Any) -> Tensor:
    a, b = _t(input), _t(other)
    if a.ndim == 0 or b.ndim == 0:
        raise DiffcliError("matmul: both arguments need at least 1 dimension")
    _match("matmul", a.shape[-1], b.shape[-2 if b.ndim > 1 else 0], a, b)
    return apply(P["matmul"], a, b)


def _match(op: str, n: int, m: int, a: Tensor, b: Tensor) -> None:
    if n != m:
        raise DiffcliError(
            f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({n} != {m})"
        )


def transpose(input: Any, dim0: int = 0, dim1: int = 1) -> Tensor:
    t = _t(input)
    if t.ndim < 2:
        return t
    return apply(P["transpose"], t, dim0=dim0, dim1=dim1)


def t(input: Any) -> Tensor:
    """Transpose of a matrix (a vector is returned as is)."""
    return transpose(input, 0, 1)


def permute(input: Any, *dims: int) -> Tensor:
    dims = tuple(dims[0]) if len(dims) == 1 and not isinstance(dims[0], int) else dims
    return apply(P["permute"], _t(input), dims=dims)


def shape_arg(size: tuple) -> tuple:
    """A shape as PyTorch takes it, ``f(2, 3)`` or ``f((2, 3))``, as one tuple."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        return tuple(size[0])
    return tuple(size)


def reshape(input: Any, *shape: Any) -> Tensor:
    return apply(P["reshape"], _t(input), shape=shape_arg(shape))


def broadcast_to(input: Any, shape: tuple[int, ...]) -> Tensor:
    return apply(P["broadcast_to"], _t(input), shape=tuple(shape))


def stack(tensors: list | tuple, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis, keeping their graphs."""
    tensors = [_t(x) for x in tensors]
    if not tensors:
        raise DiffcliError("stack expects a non-empty list of tensors")
    shapes = {x.shape for x in tensors}
    if len(shapes) > 1:
        raise DiffcliError(
            f"stack expects each tensor to be equal size, got {sorted(shapes)}"
        )
    return apply(P["stack"], *tensors, axis=dim)


def cast(input: Any, dtype: Any) -> Tensor:
    t = _t(input)
    return (
        t if t.dtype == np.dtype(dtype) else apply(P["cast"], t, dtype=np.dtype(dtype))
    )


def _compare(name: str):
    prim = P[name]
    return lambda input, other: apply(prim, _t(input), other)


eq, ne, lt, le, gt, ge = map(_compare, ["eq", "ne", "lt", "le", "gt", "ge"])
logical_and, logical_or = _compare("logical_and"), _compare("logical_or")


def logical_not(input: Any) -> Tensor:
    return apply(P["logical_not"], _t(input))


def equal(input: Any, other: Any) -> bool:
    a, b = _t(input), _t(other)
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(_t(input)._data, _t(other)._data, rtol=rtol, atol=atol))


def isnan(input: Any) -> Tensor:
    return Tensor._wrap(np.isnan(_t(input)._data))


def isfinite(input: Any) -> Tensor:
    return Tensor._wrap(np.isfinite(_t(input)._data))
