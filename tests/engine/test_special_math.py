"""The scipy-free special functions against mpmath (SymPy's arbitrary
precision library) and their identities, poles and edges included."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from diffcli.engine import special_math as M

RNG = np.random.default_rng(0)
SPREAD = np.concatenate(
    [RNG.uniform(0.01, 5, 40), RNG.uniform(5, 1e4, 10), [1e-8, 0.5, 1.0, 1.4616]]
)
BETWEEN_POLES = -RNG.integers(0, 30, 40) - RNG.uniform(0.05, 0.95, 40)


def reference(fn, xs) -> np.ndarray:
    with mpmath.workdps(40):
        return np.array([float(fn(mpmath.mpf(float(x)))) for x in xs])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_polygamma_matches_mpmath(n):
    for xs, rtol in [(SPREAD, 1e-13), (BETWEEN_POLES, 1e-11)]:
        # near a zero of digamma only absolute accuracy is meaningful
        expected = reference(lambda v: mpmath.psi(n, v), xs)
        np.testing.assert_allclose(M.polygamma(xs, n), expected, rtol=rtol, atol=1e-14)


def test_polygamma_identities():
    x = RNG.uniform(-20, 20, 200)
    x = x[np.abs(x - np.round(x)) > 0.01]
    np.testing.assert_allclose(M.digamma(x + 1), M.digamma(x) + 1 / x, atol=1e-11)
    reflected = M.digamma(1 - x) - M.digamma(x)
    np.testing.assert_allclose(reflected, np.pi / np.tan(np.pi * x), atol=1e-9)
    assert M.digamma(np.array(1.0)) == pytest.approx(-np.euler_gamma, rel=1e-15)
    assert M.polygamma(np.array(1.0), 1) == pytest.approx(np.pi**2 / 6, rel=1e-15)


def test_gamma_family_poles_and_edges_follow_pytorch():
    x = np.array([0.0, -1.0, -2.0, np.inf, np.nan])
    np.testing.assert_array_equal(
        M.digamma(x), [-np.inf, np.nan, np.nan, np.inf, np.nan]
    )
    np.testing.assert_array_equal(M.polygamma(x[:4], 1), [np.inf] * 3 + [0.0])
    np.testing.assert_array_equal(M.polygamma(x[:3], 2), [-np.inf] * 3)
    np.testing.assert_array_equal(M.lgamma(np.array([0.0, -3.0, 1e308])), [np.inf] * 3)


def test_lgamma_matches_mpmath():
    xs = np.concatenate([SPREAD, BETWEEN_POLES])
    expected = reference(lambda v: mpmath.log(abs(mpmath.gamma(v))), xs)
    np.testing.assert_allclose(M.lgamma(xs), expected, rtol=1e-13, atol=1e-15)


def test_erfinv_matches_mpmath_to_the_tails():
    y = np.concatenate(
        [
            RNG.uniform(-1, 1, 50),
            1 - 10.0 ** -RNG.uniform(1, 15.9, 30),
            [1 - 2**-53, -1 + 2**-53, 1e-300, 0.5],
        ]
    )
    expected = reference(mpmath.erfinv, y)
    np.testing.assert_allclose(M.erfinv(y), expected, rtol=2e-15)
    edges = M.erfinv(np.array([1.0, -1.0, 1.5, np.nan, 0.0]))
    np.testing.assert_array_equal(edges, [np.inf, -np.inf, np.nan, np.nan, 0.0])


def test_erf_keeps_the_dtype_and_shape():
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    assert M.erf(x).dtype == np.float32 and M.erf(x).shape == (1, 2)
    assert M.erfc(np.zeros((0, 3))).shape == (0, 3)
    assert M.erfc(np.array(20.0)) == math.erfc(20.0) > 0  # no 1 - erf(20) = 0
