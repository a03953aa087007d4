"""The smaller parts of PyTorch's Tensor API: hooks and retained gradients,
formatting, legacy type names and devices.

Installed on Tensor by ``tensor_methods.install`` beside the operators; what
they register lives in ``hooks.EXTRAS``, so tensors that use none of it pay
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.engine import hooks as H
from diffcli.engine.dtypes import CPU, check_device, type_name
from diffcli.engine.functional import cast
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError


def register_hook(self: Tensor, hook: Callable) -> H.RemovableHandle:
    """``hook(grad)`` runs when this tensor's gradient is computed; a tensor
    it returns replaces the gradient.  On a tensor changed in place later, it
    sees the gradient of the values it was registered on, as in PyTorch."""
    if not self._requires_grad:
        raise DiffcliError(
            "cannot register a hook on a tensor that doesn't require gradient"
        )
    return H.register(self, "hooks", hook)


def register_post_accumulate_grad_hook(
    self: Tensor, hook: Callable
) -> H.RemovableHandle:
    """``hook(tensor)`` after a leaf's ``.grad`` was updated by a backward."""
    if self._prim is not None:
        raise DiffcliError(
            "post accumulate grad hooks cannot be registered on non-leaf tensors"
        )
    if not self._requires_grad:
        raise DiffcliError(
            "cannot register a hook on a tensor that doesn't require gradient"
        )
    return H.register(self, "post_accumulate", hook)


def retain_grad(self: Tensor) -> None:
    """Keep this non-leaf's gradient in ``.grad`` (leaves always keep theirs)."""
    if not self._requires_grad:
        raise DiffcliError("can't retain_grad on Tensor that has requires_grad=False")
    if self._prim is not None:
        H.EXTRAS.of(self).retains = True


def retains_grad(self: Tensor) -> bool:
    extras = H.EXTRAS.get(self)
    return self._prim is not None and extras is not None and extras.retains


def format_(self: Tensor, spec: str) -> str:
    """``f"{t:.4f}"``: a 0-d tensor formats as its number, as in PyTorch."""
    if self._data.ndim == 0:
        return format(self._data.item(), spec)
    if spec:
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return str(self)


def type_(self: Tensor, dtype: Any = None) -> Any:
    """The legacy type name (``diffcli.DoubleTensor``), or a cast to ``dtype``."""
    if dtype is None:
        return type_name(self.dtype)
    if isinstance(dtype, str):
        dtype = _LEGACY_DTYPES.get(dtype.rsplit(".", 1)[-1], dtype)
    return self.to(dtype)


_LEGACY_DTYPES = {
    "DoubleTensor": np.float64,
    "FloatTensor": np.float32,
    "HalfTensor": np.float16,
    "LongTensor": np.int64,
    "IntTensor": np.int32,
    "BoolTensor": np.bool_,
}


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``:
    a cast where the dtype changes; the CPU is the one device."""
    dtype = kwargs.pop("dtype", None)
    check_device(kwargs.pop("device", None))
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(
            f"to() got an unexpected keyword argument '{next(iter(kwargs))}'"
        )
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif _is_dtype(arg):
            dtype = arg
        else:
            check_device(arg)
    return self if dtype is None else cast(self, dtype)


def _is_dtype(arg: Any) -> bool:
    if isinstance(arg, str):
        return False
    try:
        np.dtype(arg)
    except TypeError:
        return False
    return True


def install() -> None:
    Tensor.register_hook = register_hook
    Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
    Tensor.retain_grad = retain_grad
    Tensor.retains_grad = property(retains_grad)
    Tensor.__format__ = format_
    Tensor.type = type_
    Tensor.to = to
    Tensor.device = property(lambda self: CPU)
    Tensor.is_cuda = property(lambda self: False)
    Tensor.cpu = lambda self: self
    Tensor.cuda = lambda self, device=None, **kwargs: check_device("cuda")
    Tensor.output_nr = property(lambda self: (self._params or {}).get("_output", 0))
