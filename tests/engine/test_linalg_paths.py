"""``dc.linalg`` at torch.linalg's paths: the same values, gradients and
grad_fn names as torch.linalg on the same matrices."""

from __future__ import annotations

import numpy as np
import pytest
from torch_twin import both

import diffcli as dc

torch = pytest.importorskip("torch")

A = np.array([[2.0, -1.0, 0.5], [0.3, 1.5, -0.7], [1.0, 0.2, 3.0]])
B = np.array([[1.0, 2.0], [-0.5, 0.25], [3.0, -1.0]])
PROGRAMS = {
    "det": lambda la, a, b: la.det(a),
    "inv": lambda la, a, b: la.inv(a),
    "slogdet": lambda la, a, b: la.slogdet(a)[1],
    "solve": lambda la, a, b: la.solve(a, b),
    "cholesky": lambda la, a, b: la.cholesky(a @ a.mT),
    "pinv": lambda la, a, b: la.pinv(b),
    "cross": lambda la, a, b: la.cross(a, a.flip(0)),
    "matrix_power": lambda la, a, b: la.matrix_power(a, 3),
    "vector_norm": lambda la, a, b: la.vector_norm(a, 3),
    "vector_norm_dim": lambda la, a, b: la.vector_norm(b, float("inf"), 1, True),
    "matrix_norm_fro": lambda la, a, b: la.matrix_norm(b),
    "matrix_norm_nuc": lambda la, a, b: la.matrix_norm(b, "nuc"),
    "norm": lambda la, a, b: la.norm(b),
    "norm_vector_ord": lambda la, a, b: la.norm(b, 1, dim=0),
    "norm_matrix_ord": lambda la, a, b: la.norm(a, "nuc"),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_linalg_matches_torch_linalg(name, torch_float64):
    def program(lib):
        a = lib.tensor(A, requires_grad=True)
        b = lib.tensor(B, requires_grad=True)
        y = PROGRAMS[name](lib.linalg, a, b)
        y.sum().backward()
        return y, y.grad_fn.name(), a.grad, b.grad

    both(program, torch_float64, rtol=1e-10)


def test_matrix_norm_says_which_orders_it_lacks():
    with pytest.raises(dc.DiffcliError, match="only 'fro' and 'nuc'"):
        dc.linalg.matrix_norm(dc.tensor(A), 2)


def test_linalg_module_path():
    from diffcli.linalg import det

    assert det is dc.linalg.det
