"""Constructors: tensors from data, ranges, constants and random numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.engine.functional import shape_arg
from diffcli.engine.tensor import Tensor, _as_array, _untensor
from diffcli.errors import DiffcliError

float16, float32, float64 = (
    np.dtype(np.float16),
    np.dtype(np.float32),
    np.dtype(np.float64),
)
int32, int64, bool_ = np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.bool_)
float, double, long = float32, float64, int64  # PyTorch's aliases

_rng = np.random.default_rng()


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A tensor from (nested) numbers; float data becomes float64, ints stay ints.

    A list of tensors that require grad is stacked, keeping their graphs, so
    ``dc.tensor([m[0]**2, m[1]**3])`` stays differentiable.
    """
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


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    return (
        data
        if isinstance(data, Tensor) and dtype is None
        else tensor(data, dtype=dtype)
    )


def _shape(size: tuple, keyword: Any = None) -> tuple[int, ...]:
    return tuple(int(n) for n in shape_arg(size if keyword is None else (keyword,)))


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), dtype=dtype or float64), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), dtype=dtype or float64), requires_grad)


def full(
    size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        np.full(_shape((size,)), fill_value, dtype=dtype or float64), requires_grad
    )


def eye(
    n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(np.eye(n, m, dtype=dtype or float64), requires_grad)


def zeros_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(input.shape, dtype=dtype or input.dtype), requires_grad)


def ones_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(input.shape, dtype=dtype or input.dtype), requires_grad)


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Like PyTorch: integer arguments give int64, any float argument float64."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and values.dtype.kind == "f":
        dtype = float64
    return _make(values.astype(dtype or int64), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        np.linspace(start, end, int(steps), dtype=dtype or float64), requires_grad
    )


def manual_seed(seed: int) -> None:
    """Make ``randn``/``rand`` repeatable."""
    global _rng
    _rng = np.random.default_rng(seed)


def randn(
    *sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples (``size=()`` gives a 0-d tensor)."""
    return _make(
        _rng.standard_normal(_shape(sizes, size)).astype(dtype or float64),
        requires_grad,
    )


def rand(
    *sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(
        _rng.random(_shape(sizes, size)).astype(dtype or float64), requires_grad
    )


def FloatTensor(data: Any) -> Tensor:
    """PyTorch's legacy float32 constructor."""
    return Tensor(data, dtype=float32)


def DoubleTensor(data: Any) -> Tensor:
    return Tensor(data, dtype=float64)
