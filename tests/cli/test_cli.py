"""The command line, through click's CliRunner: every option, every seed example
in its CLI form with the documents' numbers, every error path and its exit code,
and the JSON contract (checked by the small schema checker below)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest
from cli_helpers import ENV, run_fresh
from cli_helpers import human as out
from cli_helpers import invoke as cli
from click.testing import CliRunner

from diffcli import __version__
from diffcli.cli import main
from diffcli.verify import verdict as C

QUAD = ["a*x**2+b*x+c", "--at", "x=0", "--let", "a=1", "--let", "b=-2", "--let", "c=1"]

CONTROL_FLOW = """\
import diffcli as dc


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


def broken(a):
    return a / undefined_name
"""


def data(*args: str, code: int = 0) -> dict:
    """--json output, checked against the contract."""
    obj = json.loads(cli(*args, "--json", code=code).stdout)
    validate(obj)
    return obj


def close(a, b, tol: float = 1e-4) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(
            close(x, y, tol) for x, y in zip(a, b, strict=True)
        )
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --- the JSON contract --------------------------------------------------------

NONFINITE = {"nan", "inf", "-inf"}


def is_v(v) -> bool:
    """A number, "nan"/"inf"/"-inf", or nested lists of those."""
    if isinstance(v, list):
        return all(is_v(x) for x in v)
    if isinstance(v, bool):
        return False
    return isinstance(v, (int, float)) or v in NONFINITE


def is_s(v) -> bool:
    """A str, or nested lists of str (closed forms of array variables)."""
    if isinstance(v, list):
        return all(is_s(x) for x in v)
    return isinstance(v, str)


def validate(obj: dict) -> None:
    """The issue's JSON contract, with the documented extras (constants, notes)."""
    if "error" in obj:
        assert set(obj) == {"error"} and isinstance(obj["error"], str)
    elif "outputs" in obj:
        assert set(obj) == {"outputs", "gradient"}
        for o in obj["outputs"]:
            validate_grad(o)
        assert all(v is None or is_v(v) for v in obj["gradient"].values())
    elif "jacobian" in obj:
        base = {"expr", "point", "constants", "value", "jacobian"}
        base |= {"closed_form", "check"}
        assert base <= set(obj) <= base | {"matrix", "direction"}
        assert all(is_v(v) for v in obj["jacobian"].values())
        validate_check(obj["check"])
    elif "nodes" in obj:
        assert {"expr", "point", "value", "nodes", "edges"} <= set(obj)
        for n in obj["nodes"]:
            assert {"id", "name", "kind", "shape", "value", "grad", "inputs"} == set(n)
            assert n["kind"] in ("op", "leaf", "constant")
            assert is_v(n["value"]) and (n["grad"] is None or is_v(n["grad"]))
        assert all(len(e) == 2 for e in obj["edges"])
    else:
        validate_grad(obj)


def validate_grad(obj: dict) -> None:
    required = {"expr", "point", "value", "gradient", "closed_form"}
    required |= {"closed_form_at_point", "check"}
    extras = {"constants", "hessian", "nth_derivative", "direction"}
    extras |= {"hessian_closed_form", "nth_closed_form"}
    extras |= {"closed_form_matrix", "closed_form_matrix_reason"}
    extras |= {"closed_form_matrix_unicode", "closed_form_matrix_sizes"}
    assert required <= set(obj) <= required | extras
    assert isinstance(obj["expr"], str)
    assert all(is_v(v) for v in obj["point"].values())
    assert obj["value"] is None or is_v(obj["value"])
    assert all(v is None or is_v(v) for v in obj["gradient"].values())
    for key in ("closed_form", "closed_form_at_point"):
        assert obj[key] is None or all(is_s(v) for v in obj[key].values())
    if obj.get("hessian") is not None:
        assert all(is_v(v) for row in obj["hessian"].values() for v in row.values())
    if obj.get("nth_derivative") is not None:
        assert is_v(obj["nth_derivative"])
    for row in obj.get("hessian_closed_form", {}).values():
        assert all(is_s(v) for v in row.values())
    assert is_s(obj.get("nth_closed_form", ""))
    for dims in obj.get("closed_form_matrix_sizes", {}).values():  # ["n", 3]
        assert all(isinstance(d, int | str) for d in dims)
    validate_check(obj["check"])


