"""SymPy twins of the special functions and activations: each is
``f(sp, value, **params)`` on one SymPy expression, mapped over object
arrays by ``twins.elementwise``.  Nothing here imports SymPy.
"""

from __future__ import annotations

import functools
import math

from diffcli.engine.rules_special import GELU_CUBIC


def log_base(base: int):
    return lambda sp, v: sp.log(v) / sp.log(base)


def exp2(sp, v):
    return sp.Integer(2) ** v


def expm1(sp, v):
    return sp.exp(v) - 1


def log1p(sp, v):
    return sp.log(1 + v)


def rsqrt(sp, v):
    return 1 / sp.sqrt(v)


def cbrt(sp, v):
    """The real cube root: SymPy's cbrt is the principal (complex) one below 0."""
    third = sp.Rational(1, 3)
    return sp.Piecewise((-((-v) ** third), v < 0), (v**third, True))


def reciprocal(sp, v):
    return 1 / v


@functools.cache
def _lgamma_function(sp):
    """log |gamma(v)| for real v, whose derivative is digamma everywhere:
    SymPy's loggamma is complex below 0, and log(Abs(gamma)) differentiates
    into re/im terms.  Numbers become loggamma or log|gamma| at once."""

    def eval(cls, v):
        if v.is_number and v.is_extended_real:
            if v.is_positive:
                return sp.loggamma(v)
            return sp.log(sp.Abs(sp.gamma(v)))
        return None

    def fdiff(self, argindex=1):
        return sp.polygamma(0, self.args[0])

    return type("lgamma", (sp.Function,), {"eval": classmethod(eval), "fdiff": fdiff})


def lgamma(sp, v):
    return _lgamma_function(sp)(v)


def polygamma(sp, v, n=0):
    return sp.polygamma(n, v)


def sinc(sp, v):
    return sp.sinc(sp.pi * v)


def xlogy(sp, x, y):
    """0 only where x * log(y) has no real value (the derivative in x stays
    log(y) at x = 0, as PyTorch's)."""
    return sp.Piecewise((0, sp.Eq(x, 0) & (y <= 0)), (x * sp.log(y), True))


def hypot(sp, x, y):
    return sp.sqrt(x**2 + y**2)


@functools.cache
def flat(sp, name: str):
    """SymPy's floor or ceiling with derivative 0 (SymPy leaves it unevaluated),
    as the engine and PyTorch have it; it prints and evaluates as the original."""

    def fdiff(self, argindex=1):
        return sp.S.Zero

    return type(name, (getattr(sp, name),), {"fdiff": fdiff})


def floor(sp, v):
    return flat(sp, "floor")(v)


def ceiling(sp, v):
    return flat(sp, "ceiling")(v)


def trunc(sp, v):
    return sp.Piecewise((floor(sp, v), v >= 0), (ceiling(sp, v), True))


def frac(sp, v):
    return v - trunc(sp, v)


def round_half_even(sp, v, decimals=0):
    """numpy's and PyTorch's rounding: a half goes to the even neighbour."""
    scale = sp.Integer(10) ** decimals
    w = v * scale
    up = floor(sp, w + sp.Rational(1, 2))
    tie_to_odd = sp.And(sp.Eq(up - w, sp.Rational(1, 2)), sp.Eq(sp.Mod(up, 2), 1))
    return sp.Piecewise((up - 1, tie_to_odd), (up, True)) / scale


def fmod(sp, x, y):
    return x - y * trunc(sp, x / y)


def remainder(sp, x, y):
    return x - y * floor(sp, x / y)


def heaviside(sp, x, values):
    return sp.Piecewise((0, x < 0), (values, sp.Eq(x, 0)), (1, True))


# --- activations -------------------------------------------------------------------


def softplus(sp, v, beta=1.0, threshold=20.0):
    beta = _exact(sp, beta)
    smooth = sp.log(1 + sp.exp(beta * v)) / beta
    return sp.Piecewise((v, beta * v > _exact(sp, threshold)), (smooth, True))


def logsigmoid(sp, v):
    return -sp.log(1 + sp.exp(-v))


def silu(sp, v):
    return v / (1 + sp.exp(-v))


def gelu(sp, v, approximate="none"):
    if approximate == "tanh":
        c = sp.sqrt(2 / sp.pi)
        return v / 2 * (1 + sp.tanh(c * (v + _exact(sp, GELU_CUBIC) * v**3)))
    return v / 2 * (1 + sp.erf(v / sp.sqrt(2)))


def elu(sp, v, alpha=1.0, scale=1.0, input_scale=1.0):
    alpha, scale, input_scale = (_exact(sp, a) for a in (alpha, scale, input_scale))
    return scale * sp.Piecewise(
        (v, v > 0), (alpha * (sp.exp(v * input_scale) - 1), True)
    )


def leaky_relu(sp, v, negative_slope=0.01):
    return sp.Piecewise((v, v > 0), (_exact(sp, negative_slope) * v, True))


def hardtanh(sp, v, min_val=-1.0, max_val=1.0):
    low, high = _exact(sp, min_val), _exact(sp, max_val)
    return sp.Piecewise((low, v < low), (high, v > high), (v, True))


def _exact(sp, value: float):
    """A float parameter as SymPy sees it: exact when it is a short decimal."""
    if float(value).is_integer():
        return sp.Integer(int(value))
    text = repr(float(value))
    return sp.Rational(text) if len(text) < 20 and math.isfinite(value) else value
