"""diffcli: reverse-mode autodiff on numpy with PyTorch's semantics, cross-checked
by SymPy.  ``import diffcli as dc`` reads like ``import torch``.
"""

import sys as _sys

from diffcli.engine import autograd, optim
from diffcli.engine.autograd import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from diffcli.engine.creation import (
    DoubleTensor,
    FloatTensor,
    arange,
    as_tensor,
    bool_,
    double,
    eye,
    float,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    int32,
    int64,
    linspace,
    long,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from diffcli.engine.functional import API as _API
from diffcli.engine.gradcheck import gradcheck, gradgradcheck
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError, ExprError

globals().update(_API)  # every table function offered to Python, by name
__version__ = "0.1.0"

# PyTorch programs import these by their old paths (from torch.autograd import ...).
_sys.modules[__name__ + ".autograd"] = autograd
_sys.modules[__name__ + ".optim"] = optim

__all__ = [name for name in dir() if not name.startswith("_")]
