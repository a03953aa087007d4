"""Realistic sizes (issue "Realistic sizes"): an MLP loss and least squares
print a screenful, arrays as numpy does, closed forms summarised; --full and
--json hold everything."""

import json
import re

import numpy as np
import pytest

from tests.cli_helpers import human, invoke


def values(seed: int, shape: tuple[int, ...]) -> str:
    n = int(np.prod(shape))
    dims = ", ".join(map(str, shape))
    return f"reshape(sin(arange({n}) * {0.7 + seed / 10} + {seed}), {dims})"


MLP = (
    "grad",
    "mean((tanh(X@W1+b1)@W2-y)**2)",
    "--at",
    f"W1={values(0, (5, 8))}",
    "--at",
    f"b1={values(1, (8,))}",
    "--at",
    f"W2={values(2, (8,))}",
    "--let",
    f"X={values(3, (20, 5))}",
    "--let",
    f"y={values(4, (20,))}",
)
LSQ = (
    "grad",
    "sum((A@w-b)**2)",
    "--at",
    f"w={values(5, (10,))}",
    "--let",
    f"A={values(6, (30, 10))}",
    "--let",
    f"b={values(7, (30,))}",
)
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]\d+)?")


@pytest.fixture(scope="module")
def mlp_text() -> str:
    return human(*MLP)


def test_the_mlp_gradient_fits_a_screen_and_is_checked_three_ways(mlp_text):
    lines = mlp_text.splitlines()
    assert len(lines) <= 60, mlp_text
    assert "check  ✓ ok   max abs err: closed form" in mlp_text
    assert "finite differences" in mlp_text
    # the 56 closed forms are counted, not printed (each is thousands of nodes)
    words = " ".join(mlp_text.split())  # table cells wrap
    assert "closed form 56 forms of 3721-3881 nodes" in words
    assert "see all with --closed-form or --full" in words


def test_gradient_rows_are_aligned_rows_not_one_number_per_line(mlp_text):
    start = mlp_text.index("gradient\n")
    table = mlp_text[start : mlp_text.index("closed form", start)]
    rows = [line for line in table.splitlines() if NUMBER.search(line)]
    assert rows
    # W1's 8 columns fill lines of several numbers, as numpy wraps a row
    assert all(len(NUMBER.findall(r.split("✓")[0])) >= 3 for r in rows), table
    w1 = table[table.index("W1") : table.index("b1")]
    assert w1.count("[") == 6  # the outer bracket and one per row of 5


def test_a_large_constant_is_elided_in_the_middle_and_whole_with_full():
    text = human(*LSQ)
    header = text[: text.index("gradient\n")]
    assert "...," in header  # A (30x10): its first and last rows
    assert header.count("\n") < 25
    full = human(*LSQ, "--full")
    head = full[: full.index("gradient\n")]
    assert "..." not in head
    assert len(NUMBER.findall(head)) >= 300 + 30 + 10


def test_beside_a_matrix_form_many_closed_forms_are_one_line():
    text = human(*LSQ)
    assert "closed form (matrix) d/dw  2 * A.T @ (A @ w - b)" in text
    words = " ".join(text.split())
    assert "closed form 10 forms of 1111 nodes: see all with --closed-form" in words
    assert not re.findall(r"^w\[\d\]", text, re.M)


def test_many_closed_forms_are_summarised_and_all_shown_on_request():
    no_matrix_form = (LSQ[0], "sum(cosh(A@w-b))", *LSQ[2:])  # cosh: none
    text = human(*no_matrix_form)
    forms = text[text.index("closed form\n") :]
    words = " ".join(forms.split())  # table cells wrap
    assert "10 closed forms of" in words
    assert "the shortest 3 shown (see all with --closed-form or --full)" in words
    assert len(re.findall(r"^w\[\d\]", forms, re.M)) == 3
    for flag in ("--closed-form", "--full"):
        every = human(*no_matrix_form, flag)
        every = every[every.index("closed form\n") :]
        assert len(re.findall(r"^w\[\d\]", every, re.M)) == 10, every
        assert "shown" not in every


