"""``diffcli functions``: the reference made from THE table."""

from __future__ import annotations

import json

from cli_helpers import human, invoke

from diffcli.engine.table import FUNCTIONS


def test_one_function_shows_call_derivative_grad_fn_and_kink():
    out = human("functions", "atan2")
    assert out.splitlines() == [
        "elementwise",
        "atan2(input, other)",
        "    angle of the point (other, input): atan(input / other) in the right "
        "quadrant",
        "    d/dx atan2(x, y) = y/(x**2 + y**2)",
        "    d/dy atan2(x, y) = -x/(x**2 + y**2)",
        "    grad_fn Atan2Backward0 · also arctan2 · in expressions, dc.*, methods",
        "    at kinks: at (0, 0) the gradient is nan, as in PyTorch",
    ]


def test_derivatives_come_from_sympy_for_calculus_functions():
    out = human("functions", "tanh", "log", "sigmoid", "sum")
    assert "d/dx tanh(x) = cosh(x)**(-2)" in out
    assert "d/dx log(x) = 1/x" in out
    assert "grad_fn SigmoidBackward0" in out
    assert "d/dx[0] sum(x) = 1" in out
    assert "grad_fn SumBackward0" in out


def test_json_lists_every_table_function_once():
    data = json.loads(invoke("functions", "--json").output)
    names = [f["name"] for f in data["functions"]]
    assert sorted(names) == sorted(FUNCTIONS)
    sin = next(f for f in data["functions"] if f["name"] == "sin")
    assert sin["derivatives"] == ["d/dx sin(x) = cos(x)"]
    assert sin["grad_fn"] == "SinBackward0"
    log = next(f for f in data["functions"] if f["name"] == "log")
    assert log["aliases"] == ["ln"] and log["in_expressions"]


def test_an_alias_finds_its_function_and_a_typo_gets_a_hint():
    assert "arctan2" in human("functions", "arctan2")
    result = invoke("functions", "atn2", code=2)
    assert "unknown function 'atn2' (did you mean 'atan2'?)" in result.output


def test_every_line_fits_80_columns():
    out = human("functions")
    assert max(len(line) for line in out.splitlines()) <= 80
    flowing = " ".join(out.split())  # a long call wraps at a space
    for fn in FUNCTIONS.values():
        assert str(fn.signature) in flowing
