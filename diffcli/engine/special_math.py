"""Special functions in numpy without SciPy: erf, erfc, erfinv, lgamma,
digamma and polygamma, with PyTorch's values at poles and domain edges.

numpy has no erf or gamma family; ``math`` has erf, erfc and lgamma for one
number, mapped here over arrays.  erfinv refines a polynomial first guess by
Halley steps on erf (erfc in the tails, where 1 - |y| keeps its digits), and
the polygamma functions shift their argument up to where the asymptotic
series is exact to rounding, reflecting it first when it is below 1/2.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _float_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def _mapped(fn: Callable[[float], float]) -> Callable[[object], np.ndarray]:
    """``fn`` of one float over an array, keeping a float dtype (float32 stays)."""
    vec = np.vectorize(fn, otypes=[np.float64])

    def forward(x: object) -> np.ndarray:
        x = np.asarray(x)
        with np.errstate(over="ignore"):  # an inf result is the answer (lgamma)
            return vec(x).astype(_float_dtype(x), copy=False)

    forward.__name__ = fn.__name__
    return forward


def _lgamma(v: float) -> float:
    """log |gamma(v)|: inf at the poles (0, -1, -2, ...) as PyTorch."""
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):
        return math.inf


def _gamma(v: float) -> float:
    try:
        return math.gamma(v)
    except ValueError:  # a pole
        return math.nan
    except OverflowError:
        return math.inf


erf = _mapped(math.erf)
erfc = _mapped(math.erfc)
lgamma = _mapped(_lgamma)
gamma = _mapped(_gamma)


# --- erfinv -----------------------------------------------------------------------
# M. Giles, "Approximating the erfinv function" (2010): about 7 digits, which
# two Halley steps (cubic convergence) take to rounding.
_CENTRAL = (
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
)
_TAIL = (
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
)


def _horner(coefficients: tuple[float, ...], w: np.ndarray) -> np.ndarray:
    p = np.full_like(w, coefficients[0])
    for c in coefficients[1:]:
        p = p * w + c
    return p


def erfinv(y: object) -> np.ndarray:
    """The inverse of erf on (-1, 1); +-inf at +-1 and nan outside, as PyTorch."""
    y = np.asarray(y)
    dtype = _float_dtype(y)
    y = y.astype(np.float64)
    a = np.abs(y)
    inside = a < 1
    a_in = np.where(inside, a, 0.5)
    w = -np.log((1.0 - a_in) * (1.0 + a_in))
    central = w < 5.0
    x = (
        np.where(
            central,
            _horner(_CENTRAL, w - 2.5),
            _horner(_TAIL, np.sqrt(np.maximum(w, 5.0)) - 3.0),
        )
        * a_in
    )
    tail = a_in > 0.5
    for _ in range(2):  # Halley on erf(x) = a
        f = erf(x) - a_in
        x = np.where(tail, x, x - f / (_TWO_OVER_SQRT_PI * np.exp(-x * x) + x * f))
    for _ in range(4):  # Newton on log erfc(x) = log(1 - a): nearly quadratic
        e = erfc(x)
        step = (np.log(e) - np.log1p(-a_in)) * e / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(tail, x + step, x)
    edge = np.where(a == 1, np.inf, np.nan)
    out = np.where(inside, x, edge) * np.where(y < 0, -1.0, 1.0)
    return out.astype(dtype, copy=False)


# --- digamma and polygamma --------------------------------------------------------
# Bernoulli numbers B_2, B_4, ..., B_16 for the asymptotic series.
_BERNOULLI = (
    1 / 6,
    -1 / 30,
    1 / 42,
    -1 / 30,
    5 / 66,
    -691 / 2730,
    7 / 6,
    -3617 / 510,
)


def _asymptotic(n: int, z: np.ndarray) -> np.ndarray:
    """polygamma(n, z) for large z (z >= 20 + n: exact to rounding)."""
    if n == 0:
        total = np.log(z) - 0.5 / z
        for k, b in enumerate(_BERNOULLI, start=1):
            total = total - b / (2 * k * z ** (2 * k))
        return total
    total = math.factorial(n - 1) / z**n + math.factorial(n) / (2 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        scale = math.factorial(2 * k + n - 1) / math.factorial(2 * k)
        total = total + b * scale / z ** (2 * k + n)
    return (-1) ** (n + 1) * total


def _shifted(n: int, z: np.ndarray) -> np.ndarray:
    """polygamma(n, z) for z >= 1/2: up by the recurrence, then the series."""
    threshold = 20 + n
    acc = np.zeros_like(z)
    sign = (-1) ** (n + 1) * math.factorial(n)
    for _ in range(threshold):
        low = z < threshold
        if not low.any():
            break
        acc = acc + np.where(low, sign / np.where(low, z, 1.0) ** (n + 1), 0.0)
        z = np.where(low, z + 1.0, z)
    return acc + _asymptotic(n, z)


def _cot_derivative(n: int, c: np.ndarray) -> np.ndarray:
    """The n-th derivative of cot at u, given c = cot(u): a polynomial in c,
    d/du P(cot u) = -P'(c) (1 + c**2)."""
    p = [0.0, 1.0]  # coefficients, lowest power first
    for _ in range(n):
        d = [k * p[k] for k in range(1, len(p))]
        p = [0.0] * (len(d) + 2)
        for i, coefficient in enumerate(d):
            p[i] -= coefficient
            p[i + 2] -= coefficient
    return _horner(tuple(reversed(p)), c)


