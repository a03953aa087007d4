"""THE table, losses under their torch.nn.functional names: mse_loss,
l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy (and with logits),
cross_entropy (class indices or probabilities), nll_loss and kl_div, each
with ``reduction``.  grad_fn names are PyTorch's (MseLossBackward0,
NllLossBackward0, ...); weights, pos_weight and class targets are constants,
as in PyTorch, where they get no gradient."""

from __future__ import annotations

import numpy as np

from diffcli.engine import rules_losses as R
from diffcli.engine import shapes as S
from diffcli.engine import twins_losses as Y
from diffcli.engine.table.declare import composite, define
from diffcli.errors import DiffcliError

_LOSS = {"category": "loss", "method": False, "reads_ans": False, "shape": S.loss}
_TWO = "input: T, target: T"
_REDUCE = "*, reduction: str = 'mean'"


def _op(F, name, x, t, reduction, **params):
    R.check_reduction(name, reduction)
    return F.op(name, x, t, reduction=reduction, **params)


def _constant(value):
    """A weight as a constant array (PyTorch gives it no gradient)."""
    return None if value is None else np.asarray(value)


# name, its width parameter ("" for none), what it is, kinks, PyTorch's name
_POINTWISE = [
    ("mse_loss", "", "mean (or sum) of (input - target) ** 2", "", "MseLoss"),
    (
        "smooth_l1_loss",
        "beta",
        "0.5 d**2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = input "
        "- target)",
        "with beta = 0 it is l1_loss: the gradient at d = 0 is 0",
        "SmoothL1Loss",
    ),
    (
        "huber_loss",
        "delta",
        "0.5 d**2 where |d| <= delta, delta (|d| - delta / 2) elsewhere",
        "",
        "HuberLoss",
    ),
]


def _pointwise_body(name: str, width: str):
    def body(F, x, t, reduction="mean", *size):
        return _op(F, name, x, t, reduction, **dict(zip([width], size, strict=False)))

    return body


for _name, _width, _doc, _kinks, _torch in _POINTWISE:
    define(
        f"{_name}({_TWO}, {_REDUCE}" + (f", {_width}: float = 1.0)" if _width else ")"),
        _doc,
        getattr(R, _name),
        (getattr(R, f"{_name}_vjp")(1), getattr(R, f"{_name}_vjp")(-1)),
        sympy=getattr(Y, _name),
        torch=f"{_torch}Backward0",
        body=_pointwise_body(_name, _width),
        kinks=_kinks,
        **_LOSS,
    )


def _l1_loss(F, x, t, reduction="mean"):
    R.check_reduction("l1_loss", reduction)
    d = F.abs(F.sub(x, t))
    return d if reduction == "none" else getattr(F, reduction)(d)


composite(
    f"l1_loss({_TWO}, {_REDUCE})",
    "mean (or sum) of |input - target|",
    _l1_loss,
    kinks="the gradient at input = target is 0 (abs's)",
    category="loss",
    method=False,
)
define(
    f"binary_cross_entropy({_TWO}, weight: T = None, {_REDUCE})",
    "-(target log(input) + (1 - target) log(1 - input)), input a probability",
    R.binary_cross_entropy,
    (R.bce_input_vjp, R.bce_target_vjp),
    sympy=Y.binary_cross_entropy,
    torch="BinaryCrossEntropyBackward0",
    body=lambda F, x, t, weight=None, reduction="mean": _op(
        F, "binary_cross_entropy", x, t, reduction, weight=_constant(weight)
    ),
    kinks="each log is at least -100 (PyTorch's), so input 0 or 1 gives 100; "
    "the gradient divides by max(input (1 - input), 1e-12)",
    **_LOSS,
)
define(
    f"binary_cross_entropy_with_logits({_TWO}, weight: T = None, {_REDUCE}, "
    "pos_weight: T = None)",
    "binary_cross_entropy(sigmoid(input), target), computed stably from the logits",
    R.bce_with_logits,
    (R.bce_logits_input_vjp, R.bce_logits_target_vjp),
    sympy=Y.bce_with_logits,
    torch="BinaryCrossEntropyWithLogitsBackward0",
    body=lambda F, x, t, weight=None, reduction="mean", pos_weight=None: _op(
        F,
        "binary_cross_entropy_with_logits",
        x,
        t,
        reduction,
        weight=_constant(weight),
        pos_weight=_constant(pos_weight),
    ),
    **_LOSS,
)


def _class_targets(name: str, x, target, ignore_index: int) -> np.ndarray:
    """Class indices as integers, each in [0, C) or ignore_index."""
    shape = np.shape(x)
    axis = 1 if len(shape) >= 2 else 0
    if not shape:
        raise DiffcliError(f"{name}: input needs a class dimension, got a scalar")
    wanted = shape[:axis] + shape[axis + 1 :]
    values = np.asarray(target, dtype=float)
    if values.shape != wanted:
        raise DiffcliError(
            f"{name}: class targets for input {shape} have shape {wanted}, got "
            f"{values.shape}"
        )
    if np.any(values != np.round(values)):
        raise DiffcliError(f"{name}: class targets must be integers")
    index = values.astype(np.int64)
    bad = (index != ignore_index) & ((index < 0) | (index >= shape[axis]))
    if np.any(bad):
        raise DiffcliError(
            f"{name}: class target {index[bad][0]} is out of range for "
            f"{shape[axis]} classes"
        )
    return index


