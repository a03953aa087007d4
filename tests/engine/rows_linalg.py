"""Test rows of table/linalg.py: gradcheck cases, twin cases and expressions
(see families.py)."""

from __future__ import annotations

import numpy as np
from domains import anywhere

import diffcli as dc


def conditioned(rng, shape):
    """Square matrices well away from singular: noise plus 3 I."""
    return rng.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])


def spd(rng, shape):
    """Symmetric positive-definite: M M^T + I."""
    m = rng.uniform(-1, 1, shape)
    return m @ np.swapaxes(m, -1, -2) + np.eye(shape[-1])


def rank_one(rng, shape):
    """A singular matrix: det's gradient is its adjugate there."""
    return np.outer(rng.uniform(-2, 2, shape[0]), rng.uniform(-2, 2, shape[1]))


def rank_two(rng, shape):
    u, v = rng.uniform(-2, 2, (2,) + shape[:1]), rng.uniform(-2, 2, (2,) + shape[1:])
    return u.T @ v


def symmetric(a):
    return a @ a.mT + dc.eye(a.shape[-1])


LOOSE = {"atol": 1e-4, "rtol": 1e-3}
UNARY: dict = {}
BINARY: dict = {}
REDUCTIONS: dict = {}
FIXED = {
    "det": (dc.det, [(anywhere, (2, 3, 3))], {}),
    "det_singular": (dc.det, [(rank_one, (3, 3))], {}),
    "det_rank_two": (lambda a: dc.det(a) * a.sum(), [(rank_two, (3, 3))], {}),
    "det_1x1": (dc.det, [(anywhere, (2, 1, 1))], {}),
    "logdet": (lambda a: dc.logdet(symmetric(a)), [(anywhere, (2, 2, 2))], {}),
    "slogdet": (lambda a: dc.slogdet(a).logabsdet, [(conditioned, (3, 3))], {}),
    "inv": (dc.inv, [(conditioned, (2, 3, 3))], {}),
    "trace": (lambda a: dc.trace(a * a), [(anywhere, (2, 3))], {}),
    "solve_vector": (dc.solve, [(conditioned, (3, 3)), (anywhere, (3,))], {}),
    "solve_matrix": (dc.solve, [(conditioned, (2, 3, 3)), (anywhere, (3, 2))], {}),
    "solve_batch_vectors": (
        dc.solve,
        [(conditioned, (2, 3, 3)), (anywhere, (2, 3))],
        {},
    ),
    "outer": (dc.outer, [(anywhere, (3,)), (anywhere, (2,))], {}),
    "inner": (dc.inner, [(anywhere, (2, 3)), (anywhere, (4, 3))], {}),
    "inner_vectors": (lambda a, b: dc.inner(a, b) ** 2, [(anywhere, (3,))] * 2, {}),
    "diag": (lambda a: dc.diag(dc.diag(a, 1) ** 2, -1), [(anywhere, (3, 4))], {}),
    "diagonal": (
        lambda a: dc.diagonal(a, -1, 2, 0) ** 2,
        [(anywhere, (3, 2, 4))],
        {},
    ),
    "diag_embed": (
        lambda v: dc.diag_embed(v, 1, 0, 2) ** 2,
        [(anywhere, (2, 3))],
        {},
    ),
    "cross": (dc.cross, [(anywhere, (2, 3)), (anywhere, (3,))], {}),
    "cross_dim": (
        lambda a, b: dc.cross(a, b, dim=0) * a,
        [(anywhere, (3, 2)), (anywhere, (3, 2))],
        {},
    ),
    "kron": (dc.kron, [(anywhere, (2, 2)), (anywhere, (2, 3))], {}),
    "tril_triu": (
        lambda a: dc.tril(a, -1) * dc.triu(a, 1).mT + dc.tril(a * a),
        [(anywhere, (2, 3, 3))],
        {},
    ),
    "matrix_power": (lambda a: dc.matrix_power(a, 3), [(anywhere, (3, 3))], {}),
    "matrix_power_negative": (
        lambda a: dc.matrix_power(a, -2),
        [(conditioned, (3, 3))],
        {},
    ),
    "cholesky": (lambda a: dc.cholesky(symmetric(a)), [(anywhere, (2, 3, 3))], {}),
    "cholesky_plain": (dc.cholesky, [(spd, (2, 3, 3))], {}),
    "cholesky_upper": (
        lambda a: dc.cholesky(symmetric(a), upper=True),
        [(anywhere, (3, 3))],
        {},
    ),
    "pinv_wide": (dc.pinv, [(anywhere, (2, 3))], {}),
    "pinv_tall": (dc.pinv, [(anywhere, (2, 4, 3))], {}),
    "norm_nuc": (lambda a: dc.norm(a, "nuc"), [(anywhere, (2, 3))], LOOSE),
    "nuclear_norm_dims": (
        lambda a: dc.nuclear_norm(a, (0, 2), keepdim=True),
        [(anywhere, (3, 2, 2))],
        LOOSE,
    ),
}


