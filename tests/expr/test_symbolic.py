"""The SymPy side: symbols, the shared reverse sweep, tidy, lambdify, and
symbolic-only answers (parameters without values); time limits are in
test_time_limit.py."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from diffcli.engine.tensor import Tensor
from diffcli.expr import parser as P
from diffcli.expr import symbolic as S
from diffcli.expr import tidy as T
from diffcli.verify import verdict as C


def derive(text: str, shapes: dict[str, tuple[int, ...]]):
    symbols = {n: S.symbols_for(n, s) for n, s in shapes.items()}
    value, frozen = S.evaluate_symbolic(P.parse(text), symbols, text)
    return symbols, sp.sympify(value.reshape(())[()]), frozen


def at(exprs, symbols: list, point: list[float]) -> np.ndarray:
    fn = S.evaluator(symbols, list(exprs))
    # as closed_form evaluates them: an overflow (exp(exp(exp(x)))) gives inf
    # or nan, compared like any other value
    with np.errstate(all="ignore"):
        return np.array([float(v) for v in fn(*point)])


# --- symbols and numbers ------------------------------------------------------------


def test_symbols_are_real_and_named_like_indexing():
    A = S.symbols_for("A", (2, 3))
    assert A.shape == (2, 3)
    assert str(A[1, 2]) == "A[1, 2]"
    assert A[0, 0].is_real
    assert str(S.symbols_for("x", (2,))[1]) == "x[1]"
    assert T.to_text(A[1, 0] ** 2, latex=True) == "A_{1,0}^{2}"
    assert T.to_text(A[1, 0] ** 2) == "A[1, 0]**2"


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        (0.1, sp.Rational(1, 10)),
        (3.0, sp.Integer(3)),
        (-2, sp.Integer(-2)),
        (True, sp.true),
        (float("inf"), sp.oo),
        (2.5e-3, sp.Rational(1, 400)),
    ],
)
def test_numbers_become_exact(value, exact):
    assert S._number(sp, value) == exact


def test_large_constants_are_refused_with_a_reason():
    with pytest.raises(S.SymbolicTooLarge, match="over the symbolic limit"):
        S.obj(np.zeros(S.MAX_CONSTANT_ELEMENTS + 1))


def test_sums_are_one_add_each():
    """sum/mean/norm build a single Add (numpy's pairwise + is quadratic)."""
    symbols, f, _ = derive("sum(x) + mean(x) + norm(x)", {"x": (3,)})
    x0, x1, x2 = symbols["x"]
    total = x0 + x1 + x2
    assert f == total + total / 3 + sp.sqrt(x0**2 + x1**2 + x2**2)
    _, f, _ = derive(
        "sum(A, dim=0)[1] + mean(A, dim=1, keepdim=True)[0, 0]", {"A": (2, 2)}
    )
    A = S.symbols_for("A", (2, 2))
    assert sp.simplify(f - (A[0, 1] + A[1, 1] + (A[0, 0] + A[0, 1]) / 2)) == 0


# --- the gradient: sp.diff for small arrays, one shared sweep for large --------------


def test_seed_closed_form_norm_of_squares():
    symbols, f, frozen = derive("norm(x**2)", {"x": (2,)})
    grad = T.tidy(S.gradient(f, symbols["x"], frozen))
    assert [str(g) for g in grad] == [
        "2*x[0]**3/sqrt(x[0]**4 + x[1]**4)",
        "2*x[1]**3/sqrt(x[0]**4 + x[1]**4)",
    ]
    np.testing.assert_allclose(
        at(grad, list(symbols["x"]), [1, 2]), [0.4851, 3.8806], atol=5e-5
    )


def test_shared_sweep_gives_the_same_closed_form_for_norm():
    x = S.symbols_for("x", (40,))
    symbols, f, _ = derive("norm(x**2)", {"x": (40,)})
    shared = S.shared_gradient(sp, f, list(symbols["x"]))
    assert shared == [sp.diff(f, s) for s in x]  # structurally, term for term


@pytest.mark.parametrize(
    "text",
    [
        "sum(sin(x) * cos(x)) + dot(x, x)",
        "norm(exp(tanh(x)))",
        "mean(x**x[0])",
        "sum(relu(x - 0.5))",
        "sum(abs(x)) + max(x) + min(x)",
        "sum(where(x > 0.2, x**2, -x))",
        "sum(clamp(x, -0.3, 0.4) * x)",
        "sum(maximum(x, 0.1) * minimum(x, x[0]))",
        "sum(detach(x * x) * x)",
        "log(1 + sum(x**2)) / sqrt(1 + x[1]**2)",
        "sum(pow(2, x)) + sum(x / (1 + x**2))",
    ],
)
def test_shared_sweep_agrees_with_diff(text):
    """The reverse sweep (used above SMALL_GRADIENT elements) against sp.diff."""
    symbols, f, frozen = derive(text, {"x": (5,)})
    x = list(symbols["x"])
    shared = S.shared_gradient(sp, f, x)
    direct = [sp.diff(f, s) for s in x]
    if frozen:
        shared = [g.xreplace(frozen) for g in shared]
        direct = [g.xreplace(frozen) for g in direct]
    rng = np.random.default_rng(1)
    low = 0.1 if "x**x" in text else -1.0  # a real power needs a positive base
    for _ in range(3):
        point = list(rng.uniform(low, 1, 5))
        want = at(direct, x, point)
        assert np.all(np.isfinite(want))  # nan == nan would compare nothing
        np.testing.assert_allclose(at(shared, x, point), want, rtol=1e-12, atol=1e-14)


def test_gradient_switches_to_the_shared_sweep_for_large_arrays(monkeypatch):
    calls = []
    real = S.shared_gradient
    monkeypatch.setattr(
        S, "shared_gradient", lambda *a: calls.append(len(a[2])) or real(*a)
    )
    for n in (S.SMALL_GRADIENT, S.SMALL_GRADIENT + 1):
        symbols, f, frozen = derive("sum(x**3)", {"x": (n,)})
        grad = S.gradient(f, symbols["x"], frozen)
        assert [str(g) for g in grad[:2]] == ["3*x[0]**2", "3*x[1]**2"]
    assert calls == [S.SMALL_GRADIENT + 1]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.sampled_from(["sin", "cos", "tanh", "exp", "sigmoid", "abs"]),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["sum", "mean", "norm"]),
    # Tiny nonzero values underflow inside norm's squares, where the two forms
    # disagree only in which non-finite number they give; zero itself stays in.
    st.lists(
        st.floats(-1.5, 1.5).filter(lambda v: v == 0 or abs(v) >= 1e-6),
        min_size=3,
        max_size=3,
    ),
)
def test_shared_sweep_on_compositions(chain, reduce, point):
    text = "x * x[0]"
    for fn in chain:
        text = f"{fn}({text}) + x[1]"
    text = f"{reduce}({text})"
    symbols, f, _ = derive(text, {"x": (3,)})
    x = list(symbols["x"])
    shared = at(S.shared_gradient(sp, f, x), x, point)
    direct = at([sp.diff(f, s) for s in x], x, point)
    np.testing.assert_allclose(shared, direct, rtol=1e-11, atol=1e-13)