def _nll_loss(
    F, x, target, weight=None, ignore_index=-100, reduction="mean", name="nll_loss"
):
    R.check_reduction(name, reduction)
    index = _class_targets(name, x, target, ignore_index)
    return F.op(
        "nll_loss",
        x,
        target=index,
        weight=_constant(weight),
        reduction=reduction,
        ignore_index=ignore_index,
    )


_CLASSES = "weight: T = None, *, ignore_index: int = -100, reduction: str = 'mean'"
define(
    f"nll_loss(input: T, target: T, {_CLASSES})",
    "-input[n, target[n]] (times weight[target[n]]), input log-probabilities",
    R.nll_loss,
    (R.nll_vjp,),
    # PyTorch's nll_loss2d takes (N, C, d1[, d2]) inputs
    torch=lambda inputs, params: (
        "NllLoss2DBackward0" if np.ndim(inputs[0]) >= 3 else "NllLossBackward0"
    ),
    saves_inputs=False,
    body=_nll_loss,
    kinks="'mean' divides by the summed weights of the targets not ignored",
    **{**_LOSS, "shape": S.class_loss},
)


def _cross_entropy(
    F,
    x,
    target,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
):
    """log_softmax over the class dimension, then nll_loss for class indices,
    or -sum(target * log_softmax) for class probabilities (same shape);
    label_smoothing mixes in the uniform target as PyTorch does."""
    R.check_reduction("cross_entropy", reduction)
    axis = 1 if np.ndim(x) >= 2 else 0
    if not np.shape(x):
        raise DiffcliError("cross_entropy: input needs a class dimension")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise DiffcliError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {eps}"
        )
    classes = np.shape(x)[axis]
    logp = F.log_softmax(x, axis)
    weights = None
    if weight is not None:
        shape = [1] * np.ndim(x)
        shape[axis] = -1
        weights = F.constant(np.reshape(np.asarray(weight), shape))
    if np.shape(target) != np.shape(x):
        loss = _nll_loss(
            F, logp, target, weight, ignore_index, reduction, "cross_entropy"
        )
        if not eps:
            return loss
        smooth = _smoothing(
            F, x, target, logp, weights, weight, ignore_index, reduction
        )
        return F.add(F.mul(loss, 1.0 - eps), F.mul(smooth, eps / classes))
    if eps:
        target = F.add(F.mul(target, 1.0 - eps), eps / classes)
    if weights is not None:
        target = F.mul(target, weights)
    terms = F.mul(target, logp)
    if reduction == "none":
        return F.neg(F.sum(terms, axis))
    total = F.neg(F.sum(terms))  # PyTorch's order: NegBackward0 for 'sum'
    count = max(int(np.prod(np.shape(x))) // classes, 1)
    return total if reduction == "sum" else F.div(total, count)


def _smoothing(F, x, target, logp, weights, weight, ignore_index, reduction):
    """PyTorch's smoothing term for class indices: -sum over classes of
    (weighted) log-probabilities, 0 at ignored targets, reduced like nll_loss."""
    index = _class_targets("cross_entropy", x, target, ignore_index)
    kept = index != ignore_index
    axis = 1 if np.ndim(x) >= 2 else 0
    smooth = F.neg(F.sum(logp if weights is None else F.mul(logp, weights), axis))
    if not kept.all():
        smooth = F.mul(smooth, F.constant(kept.astype(np.float64)))
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return F.sum(smooth)
    count = kept.sum() if weight is None else np.asarray(weight)[index[kept]].sum()
    return F.div(F.sum(smooth), float(count))


composite(
    f"cross_entropy(input: T, target: T, {_CLASSES}, label_smoothing: float = 0.0)",
    "log_softmax then nll_loss: target class indices, or class probabilities "
    "of input's shape",
    _cross_entropy,
    category="loss",
    method=False,
)


def _kl_div(F, x, t, reduction="mean", log_target=False):
    """target (log target - input), input log-probabilities; 'batchmean'
    divides the sum by the batch size (the true KL divergence per sample)."""
    R.check_reduction("kl_div", reduction, extra=("batchmean",))
    if log_target:
        pointwise = F.mul(F.exp(t), F.sub(t, x))
    else:
        pointwise = F.sub(F.xlogy(t, t), F.mul(t, x))
    if reduction == "none":
        return pointwise
    if reduction == "batchmean":
        batch = np.shape(x)[0] if np.ndim(x) else 1
        return F.div(F.sum(pointwise), batch)
    return getattr(F, reduction)(pointwise)


composite(
    "kl_div(input: T, target: T, *, reduction: str = 'mean', log_target: bool = False)",
    "Kullback-Leibler divergence of target from exp(input), elementwise "
    "target * (log(target) - input), then reduced",
    _kl_div,
    kinks="target 0 contributes 0 (xlogy), as PyTorch",
    category="loss",
    method=False,
)
