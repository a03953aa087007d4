"""Test rows of table/activations.py: gradcheck cases, twin cases and
expressions (see families.py)."""

from __future__ import annotations

from domains import anywhere, grid, nonzero

import diffcli as dc


def relu6_range(rng, shape):  # away from the kinks at 0 and 6
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 5.7, shape) + 1


UNARY = {
    "softplus": (dc.softplus, anywhere),
    "softplus_beta": (lambda x: dc.softplus(x, 2.0, 1.0), grid),
    "softplus_large": (lambda x: dc.softplus(x * 15), anywhere),
    "silu": (dc.silu, anywhere),
    "gelu": (dc.gelu, anywhere),
    "gelu_tanh": (lambda x: dc.gelu(x, approximate="tanh"), anywhere),
    "elu": (dc.elu, nonzero),
    "elu_alpha": (lambda x: dc.elu(x, 0.5), nonzero),
    "selu": (dc.selu, nonzero),
    "leaky_relu": (dc.leaky_relu, nonzero),
    "leaky_relu_slope": (lambda x: dc.leaky_relu(x, 0.2), nonzero),
    "logsigmoid": (dc.logsigmoid, anywhere),
    "hardtanh": (dc.hardtanh, grid),
    "hardtanh_bounds": (lambda x: dc.hardtanh(x, -0.5, 0.7), grid),
    "relu6": (dc.relu6, relu6_range),
}
BINARY: dict = {}
REDUCTIONS: dict = {}
FIXED: dict = {}


def real(rng, shape):
    return rng.uniform(-3, 3, shape)


M = (2, 3)
TWINS = {
    "softplus": [
        ([(real, M)], {}),
        ([(real, M)], {"beta": 2.0, "threshold": 1.0}),
    ],
    "silu": [([(real, M)], {})],
    "gelu": [([(real, M)], {}), ([(real, M)], {"approximate": "tanh"})],
    "elu": [
        ([(real, M)], {"alpha": 1.0, "scale": 1.0, "input_scale": 1.0}),
        ([(real, M)], {"alpha": 0.5, "scale": 1.5, "input_scale": 2.0}),
    ],
    "leaky_relu": [([(real, M)], {}), ([(real, M)], {"negative_slope": 0.2})],
    "logsigmoid": [([(real, M)], {})],
    "hardtanh": [([(real, M)], {}), ([(real, M)], {"min_val": 0.0, "max_val": 2.5})],
}
VARIABLES: dict = {}
EXPRESSIONS = {
    "softplus": ("{f}(A)", "{f}(A, 2, 1)", "{f}(A, beta=0.5)"),
    "silu": ("{f}(A)",),
    "gelu": ("{f}(A)", "{f}(A, approximate='tanh')", '{f}(A, approximate="none")'),
    "elu": ("{f}(A)", "{f}(A, 0.5)"),
    "selu": ("{f}(A)",),
    "leaky_relu": ("{f}(A)", "{f}(A, negative_slope=0.2)"),
    "logsigmoid": ("{f}(A)", "{f}(-40 * A)"),
    "hardtanh": ("{f}(A * 2)", "{f}(A, -0.5, 0.5)"),
    "relu6": ("{f}(A * 4)",),
}
