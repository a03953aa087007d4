"""``diffcli minimize`` through click's CliRunner: the seed example's numbers in
the rich output and in the JSON contract, every optimizer, vector and matrix
variables against numpy's least squares, --tol, --every, divergence (exit 1),
the error paths (exit 2), and a few fresh interpreters for what CliRunner
cannot see (SymPy not imported, the real entry point's exit)."""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from cli_helpers import ENV, human, invoke, run_fresh
from click.testing import CliRunner

from diffcli.cli import main
from diffcli.cli import minimize as cmd
from diffcli.expr import symbolic as symbolic
from diffcli.minimize import stationary as stationary

# SymPy loaded once here, so that the solver's forked children don't each
# import it again (the real command's single child does, beside the descent)
symbolic.sympy()

SEED = ["a*x**2+b*x+c", "--let", "a=1", "--let", "b=-2", "--let", "c=1"]
SEED_RUN = [*SEED, "--at", "x=0", "--lr", "0.01", "--steps", "500"]
A = [[1, 2, 0], [0, 1, 1], [1, 0, 1], [2, 1, 1], [1, 1, 3]]
B = [1, 2, 0, 1, -1]
LSTSQ = ["sum((A @ w - b)**2)", "--at", "w=[0,0,0]", "--let", f"A={A}"]
LSTSQ += ["--let", f"b={B}", "--tol", "1e-10", "--steps", "5000"]


def cli(*args: str, code: int = 0):
    return invoke("minimize", *args, code=code)


def out(*args: str, code: int = 0) -> str:
    return human("minimize", *args, code=code)


def data(*args: str, code: int = 0) -> dict:
    """--json output, checked against the contract."""
    obj = json.loads(cli(*args, "--json", code=code).stdout)
    validate(obj)
    return obj


# --- the JSON contract --------------------------------------------------------

NONFINITE = {"nan", "inf", "-inf"}
CONTRACT = {
    "expr",
    "optimizer",
    "steps",
    "converged",
    "stop_reason",
    "point",
    "value",
    "grad_norm",
    "history",
    "stationary_points",
}
EXTRAS = {
    "stationary_kinds",
    "stationary_values",
    "nearest_minimum",
    "distance_to_minimum",
    "diverged_at",
    "symbolic_reason",
}


def is_number(v) -> bool:
    """A float or int (not a bool), or "nan"/"inf"/"-inf"."""
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or v in NONFINITE


def is_v(v) -> bool:
    """A number or nested lists of numbers (vectors, matrices)."""
    return all(is_v(x) for x in v) if isinstance(v, list) else is_number(v)


def validate(obj: dict) -> None:
    """The issue's contract, and the documented extras beside it."""
    if "error" in obj:
        assert set(obj) == {"error"} and isinstance(obj["error"], str)
        return
    assert set(obj) == CONTRACT | EXTRAS
    assert isinstance(obj["expr"], str) and obj["optimizer"] in cmd.OPTIMIZERS
    assert isinstance(obj["steps"], int) and not isinstance(obj["steps"], bool)
    assert isinstance(obj["converged"], bool) and isinstance(obj["stop_reason"], str)
    names = set(obj["point"])
    assert names and all(n.isidentifier() for n in names)
    assert all(is_v(v) for v in obj["point"].values())
    assert is_number(obj["value"]) and is_number(obj["grad_norm"])
    for row in obj["history"]:
        assert set(row) == {"step", "value", "grad_norm"}
        assert isinstance(row["step"], int)
        assert is_number(row["value"]) and is_number(row["grad_norm"])
    steps = [row["step"] for row in obj["history"]]
    assert steps == sorted(set(steps)) and steps[0] == 0
    found = obj["stationary_points"]
    if found is None:
        assert obj["stationary_kinds"] is None and obj["stationary_values"] is None
        assert isinstance(obj["symbolic_reason"], str)
        assert obj["nearest_minimum"] is None
    else:
        for point in found:  # the variables by name, nothing else
            assert set(point) == names and all(is_v(v) for v in point.values())
        kinds = obj["stationary_kinds"]
        assert len(kinds) == len(found) == len(obj["stationary_values"])
        assert set(kinds) <= {"minimum", "maximum", "saddle", "degenerate"}
        assert all(is_number(v) for v in obj["stationary_values"])
        k = obj["nearest_minimum"]
        assert k is None or kinds[k] == "minimum"
    d = obj["distance_to_minimum"]
    assert (d is None) == (obj["nearest_minimum"] is None)
    assert d is None or is_number(d)
    assert obj["diverged_at"] is None or isinstance(obj["diverged_at"], int)


