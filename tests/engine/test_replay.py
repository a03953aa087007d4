"""Trace: a graph recorded once and replayed on numpy must give exactly what a
fresh evaluation and backward with the engine give, at any new point."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffcli as dc
from diffcli.engine.replay import Trace
from diffcli.engine.tensor import Tensor
from diffcli.verify.question import prepare

SHAPES = {"x": (), "y": (), "v": (3,), "w": (3,), "M": (2, 3)}
LET = {"c": 0.75, "k": [0.5, -1.5, 2.0]}  # a scalar and a vector constant


def engine(text: str, point: dict, order: list[str], let: dict = LET):
    """Value and gradients (in ``order``) by a fresh evaluation and backward."""
    problem = prepare(text, point, let)
    leaves = {n: dc.tensor(problem.point[n], requires_grad=True) for n in order}
    names = {**{n: Tensor._wrap(v) for n, v in problem.constants.items()}, **leaves}
    with np.errstate(all="ignore"):
        out = problem.evaluate(names)
        if out.requires_grad:
            out.backward(dc.ones_like(out) if out.ndim else None)
    grads = [
        np.zeros_like(problem.point[n]) if t.grad is None else t.grad.numpy()
        for n, t in leaves.items()
    ]
    return out.detach().numpy(), grads


def traced(text: str, point: dict, let: dict = LET) -> Trace:
    problem = prepare(text, point, let)
    leaves = [Tensor._wrap(problem.point[n].copy()).requires_grad_() for n in point]
    names = {
        **{n: Tensor._wrap(v) for n, v in problem.constants.items()},
        **dict(zip(point, leaves, strict=True)),
    }
    with np.errstate(all="ignore"):
        trace = Trace(problem.evaluate(names), leaves)
    trace.names = list(point)  # the leaves' order, for replay()
    return trace


def replay(trace: Trace, point: dict):
    """Run the trace at ``point``, whatever order its names come in."""
    values = [np.asarray(point[n], dtype=float) for n in trace.names]
    with np.errstate(all="ignore"):
        value, grads = trace.run(values)
    return np.asarray(value), grads


# Replay and a fresh backward may add a gradient's contributions in another
# order: a result that cancels (x - 1 + 1) then differs by rounding of the
# terms, about 1e-16 of their size, however small the result.  A wrong replay
# is off by the size of a term.
ROUNDING = 1e-13


def assert_same(got, want) -> None:
    (gv, gg), (wv, wg) = got, want
    np.testing.assert_allclose(gv, wv, rtol=1e-12, atol=ROUNDING, equal_nan=True)
    assert len(gg) == len(wg)
    for g, w in zip(gg, wg, strict=True):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=ROUNDING, equal_nan=True)


def test_cancelling_contributions_agree_to_rounding():
    """Found by the property below: the gradient of sum(M @ v) - sum(M) +
    sum(M) at a tiny v cancels 1 - 1; replay and backward differ in its last
    bits, not in its value."""
    zero = {"x": 0.0, "y": 0.0, "v": np.zeros(3), "w": np.zeros(3)}
    first = {**zero, "M": np.zeros((2, 3))}
    second = {**first, "v": np.array([0.0, 0.0, 1.22196132100838e-12])}
    text = "((sum(M @ (v))) - (sum(M))) + (sum(M))"
    trace = traced(text, first)
    value, grads = replay(trace, second)
    np.testing.assert_allclose(grads[-1][:, 2], 1.22196132100838e-12, rtol=1e-3)
    assert_same((value, grads), engine(text, second, trace.names))


# --- random expressions --------------------------------------------------------

SCALAR_LEAVES = ["x", "y", "c", "2", "0.5", "pi"]
VECTOR_LEAVES = ["v", "w", "k", "[1, -2, 0.5]"]  # k and the literal broadcast
MATRIX_LEAVES = ["M", "[[1, 0, 2], [-1, 3, 0.5]]"]
UNARY = [
    "sin({})",
    "cos({})",
    "tanh({})",
    "sigmoid({})",
    "exp(tanh({}))",
    "log(1 + ({0})*({0}))",
    "sqrt(({0})*({0}) + 1)",
    "abs({})",
    "relu({})",
    "pow({}, 2)",
    "({})**3",
    "-({})",
]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1 + ({})**2)"]


def _broadcast(a: tuple, b: tuple) -> tuple:
    return max(a, b, key=len)  # (), (3,) and (2, 3) always broadcast


@st.composite
def expressions(draw, depth: int = 3):
    """(text, shape) of a random expression over the leaves above."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(["s", "s", "v", "m"]))
        pool = {"s": SCALAR_LEAVES, "v": VECTOR_LEAVES, "m": MATRIX_LEAVES}[kind]
        shape = {"s": (), "v": (3,), "m": (2, 3)}[kind]
        return draw(st.sampled_from(pool)), shape
    form = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "matmul"]))
    a, sa = draw(expressions(depth - 1))
    if form == "unary":
        return draw(st.sampled_from(UNARY)).format(a), sa
    if form == "binary":
        b, sb = draw(expressions(depth - 1))
        return draw(st.sampled_from(BINARY)).format(a, b), _broadcast(sa, sb)
    if form == "reduce":
        if sa and draw(st.booleans()):  # (2, 3) -> (3,) and (3,) -> ()
            return f"sum({a}, dim=0)", sa[1:]
        return f"{draw(st.sampled_from(['sum', 'mean', 'max']))}({a})", ()
    # matmul with a matrix leaf: (2, 3) @ (3,) -> (2,), then summed
    if sa == (3,):
        return f"sum(M @ ({a}))", ()
    return f"dot(v, w) * ({a})", sa


