"""SymPy twins of the losses: the pointwise loss elementwise, then the
reduction.  Nothing here imports SymPy: ``sp`` is passed in."""

from __future__ import annotations

import numpy as np

from diffcli.engine.twins import elementwise, reduce
from diffcli.engine.twins_special import _exact


def apply_reduction(sp, loss, reduction="mean", weight=None):
    loss = np.asarray(loss, dtype=object)
    if weight is not None:
        loss = loss * np.asarray(weight)
    if reduction == "none":
        return loss
    total = reduce("Add")(sp, loss)
    return total if reduction == "sum" else total / max(np.size(loss), 1)


def reduced(pointwise):
    """A loss twin from ``pointwise(sp, x, t, **params)`` on one element."""

    def twin(sp, x, t, reduction="mean", weight=None, **params):
        loss = elementwise(lambda sp, a, b: pointwise(sp, a, b, **params))(sp, x, t)
        return apply_reduction(sp, loss, reduction, weight)

    return twin


def _smooth_l1(sp, a, b, beta=1.0):
    d, beta = sp.Abs(a - b), _exact(sp, beta)
    if beta == 0:
        return d
    return sp.Piecewise((d**2 / (2 * beta), d < beta), (d - beta / 2, True))


def _huber(sp, a, b, delta=1.0):
    d, delta = sp.Abs(a - b), _exact(sp, delta)
    return sp.Piecewise((d**2 / 2, d <= delta), (delta * (d - delta / 2), True))


def _bce(sp, x, t):
    """With PyTorch's floor of -100 on each log."""
    return -(t * sp.Max(sp.log(x), -100) + (1 - t) * sp.Max(sp.log(1 - x), -100))


def _bce_with_logits(sp, x, t, pos_weight=None):
    scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
    return (1 - t) * x + scale * sp.log(1 + sp.exp(-x))


mse_loss = reduced(lambda sp, a, b: (a - b) ** 2)
smooth_l1_loss = reduced(_smooth_l1)
huber_loss = reduced(_huber)
binary_cross_entropy = reduced(_bce)


def bce_with_logits(sp, x, t, reduction="mean", weight=None, pos_weight=None):
    if pos_weight is None:
        return reduced(_bce_with_logits)(sp, x, t, reduction, weight)
    # pos_weight broadcasts like a third operand
    x, t, pw = np.broadcast_arrays(
        np.asarray(x, dtype=object), np.asarray(t, dtype=object), pos_weight
    )
    loss = elementwise(_bce_with_logits)(sp, x, t, pw)
    return apply_reduction(sp, loss, reduction, weight)
