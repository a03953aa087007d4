"""``torch.nn.functional``'s names for the table's activations and losses.

Made from THE table: each name below that the table defines is offered, as
is every table function of category "activation" or "loss", so the
namespace grows with the table.  ``inplace=True`` (PyTorch's flag on
activations) changes the input in place, as there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diffcli.engine.functional import API
from diffcli.engine.inplace import assign
from diffcli.engine.table import BY_NAME, FUNCTIONS
from diffcli.engine.tensor import Tensor

# torch.nn.functional names of differentiable functions a table may define.
TORCH_NAMES = (
    "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
    "softsign", "sigmoid", "tanh", "logsigmoid", "hardtanh", "hardsigmoid",
    "hardswish", "leaky_relu", "softmax", "log_softmax", "softmin", "tanhshrink",
    "softshrink", "hardshrink", "threshold", "glu", "normalize", "linear",
    "bilinear", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "nll_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
    "cosine_similarity", "pairwise_distance", "cosine_embedding_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "triplet_margin_loss", "one_hot", "pad",
)  # fmt: skip
CATEGORIES = ("activation", "loss")


def _offered() -> dict[str, Callable[..., Any]]:
    names = [n for n in TORCH_NAMES if n in BY_NAME]
    names += [
        name
        for fn in FUNCTIONS.values()
        if fn.category in CATEGORIES
        for name in (fn.name, *fn.aliases)
    ]
    return {n: _with_inplace(API[n]) for n in dict.fromkeys(names) if n in API}


def _with_inplace(f: Callable[..., Any]) -> Callable[..., Any]:
    """PyTorch's ``inplace=`` flag: write the result into the input."""

    def call(input: Any, *args: Any, inplace: bool = False, **kwargs: Any) -> Any:
        if inplace and isinstance(input, Tensor):
            return assign(input, lambda x: f(x, *args, **kwargs))
        return f(input, *args, **kwargs)

    call.__name__ = call.__qualname__ = f.__name__
    call.__doc__ = f.__doc__
    return call


OFFERED = _offered()
globals().update(OFFERED)
__all__ = sorted(OFFERED)