def validate_check(check: dict) -> None:
    assert set(check) >= {"status", "symbolic_max_abs_err", "fd_max_abs_err", "reason"}
    assert check["status"] in (
        "ok",
        "mismatch",
        "skipped",
        "overflow",
        "not-differentiable",
        "non-finite",
    )
    for key in ("symbolic_max_abs_err", "fd_max_abs_err"):
        assert check[key] is None or isinstance(check[key], float)
    assert check["reason"] is None or isinstance(check["reason"], str)


# --- the seed examples, as command lines ----------------------------------------------

SEEDS = [
    # (args, variable, expected gradient)
    (["norm(x**2)", "--at", "x=[1,2]"], "x", [0.4851, 3.8806]),  # 000
    (["x**2", "--at", "x=[1,2]", "--seed", "ones"], "x", [2, 4]),  # 000
    (["x + y**2", "--at", "x=1,y=2"], "y", 4),  # 000
    (
        ["mm(x, Y)", "--at", "x=[[1,2]]", "--let", "Y=[[1,2],[3,4]]", "--seed", "ones"],
        "x",
        [[3, 7]],
    ),  # 000
    (["[[1,2]]@Y", "--at", "Y=[[1,2],[3,4]]", "--seed", "ones"], "Y", [[1, 1], [2, 2]]),
    (QUAD, "x", -2),  # 001
    (
        ["a*x**2+b*x+c", "--at", "x=[[0,0],[1,2]]", "--let", "a=1,b=-2,c=1"]
        + ["--seed", "ones"],
        "x",
        [[-2, -2], [0, 2]],
    ),  # 001
    (["mean((x+2)*(x+2)*3)", "--at", "x=ones(2,2)"], "x", [[4.5, 4.5], [4.5, 4.5]]),
    (["2*dot(x,x)", "--at", "x=arange(4)"], "x", [0, 4, 8, 12]),  # 002/004
    (["sum(x)", "--at", "x=arange(4)"], "x", [1, 1, 1, 1]),  # 002
    (["sum(x*x)", "--at", "x=arange(4)"], "x", [0, 2, 4, 6]),  # 002
    (["sum(detach(x*x)*x)", "--at", "x=arange(4)"], "x", [0, 1, 4, 9]),  # 002
    (["sum(x*x*x)", "--at", "x=arange(4)"], "x", [0, 3, 12, 27]),  # 002
    (["mean(3*(a+3)**2)", "--at", "a=[2,3]"], "a", [15, 18]),  # 003
    (["[m[0]**2, m[1]**3]", "--at", "m=[2,3]", "--seed", "[1,1]"], "m", [4, 27]),
]


@pytest.mark.parametrize(("args", "name", "expected"), SEEDS)
def test_seed_examples(args, name, expected):
    obj = data("grad", *args)
    assert close(obj["gradient"][name], expected)
    assert obj["check"]["status"] == "ok"
    assert obj["check"]["reason"] is None


def test_norm_prints_enough_digits():
    text = out("grad", "norm(x**2)", "--at", "x=[1,2]")
    assert "[0.485071,  3.88057]" in text
    assert "✓ ok" in text


def test_quadratic_table():
    text = out("grad", *QUAD)
    assert "a = 1, b = -2, c = 1" in text
    assert ["x", "2*x", "-", "2", "-2", "-2", "✓", "ok"] in [
        line.split() for line in text.splitlines()
    ]


def test_order_two_is_the_hessian():
    obj = data("grad", "x**2-2*x+1", "--at", "x=0", "--order", "2")
    assert obj["hessian"] == {"x": {"x": 2.0}}
    assert obj["gradient"] == {"x": -2.0}
    assert data("grad", *QUAD, "--order", "2")["hessian"]["x"]["x"] == 2.0
    text = out("grad", "x**2-2*x+1", "--at", "x=0", "--order", "2")
    assert "Hessian" in text and "d²f/dx²" in text