# --- tidy: readable when small, never slow --------------------------------------------


def test_tidy_simplifies_small_forms():
    x = sp.Symbol("x", real=True)
    out = T.tidy(S.obj(np.array([sp.sin(x) ** 2 + sp.cos(x) ** 2], dtype=object)))
    assert out[0] == 1


def test_tidy_leaves_large_arrays_alone(monkeypatch):
    monkeypatch.setattr(sp, "simplify", lambda e: pytest.fail("simplify called"))
    monkeypatch.setattr(sp, "count_ops", lambda e: pytest.fail("count_ops called"))
    x = sp.Symbol("x", real=True)
    big = np.array([sp.sin(x) ** 2 + sp.cos(x) ** 2] * (S.SMALL_GRADIENT + 1))
    assert list(T.tidy(big.astype(object))) == list(big)


def test_tidy_gives_up_on_a_slow_simplify(monkeypatch):
    def slow(e):
        time.sleep(5)
        return sp.Integer(0)

    monkeypatch.setattr(sp, "simplify", slow)
    monkeypatch.setattr(T, "SIMPLIFY_SECONDS", 0.05)
    x = sp.Symbol("x", real=True)
    start = time.monotonic()
    out = T.tidy(np.array([x + 1, x + 2], dtype=object))
    assert time.monotonic() - start < 4
    assert list(out) == [x + 1, x + 2]


