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
from diffcli.engine import inplace, tensor_extras
from diffcli.engine.autograd import backward as _backward
from diffcli.engine.table import FUNCTIONS
from diffcli.engine.table import PRIMITIVES as P
from diffcli.engine.tensor import Tensor, _unwrap_index, apply

# PyTorch records ``2 * x`` as ``x * 2``: the tensor first, as its own operator.
COMMUTATIVE = ("add", "mul")
# Table functions that get an in-place method ``x.name_(...)``.
INPLACE_CATEGORIES = ("arithmetic", "elementwise")


def install() -> None:
    """Attach the operators and methods to ``Tensor``."""

    def binary(name: str, reflected: bool = False):
        prim = P[name]
        if reflected and name not in COMMUTATIVE:
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

    def __rtruediv__(self: Tensor, other: Any) -> Tensor:
        """PyTorch's ``2 / x`` is ``x.reciprocal() * 2``: two nodes, its
        rounding (integers divide as numbers: their reciprocal would be 0)."""
        if self._data.dtype.kind not in "fc":
            return apply(P["div"], other, self)
        return apply(P["mul"], apply(P["reciprocal"], self), other)

    Tensor.__rtruediv__ = __rtruediv__
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
    Tensor.argmax = fn._method(fn.argmax)
    Tensor.argmin = fn._method(fn.argmin)
    Tensor.float = lambda self: fn.cast(self, np.float32)
    Tensor.double = lambda self: fn.cast(self, np.float64)
    Tensor.half = lambda self: fn.cast(self, np.float16)
    Tensor.long = lambda self: fn.cast(self.detach(), np.int64)
    Tensor.int = lambda self: fn.cast(self.detach(), np.int32)
    Tensor.bool = lambda self: fn.cast(self.detach(), np.bool_)
    tensor_extras.install()

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

    Tensor.__setitem__ = inplace.setitem
    Tensor.fill_ = inplace.fill_
    Tensor.zero_ = inplace.zero_
    Tensor.copy_ = inplace.copy_
    for name, op in [("add", "add"), ("sub", "sub"), ("mul", "mul"), ("div", "div")]:
        method = inplace.binary(P[op])
        setattr(Tensor, f"__i{'truediv' if name == 'div' else name}__", method)
        setattr(Tensor, f"{name}_", method)
    Tensor.__ipow__ = inplace.binary(P["pow"])
    for f in FUNCTIONS.values():
        if f.method and f.category in INPLACE_CATEGORIES and "api" in f.surfaces:
            for name in (f.name, *f.aliases):
                if name + "_" not in Tensor.__dict__:
                    setattr(Tensor, name + "_", inplace.method_(fn.API[name]))
