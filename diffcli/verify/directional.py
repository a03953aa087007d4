"""--direction: the derivative along a direction, J v (a Jacobian-vector
product; for a scalar value the directional derivative), contracted from the
cross-checked gradient or Jacobian and its closed forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.errors import ExprError
from diffcli.verify import witnesses as W
from diffcli.verify.question import Values, to_value, value_pairs


@dataclass
class Directional:
    """A Jacobian-vector product J v: the derivative along ``along`` (a
    directional derivative for a scalar value), from the cross-checked
    gradient or Jacobian contracted with v."""

    along: dict[str, np.ndarray]
    value: np.ndarray
    closed_form: Any = None  # the closed forms contracted the same way


def along(result: Any, direction: Values) -> Any:
    """``result`` with its derivative along ``direction`` (name -> value of the
    variable's shape; variables not named move by 0) as J v."""
    jacobian = getattr(result, "jacobian", None)  # a JacobianResult, or not
    blocks = result.gradient if jacobian is None else jacobian
    if jacobian is None and (result.order != 1 or result.seed is not None):
        raise ExprError("--direction needs --order 1 and no --seed")
    v = {}
    for name, value in value_pairs(direction):
        if name not in blocks:
            raise ExprError(
                f"'{name}' in --direction is not a variable; the variables are "
                + ", ".join(blocks)
            )
        shape = np.shape(result.point[name])
        array = np.asarray(to_value(name, value), dtype=np.float64)
        try:
            v[name] = np.broadcast_to(array, shape).copy()
        except ValueError:
            raise ExprError(
                f"the direction of '{name}' has shape {array.shape}, "
                f"but '{name}' has shape {shape}"
            ) from None
    if not v:
        raise ExprError("--direction needs NAME=VALUE for at least one variable")
    if any(blocks[n] is None for n in v):
        raise ExprError("--direction needs values for the variables (--at)")
    out_ndim = np.ndim(blocks[next(iter(v))]) - np.ndim(result.point[next(iter(v))])
    value = sum(_contract(blocks[n], v[n], out_ndim) for n in v)
    forms = result.closed_form
    closed = None
    if forms is not None and all(n in forms for n in v):
        closed = _tidy(result, sum(_contract(forms[n], v[n], out_ndim) for n in v))
    result.direction = Directional(v, np.asarray(value, dtype=np.float64), closed)
    return result


def _tidy(result: Any, forms: Any) -> np.ndarray:
    """The contracted closed forms simplified (checked to stay the same)."""
    from diffcli.expr.tidy import tidy

    values = {
        label: float(x)
        for n, p in result.point.items()
        for label, x in zip(W.element_labels(n, np.shape(p)), np.ravel(p), strict=True)
    }
    forms = np.asarray(forms, dtype=object)
    at = {
        s: values[s.name]
        for e in forms.flat
        for s in getattr(e, "free_symbols", ())
        if s.name in values
    }
    return tidy(forms.reshape(-1), at=at).reshape(forms.shape)


def _contract(block: Any, v: np.ndarray, out_ndim: int) -> Any:
    """sum over the variable's axes of block * v (any dtype, SymPy too)."""
    block = np.asarray(block)
    if block.dtype == object:  # closed forms: exact numbers, 1 not 1.0
        from diffcli.expr import symbolic as S

        v = S.obj(v)
    product = block * v.reshape((1,) * out_ndim + v.shape)
    axes = tuple(range(out_ndim, block.ndim))
    return product.sum(axis=axes) if axes else product
