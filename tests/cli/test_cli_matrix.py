"""The matrix closed form on the command line (issue 16)."""

import json

from tests.cli_helpers import human, invoke

A = "[[1,2,3],[4,5,6],[7,8,10]]"


def test_the_matrix_form_is_printed_beside_the_per_component_ones():
    out = human("grad", "x @ A @ x", "--at", "x=[1,2,3]", "--let", f"A={A}")
    assert "closed form (matrix) d/dx  (A + A.T) @ x" in out
    assert "(A + Aᵀ) x" in out  # and in Unicode, for reading
    assert "x[0]      2*x[0] + 6*x[1] + 10*x[2]" in out  # still there
    assert "✓ ok" in out


def test_json_has_closed_form_matrix_with_names_kept():
    out = invoke(
        "grad",
        "sum((A @ w - b)**2)",
        "--at",
        "w=[1,2]",
        "--let",
        "A=[[1,2],[3,4],[5,7]]",
        "--let",
        "b=[1,1,1]",
        "--json",
    ).stdout
    obj = json.loads(out)
    assert obj["closed_form_matrix"] == {"w": "2 * A.T @ (A @ w - b)"}
    assert obj["closed_form_matrix_unicode"] == {"w": "2 Aᵀ (A w - b)"}
    assert obj["check"]["status"] == "ok"


def test_no_matrix_form_says_why():
    out = human("grad", "prod(x)", "--at", "x=[1,2]")
    assert "closed form (matrix)  no matrix form: prod is not supported" in out
    obj = json.loads(invoke("grad", "prod(x)", "--at", "x=[1,2]", "--json").stdout)
    assert obj["closed_form_matrix"] is None
    assert obj["closed_form_matrix_reason"] == "no matrix form: prod is not supported"


def test_scalars_only_show_no_matrix_line():
    out = human("grad", "sin(x) * y", "--at", "x=1", "--at", "y=2")
    assert "matrix" not in out


def test_latex_on_the_command_line():
    args = ("grad", "logdet(X)", "--at", "X=[[2,1],[1,3]]", "--latex")
    assert "closed form (matrix) d/dX  X^{-\\top}" in human(*args)
    obj = json.loads(invoke(*args, "--json").stdout)
    assert obj["closed_form_matrix"] == {"X": "X^{-\\top}"}


def test_value_less_names_get_a_matrix_form_over_symbolic_sizes():
    out = human("grad", "x@A@x", "--at", "x=[1,2]", "--wrt", "x")
    assert "closed form (matrix) d/dx  (A + A.T) @ x" in out
    assert "(A + Aᵀ) x" in out
    assert "– skipped" in out and "A has no value: the result is symbolic" in out
    args = ("grad", "sum((A@w-b)**2)", "--at", "w=[1,2,3]", "--json")
    obj = json.loads(invoke(*args).stdout)
    assert obj["closed_form_matrix"] == {"w": "2 * A.T @ (A @ w - b)"}
    assert obj["closed_form_matrix_sizes"] == {"A": ["n", 3], "b": ["n"]}
    assert obj["check"]["status"] == "skipped"
    latex = json.loads(invoke("grad", "logdet(X)", "--latex", "--json").stdout)
    assert latex["closed_form_matrix"] == {"X": "X^{-\\top}"}


def test_over_scalars_the_matrix_form_shows_where_nothing_else_does():
    # X without a value, taken as a scalar: mean(X, dim=0) is X, so the
    # gradient of X**2 is 2 X; SymPy has no per-component form, and nothing
    # was shown but "skipped"
    out = human("grad", "sum(mean(X, dim=0) ** 2)", "--wrt", "X")
    assert "closed form (matrix) d/dX  2 * X" in out
    out = human("grad", "x**2", "--at", "x=2")  # per-component forms: no repeat
    assert "closed form (matrix)" not in out