def test_hessian_of_two_variables():
    obj = data("grad", "x*y**2", "--at", "x=1,y=2", "--order", "2")
    assert obj["hessian"] == {
        "x": {"x": 0.0, "y": 4.0},
        "y": {"x": 4.0, "y": 2.0},
    }


def test_order_n_is_the_nth_derivative():
    obj = data("grad", "x**5", "--at", "x=2", "--order", "3")
    assert obj["nth_derivative"] == 240.0
    assert obj["check"]["status"] == "ok"
    assert "d⁴f/dx⁴" in out("grad", "sin(x)", "--at", "x=1", "--order", "4")


def test_several_outputs_are_summed():
    obj = data("grad", "x1*x2", "x1+x2", "--at", "x1=1,x2=2")
    assert [o["gradient"] for o in obj["outputs"]] == [
        {"x1": 2.0, "x2": 1.0},
        {"x1": 1.0, "x2": 1.0},
    ]
    assert obj["gradient"] == {"x1": 3.0, "x2": 2.0}
    text = out("grad", "x1*x2", "x1+x2", "--at", "x1=1", "--at", "x2=2")
    assert "summed gradient" in text


def test_symbolic_answer_with_wrt():
    text = out("grad", "a*x**2+b*x+c", "--wrt", "x")
    assert "2*a*x + b" in text
    obj = data("grad", "a*x**2+b*x+c", "--wrt", "x")
    assert obj["closed_form"] == {"x": "2*a*x + b"}
    assert obj["value"] is None and obj["gradient"] == {"x": None}
    assert obj["check"]["status"] == "skipped"


def test_wrt_restricts_the_variables():
    obj = data("grad", "x*y", "--at", "x=2,y=3", "--wrt", "x")
    assert obj["gradient"] == {"x": 3.0}


def test_latex():
    obj = data("grad", "sqrt(x)", "--at", "x=4", "--latex")
    assert obj["closed_form"] == {"x": "\\frac{1}{2 \\sqrt{x}}"}
    assert "\\frac{1}{2 \\sqrt{x}}" in out("grad", "sqrt(x)", "--wrt", "x", "--latex")


def test_closed_forms_of_arrays_are_nested_lists_of_strings():
    obj = data("grad", "sum(x*x)", "--at", "x=[1,2]")
    assert obj["closed_form"] == {"x": ["2*x[0]", "2*x[1]"]}
    assert obj["closed_form_at_point"] == {"x": ["2.0", "4.0"]}


def test_no_check_skips_the_witnesses():
    obj = data("grad", *QUAD, "--no-check")
    assert obj["gradient"] == {"x": -2.0}
    assert obj["closed_form"] is None
    assert obj["check"]["status"] == "skipped"
    assert "checks turned off" in out("grad", *QUAD, "--no-check")


def test_tolerances_are_passed(monkeypatch):
    seen = []
    real = C.grad_problem

    def spy(problem, seed, order, check, tol, **rest):
        seen.append(tol)
        return real(problem, seed, order, check, tol, **rest)

    monkeypatch.setattr(C, "grad_problem", spy)
    cli("grad", *QUAD, "--rtol", "0.5", "--atol", "0.25")
    assert (seen[0].rtol, seen[0].atol) == (0.5, 0.25)


def test_non_finite_values_are_strings_in_json():
    obj = data("grad", "log(x)", "--at", "x=0")
    assert obj["value"] == "-inf" and obj["gradient"] == {"x": "inf"}
    assert "inf" in out("grad", "log(x)", "--at", "x=0")


# --- --func -------------------------------------------------------------------


