"""Reasons and notes in diffcli's own words: a witness that is not finite at
the point says so, and no exception's text reaches the user."""

import json

import pytest

from diffcli.errors import ExprError
from diffcli.verify.verdict import grad
from tests.cli_helpers import human, invoke


def test_a_matrix_form_not_finite_at_the_point_says_so():
    # x / norm(x) is 0/0 at 0: no witness there; the engine takes 0 as PyTorch
    out = human("grad", "norm(x)", "--at", "x=[0,0]")
    assert "closed form (matrix) d/dx  x / norm(x)" in out
    assert "note: the matrix closed form is not a finite real number at x[0], x[1]" in (
        " ".join(out.split())
    )
    obj = json.loads(invoke("grad", "norm(x)", "--at", "x=[0,0]", "--json").stdout)
    assert obj["gradient"]["x"] == [0.0, 0.0]  # PyTorch's subgradient
    assert any("matrix closed form is not a finite" in n for n in obj["check"]["notes"])


def test_many_kinks_are_counted_in_one_note():
    out = human("grad", "norm(x)", "--at", "x=zeros(300)")
    assert out.count("is at a kink") == 3
    assert "and 297 more entries at a kink" in " ".join(out.split())


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        # a class target that is a name, not a number written out
        ("cross_entropy(W@x, t)", "no matrix form: 't' used as a number is not"),
        ("nll_loss(log_softmax(W@x, 0), t)", "no matrix form: 't' used as a number"),
    ],
)
def test_no_matrix_form_is_said_in_diffcli_words(expr, reason):
    values = ("--let", "W=[[1,2],[3,4],[5,6]]", "--let", "t=1")
    out = human("grad", expr, "--at", "x=[1,2]", *values)
    assert f"closed form (matrix)  {reason}" in out
    assert "float()" not in out and "argument" not in out


def test_an_index_out_of_range_is_said_in_diffcli_words():
    with pytest.raises(ExprError) as err:
        grad("x[0, 5]", at={"x": [[1, 2, 3], [4, 5, 6]]})
    assert err.value.message == (
        "index 5 is out of bounds for axis 1 with size 3 "
        "(the indexed value has shape (2, 3))"
    )


def test_a_value_that_is_not_an_array_is_said_in_diffcli_words():
    with pytest.raises(ExprError) as err:
        grad("sum(x)", at={"x": [[1, 2], [3]]})
    assert err.value.message == (
        "the value of 'x' is not a number or a rectangular array of numbers (a list)"
    )
