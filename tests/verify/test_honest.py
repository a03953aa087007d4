"""Issue 13's reproductions in the core: no false verdict where the engine is
right, and verdicts that say why where numbers are not finite."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
import sympy as sp

from diffcli.errors import ExprError
from diffcli.expr import tidy as T
from diffcli.verify import steps
from diffcli.verify import verdict as C


def g(result, name: str) -> float:
    return float(np.asarray(result.gradient[name]))


# --- a simplification never changes the function --------------------------------


@pytest.mark.parametrize(
    ("text", "at", "want"),
    [
        ("relu(sin(x))", 7.0, math.cos(7.0)),
        ("clamp(sin(x), min=0)", 10.0, 0.0),  # sin(10) < 0: clamped
        ("relu(sin(x)*sin(x)-0.5)", 4.2, math.sin(8.4)),
    ],
)
def test_periodic_conditions_survive_simplification(text, at, want):
    r = C.grad(text, at={"x": at})
    assert r.check.status == "ok", r.check
    assert g(r, "x") == pytest.approx(want, abs=1e-12)
    assert float(r.closed_form_at_point["x"]) == pytest.approx(want, abs=1e-12)
    # the closed form shown is the same function as the engine's at the point
    x = sp.Symbol("x", real=True)
    shown = r.closed_form["x"][()]
    assert float(shown.subs(x, at)) == pytest.approx(want, abs=1e-12)


def test_a_simplification_that_changes_the_function_is_undone():
    x = sp.Symbol("x", real=True)
    before = np.array([sp.Piecewise((sp.cos(x), sp.sin(x) > 0), (0, True))])
    wrong = np.array([sp.Piecewise((sp.cos(x), (x > 0) & (x < sp.pi)), (0, True))])
    kept = T.same_function(before, wrong, {x: 7.0})
    assert kept[0] == before[0]
    right = np.array([sp.cos(x) ** 2 + sp.sin(x) ** 2 - 1 + x])
    assert T.same_function(np.array([x]), right, {x: 7.0})[0] == right[0]


def test_removing_a_0_over_0_is_a_change_and_undone():
    """x/x is nan at 0, 1 elsewhere: simplifying it to 1 changes the function."""
    x = sp.Symbol("x", real=True)
    before = np.array([x / sp.Abs(x)], dtype=object)
    kept = T.same_function(before, np.array([sp.Integer(1)], dtype=object), {x: 0.0})
    assert kept[0] == before[0]


# --- detach survives every order ---------------------------------------------------


def test_detach_stays_constant_at_second_order():
    r = C.grad("detach(5*z)*y", at={"y": -1, "z": 1}, order=2)
    assert r.check.status == "ok", r.check
    for a in "yz":
        for b in "yz":
            assert float(r.hessian[a][b]) == 0.0
            assert float(r.hessian_closed_form[a][b]) == 0
    assert str(r.closed_form["y"][()]) == "5*z"


@pytest.mark.parametrize(("order", "want"), [(1, 3.0), (2, 0.0), (3, 0.0)])
def test_a_detach_of_a_detach_at_every_order(order, want):
    r = C.grad("x*detach(detach(x))", at={"x": 3}, order=order)
    assert r.check.status == "ok", r.check
    got = {1: r.gradient["x"], 2: r.hessian and r.hessian["x"]["x"]}
    assert float(got.get(order, r.nth_derivative)) == want


def test_detached_values_are_held_by_finite_differences():
    r = C.grad("detach(5*z)*y", at={"y": -1, "z": 1})
    assert r.finite_differences["y"] == pytest.approx(5.0)
    assert r.finite_differences["z"] == 0.0


@pytest.mark.parametrize("order", [1, 2])
def test_python_code_that_leaves_the_graph_skips_finite_differences(order):
    def f(x, y):
        return x.detach() ** 2 * x * y

    r = C.grad_function(f, "f.py:f", at={"x": 3, "y": 2}, order=order)
    assert r.check.status == "ok", r.check
    assert r.check.notes == [
        "finite differences skipped: f.py:f depends on the point outside its "
        "recorded graph (.detach(), .data, .item(), float(), ...), which finite "
        "differences would see"
    ]
    if order == 1:
        assert (g(r, "x"), g(r, "y")) == (18.0, 27.0)
    else:
        assert float(r.hessian["x"]["y"]) == 9.0
        assert float(r.hessian_closed_form["x"]["y"]) == 9


def test_python_code_inside_the_graph_keeps_finite_differences():
    r = C.grad_function(lambda x: (x * x).sin(), "f.py:f", at={"x": 0.5}, order=2)
    assert r.check.status == "ok" and r.check.fd_max_abs_err is not None


# --- finite differences: the step, and where they cannot be trusted -------------


def test_sin_at_1e8_uses_a_step_that_sees_the_slope():
    r = C.grad("sin(y)", at={"y": 1e8})
    assert r.check.status == "ok", r.check
    assert float(r.finite_differences["y"]) == pytest.approx(math.cos(1e8), rel=1e-6)


def test_the_ladder_of_steps_is_powers_of_two_above_the_rounding_of_x():
    ladder = steps.ladder(1e8)
    assert all(math.log2(h).is_integer() for h in ladder)
    assert ladder == sorted(ladder, reverse=True)
    assert min(ladder) >= steps.MIN_ULPS * np.spacing(1e8)
    assert max(steps.ladder(0.5)) < 2e-3


def test_differences_that_never_settle_do_not_vote():
    """sin(y**3) at 1e8 turns 3e13 radians per unit of step: no step can see
    its slope, and two large ones agreeing near 0 must not count."""
    r = C.grad("cos(y**3)", at={"y": 1e8})
    assert r.check.status == "ok", r.check
    assert any("differences are unreliable here at y" in n for n in r.check.notes)


def test_a_step_lost_in_a_large_intermediate_is_not_a_mismatch():
    r = C.grad("(x + 1e10) - 1e10", at={"x": 1})
    assert r.check.status == "ok", r.check
    assert g(r, "x") == 1.0


def test_a_kink_seen_only_by_a_second_order_difference():
    r = C.grad("mean(clamp(y, min=0)) / cos(x)", at={"x": 7, "y": 0}, order=2)
    assert r.check.status == "ok", r.check
    assert any("d2/dxdy is at a kink" in n for n in r.check.notes)


def test_a_jump_in_the_derivative_is_unreliable_for_differences():
    """where(|y| > 0, exp(y), 1) at y = 0: the engine (like PyTorch) takes the
    constant branch; around it the gradient is exp(y): it jumps at 0."""
    r = C.grad("where(abs(y) > 0, exp(y), 1)", at={"y": 0}, order=2)
    assert r.check.status == "ok", r.check
    assert float(r.hessian["y"]["y"]) == 0.0
    assert any("unreliable here at d2/dydy" in n for n in r.check.notes)


def test_a_tie_is_pytorchs_choice_not_a_mismatch():
    """maximum(0.5, y) at y = 0.5 shares its gradient (PyTorch's rule), so the
    engine gives 0.75 where the function's slope is 1; SymPy rewrites the
    expression and loses the tie, so the tie is found on the engine's values."""
    r = C.grad("minimum(maximum(x, y), maximum(0.5, y))", at={"x": 0.25, "y": 0.5})
    assert r.check.status == "ok", r.check
    assert g(r, "y") == 0.75 and r.finite_differences["y"] == pytest.approx(1.0)
    assert r.check.notes == [
        "y: the point is at a tie of a comparison (a branch boundary); the engine "
        "takes PyTorch's choice there, the witnesses may see the branches around it"
    ]


def test_a_tie_elsewhere_excuses_nothing(monkeypatch):
    from diffcli.engine.table import PRIMITIVES

    wrong = dataclasses.replace(
        PRIMITIVES["sin"], vjps=(lambda F, g, ans, x: g * F.sin(x),)
    )
    monkeypatch.setitem(PRIMITIVES, "sin", wrong)
    r = C.grad("maximum(y, 0.5) + sin(x)", at={"x": 0.5, "y": 0.5})
    assert r.check.status == "mismatch"
    assert r.check.entries == {"x": "mismatch"}


def test_float64_deciding_a_comparison_otherwise_is_not_a_mismatch():
    """exp(1 - 1e8)**2 underflows to 0 in float64: the engine takes the other
    branch than exact arithmetic, which the closed form follows."""
    r = C.grad("where(exp(1 - y)**2 > 0, tan(0.5 - y)*x, 1)", at={"x": 0, "y": 1e8})
    assert r.check.status == "ok", r.check
    assert g(r, "x") == 0.0
    assert any("float64 decides a comparison otherwise" in n for n in r.check.notes)


@pytest.mark.parametrize(
    ("text", "at", "name", "engine"),
    [
        ("where(sin(pi) > 0, x**1e3, 1)", {"x": 1}, "x", 1000.0),
        ("atan2(sin(pi), relu(y))", {"y": 1e-300}, "y", None),
        ("tan(-pi) * x", {"x": 1e8}, "x", math.tan(-math.pi)),
    ],
)
def test_closed_forms_are_evaluated_with_float64s_pi(text, at, name, engine):
    """The engine's pi is float64's: sin(pi) is 1.2e-16 there, not 0."""
    r = C.grad(text, at=at)
    assert r.check.status == "ok", r.check
    if engine is not None:
        assert g(r, name) == engine
    assert float(r.closed_form_at_point[name]) == pytest.approx(g(r, name), rel=1e-9)
    assert "_pi" not in str(r.closed_form[name][()])  # no placeholder shows


def test_closed_forms_still_show_sympys_pi():
    r = C.grad("sin(pi*x) + e**x", at={"x": 1})
    assert str(r.closed_form["x"][()]) == "exp(x) + pi*cos(pi*x)"
    assert float(r.closed_form_at_point["x"]) == pytest.approx(math.e - math.pi)


# --- where numbers are not finite: say why -----------------------------------------


def test_a_pole_is_not_differentiable_not_a_mismatch():
    r = C.grad("1/sqrt(x**2+y**2+z**2)", at={"x": 0, "y": 0, "z": 0})
    assert r.check.status == "not-differentiable"
    assert r.check.reason.startswith(
        "not differentiable here: the function is not a finite real number"
    )
    assert set(r.variable_checks.values()) == {"not-differentiable"}


def test_a_negative_base_is_not_differentiable_not_a_real_part():
    r = C.grad("(-0.913)**x", at={"x": 1})
    assert math.isnan(g(r, "x"))
    assert r.check.status == "not-differentiable"
    assert "the derivative at x is nan" in r.check.reason


def test_overflow_in_the_engine_is_named_and_fails():
    r = C.grad("log(sum(exp(x)))", at={"x": [1000, 1001, 1002]})
    assert r.check.status == "overflow"
    assert r.check.reason.startswith(
        "overflow in the engine: the value is 1002.41 exactly, but inf in float64"
    )
    assert all(s == "overflow" for s in r.variable_checks.values())


def test_an_inf_meeting_a_zero_in_the_chain_rule_is_named():
    r = C.grad("sqrt(0/y) - x", at={"x": 1, "y": 1e8})
    assert r.check.status == "overflow"
    assert "at y: the engine's derivative is nan, but exactly it is 0" in r.check.reason


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("x*sqrt(x)", {"x": 0}),  # real on one side only
        ("max((x**v)**3)", {"x": -1, "v": [1, 2]}),  # (-1)**v: real at integers
    ],
)
def test_real_only_at_the_point_is_not_differentiable(text, at):
    r = C.grad(text, at=at)
    assert r.check.status == "not-differentiable"
    assert "at the point or just beside it" in r.check.reason