@pytest.fixture
def funcs(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(CONTROL_FLOW)
    return str(path)


@pytest.mark.parametrize("a", [0.3, -0.7, 1.5])
def test_control_flow_function_gradient_is_d_over_a(funcs, a):
    obj = data("grad", "--func", f"{funcs}:f", "--at", f"a={a}")
    assert obj["check"]["status"] == "ok"
    assert math.isclose(obj["gradient"]["a"], obj["value"] / a, rel_tol=1e-12)


def test_func_output_names_the_function(funcs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = out("grad", "--func", "flow.py:f", "--at", "a=0.5")
    assert "flow.py:f" in text and "2048" in text


# --- jacobian and graph -------------------------------------------------------


def test_jacobian():
    obj = data("jacobian", "[m[0]**2, m[1]**3]", "--at", "m=[2,3]")
    assert obj["jacobian"] == {"m": [[4.0, 0.0], [0.0, 27.0]]}
    text = out("jacobian", "x**2", "--at", "x=[1,2]")
    assert ["f[1]", "0", "4"] in [line.split() for line in text.splitlines()]


def test_jacobian_of_a_matrix_product():
    obj = data("jacobian", "mm(x, Y)", "--at", "x=[[1,2]]", "--let", "Y=[[1,2],[3,4]]")
    assert obj["jacobian"]["x"] == [[[[1.0, 3.0]], [[2.0, 4.0]]]]


def test_graph(tmp_path):
    text = out("graph", *QUAD)
    assert text.startswith("AddBackward0")
    assert "PowBackward" in text and "(leaf, requires grad)" in text
    obj = data("graph", "x**2", "--at", "x=[1,2]", "--seed", "ones")
    leaf = next(n for n in obj["nodes"] if n["kind"] == "leaf")
    assert leaf["grad"] == [2.0, 4.0]
    dot = tmp_path / "g.dot"
    cli("graph", "sum(x*x)", "--at", "x=[1,2]", "--dot", str(dot))
    assert dot.read_text().startswith("digraph diffcli {")
    assert cli("graph", "x*2", "--at", "x=1", "--dot", "-").stdout.startswith("digraph")


# --- help and version ---------------------------------------------------------


def test_help_has_examples():
    assert "Examples:" in out("--help")
    for command in ("grad", "jacobian", "graph"):
        text = out(command, "--help")
        assert "Examples:" in text and f"diffcli {command}" in text


def test_commands_from_other_modules_load_lazily(monkeypatch):
    from diffcli import cli as cli_module

    monkeypatch.setitem(cli_module.LAZY_COMMANDS, "graph-again", "diffcli.cli:graph")
    monkeypatch.setattr(main, "commands", dict(main.commands))
    assert "graph-again" in out("--help")
    assert out("graph-again", "x*2", "--at", "x=1").startswith("MulBackward0")


def test_version():
    assert __version__ in cli("--version").stdout


# --- errors -------------------------------------------------------------------

ERRORS = [
    # (args, text expected on stderr)
    (["grad", "x+", "--at", "x=1"], "^"),
    (["grad", "foo(x)", "--at", "x=1"], "unknown function 'foo'"),
    (["grad", "x**2", "--at", "x=1", "--wrt", "z"], "'z' does not appear"),
    (["grad", "x", "--at", "x="], "missing value for 'x'"),
    (["grad", "x", "--at", "x=[1,2"], "  [1,2\n  ^"),
    (["grad", "x", "--at", "x=[1,2]+[1,2,3]"], "in the value of 'x'"),
    (["grad", "x", "--at", "1x=2"], "not a valid variable name"),
    (["grad", "x@y", "--at", "x=[1,2]", "--at", "y=[1,2,3]"], "cannot be multiplied"),
    (["grad", "x**2", "--at", "x=[1,2]"], "--seed ones"),
    (["grad", "x**2", "--at", "x=[1,2]", "--seed", "[1,2,3]"], "the seed has shape"),
    (["grad", "x*y", "--at", "x=1,y=2", "--order", "3"], "exactly one scalar"),
    (["grad", "x", "y", "--at", "x=1,y=2", "--order", "2"], "single EXPR"),
    (["grad", "--at", "x=1"], "missing EXPR"),
    (["grad", "a*x", "--wrt", "x", "--no-check"], "drop --no-check"),
    (["grad", "x", "--at", "x=1", "--let", "x=2"], "given a value twice"),
    (["grad", "x", "--at", "x=1", "--order", "0"], "--order"),
    (["grad", "x", "--bogus"], "No such option"),
    (["jacobian", "x*y", "--at", "x=[1,2]"], "missing: y"),
    (["graph", "x*y", "--at", "x=1"], "missing: y"),
    (["graph", "x**2", "--at", "x=[1,2]"], "--seed ones"),
    (["frobnicate"], "No such command"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_bad_input_exits_2_with_one_clear_message(args, message):
    result = cli(*args, code=2)
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_bad_input_with_json_is_an_error_object(args, message):
    result = cli(*args, "--json", code=2)
    obj = json.loads(result.stdout)
    validate(obj)
    assert obj["error"]


def test_expression_errors_draw_a_caret():
    err = cli("grad", "x + * 2", "--at", "x=1", code=2).stderr
    assert err.startswith("error: ")
    assert "  x + * 2\n" in err and "^" in err.splitlines()[-1]


def test_func_errors(funcs, tmp_path):
    cases = [
        (f"{tmp_path}/missing.py:f", "cannot read"),
        (f"{funcs}:g", "has no function 'g'"),
        (f"{funcs}", "FILE.py:NAME"),
        (f"{funcs}:broken", "NameError"),
    ]
    bad = tmp_path / "bad.py"
    bad.write_text("def f(a):\n    return a +\n")
    cases.append((f"{bad}:f", "line 2: syntax error"))
    crash = tmp_path / "crash.py"
    crash.write_text("raise ValueError('at import')\n")
    cases.append((f"{crash}:f", "ValueError: at import (line 1)"))
    for spec, message in cases:
        result = cli("grad", "--func", spec, "--at", "a=1", code=2)
        assert message in result.stderr, (spec, result.stderr)
    assert "not both" in cli("grad", "x", "--func", f"{funcs}:f", code=2).stderr
    assert "--wrt" in cli("grad", "--func", f"{funcs}:f", "--wrt", "a", code=2).stderr


def test_dot_file_that_cannot_be_written(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "g.dot"
    result = cli("graph", "x*2", "--at", "x=1", "--dot", str(target), code=2)
    assert result.stderr


def test_mismatch_exits_1(monkeypatch):
    real = C.judge

    def disagree(*args, **kwargs):
        verdict = real(*args, **kwargs)
        verdict.status, verdict.reason = "mismatch", "closed form disagrees: forced"
        return verdict

    monkeypatch.setattr(C, "judge", disagree)
    result = cli("grad", *QUAD, code=1)
    assert "✗ mismatch" in result.stdout and "forced" in result.stdout
    obj = data("grad", *QUAD, code=1)
    assert obj["check"]["status"] == "mismatch"
    assert data("grad", "x1*x2", "x1+x2", "--at", "x1=1,x2=2", code=1)
    assert data("jacobian", "x**2", "--at", "x=[1,2]", code=1)


def test_internal_errors_are_one_line_unless_debug(monkeypatch):
    def boom(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(C, "grad_problem", boom)
    result = cli("grad", *QUAD, code=2)
    assert result.stderr.startswith("error: internal error: KeyError")
    assert len(result.stderr.strip().splitlines()) == 1
    debug = CliRunner(env=ENV).invoke(main, ["grad", *QUAD, "--debug"])
    assert debug.exit_code == 2 and "Traceback" in debug.stderr


# --- fresh interpreters -------------------------------------------------------


def test_no_check_and_help_do_not_import_sympy():
    code = textwrap.dedent(
        """
        import sys
        from diffcli.cli import main
        assert "sympy" not in sys.modules and "torch" not in sys.modules
        main(["--help"], standalone_mode=False)
        assert "sympy" not in sys.modules and "torch" not in sys.modules
        args = ["grad", "a*x**2+b*x+c", "--at", "x=0", "--let", "a=1,b=-2,c=1"]
        code = main([*args, "--no-check", "--json"], standalone_mode=False)
        assert code == 0, code
        assert "sympy" not in sys.modules, "sympy imported"
        print("fine")
        """
    )
    run_fresh(code)


def test_python_dash_m():
    run = subprocess.run(
        [sys.executable, "-m", "diffcli", "grad", *QUAD, "--json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["gradient"] == {"x": -2.0}
