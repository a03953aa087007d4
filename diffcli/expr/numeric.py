"""The numeric interpreter: an expression tree evaluated with engine tensors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from diffcli.engine.composites import MAX_CONSTRUCTED_ELEMENTS as MAX_ELEMENTS
from diffcli.engine.table import PRIMITIVES
from diffcli.engine.tensor import Tensor, apply
from diffcli.errors import ExprError
from diffcli.expr import parser as P
from diffcli.expr.walk import evaluate


class NumericBackend:
    """Variables are the tensors given; numbers stay plain float64 scalars, so
    ``x**2`` records PowBackward0 as PyTorch does for a Python exponent."""

    def __init__(self, variables: Mapping[str, Tensor]) -> None:
        self.variables = variables

    def number(self, value: float) -> np.float64:
        return np.float64(value)

    def constant(self, name: str) -> np.float64:
        return np.float64(np.pi if name == "pi" else np.e)

    def variable(self, name: str) -> Tensor:
        if name not in self.variables:
            raise KeyError(name)
        return self.variables[name]

    def array(self, values: np.ndarray) -> Tensor:
        return Tensor._wrap(np.asarray(values, dtype=np.float64))

    def op(self, name: str, *args: Any, **params: Any) -> Tensor:
        return apply(PRIMITIVES[name], *args, **params)

    def detach(self, value: Any) -> Any:
        return value.detach() if isinstance(value, Tensor) else value

    def shape(self, value: Any) -> tuple[int, ...]:
        return np.shape(value)


def value_of(text: str) -> np.ndarray:
    """The float64 array a value string (``"[1, 2]"``, ``"pi/4"``) stands for."""
    tree = P.parse_value(text)
    with np.errstate(all="ignore"):
        out = evaluate(tree, NumericBackend({}), text)
    array = np.asarray(out._data if isinstance(out, Tensor) else out, np.float64)
    own = array.base is None and array.flags.writeable and array.flags.c_contiguous
    return array if own else array.copy()  # made here: no second copy of ones(10**7)


def check_size(name: str, value: np.ndarray, text: str = "") -> None:
    """Refuse giant arrays before any work is done on them."""
    if value.size > MAX_ELEMENTS:
        raise ExprError(
            f"'{name}' has {value.size} elements (limit {MAX_ELEMENTS})",
            text,
            0,
            len(text),
        )


def evaluate_numeric(
    tree: P.Expr, variables: Mapping[str, Tensor], source: str = ""
) -> Tensor:
    """Evaluate ``tree`` with the engine; unknown names are ExprErrors with a caret."""
    out = evaluate(tree, NumericBackend(variables), source)
    return out if isinstance(out, Tensor) else Tensor._wrap(out)