def test_a_value_real_only_through_complex_steps_is_not_differentiable():
    """sqrt(-1)**2: SymPy's closed form reads -1; the engine's functions are
    real, so the function is undefined there."""
    r = C.grad("(sin(sqrt(maximum(y, -1))))**2", at={"y": -3})
    assert r.check.status == "not-differentiable"


def test_the_closed_form_is_evaluated_exactly_where_floats_fail():
    """tanh(30) rounds to 1, so log(tanh(30)) is 0 and the float closed form
    of the second derivative 0/0; exactly it is 2.03e-24."""
    r = C.grad("abs(log(tanh(x)))*x", at={"x": 30}, order=2)
    assert r.check.status == "ok", r.check
    assert float(r.hessian["x"]["x"]) == 0.0
    assert r.check.symbolic_max_abs_err == pytest.approx(2.0315105e-24, rel=1e-6)


def test_ok_never_certifies_a_non_finite_gradient():
    for text, at in [("sqrt(x)", 0), ("log(x)", 0), ("1/x", 0), ("x/0", 1)]:
        r = C.grad(text, at={"x": at})
        assert r.check.status != "ok", (text, r.check)
        assert r.variable_checks["x"] != "ok"


def test_non_finite_without_a_closed_form_says_no_witness_can_tell():
    tol = C.Tolerances(sym_max_elements=0)  # no SymPy for Python code either
    r = C.grad_function(lambda x: x.sqrt(), "f.py:f", at={"x": 0}, tol=tol)
    assert r.check.status == "non-finite"
    assert r.check.reason == (
        "the engine's derivative at x is inf and no witness can tell whether it "
        "exists there"
    )


