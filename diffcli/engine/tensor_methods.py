"""Operators and PyTorch-style methods of Tensor, all delegating to the table.

Kept apart from tensor.py so that the class itself stays about the graph; the
hot operators call ``apply`` directly with their primitive, and every table
function marked as a method is installed from the table
(``functional.install_methods``).  Importing the engine package installs them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.engine import functional as fn
from diffcli.engine.autograd import backward as _backward
from diffcli.engine.table import PRIMITIVES as P
from diffcli.engine.tensor import Tensor, _unwrap_index, apply


def install() -> None:
    """Attach the operators and methods to ``Tensor``."""

    def binary(name: str, reflected: bool = False):
        prim = P[name]
        if reflected:
            return lambda self, other: apply(prim, other, self)
        return lambda self, other: apply(prim, self, other)

    for name, op in [
        ("add", "add"),
        ("sub", "sub"),
        ("mul", "mul"),
        ("truediv", "div"),
        ("pow", "pow"),
        ("matmul", "matmul"),
    ]:
        setattr(Tensor, f"__{name}__", binary(op))
        setattr(Tensor, f"__r{name}__", binary(op, reflected=True))
    Tensor.__matmul__ = lambda self, other: fn.matmul(self, other)
    Tensor.__rmatmul__ = lambda self, other: fn.matmul(other, self)
    for name, op in [
        ("lt", "lt"),
        ("le", "le"),
        ("gt", "gt"),
        ("ge", "ge"),
        ("eq", "eq"),
        ("ne", "ne"),
        ("and", "logical_and"),
        ("or", "logical_or"),
    ]:
        setattr(Tensor, f"__{name}__", binary(op))
    Tensor.__rand__ = binary("logical_and", reflected=True)
    Tensor.__ror__ = binary("logical_or", reflected=True)
    Tensor.__neg__ = lambda self: apply(P["neg"], self)
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = lambda self: apply(P["abs"], self)
    Tensor.__invert__ = lambda self: fn.logical_not(self)
    Tensor.__getitem__ = lambda self, index: apply(
        P["getitem"], self, index=_unwrap_index(index)
    )

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    Tensor.__iter__ = __iter__

    fn.install_methods()
    Tensor.T = property(lambda self: fn.permute(self, *reversed(range(self.ndim))))
    Tensor.mT = property(lambda self: apply(P["mT"], self))
    Tensor.expand_as = lambda self, other: fn.broadcast_to(self, other.shape)
    Tensor.all = lambda self: Tensor._wrap(np.all(self._data))
    Tensor.any = lambda self: Tensor._wrap(np.any(self._data))
    Tensor.argmax = lambda self, dim=None: Tensor._wrap(np.argmax(self._data, axis=dim))
    Tensor.argmin = lambda self, dim=None: Tensor._wrap(np.argmin(self._data, axis=dim))
    Tensor.float = lambda self: fn.cast(self, np.float32)
    Tensor.double = lambda self: fn.cast(self, np.float64)
    Tensor.long = lambda self: fn.cast(self.detach(), np.int64)
    Tensor.to = lambda self, dtype=None, **kw: (
        self if dtype is None else fn.cast(self, dtype)
    )
    Tensor.type = lambda self, dtype=None: (
        str(self.dtype) if dtype is None else fn.cast(self, dtype)
    )

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        _backward(
            [self],
            None if gradient is None else [gradient],
            retain_graph=retain_graph,
            create_graph=create_graph,
        )

    Tensor.backward = backward

    def _inplace(op: str):
        prim = P[op]

        def method(self, other):
            return self._apply_inplace(prim, other)

        return method

    for name, op in [
        ("add", "add"),
        ("sub", "sub"),
        ("mul", "mul"),
        ("truediv", "div"),
    ]:
        setattr(Tensor, f"__i{name}__", _inplace(op))
    Tensor.add_ = _inplace("add")
    Tensor.sub_ = _inplace("sub")
    Tensor.mul_ = _inplace("mul")
    Tensor.div_ = _inplace("div")
