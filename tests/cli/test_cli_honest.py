"""Issue 13's reproductions on the command line: the rendered verdict and the
exit code, no internal error, no input silently ignored."""

from __future__ import annotations

import json

import pytest
from cli_helpers import human as out
from cli_helpers import invoke as cli


def data(*args: str, code: int = 0) -> dict:
    return json.loads(cli(*args, "--json", code=code).stdout)


def error(*args: str) -> str:
    """The one error line of a bad input (exit 2, nothing on stdout)."""
    result = cli(*args, code=2)
    assert "internal error" not in result.stderr
    return result.stderr


# --- false verdicts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "at", "engine"),
    [
        ("relu(sin(x))", "x=7", "0.753902"),
        ("clamp(sin(x), min=0)", "x=10", "-0"),
        ("relu(sin(x)*sin(x)-0.5)", "x=4.2", "0.854599"),
    ],
)
def test_simplified_closed_forms_keep_the_function(expr, at, engine):
    text = out("grad", expr, "--at", at)
    row = next(line for line in text.splitlines() if line.startswith("x  "))
    _, at_point, got, *check = row.split()
    assert got == engine and float(at_point) == float(engine)
    assert check == ["✓", "ok"] and "check  ✓ ok" in text
    assert "(x > 0) & (x < pi)" not in text


def test_detach_at_second_order():
    text = out("grad", "detach(5*z)*y", "--at", "y=-1,z=1", "--order", "2")
    assert "d²f/dy dz    0             0        ✓ ok" in text
    assert "check  ✓ ok" in text


def test_sin_at_1e8():
    obj = data("grad", "sin(y)", "--at", "y=1e8")
    assert obj["check"]["status"] == "ok"
    assert obj["check"]["fd_max_abs_err"] < 1e-6


def test_a_pole_is_not_differentiable_here():
    result = cli("grad", "1/sqrt(x**2+y**2+z**2)", "--at", "x=0,y=0,z=0")
    assert "check  ! not differentiable here" in result.stdout
    assert "the function is not a finite real number at the point" in result.stdout
    assert "mismatch" not in result.stdout


def test_a_negative_base_is_not_a_real_part():
    obj = data("grad", "(-0.913)**x", "--at", "x=1")
    assert obj["gradient"] == {"x": "nan"}
    assert obj["check"]["status"] == "not-differentiable"
    assert obj["closed_form_at_point"] == {"x": "nan"}


def test_overflow_in_the_engine_exits_1_and_shows_the_exact_gradient():
    args = ("grad", "log(sum(exp(x)))", "--at", "x=[1000,1001,1002]")
    text = out(*args, code=1)
    assert "✗ overflow in the engine" in text
    assert "[0.0900306,  0.244728," in text
    obj = data(*args, code=1)
    assert obj["check"]["status"] == "overflow"
    assert obj["gradient"] == {"x": ["nan", "nan", "nan"]}


# --- internal errors become results or clear errors ------------------------------


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (("grad", "[x]", "--at", "x=1"), {"x": 1.0}),
        (("grad", "sum(x, keepdim=True)", "--at", "x=[1,2]"), {"x": [1.0, 1.0]}),
    ],
)
def test_one_element_outputs(args, want):
    obj = data(*args)
    assert obj["gradient"] == want and obj["check"]["status"] == "ok"


def test_minimize_a_one_element_list():
    obj = data("minimize", "[x**2]", "--at", "x=1", "--no-solve")
    assert abs(obj["value"]) < 1e-9


CLEAR = {  # the command line -> the start of its one error line
    "grad x**2 --let x=1 --order 2": "nothing to differentiate: 'x**2' has no var",
    "grad where(x,x,y) --at x=1,y=2": "where's condition must be true/false, like",
    "grad sin(x) --at y=1": "'y' is given a value but 'sin(x)' does not use it (",
    "grad x**2+y**2 --at p=[1,1]": "'p' is given a value but 'x**2+y**2' does not",
    "minimize x**2 --at x=1,y=2": "'y' is given a value but 'x**2' does not use it",
}


@pytest.mark.parametrize(("line", "message"), CLEAR.items())
def test_clear_errors(line, message):
    assert error(*line.split()).startswith(f"error: {message}")


def test_did_you_mean_names_the_unvalued_name():
    assert error("grad", "sin(x)", "--at", "y=1").endswith("(did you mean 'x'?)\n")


