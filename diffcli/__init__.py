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
from diffcli.engine.functional import (
    abs,
    add,
    allclose,
    amax,
    amin,
    broadcast_to,
    clamp,
    cos,
    div,
    dot,
    eq,
    equal,
    exp,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    ne,
    neg,
    norm,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    sqrt,
    stack,
    sub,
    sum,
    t,
    tan,
    tanh,
    transpose,
    where,
)
from diffcli.engine.gradcheck import gradcheck, gradgradcheck
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError, ExprError

clip = clamp
__version__ = "0.1.0"

# PyTorch programs import these by their old paths (from torch.autograd import ...).
_sys.modules[__name__ + ".autograd"] = autograd
_sys.modules[__name__ + ".optim"] = optim

__all__ = [name for name in dir() if not name.startswith("_")]
