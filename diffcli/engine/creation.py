"""Constructors: tensors from data, ranges, constants and random numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.engine import limits
from diffcli.engine.dtypes import (
    bool_,
    check_device,
    default_float,
    float16,
    float32,
    float64,
    int16,
    int64,
)
from diffcli.engine.functional import shape_arg
from diffcli.engine.tensor import Tensor, _as_array, _untensor
from diffcli.errors import DiffcliError

half, float, double = float16, float32, float64  # PyTorch's aliases
short, long = int16, int64

_rng = np.random.default_rng()


def tensor(
    data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None
) -> Tensor:
    """A tensor from (nested) numbers; float data takes the default float dtype
    (float64 unless set), ints stay ints.

    A list of tensors that require grad is stacked, keeping their graphs, so
    ``dc.tensor([m[0]**2, m[1]**3])`` stays differentiable.
    """
    check_device(device)
    if isinstance(data, (list, tuple)) and _tracks(data):
        from diffcli.engine.functional import cast, stack

        out = stack([tensor(d) if isinstance(d, (list, tuple)) else d for d in data])
        return out if dtype is None else cast(out, dtype)
    if isinstance(data, Tensor):
        data = data._data.copy()
    elif isinstance(data, (list, tuple)):
        data = _untensor(data)
    t = Tensor._wrap(_as_array(data, dtype))
    return t.requires_grad_(True) if requires_grad else t


def _tracks(data: Any) -> bool:
    return any(
        (isinstance(d, Tensor) and d.requires_grad)
        or (isinstance(d, (list, tuple)) and _tracks(d))
        for d in data
    )


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype kept, as in PyTorch)."""
    if not isinstance(array, np.ndarray):
        raise DiffcliError(
            f"from_numpy expects a numpy.ndarray, got {type(array).__name__}"
        )
    return Tensor._wrap(array)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    check_device(device)
    return (
        data
        if isinstance(data, Tensor) and dtype is None
        else tensor(data, dtype=dtype)
    )


def _shape(size: tuple, keyword: Any = None, what: str = "tensor") -> tuple[int, ...]:
    """The shape asked for, within the command line's limits (engine/limits)."""
    shape = tuple(int(n) for n in shape_arg(size if keyword is None else (keyword,)))
    limits.check_new(what, shape)
    return shape


def _make(array: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    check_device(device)
    t = Tensor._wrap(array)
    return t.requires_grad_(True) if requires_grad else t


def zeros(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        np.zeros(_shape(size, what="zeros"), dtype=dtype or default_float()),
        requires_grad,
        device,
    )


def ones(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        np.ones(_shape(size, what="ones"), dtype=dtype or default_float()),
        requires_grad,
        device,
    )


def full(
    size: Any,
    fill_value: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    array = np.full(
        _shape((size,), what="full"), fill_value, dtype=dtype or _kind_of(fill_value)
    )
    return _make(array, requires_grad, device)


def _kind_of(value: Any) -> np.dtype:
    """PyTorch's dtype for a fill value: bool, int64, or the default float."""
    if isinstance(value, bool):
        return bool_
    return int64 if isinstance(value, int) else default_float()


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    limits.check_new("eye", (n, n if m is None else m))
    return _make(np.eye(n, m, dtype=dtype or default_float()), requires_grad, device)


def zeros_like(
    input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        np.zeros(input.shape, dtype=dtype or input.dtype), requires_grad, device
    )


def ones_like(
    input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        np.ones(input.shape, dtype=dtype or input.dtype), requires_grad, device
    )


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Like PyTorch: integer arguments give int64, any float argument the
    default float dtype."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and values.dtype.kind == "f":
        dtype = default_float()
    return _make(values.astype(dtype or int64), requires_grad, device)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    array = np.linspace(start, end, int(steps), dtype=dtype or default_float())
    return _make(array, requires_grad, device)


def manual_seed(seed: int) -> None:
    """Make ``randn``/``rand`` repeatable."""
    global _rng
    _rng = np.random.default_rng(seed)


def randn(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples (``size=()`` gives a 0-d tensor)."""
    values = _rng.standard_normal(_shape(sizes, size, "randn"))
    return _make(values.astype(dtype or default_float()), requires_grad, device)


def rand(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    values = _rng.random(_shape(sizes, size, "rand"))
    return _make(values.astype(dtype or default_float()), requires_grad, device)


def FloatTensor(data: Any) -> Tensor:
    """PyTorch's legacy float32 constructor."""
    return Tensor(data, dtype=float32)


def DoubleTensor(data: Any) -> Tensor:
    return Tensor(data, dtype=float64)
