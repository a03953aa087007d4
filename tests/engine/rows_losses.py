"""Test rows of table/losses.py: gradcheck cases, twin cases and expressions
(see families.py)."""

from __future__ import annotations

import numpy as np
from domains import anywhere, positive

import diffcli as dc


def probability(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def apart(rng, shape):
    """Inputs whose distance to `near` stays off the kinks at 0 and +-1 / 2."""
    return rng.integers(-6, 6, shape) * 0.4 + 0.13


def near(rng, shape):
    return rng.uniform(-0.05, 0.05, shape)


CLASSES = dc.tensor([0, 3, 1])
WEIGHT = dc.tensor([0.5, 2.0, 1.0, 1.5])
UNARY: dict = {}
BINARY: dict = {}
REDUCTIONS: dict = {}
PAIR = [(anywhere, (3, 4)), (anywhere, (3, 4))]
FIXED = {
    **{
        f"mse_{r}": (lambda x, t, r=r: dc.mse_loss(x, t, reduction=r), PAIR, {})
        for r in ("mean", "sum", "none")
    },
    "mse_broadcast": (dc.mse_loss, [(anywhere, (3, 4)), (anywhere, (4,))], {}),
    "l1": (dc.l1_loss, [(apart, (3, 4)), (near, (3, 4))], {}),
    "smooth_l1": (
        lambda x, t: dc.smooth_l1_loss(x, t, beta=0.5, reduction="sum"),
        [(apart, (3, 4)), (near, (3, 4))],
        {},
    ),
    "huber": (
        lambda x, t: dc.huber_loss(x, t, delta=0.5, reduction="none"),
        [(apart, (3, 4)), (near, (3, 4))],
        {},
    ),
    "bce": (
        dc.binary_cross_entropy,
        [(probability, (3, 4)), (probability, (3, 4))],
        {},
    ),
    "bce_weight": (
        lambda x, t: dc.binary_cross_entropy(x, t, WEIGHT, reduction="sum"),
        [(probability, (3, 4)), (probability, (3, 4))],
        {},
    ),
    "bce_logits": (
        dc.binary_cross_entropy_with_logits,
        [(anywhere, (3, 4)), (probability, (3, 4))],
        {},
    ),
    "bce_logits_pos_weight": (
        lambda x, t: dc.binary_cross_entropy_with_logits(
            x * 10, t, WEIGHT, pos_weight=WEIGHT * 2, reduction="none"
        ),
        [(anywhere, (3, 4)), (probability, (3, 4))],
        {},
    ),
    "cross_entropy": (lambda x: dc.cross_entropy(x, CLASSES), [(anywhere, (3, 4))], {}),
    "cross_entropy_weight": (
        lambda x: dc.cross_entropy(x, CLASSES, WEIGHT, reduction="none"),
        [(anywhere, (3, 4))],
        {},
    ),
    "cross_entropy_probabilities": (
        lambda x, t: dc.cross_entropy(x, dc.softmax(t, 1)),
        [(anywhere, (3, 4)), (anywhere, (3, 4))],
        {},
    ),
    "cross_entropy_one_sample": (
        lambda x: dc.cross_entropy(x, dc.tensor(2)),
        [(anywhere, (4,))],
        {},
    ),
    "nll": (
        lambda x: dc.nll_loss(dc.log_softmax(x, 1), CLASSES, WEIGHT),
        [(anywhere, (3, 4))],
        {},
    ),
    "nll_spatial_ignore": (
        lambda x: dc.nll_loss(x, dc.tensor([[0, -100, 2], [1, 1, 0]]), reduction="sum"),
        [(anywhere, (2, 3, 3))],
        {},
    ),
    "kl_div": (
        lambda x, t: dc.kl_div(x, t, reduction="batchmean"),
        [(anywhere, (3, 4)), (positive, (3, 4))],
        {},
    ),
    "kl_div_log_target": (
        lambda x, t: dc.kl_div(x, t, log_target=True, reduction="sum"),
        PAIR,
        {},
    ),
}


def real(rng, shape):
    return rng.uniform(-2, 2, shape)


M = (2, 3)
TWINS = {
    "mse_loss": [
        ([(real, M), (real, (3,))], {"reduction": "mean"}),
        ([(real, M), (real, M)], {"reduction": "none"}),
    ],
    "smooth_l1_loss": [
        ([(real, M), (real, M)], {"reduction": "sum", "beta": 1.0}),
        ([(real, M), (real, M)], {"reduction": "mean", "beta": 0.0}),
    ],
    "huber_loss": [([(real, M), (real, M)], {"reduction": "none", "delta": 0.5})],
    "binary_cross_entropy": [
        ([(probability, M), (probability, M)], {"reduction": "mean", "weight": None}),
        (
            [(probability, M), (probability, M)],
            {"reduction": "sum", "weight": np.array([1.0, 2.0, 0.5])},
        ),
    ],
    "binary_cross_entropy_with_logits": [
        (
            [(real, M), (probability, M)],
            {"reduction": "mean", "weight": None, "pos_weight": None},
        ),
        (
            [(real, M), (probability, M)],
            {"reduction": "none", "weight": None, "pos_weight": np.array([2.0, 1, 3])},
        ),
    ],
    "nll_loss": [
        (
            [(real, M)],
            {
                "target": np.array([2, 0]),
                "weight": None,
                "reduction": "mean",
                "ignore_index": -100,
            },
        ),
        (
            [(real, (2, 3, 2))],
            {
                "target": np.array([[2, 0], [1, -100]]),
                "weight": np.array([1.0, 2.0, 0.5]),
                "reduction": "none",
                "ignore_index": -100,
            },
        ),
    ],
}
VARIABLES = {"W": (probability, M), "L": (real, M)}
EXPRESSIONS = {
    "mse_loss": (
        "{f}(A, L)",
        "{f}(A, x, reduction='sum')",
        "{f}(A, L, reduction='none')",
    ),
    "l1_loss": ("{f}(A, L)", "{f}(x, y, reduction='none')"),
    "smooth_l1_loss": ("{f}(A, L)", "{f}(A, L, beta=0.5, reduction='sum')"),
    "huber_loss": ("{f}(A, L, delta=0.5)",),
    "binary_cross_entropy": ("{f}(W, sigmoid(L))", "{f}(W, W * 0, reduction='sum')"),
    "binary_cross_entropy_with_logits": (
        "{f}(A, W)",
        "{f}(A, W, pos_weight=[1, 2, 3])",
        "{f}(A, W, [1, 0.5, 2], reduction='none')",
    ),
    "cross_entropy": ("{f}(A, [2, 0])", "{f}(A, softmax(L, 1))", "{f}(x, 1)"),
    "nll_loss": ("{f}(log_softmax(A, 1), [1, 2], reduction='sum')",),
    "kl_div": (
        "{f}(log_softmax(A, 1), W, reduction='batchmean')",
        "{f}(A, L, log_target=True)",
    ),
}
