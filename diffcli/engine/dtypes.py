"""Dtypes and devices as PyTorch names them.

diffcli's default float is float64 (PyTorch's is float32); a program may set
either with ``set_default_dtype``.  Devices are accepted, not emulated:
everything runs on the CPU with numpy, so ``"cpu"`` is the one device, and
asking for another says so once, clearly.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError

float16, float32, float64 = (
    np.dtype(np.float16),
    np.dtype(np.float32),
    np.dtype(np.float64),
)
int16, int32, int64 = np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)
uint8, bool_ = np.dtype(np.uint8), np.dtype(np.bool_)


class _Default:
    dtype: np.dtype = float64


def set_default_dtype(dtype: Any) -> None:
    """The dtype of tensors made from Python floats (float64 unless set)."""
    d = np.dtype(dtype)
    if d not in (float16, float32, float64):
        raise DiffcliError(
            f"only floating-point types are supported as the default type, got {d}"
        )
    _Default.dtype = d


def get_default_dtype() -> np.dtype:
    return _Default.dtype


def default_float() -> np.dtype:
    return _Default.dtype


_LEGACY = {
    "float64": "DoubleTensor",
    "float32": "FloatTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def type_name(dtype: Any) -> str:
    """PyTorch's legacy type name of a CPU tensor: ``diffcli.DoubleTensor``."""
    name = np.dtype(dtype).name
    return f"diffcli.{_LEGACY.get(name, name)}"


# --- devices --------------------------------------------------------------------


class DeviceError(DiffcliError):
    """A device other than the CPU was asked for."""


class device:
    """``dc.device("cpu")``: the one device; any other raises DeviceError."""

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        text = str(type)
        kind, _, number = text.partition(":")
        if kind != "cpu":
            raise DeviceError(
                f"diffcli runs on the CPU only: device '{text}' is not available "
                "(it computes with numpy; use 'cpu' or leave the device out)"
            )
        self.type = "cpu"
        self.index = index if index is not None else (int(number) if number else None)

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='cpu'{index})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and other.index == self.index

    def __hash__(self) -> int:
        return hash(("cpu", self.index))


CPU = device("cpu")


def check_device(where: Any) -> None:
    """Accept None, ``"cpu"`` or a CPU device; refuse anything else."""
    if where is not None and not isinstance(where, device):
        device(where)


def set_default_device(where: Any) -> None:
    check_device(where)


def get_default_device() -> device:
    return CPU


cuda = SimpleNamespace(
    is_available=lambda: False,
    device_count=lambda: 0,
    manual_seed=lambda seed: None,
    manual_seed_all=lambda seed: None,
    synchronize=lambda device=None: None,
    empty_cache=lambda: None,
)
backends = SimpleNamespace(
    mps=SimpleNamespace(is_available=lambda: False, is_built=lambda: False),
    cuda=SimpleNamespace(is_built=lambda: False),
)