# --- seed 001 -----------------------------------------------------------------


def test_seed_example_rich_output():
    text = out(*SEED_RUN)
    lines = text.splitlines()
    assert lines[0].split() == ["minimize", "a*x**2+b*x+c"]
    assert lines[1].split() == ["optimizer", "sgd,", "lr", "0.01"]
    rows = [line.split() for line in lines if line[:4].strip().isdigit()]
    assert [r[0] for r in rows] == [str(s) for s in range(0, 501, 50)]
    assert rows[0][1:] == ["1", "2"] and rows[-1][1:] == ["1.6829673e-09", "8.205e-05"]
    assert any(line.startswith("loss  ") and "(log scale)" in line for line in lines)
    assert "stopped  reached 500 steps" in text
    assert "point    x = 0.999959" in text
    assert "value    1.6829673e-09" in text
    assert "|grad|   8.205e-05" in text
    assert "stationary points (SymPy)" in text
    (minimum,) = [line.split() for line in lines if "minimum ←" in line]
    assert minimum == ["x", "=", "1", "minimum", "←", "0"]
    assert "distance to the nearest minimum: 4.1e-05" in text


def test_seed_example_json():
    obj = data(*SEED_RUN)
    x = obj["point"]["x"]
    assert x == pytest.approx(1 - 0.98**500, rel=1e-15) and f"{x:.4f}" == "1.0000"
    assert obj["value"] == pytest.approx((1 - x) ** 2, abs=1e-15)
    assert obj["value"] < 2e-9 and f"{obj['value']:.1e}" == "1.7e-09"
    assert obj["grad_norm"] == pytest.approx(2 * 0.98**500, rel=1e-9)
    assert obj["expr"] == "a*x**2+b*x+c" and obj["optimizer"] == "sgd"
    assert obj["steps"] == 500 and obj["converged"] is False
    assert obj["stop_reason"] == "reached 500 steps"
    assert [h["step"] for h in obj["history"]] == list(range(0, 501, 50))
    assert obj["history"][0] == {"step": 0, "value": 1.0, "grad_norm": 2.0}
    assert obj["stationary_points"] == [{"x": 1.0}]
    assert obj["stationary_kinds"] == ["minimum"]
    assert obj["stationary_values"] == [0.0] and obj["nearest_minimum"] == 0
    assert obj["distance_to_minimum"] == pytest.approx(0.98**500, rel=1e-9)
    assert f"{obj['distance_to_minimum']:.1e}" == "4.1e-05"
    assert obj["diverged_at"] is None and obj["symbolic_reason"] is None


def test_several_stationary_points_are_classified():
    obj = data("x**3 - 3*x + y**2", "--at", "x=2,y=1", "--lr", "0.05")
    assert obj["stationary_points"] == [{"x": -1.0, "y": 0.0}, {"x": 1.0, "y": 0.0}]
    assert obj["stationary_kinds"] == ["saddle", "minimum"]
    assert obj["stationary_values"] == [2.0, -2.0] and obj["nearest_minimum"] == 1
    text = out("x**3 - 3*x + y**2", "--at", "x=2,y=1", "--lr", "0.05")
    assert "saddle" in text and "minimum ←" in text


# --- optimizers ---------------------------------------------------------------