# --- second orders at kinks, and what used to be internal errors ---------------


@pytest.mark.parametrize(
    ("text", "at", "want"),
    [
        ("abs(x)", {"x": 1}, 0.0),
        ("minimum(x, y)", {"x": 1, "y": 3}, 0.0),
        ("norm(v)", {"v": [3, 4]}, None),
        ("max(v)", {"v": [1, 2]}, 0.0),
        ("clamp(x, min=0)", {"x": 1}, 0.0),
        ("sum(abs(v))", {"v": [1, -2]}, 0.0),
    ],
)
def test_second_order_through_kinks(text, at, want):
    r = C.grad(text, at=at, order=2)
    assert r.check.status == "ok", r.check
    if want is not None:
        first = r.wrt[0]
        assert np.all(np.asarray(r.hessian[first][first]) == want)


def test_second_order_at_the_kink_itself_is_not_differentiable():
    r = C.grad("abs(x)", at={"x": 0}, order=2)
    assert r.check.status == "not-differentiable"
    assert float(r.hessian["x"]["x"]) == 0.0
    assert r.check.reason.endswith("the engine takes 0, PyTorch's choice")


def test_one_element_outputs_of_any_shape_are_scalars():
    assert g(C.grad("[x]", at={"x": 1}), "x") == 1.0
    r = C.grad("sum(x, keepdim=True)", at={"x": [1, 2]})
    assert r.check.status == "ok" and r.gradient["x"].tolist() == [1.0, 1.0]


