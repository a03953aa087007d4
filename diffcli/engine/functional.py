"""The public functions of ``import diffcli as dc`` and the methods of Tensor,
made from THE table: each function's signature binds the call, its body runs
on engine tensors.

Argument conventions follow PyTorch (``dim``, ``keepdim``); a list or array
argument becomes a float64 tensor, a Python number stays a constant (so
``x * 2`` and ``dc.mul(x, 2)`` record what PyTorch records).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.engine.composites import MaxResult, shape_arg  # noqa: F401  (API)
from diffcli.engine.primitive import Function, Ops
from diffcli.engine.table import FUNCTIONS, PRIMITIVES
from diffcli.engine.tensor import Tensor, _as_array, apply


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(_as_array(x, None))


def _operand(x: Any) -> Any:
    """Tensors and numbers as they are; lists and arrays as tensors."""
    if isinstance(x, Tensor | int | float | np.number | bool):
        return x
    return _t(x)


ENGINE = Ops(
    apply,
    FUNCTIONS,
    PRIMITIVES,
    constant=Tensor._wrap,
    detach=lambda x: _t(x).detach(),
)


def api_function(fn: Function) -> Callable[..., Any]:
    """``dc.<name>``: bind as the signature says, then run the body."""
    body = fn.api or fn.body
    params = fn.signature.params
    if fn.primitive is not None and [p.kind for p in params] == ["T"] and not fn.api:
        prim = fn.primitive  # the common case, kept short: f(input)

        def unary(input: Any) -> Any:
            return apply(prim, _t(input))

        call = unary
    else:
        kinds = [p.kind for p in params]
        bind = fn.signature.bind

        def call(*args: Any, **kwargs: Any) -> Any:
            values = list(bind(args, kwargs).values())
            if not any(isinstance(v, Tensor) for v in values):
                first = kinds.index("T") if "T" in kinds else None
                if first is not None and values[first] is not None:
                    values[first] = _t(values[first])
            for i, kind in enumerate(kinds):
                if kind == "T" and values[i] is not None:
                    values[i] = _operand(values[i])
                elif kind == "tensors":
                    values[i] = [_t(v) for v in values[i]]
            return body(ENGINE, *values)

    call.__name__ = call.__qualname__ = fn.name
    call.__doc__ = f"{fn.signature}: {fn.doc}." + (
        f"\n\nAt kinks and domain edges: {fn.kinks}." if fn.kinks else ""
    )
    return call


API: dict[str, Callable[..., Any]] = {}
for _fn in FUNCTIONS.values():
    if "api" in _fn.surfaces:
        for _name in (_fn.name, *_fn.aliases):
            API[_name] = api_function(_fn)


def _arg(pick: Callable[..., Any]) -> Callable[..., Tensor]:
    def arg(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the extreme element (the first on ties, flattened when
        dim is None), int64 and outside the graph, as torch's."""
        data = _t(input)._data
        index = pick(data, axis=dim, keepdims=keepdim and dim is not None)
        return Tensor._wrap(np.asarray(index, dtype=np.int64))

    arg.__name__ = arg.__qualname__ = pick.__name__
    return arg


globals().update(API)
# Not in the table (nor API): an index has no derivative to check.
argmax, argmin = _arg(np.argmax), _arg(np.argmin)


def cast(input: Any, dtype: Any) -> Tensor:
    """``input`` in another dtype; the gradient comes back in input's dtype."""
    t = _t(input)
    if t.dtype == np.dtype(dtype):
        return t
    return apply(PRIMITIVES["cast"], t, dtype=np.dtype(dtype))


def install_methods() -> None:
    """Each table function marked as a method becomes ``Tensor.<name>``
    (unless Tensor defines that name itself)."""
    for fn in FUNCTIONS.values():
        if fn.method and "api" in fn.surfaces:
            for name in (fn.name, *fn.aliases):
                if name not in Tensor.__dict__:
                    setattr(Tensor, name, _method(API[name]))


def _method(f: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return f(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = f.__name__
    method.__doc__ = f.__doc__
    return method