def test_optimizer_names_are_the_cores():
    from diffcli.minimize.descent import OPTIMIZERS

    assert cmd.OPTIMIZERS == OPTIMIZERS


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "Adam"])
def test_each_optimizer(name):
    obj = data(*SEED, "--at", "x=0", "--optimizer", name, "--steps", "500")
    assert obj["optimizer"] == name.lower()
    assert obj["point"]["x"] == pytest.approx(1.0, abs=0.02 if name == "sgd" else 1e-3)
    text = out(*SEED, "--at", "x=0", "--optimizer", name, "--steps", "500")
    assert f"optimizer  {name.lower()}, lr 0.01" in text


def test_optimizer_settings_are_used_and_shown():
    args = [*SEED, "--at", "x=0", "--steps", "1"]
    # one step from x = 0, where g = -2: sgd moves by lr * 2
    assert data(*args, "--lr", "0.25")["point"]["x"] == 0.5
    # Adam's first step moves by lr whatever the betas
    adam = data(*args, "--optimizer", "adam", "--lr", "0.1", "--betas", "0.5,0.9")
    assert adam["point"]["x"] == pytest.approx(0.1, rel=1e-6)
    # momentum: the second step uses the buffer 0.5 * g0 + g1
    mom = data(*SEED, "--at", "x=0", "--steps", "2", "--lr", "0.1")
    mom2 = data(
        *SEED,
        "--at",
        "x=0",
        "--steps",
        "2",
        "--lr",
        "0.1",
        "--optimizer",
        "momentum",
        "--momentum",
        "0.5",
    )
    x1 = 0.2  # both: 0 - 0.1 * (-2)
    g1 = 2 * x1 - 2
    assert mom["point"]["x"] == pytest.approx(x1 - 0.1 * g1, abs=1e-15)
    assert mom2["point"]["x"] == pytest.approx(x1 - 0.1 * (0.5 * -2 + g1), abs=1e-15)
    text = out(
        *args, "--optimizer", "adam", "--betas", "0.5,0.9", "--weight-decay", "0.1"
    )
    assert "adam, lr 0.01, betas 0.5, 0.9, weight decay 0.1" in text
    text = out(*args, "--optimizer", "nesterov", "--momentum", "0.8", "--tol", "1e-9")
    assert "nesterov, lr 0.01, momentum 0.8, tol 1e-09" in text


# --- vector and matrix variables ----------------------------------------------


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_least_squares_reaches_lstsq(name):
    lr = "0.02" if name == "sgd" else "0.05"
    obj = data(*LSTSQ, "--optimizer", name, "--lr", lr)
    want, residual, *_ = np.linalg.lstsq(np.array(A, float), np.array(B, float))
    np.testing.assert_allclose(obj["point"]["w"], want, atol=1e-9)
    assert obj["value"] == pytest.approx(float(residual[0]), rel=1e-9)
    assert obj["converged"] is True
    assert obj["stop_reason"].startswith("gradient norm ")
    assert obj["stationary_kinds"] == ["minimum"]
    np.testing.assert_allclose(obj["stationary_points"][0]["w"], want, atol=1e-12)
    assert obj["distance_to_minimum"] < 1e-9


def test_least_squares_rich_output():
    text = out(*LSTSQ, "--lr", "0.02")
    assert "w = [-0.0124224,   0.819876,  -0.335404]" in text
    assert "minimum ←" in text and "gradient norm" in text


def test_matrix_variable():
    args = ["sum((W @ v - t)**2)", "--at", "W=zeros(2,3)", "--let", "v=[1,2,-1]"]
    args += ["--let", "t=[3,-1]", "--lr", "0.05", "--tol", "1e-9"]
    obj = data(*args)
    W = np.array(obj["point"]["W"])
    assert W.shape == (2, 3) and obj["converged"]
    v, t = np.array([1.0, 2.0, -1.0]), np.array([3.0, -1.0])
    np.testing.assert_allclose(W @ v, t, atol=1e-9)
    np.testing.assert_allclose(W, np.outer(t, v) / (v @ v), atol=1e-9)
    # a continuum of minima: SymPy finds no isolated stationary point
    assert obj["stationary_points"] == [] and obj["nearest_minimum"] is None
    text = out(*args)
    assert "W = [[" in text and "SymPy finds none" in text