def test_an_unused_value_is_not_told_to_be_a_name_that_has_one():
    """Every name has a value: no did-you-mean, the names used instead."""
    line = ("grad", "cross_entropy(W@x, 1)", "--at", "x=[1,2]")
    line += ("--let", "W=[[1,2],[3,4],[5,6]]", "--let", "y=[1]")
    assert error(*line).endswith("does not use it (it uses W, x, each given)\n")
    assert error("grad", "3", "--at", "x=1").endswith("(it uses no names)\n")


def test_division_by_zero_is_a_verdict():
    obj = data("grad", "x/0", "--at", "x=1")
    assert obj["check"]["status"] == "not-differentiable"
    assert obj["gradient"] == {"x": "inf"}


@pytest.mark.parametrize(
    ("expr", "at"),
    [
        ("abs(x)", "x=1"),
        ("minimum(x, y)", "x=1,y=3"),
        ("max([x, y])", "x=1,y=3"),
        ("norm([x, y])", "x=1,y=3"),
        ("clamp(x, min=0)", "x=1"),
    ],
)
def test_second_order_through_kinks(expr, at):
    obj = data("grad", expr, "--at", at, "--order", "2")
    assert obj["check"]["status"] == "ok"


def test_abs_log_tanh_at_30_second_order():
    obj = data("grad", "abs(log(tanh(x)))*x", "--at", "x=30", "--order", "2")
    assert obj["check"]["status"] == "ok" and obj["hessian"] == {"x": {"x": 0.0}}


def test_a_deep_nest_is_a_result():
    expr = "sin(" * 199 + "x" + ")" * 199
    obj = data("grad", expr, "--at", "x=1")
    assert obj["check"]["status"] == "ok"
    assert obj["gradient"]["x"] == pytest.approx(0.0, abs=0.2)


# --- inputs that were silently ignored or misread --------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("grad", "-x**2", "--at", "x=1"),
        ("grad", "--at", "x=1", "-x**2"),
        ("grad", "--", "-x**2", "--at", "x=1"),
        ("jacobian", "-x**2", "--at", "x=1"),
    ],
)
def test_expressions_may_start_with_a_minus(args):
    obj = data(*args)
    got = obj["gradient"]["x"] if "gradient" in obj else obj["jacobian"]["x"]
    assert got == -2.0


def test_graph_and_minimize_take_a_minus_too():
    assert data("graph", "-x", "--at", "x=1")["value"] == -1.0
    obj = data("minimize", "-cos(x)", "--at", "x=1", "--no-solve")
    assert abs(obj["point"]["x"]) < 1e-3


def test_option_values_starting_with_a_minus_stay_values():
    assert "must be a finite number >= 0, got -1.0" in error(
        "grad", "x", "--at", "x=1", "--rtol", "-1"
    )
    assert "--atol" in error("grad", "x", "--at", "x=1", "--atol", "-5")
    assert "No such option '--att'" in error("grad", "x", "--att", "x=1")


def test_no_values_gives_the_symbolic_gradient_of_every_name():
    obj = data("grad", "sin(x)")
    assert obj["closed_form"] == {"x": "cos(x)"}
    obj = data("grad", "a*x**2+b*x+c", "--let", "a=1")
    assert obj["closed_form"] == {"x": "b + 2*x", "b": "x", "c": "1"}


def test_symbolic_hessian_and_nth_derivative():
    text = out("grad", "x**2*y", "--wrt", "x,y", "--order", "2")
    for row in ("d²f/dx²      2*y", "d²f/dx dy    2*x", "d²f/dy²      0"):
        assert row in text
    obj = data("grad", "x**2*y", "--wrt", "x,y", "--order", "2")
    assert obj["hessian_closed_form"] == {
        "x": {"x": "2*y", "y": "2*x"},
        "y": {"x": "2*x", "y": "0"},
    }
    assert "d³f/dx³      0" in out("grad", "x**2*y", "--wrt", "x", "--order", "3")
    obj = data("grad", "x**3*y", "--wrt", "x", "--order", "3")
    assert obj["nth_closed_form"] == "6*y" and obj["nth_derivative"] is None


JAC = ("jacobian", "[x*y*z, x**2+y, sin(z)*y]", "--at", "x=1,y=2,z=3")


def test_jacobian_over_scalars_is_one_matrix():
    text = out(*JAC)
    assert text.count("Jacobian") == 1 and "d f / d" not in text
    assert "       x         y          z" in text
    assert "f[2]   0   0.14112   -1.97998" in text
    assert "f[2]     0   sin(z)   y*cos(z)" in text


def test_jacobian_matrix_in_json():
    m = data(*JAC)["matrix"]
    assert m["columns"] == ["x", "y", "z"]
    assert m["values"][0] == [6.0, 3.0, 2.0] and m["values"][1] == [2.0, 1.0, 0.0]
    assert m["closed_form"][2] == ["0", "sin(z)", "y*cos(z)"]
    assert "matrix" not in data("jacobian", "x**2", "--at", "x=[1,2]")