# --- lambdify ------------------------------------------------------------------------


def test_evaluator_handles_bracketed_and_clashing_names():
    x = S.symbols_for("x", (2,))
    clash = [sp.Symbol("_a1"), sp.Symbol("_t0"), sp.Symbol("x0")]
    args = [*x, *clash]
    common = sp.sqrt(x[0] ** 2 + x[1] ** 2)
    exprs = [
        x[0] / common,
        x[1] / common,
        clash[0] - clash[1] * clash[2],
        sp.Integer(7),
    ]
    fn = S.evaluator(args, exprs)
    got = [float(v) for v in fn(3.0, 4.0, 1.0, 2.0, 5.0)]
    np.testing.assert_allclose(got, [0.6, 0.8, -9.0, 7.0], rtol=1e-15)
    assert S.evaluator([], [])() == []


def test_evaluator_shares_subexpressions():
    x = S.symbols_for("x", (3,))
    common = sp.sqrt(sum(s**4 for s in x))
    fn = S.evaluator(list(x), [2 * s**3 / common for s in x])
    import inspect

    source = inspect.getsource(fn)
    assert source.count("sqrt") == 1


# --- replay (--func) -----------------------------------------------------------------


def test_replay_matches_the_interpreter():
    import diffcli as dc

    a = Tensor._wrap(np.array([0.5, -1.0])).requires_grad_()
    out = dc.sum(dc.sin(a) * a) + dc.norm(a)
    x = S.symbols_for("a", (2,))
    replayed = S.replay(out, {a: x})
    value, _ = S.evaluate_symbolic(P.parse("sum(sin(a) * a) + norm(a)"), {"a": x})
    assert sp.simplify(replayed[()] - value[()]) == 0


# --- symbolic-only answers -----------------------------------------------------------


def test_parameters_without_values_stay_symbolic():
    r = C.grad("a*x**2+b*x+c", at={"x": 0})
    assert str(r.closed_form["x"][()]) == "2*a*x + b"
    assert str(r.closed_form_at_point["x"][()]) == "b"
    assert r.gradient == {"x": None}
    assert r.check.status == "skipped"
    assert r.check.reason == "a, b, c have no value: the result is symbolic"


def test_parameters_with_values_give_numbers():
    r = C.grad("a*x**2+b*x+c", at={"x": 0}, let={"a": 1, "b": -2, "c": 1})
    assert float(r.gradient["x"]) == -2.0
    assert float(r.closed_form_at_point["x"]) == -2.0
    assert str(r.closed_form["x"][()]) == "2*x - 2"
    assert r.check.status == "ok"


def test_wrt_without_values_is_purely_symbolic():
    r = C.grad("x*y + sin(x)", wrt=["x", "y"])
    assert str(r.closed_form["x"][()]) == "y + cos(x)"
    assert str(r.closed_form["y"][()]) == "x"
    assert r.check.status == "skipped"
    r = C.grad("sum(v**2) * k", at={"v": [1, 2]}, wrt=["v"])
    assert [str(g) for g in r.closed_form["v"]] == ["2*k*v[0]", "2*k*v[1]"]
    assert [str(g) for g in r.closed_form_at_point["v"]] == ["2*k", "4*k"]
    assert r.check.reason == "k has no value: the result is symbolic"


def test_values_not_differentiated_are_held_constant():
    r = C.grad("x*y", at={"x": 1, "y": 2}, wrt=["x"])
    assert float(r.gradient["x"]) == 2.0
    assert list(r.gradient) == ["x"]
    assert r.check.status == "ok"
    assert r.check.symbolic_max_abs_err == 0.0


def test_fractions_of_float_values_are_shown_as_the_float_they_came_from():
    """A --let value made exact is 816367648554073/400000000000000: shown as
    0.816367648554073 (the same number); short fractions stay fractions."""
    sp = S.sympy()
    x = sp.Symbol("x")
    e = sp.Rational("0.816367648554073") * x + sp.Rational(3, 10) + sp.Rational(1, 3)
    assert T.to_text(e) == "0.816367648554073*x + 19/30"
    assert float(sp.sympify(T.to_text(e)).subs(x, 1)) == float(e.subs(x, 1))
