"""Forwards and VJP rules of linear algebra (table/linalg.py): det,
log|det|, inv, solve, cholesky, pinv, trace, diagonals, cross and the
symmetric matrix square root behind the nuclear norm.

Rules follow PyTorch's derivatives.yaml and are written with the table's
primitives, so every order is differentiable: inv's rule uses the inverse it
returned, cholesky's and the square root's solve with F.solve, det's
gradient at a singular matrix is its adjugate, made of the minors' dets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diffcli.errors import DiffcliError, ShapeError


def checked(name: str, fn: Callable, problem: str = "", shape=None) -> Callable:
    """``fn`` with the shapes checked first (the API's one-tensor calls skip
    the table's shape step) and numpy's LinAlgError as a diffcli error."""

    def forward(*args, **kwargs):
        if shape is not None:
            try:
                shape(*(np.shape(a) for a in args), **kwargs)
            except ShapeError as err:
                raise ShapeError(str(err).replace("{op}", name)) from None
        try:
            return fn(*args, **kwargs)
        except np.linalg.LinAlgError:
            raise DiffcliError(f"{name}: {problem}") from None

    return forward


def _is_vector_rhs(a_shape, b_shape) -> bool:
    """torch.linalg.solve's rule: B is a (batch of) vector(s) when it is 1-D
    or has A's shape without the last dimension."""
    return len(b_shape) == 1 or tuple(b_shape) == tuple(a_shape[:-1])


def solve(a, b):
    if _is_vector_rhs(np.shape(a), np.shape(b)):
        return np.linalg.solve(a, np.asarray(b)[..., None])[..., 0]
    return np.linalg.solve(a, b)


def logabsdet(a):
    return np.linalg.slogdet(a)[1]


def diag_embed(v, offset=0, dim1=-2, dim2=-1):
    """v's last dimension on a diagonal of two new dimensions."""
    v = np.asarray(v)
    n = v.shape[-1] + abs(offset)
    out = np.zeros(v.shape[:-1] + (n, n), dtype=v.dtype)
    rows, cols = _diagonal_indices(n, n, offset)
    out[..., rows, cols] = v
    ndim = out.ndim
    return np.moveaxis(out, (-2, -1), (dim1 % ndim, dim2 % ndim))


def diagonal(x, offset=0, dim1=0, dim2=1):
    return np.diagonal(x, offset, dim1, dim2).copy()


def diagonal_scatter(v, size, offset=0, dim1=0, dim2=1):
    """zeros of shape ``size`` with v on the diagonal diagonal() reads: the
    VJP of diagonal."""
    v = np.asarray(v)
    out = np.zeros(size, dtype=v.dtype)
    view = np.moveaxis(out, (dim1, dim2), (-2, -1))
    rows, cols = _diagonal_indices(view.shape[-2], view.shape[-1], offset)
    view[..., rows, cols] = v
    return out


def _diagonal_indices(m: int, n: int, offset: int):
    length = max(0, min(m + min(offset, 0), n - max(offset, 0)))
    k = np.arange(length)
    return k + max(-offset, 0), k + max(offset, 0)


def cholesky(a):
    """The lower factor of the symmetric part (a + a^T) / 2: the same as
    PyTorch's for the symmetric inputs cholesky is for, and a function whose
    partial derivatives are the symmetric gradient PyTorch returns."""
    a = np.asarray(a)
    return np.linalg.cholesky((a + np.swapaxes(a, -1, -2)) / 2)


def sqrtm_psd(m):
    """The symmetric square root of a symmetric positive semi-definite m."""
    values, vectors = np.linalg.eigh(m)
    root = np.sqrt(np.clip(values, 0.0, None))
    return (vectors * root[..., None, :]) @ np.swapaxes(vectors, -1, -2)


# --- rules -------------------------------------------------------------------------


def det_vjp(F, g, ans, a):
    """g det(A) A^-T; at a (nearly) singular A, where |det| < 100 eps (PyTorch's
    switch too), the cofactors, which PyTorch would approximate."""
    det = np.asarray(ans)
    if not np.any(np.abs(det) < 100 * np.finfo(np.result_type(det, 1.0)).eps):
        return _expand(F, g * ans) * F.mT(F.inv(a))
    return _expand(F, g) * cofactors(F, a)


def _expand(F, v):
    return F.reshape(v, shape=np.shape(v) + (1, 1))


def cofactors(F, a):
    """C_ij = (-1)**(i+j) det(A without row i and column j)."""
    n = np.shape(a)[-1]
    entries = []
    for i in range(n):
        rows = [r for r in range(n) if r != i]
        for j in range(n):
            cols = [c for c in range(n) if c != j]
            index = (
                Ellipsis,
                np.array(rows, int)[:, None],
                np.array(cols, int)[None, :],
            )
            minor = F.det(F.getitem(a, index=index))
            entries.append(minor if (i + j) % 2 == 0 else -minor)
    stacked = F.stack(*entries, axis=-1)
    return F.reshape(stacked, shape=np.shape(a))


def logabsdet_vjp(F, g, ans, a):
    """g A^-T.  At a singular A (log|det| = -inf) the inverse does not exist:
    the values LAPACK's LU gives there (inf, nan), as PyTorch, and no graph."""
    if np.all(np.isfinite(np.asarray(ans))):
        return _expand(F, g) * F.mT(F.inv(a))
    return _expand(F, g) * np.swapaxes(lu_inverse(np.asarray(a)), -1, -2)


def lu_inverse(a: np.ndarray) -> np.ndarray:
    """inv(a) by LU with partial pivoting that goes on through zero pivots
    (LAPACK's getrf/getri): inf and nan where a is singular, not an error."""
    a = np.array(a, dtype=np.result_type(a, 1.0))
    n = a.shape[-1]
    rhs = np.broadcast_to(np.eye(n), a.shape).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(n):
            pivot = k + np.argmax(np.abs(a[..., k:, k]), axis=-1)
            for m in (a, rhs):
                row_k = m[..., k, :].copy()
                picked = np.take_along_axis(m, pivot[..., None, None], axis=-2)
                m[..., k, :] = picked[..., 0, :]
                np.put_along_axis(m, pivot[..., None, None], row_k[..., None, :], -2)
            if np.all(a[..., k, k] == 0) and k + 1 < n:
                continue  # nothing to eliminate with (all zeros below too)
            factor = a[..., k + 1 :, k] / a[..., k, k][..., None]
            a[..., k + 1 :, :] -= factor[..., None] * a[..., k, None, :]
            rhs[..., k + 1 :, :] -= factor[..., None] * rhs[..., k, None, :]
        out = np.empty_like(rhs)
        for k in range(n - 1, -1, -1):
            known = a[..., k, k + 1 :, None] * out[..., k + 1 :, :]
            out[..., k, :] = (rhs[..., k, :] - known.sum(axis=-2)) / a[..., k, k][
                ..., None
            ]
    return out


def inv_vjp(F, g, ans, a):
    inverse_t = F.mT(ans)
    return -F.matmul(inverse_t, F.matmul(g, inverse_t))


def solve_b_vjp(F, g, ans, a, b):
    return F.solve(F.mT(a), g)


def solve_a_vjp(F, g, ans, a, b):
    gb = F.solve(F.mT(a), g)
    if _is_vector_rhs(np.shape(a), np.shape(b)):
        column = F.reshape(gb, shape=np.shape(gb) + (1,))
        row = F.reshape(ans, shape=np.shape(ans)[:-1] + (1, np.shape(ans)[-1]))
        return -(column * row)
    return -F.matmul(gb, F.mT(ans))


def cholesky_vjp(F, g, ans, a):
    """PyTorch's cholesky_backward: L^-T Phi(L^T gL) L^-1, symmetrized."""
    lt = F.mT(ans)
    ga = F.tril(F.matmul(lt, g), diagonal=0)
    ga = 0.5 * (ga + F.mT(F.tril(ga, diagonal=-1)))
    ga = F.solve(lt, ga)
    return F.mT(F.solve(lt, F.mT(ga)))


def pinv_vjp(F, g, ans, a):
    """PyTorch's pinv_backward (where the rank does not change)."""
    m, n = np.shape(a)[-2:]
    pinv_t, g_t = F.mT(ans), F.mT(g)
    if m <= n:
        k = F.matmul(g_t, ans)
        k_pinv_t = F.matmul(k, pinv_t)
        return (
            -F.mT(F.matmul(ans, k))
            + k_pinv_t
            - F.matmul(F.matmul(a, ans), k_pinv_t)
            + F.matmul(F.matmul(pinv_t, ans), g_t - F.matmul(k, a))
        )
    k = F.matmul(ans, g_t)
    pinv_t_k = F.matmul(pinv_t, k)
    return (
        -F.mT(F.matmul(k, ans))
        + F.matmul(F.matmul(g_t - F.matmul(a, k), ans), pinv_t)
        + pinv_t_k
        - F.matmul(F.matmul(pinv_t_k, ans), a)
    )


def sqrtm_psd_vjp(F, g, ans, m):
    """Y with X Y + Y X = g (X the root): a linear system in vec(Y), built
    from X with the table's ops so that it differentiates again."""
    n = np.shape(m)[-1]
    batch = np.shape(ans)[:-2]
    eye = np.eye(n)
    left = F.reshape(ans, shape=batch + (n, 1, n, 1)) * eye.reshape(1, n, 1, n)
    right = eye.reshape(n, 1, n, 1) * F.reshape(F.mT(ans), shape=batch + (1, n, 1, n))
    system = F.reshape(left + right, shape=batch + (n * n, n * n))
    flat = F.solve(system, F.reshape(g, shape=batch + (n * n,)))
    return F.reshape(flat, shape=np.shape(m))
