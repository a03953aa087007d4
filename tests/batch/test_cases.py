"""Batch cases: loading TOML and JSON Lines, malformed cases reported one by one,
expectations, JSON output (JUnit and writing reports: test_reports.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from diffcli.batch.cases import (
    BatchFileError,
    Case,
    CaseResult,
    load,
    run_case,
)
from diffcli.render.run_views import case_json

GOOD_AND_BAD = """
[defaults]
rtol = 1e-3
atol = 1e-9

[[case]]
name = "square"
expr = "x**2"
at = { x = 3.0 }
expect = { value = 9.0, gradient = { x = 6.0 } }

[[case]]
name = "bool value"
expr = "x**2"
at = { x = true }

[[case]]
name = "unknown field"
expr = "x"
at = { x = 1.0 }
bogus = 1

[[case]]
name = "no expr"
at = { x = 1.0 }

[[case]]
name = "bad syntax"
expr = "x**"
at = { x = 1.0 }

[[case]]
name = "no value for y"
expr = "x*y"
at = { x = 1.0 }

[[case]]
name = "last"
expr = "sin(x)*exp(y)"
at = { x = 0.5, y = -1.0 }
rtol = 1e-6
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_all(path) -> dict[str, CaseResult]:
    return {r.name: r for r in map(run_case, load(path))}


# --- loading -------------------------------------------------------------------------


def test_load_toml_with_defaults(tmp_path):
    cases = load(write(tmp_path, "b.toml", GOOD_AND_BAD))
    assert [c.name for c in cases] == [
        "square",
        "bool value",
        "unknown field",
        "no expr",
        "bad syntax",
        "no value for y",
        "last",
    ]
    square, last = cases[0], cases[-1]
    assert square.error is None and square.at == {"x": 3.0}
    assert (square.rtol, square.atol) == (1e-3, 1e-9)  # from [defaults]
    assert (last.rtol, last.atol) == (1e-6, 1e-9)  # its own rtol wins
    assert [c.index for c in cases] == list(range(7))
    assert all(c.file == str(tmp_path / "b.toml") for c in cases)


def test_every_malformed_case_is_an_error_and_the_rest_still_run(tmp_path):
    results = run_all(write(tmp_path, "b.toml", GOOD_AND_BAD))
    status = {name: r.status for name, r in results.items()}
    assert status == {
        "square": "ok",
        "bool value": "error",
        "unknown field": "error",
        "no expr": "error",
        "bad syntax": "error",
        "no value for y": "error",
        "last": "ok",
    }
    messages = {name: r.message for name, r in results.items()}
    assert messages["bool value"] == "the value of 'x' is not a number: True"
    assert messages["unknown field"].startswith("unknown fields ['bogus']")
    assert messages["no expr"] == "'expr' must be a non-empty string"
    assert messages["bad syntax"].startswith("unexpected end of expression")
    assert "x**" in messages["bad syntax"]  # rendered with its caret line
    assert "y has no value" in messages["no value for y"]
    last = results["last"]
    assert last.value == pytest.approx(math.sin(0.5) * math.exp(-1.0), rel=1e-15)
    assert float(last.gradient["y"]) == pytest.approx(last.value, rel=1e-15)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("at = { x = [true, 1.0] }", "is not a number"),
        ("at = { x = { y = 1 } }", "is not a number, array or value string"),
        ("at = { x = [[1, 2], [3]] }", "is not a number, array or value string"),
        ("at = { x = 1979-05-27 }", "is not a number"),
        ("at = 3", "'at' must be a table"),
        ("wrt = 5", "'wrt' must be a list of variable names"),
        ("order = 0", "'order' must be a positive integer"),
        ("order = 1.5", "'order' must be a positive integer"),
        ('rtol = "tight"', "'rtol' must be a non-negative number"),
        ("atol = -1.0", "'atol' must be a non-negative number"),
        ('check = "no"', "'check' must be true or false"),
        ("seed = true", "the value of 'seed' is not a number"),
        ("expect = 5", "'expect' takes the fields"),
        ("expect = { values = 1 }", "'expect' takes the fields"),
    ],
)
def test_bad_field_values_are_case_errors(tmp_path, fields, message):
    text = f'[[case]]\nexpr = "x**2"\nat = {{ x = 2.0 }}\n{fields}\n'
    text = text.replace("at = { x = 2.0 }\nat", "at")  # fields may redefine 'at'
    text += '[[case]]\nname = "next"\nexpr = "x"\nat = { x = 1.0 }\n'
    first, after = map(run_case, load(write(tmp_path, "f.toml", text)))
    assert first.status == "error" and message in first.message
    assert after.status == "ok"


