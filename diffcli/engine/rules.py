"""The pieces THE table (table.py) is built from: numpy forwards and VJP rules
that need more than one line, and PyTorch's grad_fn names where they depend on
the call.  Nothing here is registered: table.py declares every entry.
"""

from __future__ import annotations

import numpy as np

from diffcli.errors import ArgumentTypeError

# --- numpy helpers the forwards and rules share ----------------------------


def _is_tensor(x) -> bool:
    return hasattr(x, "grad_fn")


def sum_to(x, shape):
    """Sum a broadcast array back down to ``shape``: THE un-broadcast."""
    shape = tuple(shape)
    xshape = np.shape(x)
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and xshape[i + lead] != 1
    )
    return np.reshape(np.sum(x, axis=axes), shape)


def _dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(d % max(ndim, 1) for d in dims)


def _kept_shape(shape, dim):
    """The shape a reduction's output has with keepdim=True."""
    dims = _dims(dim, len(shape))
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _axis(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def _unreduce(F, g, shape, dim, keepdim):
    """Broadcast a reduction's cotangent back over the reduced input shape."""
    if not keepdim:
        g = F.reshape(g, shape=_kept_shape(shape, dim))
    return F.broadcast_to(g, shape=tuple(shape))


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
        for i in items
    )


def _cell(value):
    """A 0-d array as its element: put into one cell of an object array (SymPy
    values), a 0-d array would be stored as the array itself."""
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _scatter(g, index, shape):
    g = np.asarray(g)
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        out[index] = _cell(g)
    else:
        np.add.at(out, index, g)
    return out


def _index_put(base, value, index):
    out = np.array(base, dtype=np.result_type(base, value))
    out[index] = _cell(value)
    return out


def _norm(x, dim=None, keepdim=False, p=2):
    x = np.asarray(x)
    if dim is None and p == 2 and not keepdim:
        flat = x.ravel()
        return np.sqrt(np.dot(flat, flat))
    return np.sum(np.abs(x) ** p, axis=_axis(dim), keepdims=keepdim) ** (1.0 / p)


def _extreme_mask(x, ans, dim=None, keepdim=False):
    """1 where ``x`` attains a max/min reduction, shared evenly among ties."""
    x = np.asarray(x)
    hit = x == np.reshape(ans, _kept_shape(x.shape, dim))
    mask = hit.astype(x.dtype if x.dtype.kind == "f" else np.float64)
    return mask / np.sum(mask, axis=_axis(dim), keepdims=True)


def _first_hit(x, ans, dim, keepdim=False):
    """True at the first element along ``dim`` attaining max/min(dim): the
    index they return, which alone gets the gradient (PyTorch's choice on ties)."""
    x = np.asarray(x)
    hit = x == np.reshape(ans, _kept_shape(x.shape, dim))
    return hit & (np.cumsum(hit, axis=dim) == 1)


def _tie_mask(x, y):
    """maximum/minimum: 1 where x wins, 1/2 on a tie (PyTorch's choice)."""
    return (x > y) + (x == y) * 0.5


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def _clip(x, min=None, max=None):
    return np.clip(x, min, max) if min is not None or max is not None else x


def _where(c, a, b):
    """PyTorch's where: the condition is a boolean (a comparison), never a number,
    which could not tell which branch a gradient takes."""
    dtype = np.asarray(c).dtype
    if dtype.kind not in "bO":
        raise ArgumentTypeError(
            "where's condition must be true/false, like x > 0 (as in PyTorch); "
            f"got a number ({dtype})"
        )
    return np.where(c, a, b)


def _stack(*xs, axis=0):
    return np.stack(np.broadcast_arrays(*xs), axis=axis)


# --- PyTorch's grad_fn names where they depend on the call -----------------


def _by_dim(base: str):
    """PyTorch numbers a reduction's backward by whether a dim was given."""
    return lambda inputs, params: (
        f"{base}Backward{0 if params.get('dim') is None else 1}"
    )


def _extreme_name(base: str):
    """``x.max()`` records MaxBackward1; ``amax(x, dim)`` AmaxBackward0."""
    return lambda inputs, params: (
        f"{base}Backward1" if params.get("dim") is None else f"A{base.lower()}Backward0"
    )


def _index_name(inputs, params):
    index = params["index"]
    items = index if isinstance(index, tuple) else (index,)
    if not _is_basic_index(index):
        return "IndexBackward0"
    return (
        "SelectBackward0"
        if any(isinstance(i, int) for i in items)
        else "SliceBackward0"
    )


def _matmul_name(inputs, params):
    """PyTorch's matmul dispatches to dot/mv/mm; batched cases end in a view."""
    dims = tuple(np.ndim(x.data if _is_tensor(x) else x) for x in inputs)
    return {
        (1, 1): "DotBackward0",
        (2, 1): "MvBackward0",
        (2, 2): "MmBackward0",
        (1, 2): "SqueezeBackward4",
    }.get(dims, "UnsafeViewBackward0")


