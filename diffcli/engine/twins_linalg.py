"""SymPy twins of the linear algebra primitives: each matrix of a batch
(the last two dimensions of an object array) as a ``sympy.Matrix``.
Nothing here imports SymPy: ``sp`` is passed in."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def per_matrix(fn: Callable, inputs: int = 1) -> Callable:
    """``fn(sp, *matrices)`` over the batch dimensions of the first ``inputs``
    object arrays (they share their batch); a Matrix result becomes the
    output's last two dimensions, a number a single element."""

    def twin(sp, *arrays, **params):
        arrays = [np.asarray(a, dtype=object) for a in arrays[:inputs]]
        if any(a.ndim < 2 for a in arrays):  # logabsdet has no shape rule
            shapes = " and ".join(str(a.shape) for a in arrays)
            raise ValueError(f"a matrix is needed, got shape {shapes}")
        batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
        arrays = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
        results = {
            i: fn(sp, *(sp.Matrix(a[i].tolist()) for a in arrays), **params)
            for i in np.ndindex(batch)
        }
        first = next(iter(results.values()))
        tail = first.shape if isinstance(first, sp.MatrixBase) else ()
        out = np.empty(batch + tail, dtype=object)
        for i, value in results.items():
            if tail:
                out[i] = np.array(value.tolist(), dtype=object).reshape(tail)
            else:
                out[i] = value
        return out

    return twin


det = per_matrix(lambda sp, a: a.det())
logabsdet = per_matrix(lambda sp, a: sp.log(sp.Abs(a.det())))
inv = per_matrix(lambda sp, a: a.inv())
pinv = per_matrix(lambda sp, a: a.pinv())


def _cholesky(sp, a):
    return ((a + a.T) / 2).cholesky(hermitian=False)


cholesky = per_matrix(_cholesky)


def solve(sp, a, b):
    b = np.asarray(b, dtype=object)
    if b.ndim == 1 or b.shape == np.shape(a)[:-1]:
        return solve(sp, a, b[..., None])[..., 0]
    return per_matrix(lambda sp, m, r: m.LUsolve(r), inputs=2)(sp, a, b)


def _sqrtm_psd(sp, m):
    """The symmetric square root: a closed form for 1x1 and 2x2 (so that
    symbols get one), diagonalization beyond."""
    if m.shape == (1, 1):
        return sp.Matrix([[sp.sqrt(m[0, 0])]])
    if m.shape == (2, 2):
        root_det = sp.sqrt(m.det())
        return (m + root_det * sp.eye(2)) / sp.sqrt(m.trace() + 2 * root_det)
    return m ** sp.Rational(1, 2)


sqrtm_psd = per_matrix(_sqrtm_psd)


def trace(sp, x):
    out = np.empty((), dtype=object)
    out[()] = sp.Add(*np.diagonal(np.asarray(x, dtype=object)))
    return out


def matmul(sp, x, y):
    """``x @ y`` (numpy's rules for vectors and batches) with each entry one
    ``sympy.Add`` of its products: numpy's object matmul adds them pairwise,
    re-flattening a growing sum at each step (quadratic in the inner size)."""
    a, b = np.asarray(x, dtype=object), np.asarray(y, dtype=object)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    products = a2[..., :, :, None] * b2[..., None, :, :]  # (..., n, k, m)
    moved = np.moveaxis(products, -2, -1)  # (..., n, m, k)
    out = np.empty(moved.shape[:-1], dtype=object)
    for i in np.ndindex(out.shape):
        out[i] = sp.Add(*moved[i])
    if b.ndim == 1:
        out = out[..., 0]
    if a.ndim == 1:
        out = out[..., 0, :] if b.ndim > 1 else out[..., 0]
    return out