def test_load_jsonl(tmp_path):
    lines = [
        '{"name": "cube", "expr": "x**3", "at": {"x": 2.0},'
        ' "expect": {"gradient": {"x": 12.0}}}',
        "not json {",
        '{"expr": "x+", "at": {"x": 2.0}}',
        "",
        '["a list"]',
        '{"name": "sum", "expr": "sum(x*x)", "at": {"x": [1, 2]}, "rtol": 1e-6}',
    ]
    path = write(tmp_path, "b.jsonl", "\n".join(lines) + "\n")
    cases = load(path)
    assert [c.name for c in cases] == ["cube", "line 2", "x+", "case 4", "sum"]
    results = [run_case(c) for c in cases]
    assert [r.status for r in results] == ["ok", "error", "error", "error", "ok"]
    assert results[1].message.startswith(f"{path}:2:1: not valid JSON: Expecting value")
    assert results[2].message.startswith("unexpected end of expression")
    assert results[3].message == "a case must be a table of fields"
    assert cases[4].rtol == 1e-6
    np.testing.assert_array_equal(results[4].gradient["x"], [2.0, 4.0])


def test_one_bad_byte_in_json_lines_loses_one_case(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(
        b'{"expr": "x**2", "at": {"x": 3.0}}\n'
        b'{"name": "caf\xe9", "expr": "x"}\n'  # Latin-1, not UTF-8
        b"\n"
        b'{"name": "sep\xe2\x80\xa8arator", "expr": "x**3", "at": {"x": 2.0}}\r\n'
    )
    cases = load(path)
    assert [c.name for c in cases] == ["x**2", "line 2", "sep\u2028arator"]
    assert cases[1].error == f"{path}:2:14: not UTF-8 text (byte 0xe9)"
    results = [run_case(c) for c in cases]
    assert [r.status for r in results] == ["ok", "error", "ok"]
    assert results[2].gradient == {"x": 12.0}  # U+2028 inside a string splits nothing


def test_a_toml_file_that_is_not_utf8_is_one_error_saying_where(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[[case]]\nexpr = "\xe9"\n')
    with pytest.raises(BatchFileError) as err:
        load(bad)
    assert str(err.value) == (
        f"cannot read {bad}: not UTF-8 text (byte 0xe9 at line 2, column 9)"
    )


def test_unreadable_file_raises(tmp_path):
    with pytest.raises(BatchFileError, match="cannot read"):
        load(tmp_path / "missing.toml")
    with pytest.raises(BatchFileError, match="cannot read"):
        load(tmp_path)  # a directory
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[[case]]\nexpr = "\xe9"\n')
    with pytest.raises(BatchFileError, match="cannot read"):
        load(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[case]]\nexpr = "x\n', "is not valid TOML"),
        ("x = = 1", "is not valid TOML"),
        ("[defaults]\nverbose = true\n", r"unknown keys in \[defaults\]"),
        ('expr = "x"\n', "unknown top-level keys"),
        ("case = 3\n", r"expected a \[defaults\] table and \[\[case\]\] tables"),
    ],
)
def test_invalid_file_raises(tmp_path, text, message):
    with pytest.raises(BatchFileError, match=message):
        load(write(tmp_path, "bad.toml", text))


def test_empty_file_has_no_cases(tmp_path):
    assert load(write(tmp_path, "e.toml", "")) == []
    assert load(write(tmp_path, "e.jsonl", "\n\n")) == []


# --- expectations -------------------------------------------------------------


def one(tmp_path, body: str) -> CaseResult:
    (case,) = load(write(tmp_path, "one.toml", "[[case]]\n" + body))
    return run_case(case)


def test_expect_within_rtol_passes(tmp_path):
    r = one(
        tmp_path,
        'expr = "x**2*y"\nat = { x = 3.0, y = 2.0 }\norder = 2\nrtol = 1e-3\n'
        "expect = { value = 18.01, gradient = { x = 12.0, y = 9.005 }, "
        "hessian = { x = { x = 4.0, y = 6.0 }, y = { x = 6.0, y = 0.0 } } }\n",
    )
    assert r.status == "ok", r.message
    assert r.value == 18.0 and float(r.gradient["x"]) == 12.0
    assert float(r.hessian["x"]["y"]) == 6.0
    assert r.max_abs_err == pytest.approx(0.01, rel=1e-6)