def test_division_by_zero_is_a_verdict():
    r = C.grad("x/0", at={"x": 1})
    assert g(r, "x") == math.inf
    assert r.check.status == "not-differentiable"


def test_a_where_with_a_number_as_condition_is_a_clear_error():
    with pytest.raises(ExprError, match="where's condition must be true/false"):
        C.grad("where(x, x, y)", at={"x": 1, "y": 2})


@pytest.mark.parametrize(
    ("text", "let", "message"),
    [
        ("x**2", {"x": 1}, "'x**2' has no variables; x held constant (--let)"),
        ("0.5", {}, "'0.5' has no variables"),
    ],
)
def test_nothing_to_differentiate_is_a_clear_error(text, let, message):
    for order in (1, 2):
        with pytest.raises(ExprError, match=re.escape(message)):
            C.grad(text, let=let, order=order)


def test_float_rounding_of_an_exact_zero_is_not_a_mismatch():
    # fuzz seed 22: cos(atan2(2, 0)) is cos(pi/2) = 6e-17 in float64 and 0
    # exactly; times (-7)**7 the engine's d/dx is -5e-11 where the exact closed
    # form says 0.  Moving x by float64's rounding moves the closed form by
    # 2e-10: within that the engine is right, and says so in a note.
    r = C.grad(
        "atan2(minimum(y, x) * y, y) * ((0 - y) ** y * cos(atan2(2, x)))",
        at={"x": 0.0, "y": 7.0},
    )
    assert r.check.status != "mismatch", r.check.reason
    assert any("x: the derivative is ill-conditioned" in n for n in r.check.notes)
    assert abs(r.gradient["x"]) < 1e-10


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("x**2", {"x": 1e200}),
        ("exp(x)", {"x": 1000.0}),
        ("x*y", {"x": 1e200, "y": 1e200}),
    ],
)
def test_a_value_beyond_float64s_range_is_an_overflow_not_undefined(text, at):
    # exactly 1e400 is a finite number: the engine overflowed (review finding)
    r = C.grad(text, at=at)
    assert r.check.status == "overflow"
    assert "the value is beyond float64's range exactly" in r.check.reason


