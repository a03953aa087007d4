"""Matrix forms of expressions that pick: indexing, comparisons and where,
abs, maximum, the 1-norm and softmax cross-entropy with a class index.  Each
is checked three ways: the printed form, its value as the witness, and the
printed form pasted back into diffcli, all against a hand-derived gradient."""

from __future__ import annotations

import numpy as np
import pytest
from test_matrix_form import ONLY_MATRIX, check

from diffcli.verify.verdict import grad

RNG = np.random.default_rng(7)
W = RNG.normal(size=(3, 2))
x = np.array([0.7, -1.3])
X = RNG.normal(size=(3, 3))
e = np.eye(3)


def _softmax(u):
    z = np.exp(u - u.max())
    return z / z.sum()


def test_softmax_cross_entropy_with_a_class_index():
    """d/dx of -log softmax(Wx)[1] is W.T (softmax(Wx) - e1)."""
    hand = W.T @ (_softmax(W @ x) - e[1])
    form = {"x": "W.T @ (softmax(W @ x) - eye(3)[1])"}
    check("cross_entropy(W @ x, 1)", {"x": x}, {"W": W}, form, {"x": hand})
    check("-log(softmax(W @ x)[1])", {"x": x}, {"W": W}, form, {"x": hand})


def test_a_weighted_summed_cross_entropy_keeps_the_weight():
    hand = 2.5 * W.T @ (_softmax(W @ x) - e[2])
    check(
        "cross_entropy(W @ x, 2, weight=[1, 1, 2.5], reduction='sum')",
        {"x": x},
        {"W": W},
        {"x": "5 / 2 * W.T @ (softmax(W @ x) - eye(3)[2])"},
        {"x": hand},
    )


@pytest.mark.parametrize(
    ("text", "form", "hand"),
    [
        ("x[0] * x[1]", "x[0] * eye(2)[1] + x[1] * eye(2)[0]", [x[1], x[0]]),
        ("sum(X[1])", "outer(eye(3)[1], ones(3))", np.outer(e[1], np.ones(3))),
        ("sum(X[:, 2])", "outer(ones(3), eye(3)[2])", np.outer(np.ones(3), e[2])),
        ("X[2, 0]", "outer(eye(3)[2], eye(3)[0])", np.outer(e[2], e[0])),
        ("sum(X[0:2] ** 2)", "2 * eye(3)[0:2].T @ X[0:2]", 2 * e[:, :2] @ X[:2]),
        ("sum(X[:, [2, 0]])", "ones(3, 2) @ eye(3)[[2, 0]]", None),
    ],
)
def test_indexing_puts_the_adjoint_back_where_it_came_from(text, form, hand):
    name = "x" if "x" in text else "X"
    at = {"x": x} if name == "x" else {"X": X}
    if hand is None:  # columns 2 and 0 summed: ones there, zeros in column 1
        hand = np.array([[1.0, 0.0, 1.0]] * 3)
    check(text, at, {}, {name: form}, {name: np.asarray(hand)})


def test_abs_and_the_1_norm_take_sign_zero_at_zero_as_pytorch():
    v = np.array([1.5, 0.0, -2.0])
    check(
        "sum(abs(A @ v))",
        {"v": v},
        {"A": np.eye(3)},
        {"v": "A.T @ sign(A @ v)"},
        {"v": np.sign(v)},
    )
    check("norm(v, 1)", {"v": v}, {}, {"v": "sign(v)"}, {"v": np.sign(v)})


def test_where_passes_the_adjoint_to_the_branch_taken():
    u = W @ x
    hand = W.T @ np.where(u > 0, 1.0, 0.0)
    check(
        "sum(where(W @ x > 0, W @ x, 0))",
        {"x": x},
        {"W": W},
        {"x": "W.T @ where(W @ x > 0, 1, 0)"},
        {"x": hand},
    )


def test_maximum_splits_the_adjoint_at_a_tie_as_pytorch():
    v = np.array([1.0, 0.0, -1.0])
    form = "where(v > 0, 1, where(v == 0, 1 / 2, 0))"
    check("sum(maximum(v, 0))", {"v": v}, {}, {"v": form}, {"v": [1.0, 0.5, 0.0]})


def test_a_named_class_target_has_no_matrix_form_and_says_so():
    r = grad(
        "cross_entropy(W @ x, t)", at={"x": x}, let={"W": W, "t": 1}, tol=ONLY_MATRIX
    )
    assert r.closed_form_matrix is None
    assert r.matrix_reason and "Traceback" not in r.matrix_reason
    assert r.check.status in ("ok", "skipped")
