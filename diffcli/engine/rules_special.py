"""Forwards and VJP rules of the special functions, activations and scans
(table/special.py, table/activations.py, table/scans.py): those that take
more than one line.

Rules are plain math written with the table's own primitives (``F.<name>``),
so the backward pass is itself differentiable to any order.  Where a branch
would divide by zero or take a log of zero and be thrown away by a
``where``, it is computed at a safe stand-in value instead: the unused branch
then raises no floating-point warning, and its own derivative (which
``where`` still multiplies by zero) is finite.
"""

from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)
SQRT_PI = math.sqrt(math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715


def zeros(F, g):
    """A zero gradient of g's shape (floor, round, ...: zero, as PyTorch)."""
    return np.zeros(np.shape(g), dtype=getattr(g, "dtype", np.float64))


# --- forwards ----------------------------------------------------------------------


def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, np.negative(x)))


def sinc(x):
    return np.sinc(x)


def xlogy(x, y):
    """x * log(y), 0 where x is 0 (unless y is nan), as PyTorch."""
    x, y = np.asarray(x), np.asarray(y)
    zero = (x == 0) & ~np.isnan(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(zero, 0.0, x * np.log(np.where(zero, 1.0, y)))


def round_half_even(x, decimals=0):
    return np.round(x, decimals)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, stable; x itself above the threshold."""
    bx = np.multiply(x, beta)
    return np.where(bx > threshold, x, np.logaddexp(0.0, bx) / beta)


def logsigmoid(x):
    return -np.logaddexp(0.0, np.negative(x))


def gelu(x, approximate="none"):
    if approximate == "tanh":
        inner = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)
        return 0.5 * x * (1.0 + np.tanh(inner))
    from diffcli.engine.special_math import erf

    return 0.5 * x * (1.0 + erf(np.multiply(x, 1 / math.sqrt(2.0))))


def elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    negative = alpha * np.expm1(np.minimum(x, 0.0) * input_scale)
    return scale * np.where(np.greater(x, 0), x, negative)


def leaky_relu(x, negative_slope=0.01):
    return np.where(np.greater(x, 0), x, np.multiply(x, negative_slope))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


# --- rules -------------------------------------------------------------------------


def sinc_vjp(F, g, x):
    """(cos(pi x) pi x - sin(pi x)) / (pi x**2); 0 at x = 0 (PyTorch's choice)."""
    zero = x == 0
    safe = F.where(zero, 1.0, x)
    px = math.pi * safe
    slope = (F.cos(px) * px - F.sin(px)) / (px * safe)
    return F.where(zero, 0.0, g * slope)


def xlogy_x_vjp(F, g, x, y):
    """log(y), masked to 0 where x == 0 and y <= 0 (PyTorch's choice)."""
    return F.where((x == 0) & (y <= 0), 0.0, F.xlogy(g, y))


def softplus_vjp(F, g, x, beta=1.0, threshold=20.0):
    bx = x * beta
    return g * F.where(bx > threshold, 1.0, F.sigmoid(bx))  # reads g once


def silu_vjp(F, g, x):
    s = F.sigmoid(x)
    return g * (s * (1 + x * (1 - s)))


def gelu_vjp(F, g, x, approximate="none"):
    if approximate == "tanh":
        t = F.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x))
        inner = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)
    cdf = 0.5 * (1 + F.erf(x * (1 / math.sqrt(2.0))))
    pdf = F.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + x * pdf)


def elu_vjp(F, g, x, alpha=1.0, scale=1.0, input_scale=1.0):
    """Slope scale on x > 0, scale alpha input_scale exp(x input_scale) on
    x <= 0 (so at 0 the left one, as PyTorch)."""
    low = F.where(x > 0, 0.0, x)
    left = (scale * alpha * input_scale) * F.exp(low * input_scale)
    return g * F.where(x > 0, scale, left)  # g read once: it may be overwritten


def hardtanh_vjp(F, g, x, min_val=-1.0, max_val=1.0):
    """g strictly inside (min_val, max_val), 0 at and beyond the bounds."""
    return F.where((x > min_val) & (x < max_val), g, 0.0)