def real(rng, shape):
    return rng.uniform(-2, 2, shape)


def psd_2x2(rng, shape):
    return spd(rng, shape)


M22, M23 = (2, 2), (2, 3)
TWINS = {
    "det": [([(real, (2, 2, 2))], {}), ([(real, (3, 3))], {})],
    "logabsdet": [([(real, M22)], {})],
    "inv": [([(conditioned, (2, 2, 2))], {})],
    "trace": [([(real, M23)], {})],
    "solve": [
        ([(conditioned, M22), (real, (2,))], {}),
        ([(conditioned, M22), (real, (2, 3))], {}),
    ],
    "diagonal": [([(real, (3, 2, 4))], {"offset": 1, "dim1": 0, "dim2": 2})],
    "diagonal_scatter": [
        ([(real, (2, 3))], {"size": (3, 2, 4), "offset": 1, "dim1": 0, "dim2": 2})
    ],
    "diag_embed": [([(real, M23)], {"offset": -1, "dim1": 0, "dim2": 2})],
    "cross": [([(real, (2, 3)), (real, (3,))], {"dim": -1})],
    "tril": [([(real, (2, 3, 3))], {"diagonal": -1})],
    "triu": [([(real, (3, 4))], {"diagonal": 1})],
    "cholesky": [([(spd, M22)], {})],
    "pinv": [([(real, M23)], {})],
    "sqrtm_psd": [([(psd_2x2, M22)], {}), ([(psd_2x2, (1, 1))], {})],
}
VARIABLES = {"S": (conditioned, M22), "Q": (spd, M22), "R": (real, (2, 2, 2))}
EXPRESSIONS = {
    "det": ("{f}(S)", "{f}(R)"),
    "logdet": ("{f}(Q)",),
    "inv": ("{f}(S)", "{f}(S) @ x[:2]"),
    "trace": ("{f}(A @ B)",),
    "solve": ("{f}(S, x[:2])", "{f}(S, A)"),
    "outer": ("{f}(x, y)",),
    "inner": ("{f}(x, y)", "{f}(A, A)"),
    "diagonal": ("{f}(A)", "{f}(C, 1, 0, 2)"),
    "diag_embed": ("{f}(A)", "{f}(x, -1)"),
    "diag": ("{f}(x)", "{f}(A, 1)"),
    "cross": ("{f}(x, y)", "{f}(A, x)"),
    "kron": ("{f}(S, A)",),
    "tril": ("{f}(A)", "{f}(A, 1)"),
    "triu": ("{f}(A, -1)",),
    "matrix_power": ("{f}(S, 3)", "{f}(S, -1)", "{f}(S, 0)"),
    "cholesky": ("{f}(Q)", "{f}(Q, upper=True)"),
    "pinv": ("{f}(A)", "{f}(B)"),
    "nuclear_norm": ("{f}(A)",),
}
