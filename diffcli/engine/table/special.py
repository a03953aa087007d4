"""THE table, elementwise functions of calculus: inverse trigonometric and
hyperbolic functions, logarithms and exponentials in other bases, powers,
the error and gamma families, sinc, xlogy, hypot, remainders and rounding.

Rules follow PyTorch's derivatives.yaml, grad_fn names and edge values
included (asin'(1) = inf, xlogy(0, y) = 0, floor's gradient is zero).
"""

from __future__ import annotations

import math

import numpy as np

from diffcli.engine import rules_special as R
from diffcli.engine import shapes as S
from diffcli.engine import twins as Y
from diffcli.engine import twins_special as YS
from diffcli.engine.table.declare import composite, define
from diffcli.errors import DiffcliError

_ELEMENTWISE = {"category": "elementwise", "shape": S.same}


def _special(name: str):
    """special_math's ``name``, loaded at the first call: most runs never
    need the module, and every run would pay for reading it."""

    def forward(*args, **kwargs):
        from diffcli.engine import special_math

        return getattr(special_math, name)(*args, **kwargs)

    forward.__name__ = name
    return forward


def _unary(header, doc, forward, rule, sympy, reads_ans, **kw):
    """A function of one tensor, one rule ``rule(F, g, ans, x)``."""
    name = header.split("(")[0]
    return define(
        header if "(" in header else f"{name}(input: T)",
        doc,
        forward,
        None if rule is None else (rule,),
        sympy=Y.elementwise(sympy),
        reads_ans=reads_ans,
        **{**_ELEMENTWISE, **kw},
    )


# --- inverse trigonometric and hyperbolic -------------------------------------------
_unary(
    "asin",
    "inverse sine, in [-pi/2, pi/2]",
    np.arcsin,
    lambda F, g, ans, x: g * F.rsqrt(1 - x * x),
    "asin",
    False,
    aliases=("arcsin",),
    kinks="the gradient at +-1 is inf; outside [-1, 1] the value is nan",
)
_unary(
    "acos",
    "inverse cosine, in [0, pi]",
    np.arccos,
    lambda F, g, ans, x: -g * F.rsqrt(1 - x * x),
    "acos",
    False,
    aliases=("arccos",),
    kinks="the gradient at +-1 is -inf; outside [-1, 1] the value is nan",
)
_unary(
    "atan",
    "inverse tangent, in (-pi/2, pi/2)",
    np.arctan,
    lambda F, g, ans, x: g / (x * x + 1),
    "atan",
    False,
    aliases=("arctan",),
)
_unary(
    "sinh",
    "hyperbolic sine",
    np.sinh,
    lambda F, g, ans, x: g * F.cosh(x),
    "sinh",
    False,
)
_unary(
    "cosh",
    "hyperbolic cosine",
    np.cosh,
    lambda F, g, ans, x: g * F.sinh(x),
    "cosh",
    False,
)
_unary(
    "asinh",
    "inverse hyperbolic sine",
    np.arcsinh,
    lambda F, g, ans, x: g * F.rsqrt(x * x + 1),
    "asinh",
    False,
    aliases=("arcsinh",),
)
_unary(
    "acosh",
    "inverse hyperbolic cosine, for input >= 1",
    np.arccosh,
    lambda F, g, ans, x: g * F.rsqrt(x * x - 1),
    "acosh",
    False,
    aliases=("arccosh",),
    kinks="the gradient at 1 is inf; below 1 the value is nan",
)
_unary(
    "atanh",
    "inverse hyperbolic tangent, for -1 < input < 1",
    np.arctanh,
    lambda F, g, ans, x: g / (1 - x * x),
    "atanh",
    False,
    aliases=("arctanh",),
    kinks="+-inf at +-1 with gradient inf; outside [-1, 1] nan",
)
_COMPOSITE = {"category": "elementwise"}
composite(
    "sec(input: T)",
    "secant, 1 / cos(input)",
    lambda F, x: F.div(1, F.cos(x)),
    **_COMPOSITE,
)
composite(
    "csc(input: T)",
    "cosecant, 1 / sin(input)",
    lambda F, x: F.div(1, F.sin(x)),
    **_COMPOSITE,
)
composite(
    "cot(input: T)",
    "cotangent, 1 / tan(input)",
    lambda F, x: F.div(1, F.tan(x)),
    **_COMPOSITE,
)