def test_expect_value_outside_rtol_fails_showing_both(tmp_path):
    r = one(
        tmp_path,
        'expr = "x**2"\nat = { x = 3.0 }\nrtol = 1e-4\nexpect = { value = 9.1 }\n',
    )
    assert r.status == "fail"
    assert r.message.startswith("value: expected 9.1, got 9")
    assert r.max_abs_err == pytest.approx(0.1)


def test_expect_gradient_and_hessian_outside_rtol_fail(tmp_path):
    r = one(
        tmp_path,
        'expr = "sum(x**3)"\nat = { x = [1.0, 2.0] }\norder = 2\n'
        "expect = { gradient = { x = [3.0, 12.5] }, "
        "hessian = { x = { x = [[6.0, 0.0], [0.0, 12.0]] } } }\n",
    )
    assert r.status == "fail"
    assert r.message == "gradient[x]: expected [ 3. , 12.5], got [ 3., 12.]"
    r = one(
        tmp_path,
        'expr = "sum(x**3)"\nat = { x = [1.0, 2.0] }\norder = 2\n'
        "expect = { hessian = { x = { x = [[6.0, 0.0], [0.0, 11.0]] } } }\n",
    )
    assert r.status == "fail" and r.message.startswith("hessian[x][x]: expected")
    assert "11." in r.message and "12." in r.message


def test_expect_wrong_shape_or_name_fails(tmp_path):
    r = one(
        tmp_path,
        'expr = "sum(x)"\nat = { x = [1.0, 2.0] }\n'
        "expect = { gradient = { x = [1.0, 1.0, 1.0], z = 1.0 } }\n",
    )
    assert r.status == "fail"
    assert "gradient[x]: expected shape (3,), got (2,)" in r.message
    assert "gradient[z]: no such result" in r.message
    r = one(tmp_path, 'expr = "x"\nat = { x = 1.0 }\nexpect = { gradient = [1.0] }\n')
    assert r.status == "fail" and "expected a table of names" in r.message


def test_no_expect_passes_when_the_three_way_check_agrees(tmp_path):
    r = one(tmp_path, 'expr = "log(1 + x**2) * tanh(y)"\nat = { x = 0.7, y = 0.2 }\n')
    assert r.status == "ok" and r.message == ""
    assert r.max_abs_err is not None and r.max_abs_err < 1e-6
    assert r.seconds > 0


def test_expect_value_strings_and_let(tmp_path):
    r = one(
        tmp_path,
        'expr = "sum(a * x)"\nat = { x = "ones(3)" }\nlet = { a = "arange(3)" }\n'
        "expect = { value = 3.0, gradient = { x = [0.0, 1.0, 2.0] } }\n",
    )
    assert r.status == "ok", r.message


def test_malformed_case_result_is_not_run():
    case = Case("broken", "x", error="something is wrong")
    r = run_case(case)
    assert (r.status, r.message, r.value) == ("error", "something is wrong", None)


# --- output ---------------------------------------------------------------------


def test_case_json_non_finite_as_strings():
    r = CaseResult(
        "n",
        "log(x)",
        "ok",
        value=float("nan"),
        gradient={"x": np.array([np.inf, -np.inf, 1.5])},
        hessian={"x": {"x": np.float64(np.nan)}},
        max_abs_err=float("inf"),
    )
    out = case_json(r)
    assert out["value"] == "nan" and out["max_abs_err"] == "inf"
    assert out["gradient"] == {"x": ["inf", "-inf", 1.5]}
    assert out["hessian"] == {"x": {"x": "nan"}}
    text = json.dumps(out, allow_nan=False)  # strictly valid JSON
    assert json.loads(text)["gradient"]["x"][0] == "inf"


def test_case_json_of_a_real_case(tmp_path):
    r = one(tmp_path, 'expr = "log(x)"\nat = { x = [-1.0, 0.0, 1.0] }\nseed = "ones"\n')
    out = json.loads(json.dumps(case_json(r), allow_nan=False))
    assert out["value"] == ["nan", "-inf", 0.0]
    assert out["gradient"]["x"] == [-1.0, "inf", 1.0]
    assert "hessian" not in out


def test_an_overflow_fails_its_case_as_it_exits_1_on_the_command_line(tmp_path):
    path = write(
        tmp_path,
        "o.toml",
        '[[case]]\nname = "lse"\nexpr = "log(sum(exp(x)))"\n'
        "at = { x = [1000, 1001, 1002] }\n",
    )
    (r,) = run_all(path).values()
    assert r.status == "fail"
    assert "overflow in the engine" in r.message
