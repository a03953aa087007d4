"""Central finite differences (engine/finite_differences.py), shared by
gradcheck and the verify witness."""

from __future__ import annotations

import math

import numpy as np
import pytest

import diffcli as dc
from diffcli.engine import finite_differences as FD
from diffcli.engine.gradcheck import numerical_jacobian


def test_first_derivatives_of_known_functions():
    x = np.array([0.3, 2.0])
    d = FD.differences(lambda: np.sin(x[0]) * np.exp(x[1]), [x])
    want = [math.cos(0.3) * math.exp(2.0), math.sin(0.3) * math.exp(2.0)]
    np.testing.assert_allclose(d.central, want, rtol=1e-9)
    assert x.tolist() == [0.3, 2.0]  # put back exactly
    assert d.value == pytest.approx(math.sin(0.3) * math.exp(2.0), rel=1e-15)


def test_second_derivatives_by_differencing_a_derivative():
    """Order 2 as the witness does it: the differences of a gradient."""
    x = np.array([0.5, -1.5])
    gradient = lambda: np.array([3 * x[0] ** 2 * x[1], x[0] ** 3 + 2 * x[1]])
    hessian = FD.differences(gradient, [x]).central  # row k: d gradient / d x[k]
    np.testing.assert_allclose(hessian, [[6 * 0.5 * -1.5, 0.75], [0.75, 2.0]])


def test_second_derivative_by_nested_differences():
    x = np.array([1.0])
    inner = lambda: FD.differences(lambda: np.cos(x[0]), [x], eps=1e-4).central[0]
    d2 = FD.differences(inner, [x], eps=1e-4).central[0]
    assert d2 == pytest.approx(-math.cos(1.0), rel=1e-6)
    assert x[0] == 1.0


def test_step_scales_with_the_value_unless_told_not_to():
    assert FD.step(0.25) == 1e-6 and FD.step(-4000.0) == pytest.approx(4e-3)
    assert FD.step(-4000.0, eps=1e-3, scaled=False) == 1e-3
    x = np.array([3.0e6])
    d = FD.differences(lambda: x[0] ** 2, [x])
    assert d.central[0] == pytest.approx(6.0e6, rel=1e-9)
    assert d.noise[0] == pytest.approx(FD.ROUNDING * (3.0e6 + 3.0) ** 2 / 3.0, rel=1e-9)


def test_one_sided_slopes_see_a_kink():
    x = np.array([0.0])
    d = FD.differences(lambda: abs(x[0]), [x])
    assert (d.left[0], d.central[0], d.right[0]) == (-1.0, 0.0, 1.0)


def test_several_arrays_non_contiguous_and_vector_valued():
    a = np.arange(6.0).reshape(2, 3)[:, ::2]  # a view: moved through .flat
    b = np.array(2.0)
    d = FD.differences(lambda: np.array([a.sum() * b, b**2]), [a, b])
    assert d.central.shape == (5, 2)
    np.testing.assert_allclose(d.central[:4], [[2.0, 0.0]] * 4, atol=1e-8)
    np.testing.assert_allclose(d.central[4], [a.sum(), 4.0], rtol=1e-8)
    assert a.tolist() == [[0.0, 2.0], [3.0, 5.0]]


def test_gradcheck_jacobian_is_these_differences_with_a_fixed_step():
    x = dc.tensor([0.2, 3.0], requires_grad=True)
    y = dc.tensor(1.5, requires_grad=True)
    jx, jy = numerical_jacobian(lambda x, y: (x * y).sin(), [x, y], eps=1e-3)
    a, b = x.detach().numpy().copy(), np.array(1.5)
    d = FD.differences(lambda: np.sin(a * b), [a, b], eps=1e-3, scaled=False)
    assert jx.shape == (2, 2) and jy.shape == (2, 1)
    np.testing.assert_array_equal(jx, d.central[:2].T)
    np.testing.assert_array_equal(jy, d.central[2:].T)
    np.testing.assert_allclose(np.diag(jx), np.cos([0.3, 4.5]) * 1.5, rtol=1e-6)