def test_finite_differences_do_not_outvote_an_agreeing_closed_form():
    # review finding: 4 blocks of the 6x6 Hilbert matrix (condition ~1.5e7);
    # the engine and the matrix closed form agree, differences do not
    h = [[1 / (i + j + 1) for j in range(6)] for i in range(6)]
    X = np.kron(np.eye(4), h)
    r = C.grad("a @ inv(X) @ a", at={"X": X}, let={"a": np.ones(24)})
    assert r.check.status == "ok", r.check.reason
    # where their one-sided slopes part, nothing in a @ inv(X) @ a has a kink:
    # the differences are unreliable there, not "at a kink"
    assert r.check.notes[0].startswith("finite differences are unreliable here at")
    assert not any("kink" in n for n in r.check.notes)
    Xi = np.linalg.inv(X)
    np.testing.assert_allclose(
        r.gradient["X"], -np.outer(Xi.T @ np.ones(24), Xi @ np.ones(24)), rtol=1e-6
    )


def test_one_sided_slopes_at_a_kink_are_compared_with_their_own_tolerance():
    """Fuzz seed 31: relu at 1e-300 under a steep y**tanh(.): the right slope
    by one-sided differences is 18.42065 (first-order error 2.6e-5), the
    engine's 18.42068; within the differences' tolerance, not a mismatch."""
    r = C.grad("(y) ** (tanh(relu(x)))", at={"x": 1e-300, "y": 1e8})
    assert r.check.status == "ok", r.check.reason
    assert float(r.gradient["x"]) == pytest.approx(np.log(1e8), rel=1e-12)


@pytest.mark.parametrize(
    ("text", "at"),
    [
        # review finding: strongly curved smooth functions are never "at a kink"
        (
            "sum(inv(X))",
            {"X": [[1, 1 / 2, 1 / 3], [1 / 2, 1 / 3, 1 / 4], [1 / 3, 1 / 4, 1 / 5]]},
        ),
        ("exp(50*x)", {"x": 1.0}),
        ("1/x", {"x": 1e-3}),
        # beyond the 64 elements refined, parted slopes of sin(1/x) near 0
        ("sum(sin(1/x))", {"x": np.linspace(0.001, 0.002, 100)}),
    ],
)
def test_a_smooth_function_is_never_said_to_be_at_a_kink(text, at):
    r = C.grad(text, at=at)
    assert r.check.status == "ok", r.check.reason
    assert not any("kink" in n for n in r.check.notes), r.check.notes


@pytest.mark.parametrize(
    ("text", "kinked"),
    [
        ("sum(sin(1/x))", False),
        ("exp(x)**2 / x", False),
        ("log(x) + lgamma(x)", False),
        ("relu(x)", True),
        ("norm(x)", True),
        ("where(x > 0, x, 0)", True),
        ("x**0.5", True),
        ("(x**2)**(1/2)", True),
    ],
)
def test_which_expressions_can_have_a_kink(text, kinked):
    from diffcli.verify.ties import may_kink

    assert may_kink(C.prepare(text, {"x": 1.0}, None, None)) is kinked


def test_a_kink_is_still_said_where_a_kinked_function_is_at_it():
    r = C.grad("relu(x) + sum(sin(1/y))", at={"x": 0.0, "y": [0.5, 1.0]})
    assert r.check.status == "ok"
    assert r.check.notes[0] == (
        "x is at a kink (one-sided slopes 0 and 1); the engine takes 0, "
        "PyTorch's choice"
    )


def test_a_closed_form_spoiled_by_cancellation_is_recomputed_not_believed():
    # found in review: the 5x5 Hilbert matrix; float64 evaluation of the
    # per-component forms of sum(inv(X)) cancels (closed form -3150.122 at
    # X[0, 2], engine -3150.00000006); with 50 digits they agree
    h = [[1 / (i + j + 1) for j in range(5)] for i in range(5)]
    r = C.grad("sum(inv(X))", at={"X": h})
    assert r.check.status == "ok", r.check.reason
    # -(row sums of inv(H5)) times (column sums): 5, -120, 630, -1120, 630
    sums = np.array([5, -120, 630, -1120, 630])
    np.testing.assert_allclose(r.gradient["X"], -np.outer(sums, sums), rtol=1e-6)
    assert r.closed_form_at_point["X"][0, 2] == pytest.approx(-3150, rel=1e-8)


def test_precise_values_stay_on_the_reals():
    import sympy as sp

    from diffcli.expr.exact import precise

    x = sp.Symbol("x")
    assert precise([sp.exp(x) / x], {x: 2.0}) == [pytest.approx(np.exp(2) / 2)]
    assert precise([sp.sqrt(x - 3) ** 3], {x: 2.0}) is None  # leaves the reals
    assert precise([sp.Abs(x)], {x: 2.0}) is None  # not one it takes: exact's
