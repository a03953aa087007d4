"""Matrix expressions evaluated with numpy, the names given their values:
the matrix form's value at the point (its cost grows as numpy's, not as the
per-component forms')."""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.expr.matrix_expr import M
from diffcli.expr.matrix_select import numpy_item


def value(x: M, values: dict[str, np.ndarray], memo: dict | None = None) -> Any:
    """``x`` evaluated with numpy, the names given their values."""
    memo = {} if memo is None else memo
    if x.key in memo:
        return memo[x.key]
    a = [value(t, values, memo) for t in x.args]
    op = x.op
    with np.errstate(all="ignore"):
        if op == "num":
            out = float(x.data)
        elif op == "var":
            out = np.asarray(values[x.data], dtype=np.float64)
        elif op == "ones":
            out = np.ones(x.shape)
        elif op == "eye":
            out = np.eye(x.shape[0])
        elif op == "add":
            out = sum(a[1:], a[0])
        elif op in _NUMPY:
            out = _NUMPY[op](*a)
        elif op == "select":
            out = np.eye(x.data[0])[numpy_item(x.data[1])]
        elif op == "getitem":
            out = a[0][tuple(map(numpy_item, x.data))]
        elif op in ("sum", "mean"):
            axes, keep = x.data or (None, False)
            out = getattr(np, op)(a[0], axis=axes, keepdims=keep)
        else:
            out = _FUNCTIONS[op](*a)
    memo[x.key] = out
    return out


def _sigmoid(u: Any) -> Any:
    return 1 / (1 + np.exp(-u))


def _softmax(u: Any) -> Any:
    e = np.exp(u - np.max(u))
    return e / np.sum(e)


def _logsumexp(u: Any) -> Any:
    m = np.max(u)
    return m + np.log(np.sum(np.exp(u - m)))


_NUMPY = {
    "mul": np.multiply,
    "div": np.divide,
    "matmul": np.matmul,
    "pow": np.power,
    "T": np.transpose,
    "outer": np.outer,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
    "where": np.where,
    "maximum": np.maximum,
    "minimum": np.minimum,
}
_FUNCTIONS = {
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": np.sqrt,
    "sigmoid": _sigmoid,
    "relu": lambda u: np.maximum(u, 0),
    "abs": np.abs,
    "sign": np.sign,
    "relu_grad": lambda u, g: np.where(u > 0, g, 0.0),
    "trace": np.trace,
    "det": np.linalg.det,
    "inv": np.linalg.inv,
    "logdet": lambda X: np.log(np.linalg.det(X)),
    "norm": lambda u: np.sqrt(np.sum(u * u)),
    "softmax": _softmax,
    "log_softmax": lambda u: u - _logsumexp(u),
    "logsumexp": _logsumexp,
    "detach": lambda u: u,
}
