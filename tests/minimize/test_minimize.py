"""minimize: gradient descent on an expression, checked against hand-computed
updates, PyTorch's optimizers, numpy's least squares and SymPy's stationary
points."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.errors import ExprError
from diffcli.minimize.descent import OPTIMIZERS, minimize
from diffcli.minimize.stationary import stationary_points
from diffcli.verify.question import prepare

SEED = "a*x**2 + b*x + c"
ABC = {"a": 1.0, "b": -2.0, "c": 1.0}


# --- seed 001: f(x) = a x^2 + b x + c ----------------------------------------------


@pytest.fixture(scope="module")
def seed_result():
    return minimize(SEED, {"x": 0.0}, ABC, optimizer="sgd", lr=0.01, steps=500)


def test_seed_reaches_one(seed_result):
    r = seed_result
    x = float(r.point["x"])
    # x_{n+1} = x_n - 0.01 (2 x_n - 2) = 0.98 x_n + 0.02, so x_500 = 1 - 0.98**500
    assert x == pytest.approx(1 - 0.98**500, rel=1e-15)
    assert f"{x:.4f}" == "1.0000"
    hand = 0.0
    for _ in range(500):
        hand = hand - 0.01 * (1.0 * (2 * hand) + -2.0)
    assert x == hand  # the same float operations as a loop written by hand
    assert r.value == pytest.approx((x - 1) ** 2, abs=1e-15)
    assert r.value < 2e-9
    assert r.steps == 500 and not r.converged and r.diverged_at is None
    assert r.stop_reason == "reached 500 steps"
    assert r.grad_norm == pytest.approx(2 * 0.98**500, rel=1e-9)


def test_seed_stationary_point_is_the_minimum(seed_result):
    r = seed_result
    assert r.symbolic_reason is None
    assert len(r.stationary_points) == 1
    (s,) = r.stationary_points
    assert s.kind == "minimum" and float(s.point["x"]) == 1.0 and s.value == 0.0
    assert r.nearest_minimum is s
    assert r.distance_to_minimum == pytest.approx(0.98**500, rel=1e-9)
    assert f"{r.distance_to_minimum:.1e}" == "4.1e-05"


def test_seed_history_every_tenth_by_default(seed_result):
    rows = seed_result.history
    assert [h.step for h in rows] == list(range(0, 501, 50))
    assert rows[0].value == 1.0 and rows[0].grad_norm == 2.0
    values = [h.value for h in rows]
    assert values == sorted(values, reverse=True)


# --- optimizers against their textbook updates ------------------------------------

T = np.array([1.0, -2.0, 0.5])
S = np.array([1.0, 3.0, 0.5])
QUAD = "sum(s * (x - t)**2)"
QUAD_LET = {"s": S.tolist(), "t": T.tolist()}
X0 = np.array([0.5, 1.0, -1.0])


def quad_grad(x):
    return 2 * S * (x - T)


def textbook(name, steps, lr, momentum=0.9, betas=(0.9, 0.999), wd=0.0, eps=1e-8):
    """The updates as written in the papers, in plain numpy."""
    x, buf, m, v = X0.copy(), None, np.zeros(3), np.zeros(3)
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = quad_grad(x) + wd * x
        if name == "sgd":
            x = x - lr * g
        elif name in ("momentum", "nesterov"):
            buf = g.copy() if buf is None else momentum * buf + g
            x = x - lr * (g + momentum * buf if name == "nesterov" else buf)
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
    return x


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_optimizer_matches_textbook(name, wd):
    lr = 0.05
    for steps in (1, 2, 5):
        r = minimize(
            QUAD,
            {"x": X0.tolist()},
            QUAD_LET,
            optimizer=name,
            lr=lr,
            momentum=0.8,
            betas=(0.8, 0.99),
            weight_decay=wd,
            steps=steps,
            solve=False,
        )
        want = textbook(name, steps, lr, momentum=0.8, betas=(0.8, 0.99), wd=wd)
        np.testing.assert_allclose(r.point["x"], want, rtol=1e-13, atol=1e-15)
        assert r.steps == steps


def test_first_steps_by_hand_sgd_and_momentum():
    # f = x^2 from x = 1, lr 0.1: sgd 1 -> 0.8 -> 0.64; momentum 0.9:
    # b1 = 2, x1 = 0.8; g = 1.6, b2 = 0.9*2 + 1.6 = 3.4, x2 = 0.8 - 0.34 = 0.46
    sgd = minimize("x**2", {"x": 1.0}, lr=0.1, steps=2, solve=False)
    assert float(sgd.point["x"]) == pytest.approx(0.64, abs=1e-15)
    mom = minimize(
        "x**2", {"x": 1.0}, optimizer="momentum", lr=0.1, steps=2, solve=False
    )
    assert float(mom.point["x"]) == pytest.approx(0.46, abs=1e-15)
    # Adam's first step moves every coordinate by lr (up to eps), whatever |g|
    adam = minimize(
        "sum(s * (x - t)**2)",
        {"x": X0.tolist()},
        QUAD_LET,
        optimizer="adam",
        lr=0.01,
        steps=1,
        solve=False,
    )
    np.testing.assert_allclose(
        adam.point["x"], X0 - 0.01 * np.sign(quad_grad(X0)), rtol=1e-7
    )


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_torch(name):
    torch = pytest.importorskip("torch")
    lr, steps = 0.05, 20
    x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    s, t = torch.tensor(S), torch.tensor(T)
    if name == "adam":
        opt = torch.optim.Adam([x], lr=lr, betas=(0.9, 0.999), weight_decay=0.01)
    else:
        opt = torch.optim.SGD(
            [x],
            lr=lr,
            momentum=0.0 if name == "sgd" else 0.9,
            nesterov=name == "nesterov",
            weight_decay=0.01,
        )
    for _ in range(steps):
        opt.zero_grad()
        (s * (x - t) ** 2).sum().backward()
        opt.step()
    r = minimize(
        QUAD,
        {"x": X0.tolist()},
        QUAD_LET,
        optimizer=name,
        lr=lr,
        weight_decay=0.01,
        steps=steps,
        solve=False,
    )
    np.testing.assert_allclose(r.point["x"], x.detach().numpy(), rtol=1e-12)


def test_unknown_optimizer():
    with pytest.raises(ExprError, match="unknown optimizer 'rmsprop'"):
        minimize("x**2", {"x": 1.0}, optimizer="rmsprop", steps=1, solve=False)


# --- vector and matrix variables ------------------------------------------------


def test_least_squares_reaches_lstsq():
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(6, 3)), rng.normal(size=6)
    r = minimize(
        "sum((A @ w - b)**2)",
        {"w": [0.0, 0.0, 0.0]},
        {"A": A.tolist(), "b": b.tolist()},
        lr=0.02,
        steps=5000,
        tol=1e-10,
    )
    want, residual, *_ = np.linalg.lstsq(A, b, rcond=None)
    np.testing.assert_allclose(r.point["w"], want, atol=1e-9)
    assert r.value == pytest.approx(float(residual[0]), rel=1e-12)
    assert r.converged
    (s,) = r.stationary_points  # a strictly convex quadratic: one minimum
    assert s.kind == "minimum"
    np.testing.assert_allclose(s.point["w"], want, atol=1e-9)
    assert r.distance_to_minimum < 1e-9


def test_matrix_variable():
    v, t = np.array([1.0, 2.0, -1.0]), np.array([3.0, -1.0])
    r = minimize(
        "sum((W @ v - t)**2)",
        {"W": np.zeros((2, 3))},
        {"v": v.tolist(), "t": t.tolist()},
        lr=0.05,
        steps=1000,
        tol=1e-9,
        solve=False,
    )
    W = r.point["W"]
    assert W.shape == (2, 3) and r.converged
    np.testing.assert_allclose(W @ v, t, atol=1e-9)
    # from zero, descent stays in the row space: the minimum-norm solution
    np.testing.assert_allclose(W, np.outer(t, v) / (v @ v), atol=1e-9)


# --- stopping: tolerance, history, divergence -----------------------------------------


def test_tol_stops_early():
    r = minimize("x**2", {"x": 1.0}, lr=0.1, steps=1000, tol=1e-6, solve=False)
    # |g_n| = 2 * 0.8**n < 1e-6 first at n = 66
    assert r.converged and r.steps == 66
    assert r.stop_reason.startswith("gradient norm ") and "< 1e-06" in r.stop_reason
    assert r.grad_norm == pytest.approx(2 * 0.8**66, rel=1e-12) and r.grad_norm < 1e-6
    assert r.history[-1].step == 66  # the last row is where it stopped
    assert float(r.point["x"]) == pytest.approx(0.8**66, rel=1e-12)


def test_tol_already_met_at_the_start():
    r = minimize("x**2", {"x": 0.0}, lr=0.1, steps=10, tol=1e-6, solve=False)
    assert r.converged and r.steps == 0 and [h.step for h in r.history] == [0]


def test_history_every_k_steps():
    r = minimize("x**2", {"x": 1.0}, lr=0.1, steps=100, every=25, solve=False)
    assert [h.step for h in r.history] == [0, 25, 50, 75, 100]
    for h in r.history:
        assert h.value == pytest.approx(0.64**h.step, rel=1e-12)
        assert h.grad_norm == pytest.approx(2 * 0.8**h.step, rel=1e-12)
    odd = minimize("x**2", {"x": 1.0}, lr=0.1, steps=10, every=4, solve=False)
    assert [h.step for h in odd.history] == [0, 4, 8, 10]  # and the last step


def test_divergence_stops_with_the_last_finite_point():
    # x -> x - 1.5 * 2x = -2x: |x_n| = 2**n and f = 4**n passes 1e150 at n = 250
    r = minimize("x**2", {"x": 1.0}, lr=1.5, steps=1000, solve=False)
    assert r.diverged_at == 250 and r.steps == 250 and not r.converged
    assert r.stop_reason.startswith("diverged at step 250")
    assert "value" in r.stop_reason
    assert float(r.point["x"]) == (-2.0) ** 249
    assert np.isfinite(r.value) and r.value == 4.0**249
    assert np.isfinite(r.grad_norm)
    assert r.history[-1].step == 250 and r.history[-1].value == 4.0**250


def test_divergence_to_nan_reports_the_point_before():
    # x = 1, g = 2x - 1/x = 1, lr 2: x = -1 where log is nan
    r = minimize("x**2 - log(x)", {"x": 1.0}, lr=2.0, steps=10, solve=False)
    assert r.diverged_at == 1
    assert r.stop_reason == "diverged at step 1: the value became nan"
    assert float(r.point["x"]) == 1.0 and r.value == 1.0


def test_infinite_gradient_at_the_start_is_named():
    r = minimize("sqrt(x)", {"x": 0.0}, steps=5, solve=False)
    assert r.diverged_at == 0 and r.steps == 0
    assert r.stop_reason == "diverged at step 0: the gradient became inf"
    assert float(r.point["x"]) == 0.0 and r.value == 0.0


def test_zero_steps_evaluates_the_start():
    r = minimize("x**2", {"x": 3.0}, steps=0, solve=False)
    assert r.steps == 0 and r.value == 9.0 and r.grad_norm == 6.0
    assert float(r.point["x"]) == 3.0


def test_progress_callback_counts_steps():
    seen = []
    minimize("x**2", {"x": 1.0}, steps=5, solve=False, progress=seen.append)
    assert seen == [1, 2, 3, 4, 5]


def test_start_point_is_not_modified():
    start = np.array([1.0, 2.0])
    minimize("sum(x**2)", {"x": start}, lr=0.1, steps=5, solve=False)
    np.testing.assert_array_equal(start, [1.0, 2.0])


# --- errors ------------------------------------------------------------------------


def test_non_scalar_expression_is_an_error():
    with pytest.raises(ExprError, match=r"scalar expression.*shape \(2,\)"):
        minimize("x**2", {"x": [1.0, 2.0]}, steps=3)


def test_free_name_without_value_is_an_error():
    with pytest.raises(ExprError, match="y has no value"):
        minimize("x*y", {"x": 1.0}, steps=3)
    with pytest.raises(ExprError, match="a, b, c have no value"):
        minimize(SEED, {"x": 1.0}, steps=3)


def test_negative_steps_is_an_error():
    with pytest.raises(ExprError, match="steps must be >= 0"):
        minimize("x**2", {"x": 1.0}, steps=-1)


# --- stationary points -------------------------------------------------------------


def test_stationary_points_saddle_and_minimum():
    r = minimize("x**3 - 3*x + y**2", {"x": 2.0, "y": 1.0}, lr=0.05, steps=500)
    kinds = {
        (float(s.point["x"]), float(s.point["y"])): (s.kind, s.value)
        for s in r.stationary_points
    }
    assert kinds == {(-1.0, 0.0): ("saddle", 2.0), (1.0, 0.0): ("minimum", -2.0)}
    assert float(r.nearest_minimum.point["x"]) == 1.0
    assert r.distance_to_minimum < 1e-12
    assert float(r.point["x"]) == pytest.approx(1.0, abs=1e-12)


def test_stationary_maximum_and_degenerate():
    found, reason = stationary_points(prepare("-(x**2) - y**2", {"x": 0, "y": 0}), 5)
    assert reason is None and [s.kind for s in found] == ["maximum"]
    found, reason = stationary_points(prepare("x**4", {"x": 1.0}), 5)
    assert reason is None and [s.kind for s in found] == ["degenerate"]


def test_no_symbolic_solution_gives_a_reason():
    r = minimize("x**2 + sin(x)", {"x": 1.0}, steps=10, solve_timeout=0.3)
    assert r.stationary_points is None
    assert r.symbolic_reason == "SymPy did not solve grad f = 0 within 0.3 s"
    assert r.nearest_minimum is None and r.distance_to_minimum is None
    assert r.steps == 10  # the descent itself is still reported


def test_over_the_unknowns_limit_gives_a_reason():
    r = minimize("sum((w - 1)**2)", {"w": np.zeros(9)}, lr=0.1, steps=10)
    assert r.stationary_points is None
    assert r.symbolic_reason == "9 unknowns is over the symbolic solve limit of 8"


def test_detach_gives_a_reason():
    r = minimize("detach(x)*x", {"x": 1.0}, lr=0.1, steps=3)
    assert r.stationary_points is None and "detach()" in r.symbolic_reason


def test_continuum_of_minima_has_no_isolated_point():
    r = minimize("(x + y)**2", {"x": 1.0, "y": 0.0}, lr=0.1, steps=50)
    assert r.stationary_points == [] and r.nearest_minimum is None
