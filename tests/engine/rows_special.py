"""Test rows of table/special.py: gradcheck cases (test_table_more.py), twin
cases and expressions (test_twins.py).  One row per function."""

from __future__ import annotations

from domains import anywhere, grid, nonzero, positive

import diffcli as dc


def unit(rng, shape):  # inside (-1, 1): asin, atanh, erfinv
    return rng.uniform(-0.8, 0.8, shape)


def above_one(rng, shape):  # acosh
    return rng.uniform(1.2, 3.0, shape)


def negative_off_poles(rng, shape):  # lgamma, digamma between the poles
    return -rng.integers(0, 3, shape) - rng.uniform(0.2, 0.8, shape)


def angle(rng, shape):  # csc, cot: inside (0, pi) or (-pi, 0)
    return nonzero(rng, shape) * 1.2


# name: (function, values) for gradcheck at orders 1 and 2 over random shapes
UNARY = {
    "asin": (dc.asin, unit),
    "acos": (dc.acos, unit),
    "atan": (dc.atan, anywhere),
    "sinh": (dc.sinh, anywhere),
    "cosh": (dc.cosh, anywhere),
    "asinh": (dc.asinh, anywhere),
    "acosh": (dc.acosh, above_one),
    "atanh": (dc.atanh, unit),
    "sec": (dc.sec, lambda rng, s: rng.uniform(-1.2, 1.2, s)),
    "csc": (dc.csc, angle),
    "cot": (dc.cot, angle),
    "log10": (dc.log10, positive),
    "log2": (dc.log2, positive),
    "log1p": (dc.log1p, lambda rng, s: rng.uniform(-0.5, 2, s)),
    "expm1": (dc.expm1, anywhere),
    "exp2": (dc.exp2, anywhere),
    "square": (dc.square, anywhere),
    "reciprocal": (dc.reciprocal, nonzero),
    "rsqrt": (dc.rsqrt, positive),
    "cbrt": (dc.cbrt, nonzero),
    "erf": (dc.erf, anywhere),
    "erfc": (dc.erfc, anywhere),
    "erfinv": (dc.erfinv, unit),
    "lgamma": (dc.lgamma, positive),
    "lgamma_negative": (dc.lgamma, negative_off_poles),
    "digamma": (dc.digamma, positive),
    "digamma_negative": (dc.digamma, negative_off_poles),
    "polygamma": (lambda x: dc.polygamma(2, x), positive),
    "sinc": (dc.sinc, nonzero),
    "floor": (lambda x: dc.floor(x) * x, grid),  # times x: not a constant
    "ceil": (lambda x: dc.ceil(x) * x, grid),  # times x: not a constant
    "trunc": (lambda x: dc.trunc(x) * x, grid),  # times x: not a constant
    "round": (lambda x: dc.round(x) * x, grid),  # times x: not a constant
    "round_decimals": (lambda x: x.round(decimals=1) * x, lambda r, s: grid(r, s) / 10),
    "frac": (dc.frac, grid),
}
BINARY = {
    "xlogy": (dc.xlogy, anywhere, positive),
    "hypot": (dc.hypot, nonzero, nonzero),
    "fmod": (dc.fmod, anywhere, positive),
    "remainder": (dc.remainder, anywhere, nonzero),
}
REDUCTIONS: dict = {}
FIXED: dict = {}


# --- twins and both interpreters ---------------------------------------------------


def real(rng, shape):
    return rng.uniform(-2, 2, shape)


def half_grid(rng, shape):  # ties for round: halves go to the even neighbour
    return rng.integers(-6, 7, shape) / 2


M, V = (2, 3), (3,)
TWINS = {
    **{
        name: [([(real, M)], {})]
        for name in ("atan", "sinh", "cosh", "asinh", "expm1", "exp2", "erf", "erfc")
    },
    **{name: [([(unit, M)], {})] for name in ("asin", "acos", "atanh", "erfinv")},
    "acosh": [([(above_one, M)], {})],
    **{name: [([(positive, M)], {})] for name in ("log10", "log2", "rsqrt")},
    "log1p": [([(positive, M)], {})],
    "reciprocal": [([(nonzero, M)], {})],
    "cbrt": [([(real, M)], {})],
    "lgamma": [([(positive, M)], {}), ([(negative_off_poles, M)], {})],
    "digamma": [([(positive, M)], {}), ([(negative_off_poles, V)], {})],
    "polygamma": [([(positive, M)], {"n": 1}), ([(negative_off_poles, V)], {"n": 2})],
    "sinc": [([(real, M)], {})],
    "xlogy": [([(real, (2, 1)), (positive, V)], {}), ([(grid, V), (positive, V)], {})],
    "hypot": [([(real, (2, 1)), (real, V)], {})],
    "fmod": [([(real, (2, 1)), (nonzero, V)], {})],
    "remainder": [([(real, (2, 1)), (nonzero, V)], {})],
    **{name: [([(real, M)], {})] for name in ("floor", "ceil", "trunc", "frac")},
    "round": [([(half_grid, M)], {}), ([(real, M)], {"decimals": 1})],
    "heaviside": [([(half_grid, M), (real, V)], {})],
}
VARIABLES = {"u": (unit, V), "q": (above_one, V), "n": (negative_off_poles, V)}
EXPRESSIONS = {
    **dict.fromkeys(
        ("asin", "acos", "atanh", "erfinv"), ("{f}(u)", "{f}(u * 0.5) * x")
    ),
    **dict.fromkeys(
        ("atan", "sinh", "cosh", "asinh", "expm1", "exp2", "erf", "erfc", "square")
        + ("cbrt",),
        ("{f}(A)",),
    ),
    "acosh": ("{f}(q)",),
    **dict.fromkeys(("sec", "csc", "cot"), ("{f}(x + 2 * u)",)),
    **dict.fromkeys(("log10", "log2", "log1p", "rsqrt", "reciprocal"), ("{f}(P)",)),
    "lgamma": ("{f}(P)", "{f}(n)"),
    "digamma": ("{f}(P)", "{f}(n)"),
    "polygamma": ("{f}(1, p)", "{f}(2, n)", "{f}(0, P)"),
    "sinc": ("{f}(A)", "{f}(x - x)"),
    "xlogy": ("{f}(A, p)", "{f}(x - x, y)"),
    "hypot": ("{f}(A, x)",),
    "fmod": ("{f}(A, p)", "{f}(-3, p)"),
    "remainder": ("{f}(A, p)", "{f}(-3, p)"),
    **dict.fromkeys(("floor", "ceil", "trunc", "frac"), ("{f}(A * 3)",)),
    "round": ("{f}(A * 3)", "{f}(A, decimals=1)", "{f}([0.5, 1.5, -2.5])"),
    "heaviside": ("{f}(A, y)", "{f}(x - x, y)"),
}