# --- stopping: --tol, --every, divergence -------------------------------------


def test_tol_converges():
    args = ["x**2", "--at", "x=1", "--lr", "0.1", "--tol", "1e-6"]
    obj = data(*args)
    # |g_n| = 2 * 0.8**n < 1e-6 first at n = 66
    assert obj["converged"] is True and obj["steps"] == 66
    assert obj["stop_reason"] == "gradient norm 8.03e-07 < 1e-06"
    assert obj["history"][-1]["step"] == 66 and obj["grad_norm"] < 1e-6
    assert "stopped  gradient norm 8.03e-07 < 1e-06" in out(*args)


def test_every_k_steps():
    args = ["x**2", "--at", "x=1", "--lr", "0.1", "--steps", "100", "--every", "25"]
    obj = data(*args)
    assert [h["step"] for h in obj["history"]] == [0, 25, 50, 75, 100]
    for h in obj["history"]:
        assert h["value"] == pytest.approx(0.64 ** h["step"], rel=1e-12)
    rows = [line.split()[0] for line in out(*args).splitlines() if line[:4].strip()]
    assert [r for r in rows if r.isdigit()] == ["0", "25", "50", "75", "100"]
    odd = data("x**2", "--at", "x=1", "--steps", "10", "--every", "4", "--no-solve")
    assert [h["step"] for h in odd["history"]] == [0, 4, 8, 10]


DIVERGE = ["x**2", "--at", "x=1", "--lr", "1.5", "--steps", "1000"]


def test_divergence_exits_1_naming_the_step():
    result = cli(*DIVERGE, code=1)
    # x -> -2x: f = 4**n passes the 1e150 bound at step 250
    assert result.stderr == (
        "diffcli minimize: diverged at step 250: the value became 3.27e+150\n"
        "  reported: the point of step 249, the last one before\n"
    )
    text = result.stdout
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "stopped  diverged at step 250: the value became 3.27e+150" in text
    assert f"x = {(-2.0) ** 249:g}" in text  # the last point before: -9.04626e+74


def test_divergence_json_reports_the_last_finite_point():
    obj = data(*DIVERGE, code=1)
    assert obj["diverged_at"] == 250 and obj["steps"] == 250
    assert obj["converged"] is False
    assert obj["stop_reason"].startswith("diverged at step 250")
    assert obj["point"] == {"x": (-2.0) ** 249} and obj["value"] == 4.0**249
    assert obj["history"][-1]["step"] == 250


def test_divergence_to_nan():
    args = ["x**2 - log(x)", "--at", "x=1", "--lr", "2", "--steps", "10"]
    obj = data(*args, "--no-solve", code=1)
    assert obj["stop_reason"] == "diverged at step 1: the value became nan"
    assert obj["point"] == {"x": 1.0} and obj["value"] == 1.0
    assert obj["history"][-1] == {"step": 1, "value": "nan", "grad_norm": 1.0}
    result = cli(*args, "--no-solve", code=1)
    assert "diverged at step 1: the value became nan" in result.stderr
    assert "nan" in result.stdout


def test_divergence_at_the_start():
    result = cli("sqrt(x)", "--at", "x=0", "--no-solve", code=1)
    assert "diverged at step 0: the gradient became inf" in result.stderr
    assert "the start point" in result.stderr


# --- errors -------------------------------------------------------------------

