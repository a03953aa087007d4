"""Tensor and the graph it records: PyTorch's eager semantics on numpy arrays.

A Tensor wraps one numpy array.  A tensor computed by a primitive from
``ops.PRIMITIVES`` from inputs that require gradients is itself the graph node
(as in micrograd and tinygrad): it keeps the primitive, its inputs and its
params.  One object per operation keeps recording cheap: the first two inputs
live in slots rather than in a tuple of their own, and parameterless nodes
share one empty dict (about a third less memory per node).
``grad_fn`` shows that node as PyTorch names it (grad_fn.py).  The backward
pass lives in ``autograd.py``, in-place changes in ``inplace.py``; this module
only builds graphs.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from diffcli.engine import hooks as H
from diffcli.engine import limits
from diffcli.engine import table as ops
from diffcli.engine.dtypes import default_float
from diffcli.engine.grad_fn import FREED, Freed, GradFn
from diffcli.engine.tensor_repr import dtype_suffix, format_tensor
from diffcli.errors import ArgumentTypeError, DiffcliError

__all__ = ["FREED", "Freed", "GradFn", "GradMode", "Tensor", "apply"]


class _GradMode(threading.local):
    """Whether new operations are recorded (``no_grad`` turns it off).  Each
    thread has its own, and a new thread starts recording, as in PyTorch."""

    enabled: bool = True


GradMode = _GradMode()


class Version:
    """A clock that ticks at every in-place change.

    A tensor's ``_tick`` is the tick at which its values were made, so a node
    recorded before one of its inputs changed in place knows it, with one
    clock for all tensors and nothing stored per edge.  PyTorch's per-tensor
    count (``_version``) is kept beside the few tensors that change
    (hooks.CHANGES).
    """

    now: int = 0


NO_INPUT = object()  # fills the second input slot of a one-input node
NO_PARAMS: dict = {}  # shared by every node without params; nothing mutates it


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``_prim``/``_inputs``/``_params`` describe the operation that made it (None
    for leaves); ``_inputs`` becomes ``Freed`` when a backward frees saved values.
    The inputs are stored as ``_in0``, ``_in1`` and ``_more`` (a tuple of any
    beyond two, or the ``Freed`` marker); ``_inputs`` reassembles them.
    """

    __slots__ = (
        "__weakref__",
        "_data",
        "_in0",
        "_in1",
        "_more",
        "_params",
        "_prim",
        "_requires_grad",
        "_tick",
        "grad",
    )
    __array_ufunc__ = None  # numpy defers to Tensor's reflected operators

    def __init__(self, data: Any = (), requires_grad: bool = False, dtype=None) -> None:
        """PyTorch's legacy constructor: data in the default dtype (float64
        unless set).

        ``dc.tensor`` is the constructor that infers the dtype (ints stay ints).
        """
        if isinstance(data, Tensor):
            data = data._data
        elif isinstance(data, (list, tuple)) and _holds_tensors(data):
            data = np.array(_untensor(data))
        self._data = np.array(data, dtype=dtype or default_float())
        self._requires_grad = False
        self._tick = Version.now
        self._prim = self._params = self._in0 = self._in1 = self._more = None
        self.grad: Tensor | None = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: Any) -> Tensor:
        """A leaf around an array (fast path: no dtype inference, no copy)."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = t._prim = t._params = t._in0 = t._in1 = t._more = None
        t._requires_grad = False
        t._tick = Version.now
        return t

    @property
    def _inputs(self) -> tuple | Freed | None:
        """The inputs of the operation that made this tensor, as recorded."""
        more = self._more
        if more is None:
            if self._prim is None:
                return None
            return (self._in0,) if self._in1 is NO_INPUT else (self._in0, self._in1)
        return more if type(more) is Freed else (self._in0, self._in1, *more)

    @_inputs.setter
    def _inputs(self, inputs: tuple | Freed) -> None:
        if type(inputs) is Freed:
            self._in0 = self._in1 = None  # let go of saved values
            self._more = inputs
            return
        n = len(inputs)
        self._in0 = inputs[0]
        self._in1 = inputs[1] if n > 1 else NO_INPUT
        self._more = inputs[2:] if n > 2 else None

    @property
    def grad_fn(self) -> GradFn | None:
        if self._prim is None:
            return None
        ctx = self._params.get("_ctx")  # a custom Function's node is its context
        return GradFn(self) if ctx is None else ctx

    @property
    def _version(self) -> int:
        """How many times this tensor was changed in place (PyTorch's counter)."""
        changes = H.CHANGES.get(self)
        return 0 if changes is None else changes.edits

    # --- properties -----------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares memory)."""
        return Tensor._wrap(self._array())

    @data.setter
    def data(self, value: Any) -> None:
        self._data = _as_array(
            value._data if isinstance(value, Tensor) else value, None
        )

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf, in place."""
        if self._prim is not None:
            if not requires_grad:
                raise DiffcliError(
                    "you can only change requires_grad flags of leaf variables; "
                    "use .detach() to get a tensor outside the graph"
                )
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise DiffcliError(
                "only Tensors of floating point dtype can require gradients "
                f"(this one is {self._data.dtype}); create it from float data, "
                "e.g. dc.tensor([1., 2.]) or dtype=dc.float64"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._prim is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if not self._data.ndim:
            raise DiffcliError("len() of a 0-d tensor")
        return len(self._data)

    # --- conversion -----------------------------------------------------------
    def numpy(self) -> np.ndarray:
        if self._requires_grad:
            raise DiffcliError(
                "can't call numpy() on a Tensor that requires grad; "
                "use tensor.detach().numpy()"
            )
        return self._array()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self._array() if dtype is None else np.array(self._data, dtype)

    def _array(self) -> np.ndarray:
        """The values as an array that others may share and write: a 0-d
        result kept as a numpy scalar becomes an array, once."""
        if type(self._data) is not np.ndarray:
            self._data = np.asarray(self._data)
        return self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise DiffcliError(
                f"a Tensor with {self._data.size} elements cannot be converted "
                "to a scalar"
            )
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise DiffcliError(
                "Boolean value of a Tensor with more than one value is ambiguous"
            )
        return bool(self._data.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise ArgumentTypeError(
                "only integer tensors of a single element can be an index"
            )
        return int(self._data.item())

    def detach(self) -> Tensor:
        """A new leaf with the same values (shared memory) and no history."""
        return Tensor._wrap(self._array())

    def detach_(self) -> Tensor:
        self._prim = self._params = self._in0 = self._in1 = self._more = None
        self._requires_grad = False
        return self

    def clone(self) -> Tensor:
        """A copy in new memory; gradients flow back to ``self``."""
        return apply(ops.PRIMITIVES["clone"], self)

    def _bump(self) -> H.Changes:
        """Record an in-place change, which nodes recorded earlier must not miss."""
        Version.now += 1
        self._tick = Version.now
        changes = H.CHANGES.of(self)
        changes.edits += 1
        changes.ticks.append(Version.now)
        return changes

    def __repr__(self) -> str:
        suffixes = []
        dtype = dtype_suffix(self._data.dtype)
        if dtype:
            suffixes.append(dtype)
        if self._prim is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn._short_name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self._data, suffixes)

    __str__ = __repr__

    __hash__ = object.__hash__  # identity, at C speed (backward keys dicts by tensor)

    def _take(self, other: Tensor) -> None:
        """Become ``other``: its values and the operation that made them."""
        self._data, self._requires_grad = other._data, other._requires_grad
        self._tick = other._tick
        self._prim, self._params = other._prim, other._params
        self._in0, self._in1, self._more = other._in0, other._in1, other._more


def apply(prim: ops.Primitive, *args: Any, **params: Any) -> Tensor:
    """Run a primitive forward and, when gradients are wanted, record it."""
    record = GradMode.enabled and prim.vjps is not None
    datas, tracked = [], False
    for a in args:
        if isinstance(a, Tensor):
            datas.append(a._data)
            tracked = tracked or (record and a._requires_grad)
        else:
            datas.append(a)
    if limits.ACTIVE.per_result is not None:  # the command line's bounded work
        limits.check(prim, datas, params)
    out = prim.forward(*datas, **params)
    if type(out) is np.ndarray:
        if out.base is not None and any(isinstance(d, np.generic) for d in datas):
            # A view (reshape, expand, ...) of a 0-d result kept as a scalar
            # would view a temporary: made arrays, the inputs share their memory.
            datas = [a._array() if isinstance(a, Tensor) else a for a in args]
            out = prim.forward(*datas, **params)
    elif not isinstance(out, np.floating):
        out = np.asarray(out)
    t = object.__new__(Tensor)
    # 0-d float results stay numpy scalars: arithmetic on them is ten times
    # faster than on 0-d arrays; _array() makes them arrays when shared.
    t._data = out
    t.grad = None
    t._tick = Version.now
    if tracked:
        t._prim, t._params, t._requires_grad = prim, params or NO_PARAMS, True
        t._inputs = args
    else:
        t._prim = t._params = t._in0 = t._in1 = t._more = None
        t._requires_grad = False
    return t


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """numpy array of ``data``; Python floats in the default float dtype
    (float64 unless set), ints stay ints."""
    if dtype is not None:
        return np.array(data, dtype=dtype)
    arr = np.array(data)
    if (arr.dtype.kind == "f" and arr.dtype != np.float32) or arr.dtype.kind == "O":
        arr = arr.astype(np.float64)
    if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):
        default = default_float()
        if default != np.float64:
            arr = arr.astype(default)
    return arr


def _holds_tensors(data: Any) -> bool:
    return any(
        isinstance(d, Tensor) or (isinstance(d, (list, tuple)) and _holds_tensors(d))
        for d in data
    )


def _untensor(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_untensor(d) for d in data]
    return data


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index
