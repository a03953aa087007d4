"""The three-way check: engine, SymPy closed form and finite differences.

Seed numbers, a hypothesis differential test over random expressions, kinks,
non-finite values, higher orders, Jacobians, several outputs, Python functions
with control flow, the bounded symbolic work, and mismatch detection.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import tomllib
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import expressions

from diffcli.engine.table import PRIMITIVES
from diffcli.errors import ExprError
from diffcli.expr import symbolic as S
from diffcli.verify import verdict as C
from diffcli.verify import witnesses as W
from diffcli.verify.closed_form import ClosedForm
from diffcli.verify.question import prepare

SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seeds.diffcheck.toml"


def grad_of(result: C.GradResult, name: str) -> np.ndarray:
    return np.asarray(result.gradient[name], dtype=np.float64)


# --- seed numbers ----------------------------------------------------------------


def test_seed_norm_of_squares():
    r = C.grad("norm(x**2)", at={"x": [1, 2]})
    assert [str(e) for e in r.closed_form["x"]] == [
        "2*x[0]**3/sqrt(x[0]**4 + x[1]**4)",
        "2*x[1]**3/sqrt(x[0]**4 + x[1]**4)",
    ]
    np.testing.assert_allclose(grad_of(r, "x"), [0.4851, 3.8806], atol=5e-5)
    np.testing.assert_allclose(r.closed_form_at_point["x"], grad_of(r, "x"), rtol=1e-12)
    np.testing.assert_allclose(r.finite_differences["x"], grad_of(r, "x"), rtol=1e-6)
    assert r.check.status == "ok"
    assert r.check.notes == []


def test_seed_detach():
    r = C.grad("sum(detach(x*x)*x)", at={"x": "arange(4)"})
    np.testing.assert_array_equal(grad_of(r, "x"), [0, 1, 4, 9])
    assert [str(e) for e in r.closed_form["x"]] == [
        "x[0]**2",
        "x[1]**2",
        "x[2]**2",
        "x[3]**2",
    ]
    assert r.check.status == "ok"
    # differences of what the engine differentiates: detach held at the point
    np.testing.assert_allclose(r.finite_differences["x"], [0, 1, 4, 9], atol=1e-8)
    assert r.check.notes == []


def _seed_cases():
    cases = tomllib.loads(SEEDS.read_text())["case"]
    return [pytest.param(c, id=c["name"]) for c in cases if "expr" in c]


@pytest.mark.parametrize("case", _seed_cases())
def test_every_seed_expression_agrees_three_ways(case):
    r = C.grad(
        case["expr"],
        at=case.get("at"),
        let=case.get("let"),
        seed=case.get("seed"),
        order=case.get("order", 1),
    )
    assert r.check.status == "ok", r.check
    assert r.check.symbolic_max_abs_err is not None  # the closed form took part
    expect = case["expect"]
    for name, want in expect.get("gradient", {}).items():
        np.testing.assert_allclose(grad_of(r, name), want, rtol=1e-4, atol=1e-6)
    if "value" in expect:
        np.testing.assert_allclose(r.value, expect["value"], rtol=1e-4, atol=1e-6)


# --- differential: random expressions, three witnesses ----------------------------

LEAVES = (
    "s",
    "u",
    "v",
    "u[0]",
    "v[2]",
    "u[0:3]",
    "W[:, 1]",
    "W[2, 0]",
    "transpose(W)[1]",
    "0.5",
    "2",
    "pi",
)
UNARY = (
    "sin({})",
    "cos({})",
    "tanh({})",
    "sigmoid({})",
    "exp(sin({}))",
    "exp(tanh({}))",
    "log(1 + ({})**2)",
    "sqrt(1 + ({})**2)",
    "({})**2",
    "({})**3",
    "-({})",
    "pow({}, 2)",
)
BINARY = ("({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1 + ({})**2)")
TOPS = (
    "sum({})",
    "mean({})",
    "norm(sigmoid({}))",
    "norm(1 + ({})**2)",
    "dot({}, v)",
    "dot(M @ ({}), u)",
    "sum(matmul(M, {}))",
    "({})[1]",
)
M = [[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [0.5, 0.0, 1.0]]


EXPRESSIONS = expressions(LEAVES, UNARY, BINARY, TOPS, inside="ones(3)")
POINTS = st.lists(
    st.floats(-2, 2, allow_nan=False, allow_subnormal=False), min_size=16, max_size=16
)


@settings(max_examples=50, deadline=None)
@given(EXPRESSIONS, POINTS, st.booleans())
def test_differential_engine_closed_form_finite_differences(text, p, shared):
    """Engine, closed form and finite differences agree; the engine matches the
    closed form to 1e-9 relative.  ``shared``: derive with the reverse sweep
    used for large arrays instead of sp.diff."""
    at = {"s": p[0], "u": p[1:4], "v": p[4:7], "W": np.reshape(p[7:], (3, 3))}
    with mock.patch.object(S, "SMALL_GRADIENT", 0 if shared else S.SMALL_GRADIENT):
        # a budget no loaded machine reaches: this is about agreement
        r = C.grad(text, at=at, let={"M": M}, tol=C.Tolerances(sym_timeout=600))
    assert r.check.status == "ok", (text, r.check)
    assert r.check.symbolic_max_abs_err is not None, r.check.notes
    assert r.check.fd_max_abs_err is not None, r.check.notes
    for name in ("s", "u", "v", "W"):
        np.testing.assert_allclose(
            grad_of(r, name),
            np.asarray(r.closed_form_at_point[name], dtype=np.float64),
            rtol=1e-9,
            atol=1e-12,
        )


# --- kinks: the witnesses may rightly differ, and the verdict says so ------------


def test_relu_at_zero_is_ok_with_a_kink_note():
    r = C.grad("relu(x)", at={"x": 0})
    assert r.check.status == "ok"
    assert float(grad_of(r, "x")) == 0.0
    assert r.check.notes == [
        "x is at a kink (one-sided slopes 0 and 1); the engine takes 0, "
        "PyTorch's choice"
    ]


def test_abs_at_zero_is_ok_with_a_kink_note():
    r = C.grad("abs(x)", at={"x": 0})
    assert r.check.status == "ok"
    assert float(grad_of(r, "x")) == 0.0
    assert any("x is at a kink (one-sided slopes -1 and 1)" in n for n in r.check.notes)


def test_max_ties_share_the_gradient_with_kink_notes():
    r = C.grad("max(x)", at={"x": [1, 1, 0]})
    assert r.check.status == "ok"
    np.testing.assert_array_equal(grad_of(r, "x"), [0.5, 0.5, 0])
    kinks = [n for n in r.check.notes if "kink" in n]
    assert len(kinks) == 2 and "x[0]" in kinks[0] and "x[1]" in kinks[1]


def test_max_along_a_dim_at_a_tie_the_closed_form_differs_and_is_excused():
    r = C.grad("sum(max(A, 1))", at={"A": [[1, 1], [0, 3]]})
    assert r.check.status == "ok"
    np.testing.assert_array_equal(grad_of(r, "A"), [[1, 0], [0, 1]])
    assert "the closed form takes 0.5 at the kink in A[0, 0]" in r.check.notes


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("clamp(x, 0, 1)", 1.0),
        ("maximum(x, 1)", 1.0),
        ("norm(x)", [0.0, 0.0]),
        ("where(x > 0, x, 0)", 0.0),
    ],
)
def test_other_kinks_do_not_fail_or_crash(text, at):
    r = C.grad(text, at={"x": at})
    assert r.check.status == "ok", r.check
    assert any("kink" in n for n in r.check.notes)


# --- non-finite values are reported, not hidden -------------------------------------


def test_sqrt_at_zero_reports_inf_as_not_differentiable():
    r = C.grad("sqrt(x)", at={"x": 0})
    assert math.isinf(float(grad_of(r, "x")))
    assert math.isinf(float(r.closed_form_at_point["x"]))
    assert r.check.status == "not-differentiable"
    assert r.check.reason.startswith("not differentiable here: the derivative at x")
    assert r.variable_checks == {"x": "not-differentiable"}


def test_log_at_zero_reports_the_value():
    r = C.grad("log(x)", at={"x": 0})
    assert float(r.value) == -math.inf
    assert r.check.status == "not-differentiable"
    assert r.check.reason == (
        "not differentiable here: the function is not a finite real number at "
        "the point (value -inf; computed exactly, it is not either)"
    )


def test_large_values_with_small_slopes_excuse_finite_differences():
    r = C.grad("1e12 + x", at={"x": 1})
    assert r.check.status == "ok"
    assert float(grad_of(r, "x")) == 1.0
    assert r.check.symbolic_max_abs_err == 0.0
    assert r.check.notes == [
        "finite differences are unreliable here at x: no two steps agree "
        "(a jump, a pole, cancellation or a huge magnitude); they do not vote there"
    ]


# --- higher orders, Jacobians, several outputs, functions --------------------------


def test_hessian():
    r = C.grad("x*y + x**2*y", at={"x": 1, "y": 2}, order=2)
    h = r.hessian
    got = [[float(h[a][b]) for b in ("x", "y")] for a in ("x", "y")]
    assert got == [[4, 3], [3, 0]]
    assert str(r.hessian_closed_form["x"]["y"][()]) == "2*x + 1"
    assert r.check.status == "ok"


def test_hessian_of_a_vector_variable():
    r = C.grad("sum(x**3) + x[0]*x[1]", at={"x": [1, 2]}, order=2)
    np.testing.assert_allclose(r.hessian["x"]["x"], [[6, 1], [1, 12]])
    assert r.check.status == "ok"


def test_order_n():
    r = C.grad("sin(x)", at={"x": 0.5}, order=4)
    assert float(r.nth_derivative) == pytest.approx(math.sin(0.5), rel=1e-15)
    assert str(r.nth_closed_form[()]) == "sin(x)"
    assert r.check.status == "ok"


def test_order_errors():
    with pytest.raises(ExprError, match="order must be at least 1, got 0"):
        C.grad("x", at={"x": 1}, order=0)
    with pytest.raises(ExprError, match="order 3 needs exactly one scalar variable"):
        C.grad("sum(x**4)", at={"x": [1, 2]}, order=3)


def test_jacobian():
    r = C.jacobian("x**2", at={"x": [1, 2]})
    np.testing.assert_array_equal(r.jacobian["x"], [[2, 0], [0, 4]])
    assert [[str(e) for e in row] for row in r.closed_form["x"]] == [
        ["2*x[0]", "0"],
        ["0", "2*x[1]"],
    ]
    assert r.check.status == "ok"


def test_jacobian_needs_values():
    with pytest.raises(ExprError, match="missing: a"):
        C.jacobian("a*x", at={"x": [1, 2]})


def test_grad_many_sums_the_gradients():
    r = C.grad_many(["x1*x2", "x1+x2"], at={"x1": 1, "x2": 2})
    assert (float(r.gradient["x1"]), float(r.gradient["x2"])) == (3.0, 2.0)
    assert [float(o.gradient["x1"]) for o in r.outputs] == [2.0, 1.0]
    assert r.check.status == "ok"


def _control_flow(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


@pytest.mark.parametrize("a", [1.1633, -0.7])
def test_grad_function_with_control_flow(a):
    r = C.grad_function(_control_flow, "seed002.py:f", at={"a": a})
    d = float(r.value)
    assert float(grad_of(r, "a")) == pytest.approx(d / a, rel=1e-12)
    assert r.closed_form["a"][()] == round(d / a)  # via replay of the recording
    assert str(r.symbolic_value[()]) == f"{round(d / a)}*a"
    assert r.check.status == "ok"
    assert r.check.symbolic_max_abs_err == 0.0


# --- bounded symbolic work: a stated skip, never a hang ------------------------------


def test_symbolic_skip_over_the_element_limit():
    # prod has no matrix form, which would otherwise stand in (issue 16)
    text = "prod(x + 1)"
    r = C.grad(text, at={"x": "arange(5)"}, tol=C.Tolerances(sym_max_elements=4))
    assert r.closed_form is None
    assert r.check.status == "ok"  # finite differences still witness
    assert (
        "closed form skipped: 5 variable elements is over the symbolic limit of 4"
        in r.check.notes
    )


def test_every_witness_skipped_is_a_skipped_verdict():
    tol = C.Tolerances(sym_max_elements=1, fd_max_elements=1)
    r = C.grad("prod(x)", at={"x": [1, 2]}, tol=tol)  # no matrix form
    assert r.check.status == "skipped"
    assert "over the finite-difference limit of 1" in r.check.reason
    assert "over the symbolic limit of 1" in r.check.reason
    assert r.check.notes == []  # each said once, in the reason


def test_symbolic_timeout_returns_with_a_reason():
    # prod: no matrix form, which would stand in
    text = "sum(sigmoid(exp(tanh(x)) * sin(x)) ** 3) + prod(cos(x))"
    tol = C.Tolerances(sym_timeout=1e-3)
    r = C.grad(text, at={"x": np.linspace(0.1, 1, 40)}, tol=tol)
    assert r.closed_form is None
    assert r.check.status == "ok"
    assert "closed form skipped: SymPy took longer than 0.001 s" in r.check.notes
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_checks_off():
    r = C.grad("x**2", at={"x": 3}, check=False)
    assert float(grad_of(r, "x")) == 6.0
    assert r.check.status == "skipped" and r.check.reason == "checks turned off"


# --- mismatches are found and say which witness disagrees ---------------------------


def test_a_wrong_vjp_rule_is_a_mismatch(monkeypatch):
    wrong = dataclasses.replace(
        PRIMITIVES["sin"], vjps=(lambda F, g, ans, x: g * F.sin(x),)
    )
    monkeypatch.setitem(PRIMITIVES, "sin", wrong)
    r = C.grad("sin(x)", at={"x": 0.5})
    assert float(grad_of(r, "x")) == pytest.approx(math.sin(0.5))
    assert r.check.status == "mismatch"
    assert r.check.reason.startswith("finite differences disagree at x: engine 0.4794")
    assert "; the closed form disagrees at x: engine 0.4794" in r.check.reason
    assert "rel diff" in r.check.reason
    assert r.check.symbolic_max_abs_err == pytest.approx(math.cos(0.5) - math.sin(0.5))
    assert r.check.symbolic_max_rel_err == pytest.approx(1 - math.tan(0.5))


def _fabricated(engine_flat, sym_flat, fd_flat):
    problem = prepare("x**2", at={"x": [1, 2]})
    labels = ["x[0]", "x[1]"]
    e = np.array(engine_flat, dtype=float)
    engine = W.Engine(np.array(5.0), {"x": e}, None, e, labels)
    sym = ClosedForm(True, flat_at=np.array(sym_flat, dtype=float))
    fd = np.array(fd_flat, dtype=float)
    fdw = W.FiniteDifferences(
        True, flat=fd, kinks=np.zeros(2, bool), left=fd, right=fd, noise=np.zeros(2)
    )
    return C.judge(problem, engine, sym, fdw, C.Tolerances(), True)


def test_judge_names_the_closed_form_when_it_alone_disagrees():
    v = _fabricated([2, 4], [2, 4.000001], [2, 4])
    assert v.status == "mismatch"
    assert v.reason == (
        "the closed form disagrees at x[1]: engine 4, closed form 4.000001 "
        "(abs diff 1e-06, rel diff 2.5e-07)"
    )
    assert v.symbolic_max_rel_err == pytest.approx(2.5e-7, rel=1e-6)
    assert v.fd_max_abs_err == 0.0


def test_judge_names_finite_differences_when_they_alone_disagree():
    v = _fabricated([2, 4], [2, 4], [2.1, 4])
    assert v.status == "mismatch"
    assert v.reason.startswith("finite differences disagree at x[0]: engine 2, ")
    assert "rel diff 0.0476" in v.reason
    assert v.fd_max_abs_err == pytest.approx(0.1)


def test_judge_within_tolerances_is_ok():
    v = _fabricated([2, 4], [2, 4 * (1 + 1e-11)], [2 + 1e-6, 4 - 1e-6])
    assert v.status == "ok" and v.reason is None


def test_combine_prefers_a_mismatch():
    ok = C.Verdict("ok", 0.0, 1e-9, symbolic_max_rel_err=0.0, fd_max_rel_err=1e-10)
    bad = C.Verdict("mismatch", 1.0, 1.0, "broken", ["n"], 0.5, 0.25)
    both = C.combine([ok, bad])
    assert (both.status, both.reason, both.notes) == ("mismatch", "broken", ["n"])
    assert (both.symbolic_max_rel_err, both.fd_max_rel_err) == (0.5, 0.25)
    assert C.combine([]).status == "skipped"


def test_compare_is_the_one_judge_of_agreement():
    nan, inf = math.nan, math.inf
    c = C.compare([1.0, 2.0, nan, inf, 0.0], [1.0 + 1e-7, 2.5, nan, inf, 0.0], 1e-3, 0)
    assert c.off.tolist() == [False, True, False, False, False] and not c.agree
    assert c.abs_err[:2].tolist() == pytest.approx([1e-7, 0.5])
    assert c.rel_err[1] == pytest.approx(0.2) and c.rel_err[4] == 0.0
    assert (c.max_err(), c.max_err(relative=True)) == pytest.approx((0.5, 0.2))
    assert c.differ(1) == "abs diff 0.5, rel diff 0.2"
    # the tolerance scales with what is expected; equal values always agree
    assert C.compare(1.0, 2.0, 0.5, 0).agree and not C.compare(2.0, 1.0, 0.5, 0).agree
    assert C.compare([3.0], [3.0], 0, 0).agree
    assert not C.compare([3.0], [3.0 + 1e-15], 0, 1e-16).agree
    assert C.compare([nan], [1.0], 1, 1).max_err() == 0.0  # nan says nothing


def test_seed_contraction_leaves_out_outputs_of_zero_weight():
    """A Jacobian row differentiates one output: the others are not multiplied
    by zero (SymPy makes ``0 * oo`` nan, and asking costs 35 ms a tanh)."""
    from diffcli.verify.closed_form import _contract

    sp = S.sympy()
    x = sp.Symbol("x")
    value = np.array([sp.oo, sp.tanh(x), 2 * x], dtype=object)
    assert _contract(sp, value, S.obj(np.array([0.0, 1.0, -0.5]))) == sp.tanh(x) - x
    assert _contract(sp, value, S.obj(np.zeros(3))) == 0


def test_jacobian_rows_of_tanh_of_a_product_agree_with_the_hand_form():
    """d tanh(A x)_i / d x_j = (1 - tanh(A x)_i**2) A_ij, every row checked."""
    rng = np.random.default_rng(3)
    A, x = rng.normal(size=(4, 3)), rng.normal(size=3)
    r = C.jacobian("tanh(A@x)", at={"x": x}, let={"A": A})
    assert r.check.status == "ok"
    expected = (1 - np.tanh(A @ x) ** 2)[:, None] * A
    np.testing.assert_allclose(r.jacobian["x"], expected, rtol=1e-12)

    def at_point(e):
        return float(e.subs({s: x[int(s.name[2])] for s in e.free_symbols}))

    closed = np.array([at_point(e) for e in r.closed_form["x"].flat])
    np.testing.assert_allclose(closed.reshape(4, 3), expected, rtol=1e-12)
