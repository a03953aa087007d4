"""Test rows of table/scans.py and norm's p = +-inf, 'fro': gradcheck cases,
twin cases and expressions (see families.py)."""

from __future__ import annotations

import numpy as np
from domains import anywhere, distinct, nonzero, positive

import diffcli as dc


def one(dim, x) -> int:
    """A single dim from reduction_args' draw (a tuple or None give their first)."""
    if isinstance(dim, tuple):
        return dim[0]
    return 0 if dim is None or x.ndim == 0 else dim


def with_zeros(rng, shape):
    """Some exact zeros (even two in a row): prod and cumprod's hard case."""
    values = anywhere(rng, shape)
    return np.where(rng.random(shape) < 0.3, 0.0, values)


INF = float("inf")
REDUCTIONS = {
    "prod": (lambda x, d, k: dc.prod(x, None if d is None else one(d, x), k), positive),
    "prod_zeros": (
        lambda x, d, k: dc.prod(x, None if d is None else one(d, x), k),
        with_zeros,
    ),
    "cumsum": (lambda x, d, k: dc.cumsum(x, one(d, x)) ** 2, anywhere),
    "cumprod": (lambda x, d, k: dc.cumprod(x, one(d, x)), nonzero),
    "cumprod_zeros": (lambda x, d, k: dc.cumprod(x, one(d, x)), with_zeros),
    "logsumexp": (lambda x, d, k: dc.logsumexp(x, d, k), anywhere),
    "logsumexp_far": (lambda x, d, k: dc.logsumexp(x * 300, d, k), anywhere),
    "softmax": (lambda x, d, k: dc.softmax(x, one(d, x)) ** 2, anywhere),
    "log_softmax": (lambda x, d, k: dc.log_softmax(x, one(d, x)) ** 2, anywhere),
    "var": (lambda x, d, k: dc.var(x, d, keepdim=k, correction=0), anywhere),
    # N - 0.5 > 0 even for one element (N - 1 would be 0 there)
    "var_half": (lambda x, d, k: x.var(d, keepdim=k, correction=0.5), anywhere),
    "std": (lambda x, d, k: dc.std(x, d, keepdim=k, correction=0), distinct),
    # PyTorch's older spelling of correction=0
    "std_biased": (lambda x, d, k: x.std(d, keepdim=k, unbiased=False), distinct),
    "norm_inf": (lambda x, d, k: dc.norm(x, INF, d, k), distinct),
    "norm_minus_inf": (lambda x, d, k: dc.norm(x, -INF, d, k), distinct),
    "norm_fro": (lambda x, d, k: dc.norm(x, "fro", d, k), nonzero),
}
UNARY: dict = {}
BINARY: dict = {}
FIXED = {
    "var_std_unbiased": (
        lambda x: dc.var(x, 1, keepdim=True) * dc.std(x, 0, keepdim=True) + x.std(),
        [(distinct, (3, 4))],
        {},
    ),
}


def real(rng, shape):
    return rng.uniform(-2, 2, shape)


def zeros_at(rng, shape):
    return np.where(rng.random(shape) < 0.3, 0.0, real(rng, shape))


M, C3 = (2, 3), (2, 3, 2)
TWINS = {
    "prod": [([(real, M)], {}), ([(real, C3)], {"dim": 1, "keepdim": True})],
    "cumsum": [([(real, M)], {"dim": 1})],
    "cumprod": [([(real, C3)], {"dim": 0})],
    "logsumexp": [([(real, M)], {}), ([(real, C3)], {"dim": (0, 2), "keepdim": True})],
    "softmax": [([(real, M)], {"dim": 1}), ([(real, (3,))], {"dim": None})],
    "log_softmax": [([(real, M)], {"dim": 0})],
    "var": [
        ([(real, M)], {"correction": 1}),
        ([(real, C3)], {"dim": (0, 2), "correction": 0, "keepdim": True}),
    ],
    "std": [([(real, M)], {"dim": 1, "correction": 1})],
    "norm_inf": [([(real, M)], {"p": INF}), ([(real, C3)], {"dim": 1, "p": -INF})],
}
VARIABLES = {"Z": (zeros_at, (3, 3))}
EXPRESSIONS = {
    "prod": ("{f}(A)", "{f}(A, 1)", "{f}(Z, 0, keepdim=True)"),
    "cumsum": ("{f}(A, 1)", "{f}(C, -1)"),
    "cumprod": ("{f}(A, 0)", "{f}(Z, 1)"),
    "logsumexp": ("{f}(A)", "{f}(C, [0, 2])", "{f}(1000 + x)"),
    "softmax": ("{f}(x)", "{f}(A, 1)", "{f}(A, dim=0)"),
    "log_softmax": ("{f}(y)", "{f}(A, -1)"),
    "var": ("{f}(A)", "{f}(A, 1, correction=0)", "{f}(C, [0, 2], keepdim=True)"),
    "std": ("{f}(A)", "{f}(A, 0, correction=0)"),
}