# --- logarithms, exponentials, powers -------------------------------------------------
_LOG_EDGE = "log(0) = -inf with gradient inf; negative inputs give nan"
for _base, _np_fn in [(10, np.log10), (2, np.log2)]:
    _ln = math.log(_base)
    _unary(
        f"log{_base}",
        f"base-{_base} logarithm",
        _np_fn,
        lambda F, g, ans, x, _ln=_ln: g / (x * _ln),
        YS.log_base(_base),
        False,
        kinks=_LOG_EDGE,
    )
_unary(
    "log1p",
    "log(1 + input), accurate for small input",
    np.log1p,
    lambda F, g, ans, x: g / (x + 1),
    YS.log1p,
    False,
    torch="Log1PBackward0",
    kinks="log1p(-1) = -inf with gradient inf; below -1 nan",
)
_unary(
    "expm1",
    "exp(input) - 1, accurate for small input",
    np.expm1,
    lambda F, g, ans, x: g * (ans + 1),
    YS.expm1,
    True,
)
_unary(
    "exp2",
    "2 ** input",
    np.exp2,
    lambda F, g, ans, x: g * ans * R.LN2,
    YS.exp2,
    True,
)
composite("square(input: T)", "input ** 2", lambda F, x: F.pow(x, 2), **_COMPOSITE)
_unary(
    "reciprocal",
    "1 / input",
    np.reciprocal,
    lambda F, g, ans, x: -g * (ans * ans),
    YS.reciprocal,
    True,
    kinks="1/0 = inf with gradient -inf",
)
_unary(
    "rsqrt",
    "1 / sqrt(input)",
    lambda x: 1 / np.sqrt(x),
    lambda F, g, ans, x: -0.5 * g * ans * ans * ans,
    YS.rsqrt,
    True,
    kinks="rsqrt(0) = inf with gradient -inf; negative inputs give nan",
)
_unary(
    "cbrt",
    "real cube root: negative for negative input",
    np.cbrt,
    lambda F, g, ans, x: g / (3 * (ans * ans)),
    YS.cbrt,
    True,
    kinks="the gradient at 0 is inf, as sqrt's",
)

# --- the error and gamma families ---------------------------------------------------
_unary(
    "erf",
    "error function 2/sqrt(pi) * integral of exp(-t**2) from 0 to input",
    _special("erf"),
    lambda F, g, ans, x: g * (2 / R.SQRT_PI) * F.exp(-(x * x)),
    "erf",
    False,
)
_unary(
    "erfc",
    "complementary error function 1 - erf(input), accurate where erf is near 1",
    _special("erfc"),
    lambda F, g, ans, x: g * (-2 / R.SQRT_PI) * F.exp(-(x * x)),
    "erfc",
    False,
)
_unary(
    "erfinv",
    "inverse of erf, for -1 < input < 1",
    _special("erfinv"),
    lambda F, g, ans, x: g * (0.5 * R.SQRT_PI) * F.exp(ans * ans),
    "erfinv",
    True,
    kinks="+-inf at +-1 with gradient inf; outside [-1, 1] nan",
)
_unary(
    "lgamma",
    "log |gamma(input)|",
    _special("lgamma"),
    lambda F, g, ans, x: g * F.digamma(x),
    YS.lgamma,
    False,
    aliases=("gammaln",),
    kinks="inf at 0, -1, -2, ... (the poles of gamma)",
)
_unary(
    "digamma",
    "d/dx lgamma(input)",
    _special("digamma"),
    lambda F, g, ans, x: g * F.polygamma(x, n=1),
    "digamma",
    False,
    aliases=("psi",),
    kinks="-inf at 0, nan at -1, -2, ... (PyTorch's values)",
)
_unary(
    "polygamma(n: int, input: T)",
    "the n-th derivative of digamma",
    _special("polygamma"),
    lambda F, g, ans, x, n: g * F.polygamma(x, n=n + 1),
    YS.polygamma,
    False,
    method=False,
    body=lambda F, n, x: _polygamma(F, n, x),
    kinks="(-1)**(n+1) * inf at 0, -1, -2, ...",
)


def _polygamma(F, n, x):
    if n < 0:
        raise DiffcliError(f"polygamma(n, x) needs n >= 0, got {n}")
    return F.op("polygamma", x, n=n)


