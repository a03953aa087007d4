"""Each bad call of the newer families gets one clear diffcli error naming
the function and what is wrong (in Python and in expressions alike)."""

from __future__ import annotations

import numpy as np
import pytest

import diffcli as dc
from diffcli.errors import DiffcliError, ShapeError
from diffcli.expr.numeric import evaluate_numeric
from diffcli.expr.parser import parse

A = dc.tensor([[1.0, 2.0], [2.0, 4.0]])  # singular, not positive-definite
X = dc.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])

CASES = [
    (lambda: dc.inv(A), "inv: the matrix is singular"),
    (lambda: dc.solve(A, dc.ones(2)), "solve: the matrix is singular"),
    (lambda: dc.cholesky(A), "cholesky: the input is not positive-definite"),
    (lambda: dc.det(X), "det needs square matrices"),
    (lambda: dc.matrix_power(X, 2), "matrix_power needs square matrices"),
    (lambda: dc.outer(X, X), "outer needs two vectors"),
    (lambda: dc.cross(A, A), "cross needs size 3 along dim -1"),
    (lambda: dc.pinv(dc.ones(3)), "pinv needs a matrix"),
    (lambda: dc.logdet(X), "logdet needs square matrices"),
    (lambda: dc.trace(dc.ones(2, 2, 2)), "trace needs a matrix"),
    (lambda: dc.mse_loss(X, X, reduction="avg"), "mse_loss: reduction must be"),
    (lambda: dc.kl_div(X, X, reduction="avg"), "'batchmean'"),
    (lambda: dc.cross_entropy(X, dc.tensor([0, 3])), "target 3 is out of range"),
    (lambda: dc.cross_entropy(X, dc.tensor([0.5, 1])), "targets must be integers"),
    (lambda: dc.nll_loss(X, dc.tensor([0, 1, 2])), "have shape (2,), got (3,)"),
    (lambda: dc.gelu(X, approximate="fast"), "approximate must be 'none' or 'tanh'"),
    (lambda: dc.softmax(X), "softmax() needs dim for a 2-D input"),
    (lambda: dc.polygamma(-1, X), "polygamma(n, x) needs n >= 0"),
    (lambda: dc.roll(X, (1, 1), 0), "shifts and dims must match"),
    (lambda: dc.cat([X, dc.ones(2, 2)]), "differ outside dim 0"),
    (lambda: dc.cat([]), "non-empty list"),
    (lambda: X.repeat(2), "1 counts cannot be fewer than the 2 dimensions"),
    (lambda: dc.norm(X, "max"), "p must be a number, 'fro' or 'nuc'"),
    (lambda: dc.flip(X, 2), "dim 2 is out of range"),
    (lambda: dc.diagonal(X, 0, 1, 1), "dim1 and dim2 are the same"),
]


@pytest.mark.parametrize(("call", "message"), CASES, ids=[m for _, m in CASES])
def test_a_bad_call_is_one_clear_error(call, message):
    with pytest.raises((DiffcliError, ShapeError)) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inv(A)", "inv: the matrix is singular"),
        ("cross_entropy(X[0], 5)", "cross_entropy: class target 5 is out of range"),
        ("cross_entropy(X, 5)", "targets for input (2, 3) have shape (2,), got ()"),
        ("gelu(X, approximate='fast')", "approximate must be 'none' or 'tanh'"),
        ("norm(X, 'max')", "p must be a number, 'fro' or 'nuc'"),
    ],
)
def test_the_same_errors_in_expressions_point_at_the_call(text, message):
    with pytest.raises(DiffcliError) as info:
        evaluate_numeric(parse(text), {"A": A, "X": X}, text)
    assert message in info.value.message
    assert (info.value.col, info.value.end) == (0, len(text))


def test_errors_do_not_leave_warnings():
    """numpy's complaints about a singular matrix are ours, not warnings."""
    with np.errstate(all="raise"), pytest.raises(DiffcliError):
        dc.inv(A)
