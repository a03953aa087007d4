"""``dc.autograd``: PyTorch's ``torch.autograd`` paths over the engine.

``backward``, ``grad`` and the grad-mode switches are the engine's reverse
pass; ``Function`` adds custom rules, ``functional`` Jacobians and Hessians,
``gradcheck``/``gradgradcheck`` finite-difference checks.
"""

import sys as _sys
from typing import Any

from diffcli.autograd import function
from diffcli.engine import gradcheck as _gradcheck_module
from diffcli.engine.autograd import Variable, backward, grad
from diffcli.engine.function import Function, FunctionCtx, once_differentiable
from diffcli.engine.grad_mode import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from diffcli.engine.gradcheck import gradcheck, gradgradcheck

# ``from torch.autograd.gradcheck import gradcheck`` is PyTorch's other path;
# the attribute stays the function, as in torch.
_sys.modules[__name__ + ".gradcheck"] = _gradcheck_module


def __getattr__(name: str) -> Any:
    """``functional`` loads on first use: most programs never need it."""
    if name == "functional":
        import diffcli.autograd.functional as functional

        return functional
    raise AttributeError(f"module 'diffcli.autograd' has no attribute '{name}'")


__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "enable_grad",
    "function",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "no_grad",
    "once_differentiable",
    "set_grad_enabled",
]
