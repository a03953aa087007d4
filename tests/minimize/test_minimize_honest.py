"""minimize, issue 13: periodic families of stationary points, a gradient that
has vanished to rounding, Ctrl-C with the report so far, one-element values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from diffcli.minimize import descent
from diffcli.minimize.descent import STILL_STEPS, minimize
from diffcli.minimize.stationary import stationary_points
from diffcli.verify.question import prepare


def test_sin_ends_at_a_minimum_of_the_family():
    r = minimize("sin(x)", {"x": 1.0}, lr=0.1)
    assert float(r.point["x"]) == pytest.approx(-math.pi / 2, abs=1e-12)
    assert float(r.nearest_minimum.point["x"]) == pytest.approx(-math.pi / 2)
    assert r.distance_to_minimum < 1e-12
    assert r.nearest_minimum in r.stationary_points
    assert sorted(float(s.point["x"]) for s in r.stationary_points) == pytest.approx(
        [-math.pi / 2, math.pi / 2]
    )


def test_each_periodic_variable_moves_to_its_nearest_member():
    r = minimize("sin(x) + cos(y)", {"x": 1.0, "y": 7.0}, lr=0.1)
    best = r.nearest_minimum
    assert float(best.point["x"]) == pytest.approx(-math.pi / 2)
    assert float(best.point["y"]) == pytest.approx(3 * math.pi)
    assert r.distance_to_minimum < 1e-10 and best.value == pytest.approx(-2)


def test_periods_are_found_per_variable_and_none_when_not_periodic():
    found, _ = stationary_points(prepare("sin(x) + y**2", {"x": 1, "y": 1}), 5)
    assert found[0].period["x"] == pytest.approx(2 * math.pi)
    assert math.isnan(found[0].period["y"])
    found, _ = stationary_points(prepare("x**2 - 2*x", {"x": 0}), 5)
    assert found[0].period is None


def test_a_gradient_vanished_to_rounding_stops_the_run():
    r = minimize("sin(x)", {"x": 1.0}, lr=0.1, steps=1000, solve=False)
    assert r.converged and r.steps < 1000
    assert r.stop_reason.startswith(
        f"the gradient vanished to rounding: {STILL_STEPS} steps left the point "
        "unchanged (|grad| "
    )
    assert r.history[-1].step == r.steps
    assert r.grad_norm < 1e-14


def test_all_steps_runs_on():
    r = minimize(
        "sin(x)", {"x": 1.0}, lr=0.1, steps=1000, solve=False, stop_at_rounding=False
    )
    assert r.steps == 1000 and r.stop_reason == "reached 1000 steps"


def test_a_zero_learning_rate_is_not_a_vanished_gradient():
    r = minimize("x**2", {"x": 1.0}, lr=0.0, steps=50, solve=False)
    assert r.steps == 50 and not r.converged


def test_ctrl_c_ends_the_run_with_the_report_so_far():
    def progress(step: int) -> None:
        if step == 50:
            raise KeyboardInterrupt

    r = minimize("x**2", {"x": 1.0}, lr=0.01, steps=1000, every=10, progress=progress)
    assert r.interrupted and r.stop_reason == "interrupted at step 49"
    assert r.steps == 49 and float(r.point["x"]) == pytest.approx(0.98**49, rel=1e-14)
    assert [h.step for h in r.history] == [0, 10, 20, 30, 40, 49]
    assert r.stationary_points is None  # no solve after Ctrl-C


def test_ctrl_c_while_the_last_good_point_is_copied_reports_one_whole_point(
    monkeypatch,
):
    """The last good point is copied in place, one variable after the other;
    Ctrl-C between them must not report x from one step and y from another."""
    copies = []
    real = np.copyto

    def copyto(dst, src, **kw):
        copies.append(1)
        if len(copies) == 2 * 20 + 2:  # step 20: x copied, y not yet
            raise KeyboardInterrupt
        return real(dst, src, **kw)

    monkeypatch.setattr(descent.np, "copyto", copyto)
    r = minimize("x**2 + y**2", {"x": 1.0, "y": 2.0}, lr=0.01, steps=1000, solve=False)
    assert r.interrupted and r.stop_reason == "interrupted at step 20"
    assert float(r.point["x"]) == pytest.approx(0.98**20, rel=1e-14)
    assert float(r.point["y"]) == pytest.approx(2 * 0.98**20, rel=1e-14)


def test_one_element_values_of_any_shape():
    r = minimize("[x**2]", {"x": 1.0}, lr=0.1, steps=200, solve=False)
    assert abs(float(r.point["x"])) < 1e-12
    assert np.isfinite(r.value)