def test_direction_is_a_directional_derivative():
    text = out("grad", "x*y", "--at", "x=1,y=2", "--direction", "x=1")
    assert "directional derivative" in text and "closed form  y" in text
    d = data("grad", "x**2+y**2", "--at", "x=1,y=2", "--direction", "x=1,y=1")
    assert d["direction"] == {
        "along": {"x": 1.0, "y": 1.0},
        "value": 6.0,
        "closed_form": "2*x + 2*y",
    }


def test_direction_of_a_vector_value_is_a_jacobian_vector_product():
    args = ("grad", "[x*y, x+y]", "--at", "x=1,y=2", "--direction", "x=1,y=-1")
    assert "Jacobian-vector product" in out(*args)
    d = data(*args)["direction"]
    assert d["value"] == [1.0, 0.0] and d["closed_form"] == ["-x + y", "0"]


@pytest.mark.parametrize(
    ("direction", "message"),
    [
        ("z=1", "'z' in --direction is not a variable; the variables are x"),
        ("x=[1,2]", "the direction of 'x' has shape (2,), but 'x' has shape ()"),
    ],
)
def test_bad_directions(direction, message):
    line = error("grad", "x", "--at", "x=1", "--direction", direction)
    assert line == f"error: {message}\n"


# --- minimize --------------------------------------------------------------------


def test_minimize_sin_names_the_minimum_it_reached():
    text = out("minimize", "sin(x)", "--at", "x=1", "--lr", "0.1")
    assert "x = -1.5708   minimum ←      -1" in text
    assert "distance to the nearest minimum: 8.88e-16" in text
    assert "the gradient vanished to rounding: 10 steps left the point" in text


def test_minimize_ctrl_c_prints_the_partial_report(monkeypatch):
    from diffcli.engine import optim

    real, calls = optim.SGD.step, []

    def step(self):
        calls.append(1)
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(optim.SGD, "step", step)
    args = ("minimize", "x**2", "--at", "x=1", "--steps", "100", "--no-solve")
    result = cli(*args, "--json", code=130)
    obj = json.loads(result.stdout)
    assert obj["interrupted"] is True and obj["stop_reason"] == "interrupted at step 29"
    assert obj["point"]["x"] == pytest.approx(0.98**29, rel=1e-14)
    assert [h["step"] for h in obj["history"]] == [0, 10, 20, 29]
    assert result.stderr == "diffcli minimize: interrupted at step 29 (Ctrl-C)\n"
    calls.clear()
    text = cli(*args, code=130).stdout
    assert "stopped  interrupted at step 29" in text


@pytest.mark.parametrize(
    ("expr", "at", "given"),
    [
        ("x**2", "x=nan", "x = nan"),
        ("exp(-x)", "x=inf", "x = inf"),  # was an internal error
        ("sum(x*2)", "x=[1,-inf]", "x[1] = -inf"),
    ],
)
def test_a_point_that_is_not_finite_is_said_so(expr, at, given):
    obj = data("grad", expr, "--at", at)
    assert obj["check"]["status"] == "not-differentiable"
    assert obj["check"]["reason"] == (
        f"not differentiable here: the point is not finite ({given}); "
        "derivatives are taken at real numbers"
    )


def test_a_constant_that_is_not_finite_is_named_with_its_index():
    obj = data("grad", "sum(x*A)", "--at", "x=[1,2]", "--let", "A=[[1,2],[3,-inf]]")
    assert obj["check"]["reason"] == (
        "not differentiable here: the point is not finite (A[1, 1] = -inf), and "
        "so the value is -inf"
    )


def test_minimize_refuses_a_start_point_that_is_not_finite():
    assert error("minimize", "x**2", "--at", "x=inf") == (
        "error: the start point is not finite (x = inf)\n"
    )


def test_nan_at_a_kink_is_not_differentiable_not_an_overflow():
    """sqrt(x**2) at 0 (hrev's review): SymPy's |x| takes sign(0) = 0, the
    engine's (and PyTorch's) 0 * inf is nan; there is no slope at a kink."""
    obj = data("grad", "sqrt(x**2)", "--at", "x=0")
    assert obj["check"]["status"] == "not-differentiable"
    assert obj["check"]["reason"] == (
        "not differentiable here: x is at a kink (one-sided slopes -1 and 1); "
        "the engine's nan is PyTorch's there"
    )
    assert obj["gradient"]["x"] == "nan"