# --- sinc, xlogy, hypot, remainders -------------------------------------------------
_unary(
    "sinc",
    "normalized sinc: sin(pi input) / (pi input), 1 at 0",
    R.sinc,
    lambda F, g, ans, x: R.sinc_vjp(F, g, x),
    YS.sinc,
    False,
    kinks="the gradient at 0 is 0",
)
_BINARY = {"category": "elementwise", "shape": S.broadcast, "method": True}
define(
    "xlogy(input: T, other: T)",
    "input * log(other), 0 where input is 0",
    R.xlogy,
    (
        lambda F, g, ans, x, y: R.xlogy_x_vjp(F, g, x, y),
        lambda F, g, ans, x, y: g * x / y,
    ),
    sympy=Y.elementwise(YS.xlogy),
    # PyTorch's overloads: (Tensor, Tensor), (Scalar, Tensor), (Tensor, Scalar)
    torch=lambda inputs, params: (
        "XlogyBackward"
        + (
            "1"
            if not hasattr(inputs[0], "_data")
            else "2"
            if not hasattr(inputs[1], "_data")
            else "0"
        )
    ),
    reads_ans=False,
    kinks="xlogy(0, y) = 0 for any y but nan, and its gradient to input is 0 "
    "where y <= 0 (PyTorch's choice)",
    **_BINARY,
)
define(
    "hypot(input: T, other: T)",
    "sqrt(input**2 + other**2), without overflow",
    np.hypot,
    (
        lambda F, g, ans, x, y: g * x / ans,
        lambda F, g, ans, x, y: g * y / ans,
    ),
    sympy=Y.elementwise(YS.hypot),
    reads_ans=True,
    kinks="the gradient at (0, 0) is nan, as in PyTorch",
    **_BINARY,
)
_REMAINDER = (
    "jumps where input / other crosses an integer; the gradient to input is 1 "
    "everywhere, as in PyTorch"
)
# name, numpy, the quotient's rounding (d/d other = -quotient), sign, twin
for _name, _np_fn, _rounding, _sign, _sp in [
    ("fmod", np.fmod, "trunc", "input (C's fmod)", YS.fmod),
    ("remainder", np.remainder, "floor", "other (Python's %)", YS.remainder),
]:
    define(
        f"{_name}(input: T, other: T)",
        f"remainder of input / other with the sign of {_sign}",
        _np_fn,
        (
            lambda F, g, ans, x, y: g,
            lambda F, g, ans, x, y, _r=_rounding: -g * getattr(F, _r)(x / y),
        ),
        sympy=Y.elementwise(_sp),
        # fmod(x, 2) records FmodBackward0, fmod(x, tensor) FmodBackward1
        torch=lambda inputs, params, _n=_name: (
            f"{_n.capitalize()}Backward{int(hasattr(inputs[1], 'grad_fn'))}"
        ),
        reads_ans=False,
        kinks=_REMAINDER,
        **_BINARY,
    )

# --- rounding: a zero gradient (PyTorch records them; frac passes g) ----------------
_STEP = "piecewise constant: the gradient is 0 everywhere, as in PyTorch"
for _name, _np_fn, _sp in [
    ("floor", np.floor, YS.floor),
    ("ceil", np.ceil, YS.ceiling),
    ("trunc", np.trunc, YS.trunc),
]:
    _unary(
        _name,
        f"{_name} of each element",
        _np_fn,
        lambda F, g, ans, x: R.zeros(F, g),
        _sp,
        False,
        saves_inputs=False,
        aliases=("fix",) if _name == "trunc" else (),
        kinks=_STEP,
    )
_unary(
    "round(input: T, *, decimals: int = 0)",
    "nearest integer (or multiple of 10**-decimals); halves go to the even one",
    R.round_half_even,
    lambda F, g, ans, x, decimals=0: R.zeros(F, g),
    YS.round_half_even,
    False,
    saves_inputs=False,
    torch=lambda inputs, params: f"RoundBackward{int(bool(params.get('decimals')))}",
    kinks=_STEP,
)
_unary(
    "frac",
    "fractional part input - trunc(input), with the sign of input",
    lambda x: x - np.trunc(x),
    lambda F, g, ans, x: g,
    YS.frac,
    False,
    saves_inputs=False,
    kinks="jumps at the integers; the gradient is 1 everywhere, as in PyTorch",
)
define(
    "heaviside(input: T, values: T)",
    "step function: 0 below 0, values at 0, 1 above (no gradient)",
    np.heaviside,
    None,
    sympy=Y.elementwise(YS.heaviside),
    **_BINARY,
)
