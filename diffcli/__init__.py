"""diffcli: reverse-mode autodiff on numpy with PyTorch's semantics, cross-checked
by SymPy.  ``import diffcli as dc`` reads like ``import torch``.
"""

import sys as _sys

from diffcli import autograd, linalg, nn
from diffcli.engine import optim
from diffcli.engine.creation import (
    DoubleTensor,
    FloatTensor,
    arange,
    as_tensor,
    double,
    eye,
    float,
    from_numpy,
    full,
    half,
    linspace,
    long,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    short,
    tensor,
    zeros,
    zeros_like,
)
from diffcli.engine.dtypes import (
    DeviceError,
    backends,
    bool_,
    cuda,
    device,
    float16,
    float32,
    float64,
    get_default_device,
    get_default_dtype,
    int16,
    int32,
    int64,
    set_default_device,
    set_default_dtype,
    uint8,
)
from diffcli.engine.functional import API as _API
from diffcli.engine.functional import argmax, argmin
from diffcli.engine.grad_mode import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from diffcli.engine.gradcheck import gradcheck, gradgradcheck
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError, ExprError

globals().update(_API)  # every table function offered to Python, by name
__version__ = "0.1.0"

# PyTorch programs import this by its path (from torch.optim import SGD).
_sys.modules[__name__ + ".optim"] = optim

__all__ = [name for name in dir() if not name.startswith("_")]