ERRORS = [
    # (args, text expected on stderr)
    (["x**2 +", "--at", "x=1"], "^"),
    (["x", "--at", "x="], "missing value for 'x'"),
    (["a*x", "--at", "x=1"], "a has no value"),
    (["x**2", "--at", "x=[1,2]"], "needs a scalar expression"),
    (["x**2"], "--at"),
    (["x**2", "--at", "x=1", "--optimizer", "rmsprop"], "'rmsprop' is not one of"),
    (["x**2", "--at", "x=1", "--betas", "0.9"], "B1,B2"),
    (["x**2", "--at", "x=1", "--betas", "0.9,1.5"], "[0, 1)"),
    (["x**2", "--at", "x=1", "--lr", "-1"], "--lr"),
    (["x**2", "--at", "x=1", "--lr", "nan"], "finite"),
    (["x**2", "--at", "x=1", "--steps", "-1"], "--steps"),
    (["x**2", "--at", "x=1", "--every", "0"], "--every"),
    (["x**2", "--at", "x=1", "--solve-timeout", "0"], "--solve-timeout"),
    (["foo(x)", "--at", "x=1"], "unknown function 'foo'"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_bad_input_exits_2_with_one_clear_message(args, message):
    result = cli(*args, code=2)
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_bad_input_with_json_is_an_error_object(args, message):
    obj = json.loads(cli(*args, "--json", code=2).stdout)
    validate(obj)
    assert obj["error"]


def test_syntax_error_draws_a_caret():
    err = cli("x**2 + * 2", "--at", "x=1", code=2).stderr
    assert err.startswith("error: ")
    assert "  x**2 + * 2\n" in err
    assert err.splitlines()[-1] == "         ^"


def test_unknown_optimizer_lists_the_choices():
    err = cli("x", "--at", "x=1", "--optimizer", "rmsprop", code=2).stderr
    assert all(name in err for name in cmd.OPTIMIZERS)


# --- the symbolic cross-check's options ---------------------------------------


def test_no_solve_skips_sympy():
    obj = data(*SEED_RUN, "--no-solve")
    assert obj["stationary_points"] is None and obj["symbolic_reason"] == "--no-solve"
    assert "stationary points: not listed (--no-solve)" in out(*SEED_RUN, "--no-solve")


def test_solve_timeout_gives_a_reason(monkeypatch):
    from diffcli.minimize import stationary as stationary

    def slow(problem, timeout):
        return None, f"SymPy did not solve grad f = 0 within {timeout:g} s"

    monkeypatch.setattr(stationary, "stationary_points", slow)
    obj = data(*SEED_RUN, "--solve-timeout", "0.25")
    assert obj["stationary_points"] is None
    assert obj["symbolic_reason"] == "SymPy did not solve grad f = 0 within 0.25 s"
    text = out(*SEED_RUN, "--solve-timeout", "0.25")
    assert "not listed (SymPy did not solve grad f = 0 within 0.25 s)" in text


def test_solve_really_times_out():
    obj = data(
        "x**2 + sin(x)", "--at", "x=1", "--steps", "10", "--solve-timeout", "0.3"
    )
    assert obj["symbolic_reason"] == "SymPy did not solve grad f = 0 within 0.3 s"


# --- the solve beside the descent ------------------------------------------------


def without_fork(monkeypatch):
    monkeypatch.setattr(stationary, "can_fork", lambda: False)


def test_solve_in_process_gives_the_same_answer(monkeypatch):
    args = ["x**3 - 3*x + y**2", "--at", "x=2,y=1", "--lr", "0.05"]
    beside = data(*args)
    without_fork(monkeypatch)
    assert data(*args) == beside
    assert out(*args) == out(*args)


@pytest.mark.skipif(not stationary.can_fork(), reason="solves in-process here")
def test_the_child_is_reaped_and_a_failed_one_replaced(monkeypatch):
    children = []
    real = stationary.BesideSolver._fork

    def fork(self):
        real(self)
        children.append(self.pid)

    monkeypatch.setattr(stationary.BesideSolver, "_fork", fork)
    assert data(*SEED_RUN)["stationary_kinds"] == ["minimum"]
    (pid,) = children
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left
    # a child that dies without an answer: the parent solves in-process
    die = lambda self, write: os._exit(3)
    monkeypatch.setattr(stationary.BesideSolver, "_child", die)
    assert data(*SEED_RUN)["stationary_points"] == [{"x": 1.0}]
    # an error in the descent kills and reaps the child
    cli("x**2", "--at", "x=[1,2]", code=2)
    assert len(children) == 3
    with pytest.raises(ChildProcessError):
        os.waitpid(children[-1], os.WNOHANG)


# --- help and progress ----------------------------------------------------------


def test_help_has_examples():
    text = out("--help")
    assert "Examples:" in text and "diffcli minimize" in text
    for option in ("--optimizer", "--tol", "--every", "--no-solve", "--betas"):
        assert option in text
    summary = CliRunner(env=ENV).invoke(main, ["--help"]).stdout
    assert "minimize" in summary


def test_no_progress_bar_off_a_terminal():
    assert cmd._bar(json_mode=False, total=10) is None  # pytest's stderr
    assert cmd._bar(json_mode=True, total=10) is None


def test_progress_bar_is_throttled(monkeypatch):
    from rich.console import Console

    clock = iter(np.arange(0.0, 100.0, 0.001))  # a step takes 1 ms
    monkeypatch.setattr(cmd, "perf_counter", lambda: float(next(clock)))
    monkeypatch.setenv("TERM", "xterm")
    sink = io.StringIO()
    bar = cmd._ProgressBar(Console(file=sink, force_terminal=True), total=10_000)
    updates = []
    real = bar.progress.update
    monkeypatch.setattr(
        bar.progress, "update", lambda *a, **k: (updates.append(k), real(*a, **k))
    )
    with bar:
        for step in range(1, 10_001):
            bar(step)
    # 10 s of steps, a redraw every 50 ms: about 200, not 10,000
    assert 190 <= len(updates) <= 201
    gaps = {b["completed"] - a["completed"] for a, b in itertools.pairwise(updates)}
    assert gaps <= {49, 50, 51}
    assert "minimizing" in sink.getvalue()


def test_progress_bar_follows_the_run(monkeypatch):
    from rich.console import Console

    sink = io.StringIO()
    bars = []

    def fake_bar(json_mode, total):
        bars.append(cmd._ProgressBar(Console(file=sink, force_terminal=True), total))
        bars[-1].due = 0.0
        return bars[-1]

    monkeypatch.setattr(cmd, "_bar", fake_bar)
    monkeypatch.setattr(cmd, "REFRESH", 0.0)  # draw every step
    runner = CliRunner(env={**ENV, "TERM": "xterm"})  # rich draws none on dumb ones
    result = runner.invoke(main, ["minimize", *SEED_RUN, "--no-solve"])
    assert result.exit_code == 0 and "x = 0.999959" in result.stdout
    (bar,) = bars
    assert bar.progress.tasks[0].completed == 500
    assert "500/500" in sink.getvalue()


# --- fresh interpreters ---------------------------------------------------------


def test_no_solve_does_not_import_sympy():
    code = textwrap.dedent(
        """
        import sys
        from diffcli.cli import main
        args = ["minimize", "a*x**2+b*x+c", "--let", "a=1,b=-2,c=1", "--at", "x=0"]
        code = main([*args, "--no-solve"], standalone_mode=False)
        assert code == 0, code
        assert "sympy" not in sys.modules, "sympy imported"
        assert "torch" not in sys.modules, "torch imported"
        print("fine")
        """
    )
    run_fresh(code)


def test_real_entry_point_flushes_and_exits_with_the_code():
    """python -m diffcli ends with os._exit: output complete, codes kept."""
    base = [sys.executable, "-m", "diffcli", "minimize"]
    run = subprocess.run(
        [*base, *SEED_RUN, "--steps", "2000", "--json"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    obj = json.loads(run.stdout)
    validate(obj)
    assert math.isclose(obj["point"]["x"], 1.0) and obj["stationary_points"]
    run = subprocess.run([*base, *DIVERGE], capture_output=True, text=True)
    assert run.returncode == 1 and "diverged at step 250" in run.stderr
    assert "distance to the nearest minimum" in run.stdout
    run = subprocess.run([*base, "x +", "--at", "x=1"], capture_output=True, text=True)
    assert run.returncode == 2 and "^" in run.stderr and run.stdout == ""
