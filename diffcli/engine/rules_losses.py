"""Forwards and VJP rules of the losses (table/losses.py), as
torch.nn.functional computes them: the pointwise loss, then ``reduction``
('mean', 'sum' or 'none').  The rules are PyTorch's (derivatives.yaml and
FunctionsManual), written with the table's primitives.
"""

from __future__ import annotations

import numpy as np

from diffcli.errors import DiffcliError

REDUCTIONS = ("mean", "sum", "none")
# PyTorch clamps (1 - x) x below by 1e-12 in BCE's gradient: a C++ float
BCE_EPSILON = float(np.float32(1e-12))
LOG_FLOOR = -100.0  # ... and log(x), log(1 - x) below by this in its value


def check_reduction(name: str, reduction: str, extra: tuple = ()) -> None:
    if reduction not in REDUCTIONS + extra:
        allowed = ", ".join(repr(r) for r in REDUCTIONS + extra)
        raise DiffcliError(
            f"{name}: reduction must be one of {allowed}, got {reduction!r}"
        )


def reduce(loss, reduction):
    if reduction == "none":
        return loss
    return np.sum(loss) if reduction == "sum" else np.mean(loss)


def spread(g, x, t, reduction):
    """The cotangent of the reduced loss per element of the pointwise loss."""
    if reduction != "mean":
        return g
    return g / max(int(np.prod(np.broadcast_shapes(np.shape(x), np.shape(t)))), 1)


def _weighted(loss, weight):
    return loss if weight is None else loss * weight


# --- forwards ----------------------------------------------------------------------


def mse_loss(x, t, reduction="mean"):
    d = np.subtract(x, t)
    return reduce(d * d, reduction)


def smooth_l1_loss(x, t, reduction="mean", beta=1.0):
    d = np.abs(np.subtract(x, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        quadratic = 0.5 * d * d / beta
    return reduce(np.where(d < beta, quadratic, d - 0.5 * beta), reduction)


def huber_loss(x, t, reduction="mean", delta=1.0):
    d = np.abs(np.subtract(x, t))
    return reduce(
        np.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction
    )


def binary_cross_entropy(x, t, reduction="mean", weight=None):
    """-(t log x + (1 - t) log(1 - x)), each log at least -100 (PyTorch's)."""
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), LOG_FLOOR)
        log_rest = np.maximum(np.log1p(np.negative(x)), LOG_FLOOR)
    loss = -(t * log_x + (1 - np.asarray(t)) * log_rest)
    return reduce(_weighted(loss, weight), reduction)


def bce_with_logits(x, t, reduction="mean", weight=None, pos_weight=None):
    """(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), stable for any x."""
    x, t = np.asarray(x), np.asarray(t)
    softplus_neg = np.logaddexp(0.0, -x)
    scale = 1.0 if pos_weight is None else 1 + (np.asarray(pos_weight) - 1) * t
    loss = (1 - t) * x + scale * softplus_neg
    return reduce(_weighted(loss, weight), reduction)


def nll_loss(x, target, weight=None, reduction="mean", ignore_index=-100):
    """-x[n, target[n], ...] * weight[target[n]], the mean weighted by weight."""
    picked, w = _picked(np.asarray(x), target, weight, ignore_index)
    loss = -np.sum(np.asarray(x) * picked, axis=_class_axis(x))
    if reduction == "none":
        return loss
    total = np.sum(loss)
    return total if reduction == "sum" else total / _total(w)


def _total(w: np.ndarray):
    """The summed weights as a Python number (an int for unit weights)."""
    total = np.sum(w)
    return int(total) if np.issubdtype(w.dtype, np.integer) else float(total)


def _class_axis(x) -> int:
    return 1 if np.ndim(x) >= 2 else 0


def _picked(x, target, weight, ignore_index):
    """One-hot of target along the class axis times each class's weight (0
    where target == ignore_index), and the weights per sample."""
    axis = _class_axis(x)
    classes = np.shape(x)[axis]
    target = np.asarray(target)
    keep = target != ignore_index
    # integers where they can be: on SymPy values the loss stays exact
    w = np.ones(classes, dtype=np.int64) if weight is None else np.asarray(weight)
    safe = np.where(keep, target, 0)
    per_sample = np.where(keep, w[safe], 0)
    onehot = np.moveaxis(np.eye(classes, dtype=np.int64)[safe], -1, axis)
    return onehot * np.expand_dims(per_sample, axis), per_sample


# --- rules -------------------------------------------------------------------------


def mse_loss_vjp(sign):
    def rule(F, g, ans, x, t, reduction="mean"):
        return spread(g, x, t, reduction) * (2 * sign) * (x - t)

    return rule


def smooth_l1_loss_vjp(sign):
    def rule(F, g, ans, x, t, reduction="mean", beta=1.0):
        d = x - t
        inside = F.abs(d) < beta
        slope = F.where(inside, d / (beta if beta else 1.0), F.sign(d))
        return spread(g, x, t, reduction) * (sign * slope)

    return rule


def huber_loss_vjp(sign):
    def rule(F, g, ans, x, t, reduction="mean", delta=1.0):
        d = x - t
        slope = F.where(F.abs(d) <= delta, d, delta * F.sign(d))
        return spread(g, x, t, reduction) * (sign * slope)

    return rule


def bce_input_vjp(F, g, ans, x, t, reduction="mean", weight=None):
    """g (x - t) / max((1 - x) x, 1e-12), PyTorch's clamp."""
    slope = (x - t) / F.clamp(x * (1 - x), min=BCE_EPSILON)
    return _weighted(spread(g, x, t, reduction) * slope, weight)


def bce_target_vjp(F, g, ans, x, t, reduction="mean", weight=None):
    """-logit(x) g."""
    slope = F.log1p(-x) - F.log(x)
    return _weighted(spread(g, x, t, reduction) * slope, weight)


def bce_logits_input_vjp(
    F, g, ans, x, t, reduction="mean", weight=None, pos_weight=None
):
    if pos_weight is None:
        slope = F.sigmoid(x) - t
    else:
        scale = 1 + (pos_weight - 1) * t
        slope = scale * F.sigmoid(x) - pos_weight * t
    return _weighted(spread(g, x, t, reduction) * slope, weight)


def bce_logits_target_vjp(
    F, g, ans, x, t, reduction="mean", weight=None, pos_weight=None
):
    # d/dt = (pos_weight - 1) softplus(-x) - x, softplus(-x) = -logsigmoid(x)
    slope = -x if pos_weight is None else (1 - pos_weight) * F.logsigmoid(x) - x
    return _weighted(spread(g, x, t, reduction) * slope, weight)


def nll_vjp(F, g, ans, x, target, weight=None, reduction="mean", ignore_index=-100):
    picked, w = _picked(np.asarray(x), target, weight, ignore_index)
    if reduction == "none" and np.ndim(x) >= 2:  # one cotangent per sample
        g = F.reshape(g, shape=np.shape(w)[:1] + (1,) + np.shape(w)[1:])
    elif reduction == "mean":
        g = g / _total(w)
    return g * -picked