def test_json_holds_every_value_and_closed_form():
    obj = json.loads(invoke(*LSQ, "--json").stdout)
    assert obj["check"]["status"] == "ok"
    assert len(obj["gradient"]["w"]) == 10
    assert len(obj["closed_form"]["w"]) == 10
    assert all("w[" in form for form in obj["closed_form"]["w"])
    assert np.shape(obj["constants"]["A"]) == (30, 10)


def test_no_spinner_when_stderr_is_not_a_terminal():
    result = invoke(*LSQ)
    assert result.stderr == ""


def test_help_states_the_witness_budgets():
    from diffcli.verify.verdict import Tolerances

    tol = Tolerances()
    text = " ".join(invoke("grad", "--help").stdout.split())
    assert f"closed form {tol.sym_max_elements} variable elements" in text
    assert f"{tol.sym_timeout:g} s of SymPy" in text
    assert f"finite differences {tol.fd_max_elements} variable elements" in text


def test_json_leaves_out_huge_closed_forms_unless_asked(monkeypatch):
    from diffcli.render import json_data

    monkeypatch.setattr(json_data, "JSON_FORM_NODES", 20)
    args = ("grad", "sum(sin(x)**3)", "--at", "x=[1, 2, 3]", "--json")
    data = json.loads(invoke(*args).stdout)
    assert data["closed_form"] is None
    assert data["closed_form_omitted"] == (
        "3 closed forms of 24 nodes in all, left out; "
        "include them with --closed-form or --full"
    )
    assert len(data["gradient"]["x"]) == 3  # the numbers always
    data = json.loads(invoke(*args, "--closed-form").stdout)
    assert data["closed_form"]["x"][0] == "3*sin(x[0])**2*cos(x[0])"
    assert "closed_form_omitted" not in data


def test_writing_closed_forms_out_stops_at_the_time_budget(monkeypatch):
    from diffcli.render import forms

    calls = iter([None, "over the command's time budget of 10 s"])
    monkeypatch.setattr(forms, "over_budget", lambda: next(calls))
    out = human("grad", "sum(sin(x)**3)", "--at", "x=[1, 2, 3]", "--closed-form")
    assert "3*sin(x[0])**2*cos(x[0])" in out
    assert "2 more not written: over the command's time budget of 10 s" in out
    assert "x[1]  " not in out


def test_progress_names_each_stage_and_counts_the_entries_simplified():
    """What a spinner shows (issue "Realistic sizes": "closed form 12/48")."""
    from diffcli.verify import progress
    from diffcli.verify import verdict as V

    seen: list[str] = []
    stop = progress.listen(seen.append)
    try:
        V.grad("norm(x**2)", at={"x": np.array([1.0, 2.0])})
    finally:
        stop()
    assert seen == [
        "closed form (matrix)",
        "finite differences",
        "closed form (SymPy)",
        "closed form: derivative",
        "closed form: simplifying 1/2",
        "closed form: simplifying 2/2",
        "closed form: value at the point",
    ]


def test_a_long_sum_is_not_refused_as_deep():
    # 300 terms: a chain of '+', not a nesting (review finding: refused at 200)
    out = invoke("grad", "+".join(["x"] * 300), "--at", "x=1", "--json").stdout
    obj = json.loads(out)
    assert (obj["value"], obj["gradient"]["x"]) == (300.0, 300.0)
    assert obj["check"]["status"] == "ok"
    terms = "+".join(f"x[{i}]" for i in range(300))
    obj = json.loads(invoke("grad", terms, "--at", "x=ones(300)", "--json").stdout)
    assert obj["value"] == 300.0 and obj["gradient"]["x"] == [1.0] * 300
    mixed = "x" + "".join(f"{'-' if i % 2 else '+'}{i}*x" for i in range(1, 600))
    obj = json.loads(invoke("grad", mixed, "--at", "x=1", "--json").stdout)
    assert obj["gradient"]["x"] == -299.0  # 1 + (-1 + 2) + ... + (-597 + 598) - 599


def test_too_many_operators_is_said_without_echoing_the_expression():
    text = "+".join(["x"] * 3000)
    out = invoke("grad", text, "--at", "x=1", code=2).stderr
    lines = out.splitlines()
    assert lines[0] == "error: expression has 2999 operators (limit 2000)"
    assert lines[1] == "  …" + text[3983:4055] + "…"  # around the 2001st '+'
    assert lines[2] == "  " + " " * 19 + "^"
    assert len(out) < 300