arrays = {
    shape: st.lists(
        st.floats(-2, 2, allow_nan=False),
        min_size=int(np.prod(shape)),
        max_size=int(np.prod(shape)),
    ).map(lambda xs, shape=shape: np.array(xs, dtype=float).reshape(shape))
    for shape in set(SHAPES.values())
}
points = st.fixed_dictionaries({n: arrays[s] for n, s in SHAPES.items()})


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(expr=expressions(), first=points, second=points, scalar=st.booleans())
def test_replay_equals_fresh_engine(expr, first, second, scalar):
    text, shape = expr
    if scalar and shape:
        text = f"sum({text})"
    trace = traced(text, first)
    # at the point it was recorded, and at a new one
    assert_same(replay(trace, first), engine(text, first, trace.names))
    assert_same(replay(trace, second), engine(text, second, trace.names))


# --- fixed cases -------------------------------------------------------------------


def test_seed_function_value_and_gradient():
    point = {"x": 0.0}
    let = {"a": 1.0, "b": -2.0, "c": 1.0}
    trace = traced("a*x**2 + b*x + c", point, let)
    for x in (0.0, 1.0, -3.5, 1e8):
        value, (gx,) = trace.run([np.array(x)])
        assert float(value) == x * x - 2 * x + 1
        assert float(gx) == 2 * x - 2


def test_broadcast_constant_reduces_gradient_to_leaf_shape():
    # scalar leaf against a (2, 3) constant: the gradient sums back to ()
    trace = traced("sum(x * [[1, 2, 3], [4, 5, 6]] + v)", {"x": 0.0, "v": [0, 0, 0]})
    value, (gx, gv) = trace.run([np.array(2.0), np.array([1.0, 2.0, 3.0])])
    assert float(value) == 2.0 * 21 + 2 * 6
    assert np.shape(gx) == () and float(gx) == 21.0
    np.testing.assert_array_equal(gv, [2.0, 2.0, 2.0])


def test_vector_output_is_seeded_with_ones():
    point = {"v": [1.0, 2.0, 3.0]}
    trace = traced("v * v * k", point)
    new = {"v": [-1.0, 0.5, 4.0]}
    value, grads = replay(trace, new)
    np.testing.assert_array_equal(value, np.square(new["v"]) * LET["k"])
    assert_same((value, grads), engine("v * v * k", new, ["v"]))


def test_leaf_not_used_gets_zero_gradient_of_its_shape():
    trace = traced("x * 3", {"x": 1.0, "v": [1.0, 2.0, 3.0]})
    value, (gx, gv) = trace.run([np.array(2.0), np.array([1.0, 2.0, 3.0])])
    assert float(value) == 6.0 and float(gx) == 3.0
    np.testing.assert_array_equal(gv, np.zeros(3))


def test_constant_output_has_zero_gradients():
    trace = traced("2 + c", {"x": 1.0})
    value, (gx,) = trace.run([np.array(5.0)])
    assert float(value) == 2.75 and float(gx) == 0.0


def test_a_node_used_twice_accumulates():
    trace = traced("sin(x) * sin(x) + sin(x)", {"x": 0.0})
    value, (gx,) = trace.run([np.array(0.3)])
    assert float(value) == pytest.approx(np.sin(0.3) ** 2 + np.sin(0.3), rel=1e-15)
    assert float(gx) == pytest.approx(np.cos(0.3) * (2 * np.sin(0.3) + 1), rel=1e-15)