def _pow_name(inputs, params):
    """Tensor ** number, tensor ** tensor, number ** tensor."""
    if not _is_tensor(inputs[0]):
        return "PowBackward2"
    return "PowBackward1" if _is_tensor(inputs[1]) else "PowBackward0"


def _sub_name(inputs, params):
    return "SubBackward0" if _is_tensor(inputs[0]) else "RsubBackward1"


def _div_name(inputs, params):
    """``2 / x`` is ``x.reciprocal() * 2`` in PyTorch."""
    return "DivBackward0" if _is_tensor(inputs[0]) else "MulBackward0"


# --- rules that need more than one line --------------------------------------


def _pow_base(F, g, ans, x, y):
    if not _is_tensor(y):
        if np.ndim(y) == 0:
            if y == 0:
                return g * 0.0
            if y == 2:
                return g * x * 2.0  # (g * x) is a temporary numpy scales in place
        elif not np.any(y):
            return g * 0.0
    return g * (y * x ** (y - 1))


def _pow_exponent(F, g, ans, x, y):
    # 0 ** y with y >= 0 has no log; PyTorch sends zero there rather than nan.
    safe = F.where((x == 0) & (y >= 0), 1.0, x)
    return g * (ans * F.log(safe))


def _matmul_x(F, g, ans, x, y):
    xd, yd = np.ndim(x), np.ndim(y)
    if xd == 1 and yd == 1:
        return g * y
    if yd == 1:  # (..., m, k) @ (k,): g is (..., m)
        return F.reshape(g, shape=np.shape(g) + (1,)) * y
    if xd == 1:  # (k,) @ (..., k, n): g is (..., n)
        return F.sum(y * F.reshape(g, shape=_row(g)), dim=-1)
    return F.matmul(g, F.mT(y))


def _matmul_y(F, g, ans, x, y):
    xd, yd = np.ndim(x), np.ndim(y)
    if xd == 1 and yd == 1:
        return g * x
    if xd == 1:
        return F.reshape(x, shape=(-1, 1)) * F.reshape(g, shape=_row(g))
    if yd == 1:
        return F.sum(x * F.reshape(g, shape=np.shape(g) + (1,)), dim=-2)
    return F.matmul(F.mT(x), g)


def _row(g):
    """The shape that turns a trailing vector axis into a row."""
    shape = np.shape(g)
    return shape[:-1] + (1, shape[-1])


def _norm_vjp(F, g, ans, x, dim=None, keepdim=False, p=2):
    shape = np.shape(x)
    # The norm's kink at 0 gets gradient 0, as in PyTorch (not 0/0).
    safe = F.where(ans == 0, 1.0, ans)
    # Scale in the reduced shape first: one pass over x instead of three.
    if p == 2:
        return _unreduce(F, g / safe, shape, dim, keepdim) * x
    if p == 1:
        return _unreduce(F, g, shape, dim, keepdim) * F.sign(x)
    scale = _unreduce(F, g / safe ** (p - 1), shape, dim, keepdim)
    return scale * (F.sign(x) * F.abs(x) ** (p - 1))


def _extreme_vjp(F, g, ans, x, dim=None, keepdim=False):
    mask = F.extreme_mask(x, ans, dim=dim, keepdim=keepdim)
    g = _unreduce(F, g, np.shape(x), dim, keepdim) * mask
    # Like PyTorch, max() fills zeros (+0) where amax(dim) multiplies by the mask.
    return g if dim is not None else F.where(mask > 0, g, 0.0)


def _select_vjp(F, g, ans, x, dim, keepdim=False):
    mask = F.first_hit(x, ans, dim=dim, keepdim=keepdim)
    return F.where(mask, _unreduce(F, g, np.shape(x), dim, keepdim), 0.0)


def _winner_vjp(F, g, x, y):
    """maximum's gradient to x (minimum's with x, y swapped): g where x wins, g/2
    on a tie, and a zero (+0, as PyTorch's masked_fill) where x loses."""
    return F.where(x < y, 0.0, g * F.tie_mask(x, y))


def _mean_vjp(F, g, ans, x, dim=None, keepdim=False):
    shape = np.shape(x)
    count = np.prod([shape[d] for d in _dims(dim, len(shape))])
    return _unreduce(F, g, np.shape(x), dim, keepdim) / count


def _clamp_vjp(F, g, ans, x, min=None, max=None):
    keep = True
    if min is not None:
        keep = x >= min
    if max is not None:
        keep = (x <= max) & keep
    return F.where(keep, g, 0.0)


def _stack_vjp(i, F, g, ans, *xs, axis=0):
    return F.getitem(g, index=(slice(None),) * (axis % np.ndim(g)) + (i,))


def _no_grad(*args, **kwargs):
    raise TypeError("this input takes no gradient")
