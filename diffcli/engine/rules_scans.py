"""Forwards and VJP rules of the scans and statistical reductions
(table/scans.py): prod, cumsum, cumprod, logsumexp, softmax, log_softmax,
var and std.

Rules are written with the table's primitives (``F.<name>``) so that every
order is differentiable.  prod and cumprod divide by the input where it has
no zero (PyTorch does too); at a zero they use a formula that is exact in a
whole neighbourhood of the point, so second derivatives stay right there.
"""

from __future__ import annotations

import numpy as np

from diffcli.engine.rules import _dims, _kept_shape, _unreduce


def _axis(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def count(shape, dim) -> int:
    """How many elements a reduction over ``dim`` combines."""
    return int(np.prod([shape[d] for d in _dims(dim, len(shape))], dtype=np.int64))


# --- forwards ----------------------------------------------------------------------


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) without overflow: the max is taken out first."""
    x = np.asarray(x)
    axis = _dims(dim, x.ndim)
    if x.size == 0:
        with np.errstate(divide="ignore"):
            return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdim))
    top = np.amax(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdim else np.squeeze(out, axis=axis)


def softmax(x, dim):
    e = np.exp(x - _finite_max(x, dim))
    return e / np.sum(e, axis=dim, keepdims=True)


def log_softmax(x, dim):
    shifted = x - _finite_max(x, dim)
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _finite_max(x, dim):
    x = np.asarray(x)
    if x.size == 0:
        return 0.0
    top = np.amax(x, axis=dim, keepdims=True)
    return np.where(np.isfinite(top), top, 0.0)


def var(x, dim=None, correction=1, keepdim=False):
    """Sum of squared deviations / (N - correction): inf or nan where
    N <= correction, as PyTorch (numpy would warn and differ)."""
    x = np.asarray(x)
    axis = _dims(dim, x.ndim)
    deviation = x - np.mean(x, axis=axis, keepdims=True)
    total = np.sum(deviation * deviation, axis=axis, keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / max(count(x.shape, dim) - correction, 0)


def std(x, dim=None, correction=1, keepdim=False):
    return np.sqrt(var(x, dim, correction, keepdim))


# --- rules -------------------------------------------------------------------------


def revcumsum(F, v, dim):
    """sum over k >= i along dim: the transpose of cumsum."""
    return F.flip(F.cumsum(F.flip(v, dims=dim), dim=dim), dims=dim)


def cumprod_vjp(F, g, x, dim, ans=None):
    """sum over k >= i of g_k * prod_{j <= k, j != i} x_j.

    Without zeros: revcumsum(g * ans) / x.  With a zero at z (the first of
    its slice) the gradient is that formula before z, and beyond it the
    gradient at x' (x with x_z = 1), times x_z after z: both identities hold
    near the point, so their derivatives are the true ones too.  Each further
    zero is one more step of the same.
    """
    zero = np.asarray(x) == 0
    if ans is None:
        ans = F.cumprod(x, dim=dim)
    if not zero.any():
        return revcumsum(F, g * ans, dim) / x
    seen = np.cumsum(zero, axis=dim)
    before, first = seen == 0, zero & (seen == 1)
    plain = revcumsum(F, g * ans, dim) / F.where(before, x, 1.0)
    at_zero = F.sum(F.where(first, x, 0.0), dim=dim, keepdim=True)  # x_z, 0
    rest = cumprod_vjp(F, g, F.where(first, 1.0, x), dim)
    return F.where(before, plain, F.where(first, 1.0, at_zero) * rest)


def prod_vjp(F, g, ans, x, dim=None, keepdim=False):
    shape = np.shape(x)
    if not np.any(np.asarray(x) == 0):
        return _unreduce(F, g * ans, shape, dim, keepdim) / x
    # the last cumulative product is the product: cumprod's rule with the
    # cotangent at the last position only
    if dim is None:
        flat = F.reshape(x, shape=(-1,))
        g_flat = F.reshape(g, shape=(1,))
        return F.reshape(prod_vjp(F, g_flat, None, flat, 0, True), shape=shape)
    last = np.arange(shape[dim]) == shape[dim] - 1
    last = np.reshape(
        last, [-1 if d == dim % len(shape) else 1 for d in range(len(shape))]
    )
    seed = F.where(last, _unreduce(F, g, shape, dim, keepdim), 0.0)
    return cumprod_vjp(F, seed, x, dim)


def logsumexp_vjp(F, g, ans, x, dim=None, keepdim=False):
    shape = np.shape(x)
    kept = ans if keepdim else F.reshape(ans, shape=_kept_shape(shape, dim))
    return _unreduce(F, g, shape, dim, keepdim) * F.exp(x - kept)


def softmax_vjp(F, g, ans, x, dim):
    weighted = g * ans  # g read once: it may be overwritten
    return weighted - ans * F.sum(weighted, dim=dim, keepdim=True)


def log_softmax_vjp(F, g, ans, x, dim):
    return g - F.exp(ans) * F.sum(g, dim=dim, keepdim=True)


def var_vjp(F, g, ans, x, dim=None, correction=1, keepdim=False):
    shape = np.shape(x)
    deviation = x - F.mean(x, dim=_axis(dim), keepdim=True)
    scale = _over(2.0, count(shape, dim) - correction)
    return _unreduce(F, g, shape, dim, keepdim) * deviation * scale


def std_vjp(F, g, ans, x, dim=None, correction=1, keepdim=False):
    """var's gradient / (2 std); 0 where std is 0 (PyTorch's choice)."""
    shape = np.shape(x)
    flat = ans == 0
    safe = F.where(flat, 1.0, ans)
    deviation = x - F.mean(x, dim=_axis(dim), keepdim=True)
    scale = _unreduce(F, F.where(flat, 0.0, g / safe), shape, dim, keepdim)
    return scale * deviation * _over(1.0, count(shape, dim) - correction)


def _over(a: float, b: float) -> np.float64:
    """a / b, inf (or nan) for b = 0 as in PyTorch, not ZeroDivisionError."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(np.float64(a), b)


def norm_inf_vjp(F, g, ans, x, dim=None, keepdim=False, p=np.inf):
    """sign(x) at the elements attaining the norm, ties sharing evenly."""
    shares = F.extreme_mask(F.abs(x), ans, dim=dim, keepdim=keepdim)
    return _unreduce(F, g, np.shape(x), dim, keepdim) * F.sign(x) * shares