def polygamma(x: object, n: int = 0) -> np.ndarray:
    """The n-th derivative of digamma (n = 0: digamma itself).

    Poles at 0, -1, -2, ...: digamma is -inf at 0 and nan at the negative
    integers (PyTorch's values); polygamma(n >= 1) is (-1)**(n+1) * inf there.
    """
    x = np.asarray(x)
    dtype = _float_dtype(x)
    x = x.astype(np.float64)
    pole = (x <= 0) & (x == np.floor(x))
    reflect = (x < 0.5) & ~pole
    with np.errstate(all="ignore"):
        z = np.where(reflect, 1.0 - x, np.where(pole, 1.0, x))
        out = _shifted(n, np.where(np.isnan(z), 1.0, z))
        if reflect.any():
            # cot has period pi: x - round(x) is exact, pi * x is not
            u = np.pi * np.where(reflect, x - np.round(x), 0.5)
            cot = _cot_derivative(n, 1.0 / np.tan(u))
            out = np.where(reflect, (-1) ** n * out - np.pi ** (n + 1) * cot, out)
    if n == 0:
        at_pole = np.where(x == 0, -np.inf, np.nan)
    else:
        at_pole = np.full_like(x, (-1) ** (n + 1) * np.inf)
    out = np.where(pole, at_pole, np.where(np.isnan(x), np.nan, out))
    out = np.where(np.isposinf(x), np.inf if n == 0 else 0.0, out)
    return out.astype(dtype, copy=False)


def digamma(x: object) -> np.ndarray:
    return polygamma(x, 0)


def _polygamma_of_order(n: object, x: object) -> np.ndarray:
    return polygamma(x, int(n))


def _dirac_delta(x: object, k: object = 0) -> np.ndarray:
    """SymPy's DiracDelta (the derivative of sign, Heaviside) as a number:
    0 away from 0, undefined (nan) at 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x == 0, np.nan, 0.0)


# What SymPy's printed closed forms call, for sympy.lambdify: numpy has none.
LAMBDIFY = {
    "DiracDelta": _dirac_delta,
    "erf": erf,
    "erfc": erfc,
    "erfinv": erfinv,
    "lgamma": lgamma,
    "gamma": gamma,
    "polygamma": _polygamma_of_order,
}
