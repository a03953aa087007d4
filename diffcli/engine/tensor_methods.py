"""Operators and PyTorch-style methods of Tensor, all delegating to the table.

Kept apart from tensor.py so that the class itself stays about the graph; the
hot operators call ``apply`` directly with their primitive.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.engine.table import PRIMITIVES as P


def install(Tensor: type) -> None:
    """Attach the operators and methods to ``Tensor``."""
    from diffcli.engine import functional as fn
    from diffcli.engine.tensor import _unwrap_index, apply

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

    def same(name: str):
        f = getattr(fn, name)
        return lambda self, *args, **kwargs: f(self, *args, **kwargs)

    for name in [
        "sin",
        "cos",
        "tan",
        "exp",
        "log",
        "sqrt",
        "abs",
        "tanh",
        "sigmoid",
        "relu",
        "sign",
        "sum",
        "mean",
        "max",
        "min",
        "amax",
        "amin",
        "norm",
        "dot",
        "mm",
        "matmul",
        "transpose",
        "t",
        "permute",
        "reshape",
        "clamp",
        "pow",
        "maximum",
        "minimum",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "equal",
        "allclose",
        "add",
        "sub",
        "mul",
        "div",
        "neg",
        "isnan",
        "isfinite",
        "logical_and",
        "logical_or",
        "logical_not",
    ]:
        setattr(Tensor, name, same(name))

    Tensor.view = Tensor.reshape
    Tensor.clip = Tensor.clamp
    Tensor.T = property(lambda self: fn.permute(self, *reversed(range(self.ndim))))
    Tensor.mT = property(lambda self: apply(P["mT"], self))
    Tensor.expand = lambda self, *shape: fn.broadcast_to(
        self, _expand_shape(fn.shape_arg(shape), self.shape)
    )
    Tensor.expand_as = lambda self, other: fn.broadcast_to(self, other.shape)
    Tensor.flatten = lambda self: fn.reshape(self, -1)
    Tensor.unsqueeze = lambda self, dim: fn.reshape(
        self, np.expand_dims(np.empty(self.shape, dtype=bool), dim).shape
    )
    Tensor.squeeze = lambda self, dim=None: fn.reshape(
        self, np.squeeze(np.empty(self.shape, dtype=bool), axis=dim).shape
    )
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
        from diffcli.engine.autograd import backward

        backward(
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


def _expand_shape(shape: tuple, current: tuple) -> tuple:
    """expand's target shape, with -1 keeping that dimension's current size."""
    lead = len(shape) - len(current)
    return tuple(
        current[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape)
    )
