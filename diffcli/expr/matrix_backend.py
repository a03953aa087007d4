"""The third backend of the shared walk: matrix expressions, and their gradient.

``MatrixBackend`` turns the tree into a matrix expression (matrix_expr.py)
over the names, each with its shape; ``gradient`` runs reverse mode over it
with the adjoint rules written as matrix expressions (``Z = A @ B``: ``dA =
G @ B.T``, ``dB = A.T @ G``; ``det``: ``G * det(X) * inv(X).T``; ...), so the
result reads ``2 * A.T @ (A @ w - b)``.  What it does not cover raises
``NoMatrixForm`` with the reason, never a wrong form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from diffcli.expr import matrix_expr as X
from diffcli.expr import matrix_select as S
from diffcli.expr import parser as P
from diffcli.expr.matrix_expr import M, NoMatrixForm
from diffcli.expr.matrix_text import text
from diffcli.expr.walk import evaluate


class _Literal:
    """An array written in the expression that is not ones or eye (logdet's
    nan): only logdet's own pattern may use it."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.shape = values, np.shape(values)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """A loss's weights are read as an array (cross_entropy(u, 1, [...]))."""
        return np.asarray(self.values, dtype=dtype)


def _lift(a: Any) -> M:
    if isinstance(a, M):
        return a
    if isinstance(a, bool | np.bool_):
        raise NoMatrixForm("booleans are not supported")
    if isinstance(a, int | float | np.number):
        return X.num(a)
    raise NoMatrixForm("an array written out in the expression is not supported")


class MatrixBackend:
    """Names are matrix leaves of the given shapes; numbers stay exact."""

    def __init__(self, shapes: Mapping[str, tuple]) -> None:
        self.shapes = dict(shapes)

    def number(self, value: float) -> float:
        # kept a number until an op lifts it: a loss's class target is read
        # as one (cross_entropy(u, 1))
        return value

    def constant(self, name: str) -> M:
        return X.leaf(name, ())

    def variable(self, name: str) -> M:
        return X.leaf(name, self.shapes[name])  # KeyError: the walk says so

    def array(self, values: np.ndarray) -> Any:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 0 and np.isfinite(values):
            return X.num(float(values))
        if np.all(values == 1):
            return X.ones(values.shape)
        square = values.ndim == 2 and values.shape[0] == values.shape[1]
        if square and np.array_equal(values, np.eye(values.shape[0])):
            return X.eye(values.shape[0])
        return _Literal(values)

    def detach(self, value: Any) -> M:
        return X.call("detach", _lift(value))

    def shape(self, value: Any) -> tuple[int, ...]:
        return tuple(np.shape(value)) if not isinstance(value, M) else value.shape

    def op(self, name: str, *args: Any, **params: Any) -> Any:
        if name == "where":
            return _where(*args)
        if name == "stack" and all(isinstance(a, float | int) for a in args):
            return _Literal(np.array(args, dtype=np.float64))
        if name in S.COMPARISONS:
            return S.compare(name, _lift(args[0]), _lift(args[1]))
        rule = _FORWARD.get(name)
        if rule is None:
            raise NoMatrixForm(f"{name} is not supported")
        return rule([_lift(a) for a in args], params)


def _where(cond: Any, a: Any, b: Any) -> M:
    """logdet's body: where(det(X) < 0, nan, logabsdet(X)) is logdet(X)."""
    if (
        isinstance(cond, M)
        and cond.op == "lt"
        and isinstance(a, _Literal)
        and isinstance(b, M)
        and b.op == "logabsdet"
    ):
        return X.call("logdet", b.args[0], ())
    if isinstance(a, _Literal) or isinstance(b, _Literal):
        raise NoMatrixForm("an array written out in the expression is not supported")
    return S.where(_lift(cond), _lift(a), _lift(b))


def _one_d(name: str):
    def rule(a: list[M], p: dict) -> M:
        dim = p.get("dim")
        if a[0].ndim != 1 or dim not in (None, 0, -1) or p.get("keepdim"):
            raise NoMatrixForm(f"{name} is supported on vectors only")
        return X.call(name, a[0], () if name == "logsumexp" else None)

    return rule


def _square(name: str, shape: Any = ()):
    def rule(a: list[M], p: dict) -> M:
        x = a[0]
        if x.ndim != 2 or x.shape[0] != x.shape[1]:
            raise NoMatrixForm(f"{name} of a shape {x.shape} is not supported")
        return X.call(name, x, x.shape if shape is None else shape)

    return rule


def _norm(a: list[M], p: dict) -> M:
    order = p.get("p", 2)
    if order not in (1, 2, "fro") or p.get("dim") is not None:
        raise NoMatrixForm("norm is supported as the 1- or 2-norm of all elements")
    if order == 1:
        return X.reduce("sum", X.call("abs", a[0]))
    return X.call("norm", a[0], ())


def _log(a: list[M], p: dict) -> M:
    u = a[0]
    if u.op == "softmax":  # what a reader writes, and a simpler gradient
        return X.call("log_softmax", u.args[0])
    if u.op == "getitem" and u.args[0].op == "softmax":  # one class's
        return S.getitem(_log([u.args[0]], p), u.data)
    return X.call("log", u)


def _nll_loss(a: list[M], p: dict) -> M:
    """One sample's -input[target] (times the target's weight but for 'mean',
    which divides it out again): the cross-entropy of one input vector."""
    x, target = a[0], np.asarray(p["target"])
    if x.ndim != 1 or target.ndim:
        raise NoMatrixForm("cross_entropy is supported for one input vector only")
    t = int(target)
    if t == p.get("ignore_index", -100):
        raise NoMatrixForm("an ignored class target is not supported")
    weight = p.get("weight")
    loss = X.neg(S.getitem(x, t))
    if weight is not None and p.get("reduction", "mean") != "mean":
        loss = X.mul(X.num(float(np.asarray(weight)[t])), loss)
    return loss


def _pow(a: list[M], p: dict) -> M:
    if not X.is_num(a[1]):
        raise NoMatrixForm("** with a non-constant exponent is not supported")
    return X.power(a[0], a[1].data)


_FORWARD: dict[str, Any] = {
    "add": lambda a, p: X.add(a[0], a[1]),
    "sub": lambda a, p: X.add(a[0], X.neg(a[1])),
    "mul": lambda a, p: X.mul(a[0], a[1]),
    "div": lambda a, p: X.div(a[0], a[1]),
    "neg": lambda a, p: X.neg(a[0]),
    "pow": _pow,
    "matmul": lambda a, p: X.matmul(a[0], a[1]),
    "mT": lambda a, p: X.T(a[0]),
    "sum": lambda a, p: X.reduce("sum", a[0], p.get("dim"), p.get("keepdim", False)),
    "mean": lambda a, p: X.reduce("mean", a[0], p.get("dim"), p.get("keepdim", False)),
    "trace": _square("trace"),
    "det": _square("det"),
    "logabsdet": _square("logabsdet"),
    "inv": _square("inv", None),
    "softmax": _one_d("softmax"),
    "log_softmax": _one_d("log_softmax"),
    "logsumexp": _one_d("logsumexp"),
    "norm": _norm,
    "dot": lambda a, p: X.matmul(a[0], a[1]),
    **{f: (lambda a, p, f=f: X.call(f, a[0])) for f in X.ELEMENTWISE},
    "log": _log,
    "getitem": lambda a, p: S.getitem(a[0], p["index"]),
    "maximum": lambda a, p: S.extreme("maximum", a[0], a[1]),
    "minimum": lambda a, p: S.extreme("minimum", a[0], a[1]),
    "nll_loss": _nll_loss,
}


def matrix_of(tree: P.Expr, shapes: Mapping[str, tuple], source: str = "") -> M:
    """The expression as a matrix expression over the names of ``shapes``."""
    out = evaluate(tree, MatrixBackend(shapes), source)
    if not isinstance(out, M):
        raise NoMatrixForm("an array written out in the expression is not supported")
    if out.op == "logabsdet":  # only logdet's pattern may use it
        raise NoMatrixForm("logabsdet is not supported")
    return out


# --- reverse mode ---------------------------------------------------------------
def gradient(f: M, wrt: list[str], seed: M | None = None) -> dict[str, M | None]:
    """d f / d each name of ``wrt`` as a matrix expression (None: f does not
    depend on it); ``seed`` is the adjoint of ``f`` (1 by default)."""
    order = _topological(f)
    adjoint: dict[Any, list[M]] = {f.key: [seed or X.num(1)]}
    found: dict[str, list[M]] = {n: [] for n in wrt}
    for node in reversed(order):
        parts = adjoint.pop(node.key, None)
        if not parts:
            continue
        g = X.add(*sorted(parts, key=_order)) if len(parts) > 1 else parts[0]
        if node.op == "var":
            if node.data in found:
                found[node.data].append(_full(g, node.shape))
            continue
        if not node.args:  # ones, eye: constants
            continue
        for arg, d in _adjoints(node, g):
            adjoint.setdefault(arg.key, []).append(d)
    return {
        n: (X.add(*sorted(parts, key=_order)) if parts else None)
        for n, parts in found.items()
    }


def _order(t: M) -> tuple:
    s = text(t)
    return (t.op == "num", s.count(".T"), len(s), s)  # numbers last: x - 1


def _topological(f: M) -> list[M]:
    order, seen, stack = [], set(), [(f, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node.key not in seen:
            seen.add(node.key)
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a.op != "num")
    return order


def _full(g: M, shape: tuple) -> M:
    """A uniform (broadcast) adjoint made the node's own shape."""
    return g if g.shape == tuple(shape) else X.mul(g, X.ones(shape))


def _unbroadcast(g: M, shape: tuple, full: tuple) -> M:
    """The adjoint of an operand of shape ``shape`` broadcast to ``full``:
    summed over the axes it was stretched along (a bias added to every row:
    summed over the rows); ``g`` may itself be uniform (a broadcast)."""
    shape, full = tuple(shape), tuple(full)
    if shape == full:  # where(y > 0, 1, 0) for a matrix: a row made whole
        return g if g.ndim == 0 else _full(g, full)
    if not g.shape:  # uniform: the sum over the copies is a count
        return X.scale(int(np.prod(full)) // int(np.prod(shape)), g)
    g = _full(g, full)
    if not shape:
        return X.reduce("sum", g)
    lead = len(full) - len(shape)
    if lead:
        g = X.reduce("sum", g, tuple(range(lead)) if lead > 1 else 0)
    kept = [i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1]
    if kept:
        g = X.reduce("sum", g, tuple(kept), True)
    return g


def _unreduce(node: M, g: M) -> M:
    """The adjoint of sum's or mean's argument: ``g`` spread back over the
    axes reduced (a row sum's adjoint is outer(g, ones(n)))."""
    u = node.args[0]
    if node.data is not None:
        axes, keep = node.data
        axes = tuple(a % u.ndim for a in axes)
        if axes == (1,) and u.ndim == 2 and not keep:
            g = X.outer(_full(g, node.shape), X.ones(u.shape[1:]))
        elif not keep and axes != tuple(range(len(axes))):
            raise NoMatrixForm(
                f"the gradient of {node.op} over dim={axes} is not supported"
            )
    if node.op == "mean":
        size = int(np.prod(u.shape)) // max(1, int(np.prod(node.shape)))
        g = X.div(g, X.num(size))
    return g


def _adjoints(node: M, g: M) -> list[tuple[M, M]]:
    op, a = node.op, node.args
    if op == "add":
        return [(t, _unbroadcast(g, t.shape, node.shape)) for t in a]
    if op == "mul":
        return [
            (a[0], _unbroadcast(X.mul(g, a[1]), a[0].shape, node.shape)),
            (a[1], _unbroadcast(X.mul(g, a[0]), a[1].shape, node.shape)),
        ]
    if op == "div":
        below = X.neg(X.div(X.mul(g, a[0]), X.power(a[1], 2)))
        return [
            (a[0], _unbroadcast(X.div(g, a[1]), a[0].shape, node.shape)),
            (a[1], _unbroadcast(below, a[1].shape, node.shape)),
        ]
    if op == "pow":
        p = a[1].data
        return [(a[0], X.mul(X.scale(p, g), X.power(a[0], p - 1)))]
    if op == "matmul":
        return _matmul(a[0], a[1], _full(g, node.shape))
    if op == "outer":
        g = _full(g, node.shape)
        return [(a[0], X.matmul(g, a[1])), (a[1], X.matmul(X.T(g), a[0]))]
    if op == "T":  # a row broadcast over the result is a column of the argument
        return [(a[0], X.T(_full(g, node.shape)))]
    if op in ("sum", "mean"):
        return [(a[0], _unreduce(node, g))]
    if op == "trace":
        return [(a[0], X.mul(g, X.eye(a[0].shape[0])))]
    if op == "det":
        return [(a[0], X.mul(X.mul(g, node), X.T(X.call("inv", a[0]))))]
    if op == "logdet":
        return [(a[0], X.mul(g, X.T(X.call("inv", a[0]))))]
    if op == "inv":
        g, t = _full(g, node.shape), X.T(node)
        return [(a[0], X.neg(X.matmul(X.matmul(t, g), t)))]
    if op in ("detach", "sign"):
        return []
    picked = S.adjoints(node, g, _unbroadcast, _full)
    if picked is not None:
        return picked
    return [(a[0], _elementwise(op, a[0], node, g))]


def _matmul(A: M, B: M, g: M) -> list[tuple[M, M]]:
    if A.ndim == 2 and B.ndim == 2:
        return [(A, X.matmul(g, X.T(B))), (B, X.matmul(X.T(A), g))]
    if A.ndim == 2:  # matrix @ vector
        return [(A, X.outer(g, B)), (B, X.matmul(X.T(A), g))]
    return [(A, X.mul(g, B)), (B, X.mul(g, A))]  # vector @ vector


def _elementwise(op: str, u: M, y: M, g: M) -> M:
    """The adjoint of u under y = op(u), elementwise (or softmax's family)."""
    one = X.num(1)
    if op == "tanh":
        return X.mul(g, X.add(one, X.neg(X.power(y, 2))))
    if op == "exp":
        return X.mul(g, y)
    if op == "log":
        return X.div(g, u)
    if op == "sin":
        return X.mul(g, X.call("cos", u))
    if op == "cos":
        return X.neg(X.mul(g, X.call("sin", u)))
    if op == "sqrt":
        return X.div(g, X.scale(2, y))
    if op == "sigmoid":
        return X.mul(g, X.mul(y, X.add(one, X.neg(y))))
    if op == "relu":  # where() broadcasts g; its coefficient stays outside
        c, rest = X.split(g)
        return X.scale(c, M("relu_grad", (u, rest or X.num(1)), u.shape))
    if op == "abs":  # sign(0) is 0: PyTorch's choice at the kink
        return X.mul(g, X.call("sign", u))
    if op == "logsumexp":
        return X.mul(g, X.call("softmax", u))
    if op == "norm":  # u / norm(u), as PyTorch's (nan at 0 there too: 0/0)
        return X.div(X.mul(g, u), y)
    g = _full(g, u.shape)
    if op == "log_softmax":
        return X.add(g, X.neg(X.mul(X.call("softmax", u), X.reduce("sum", g))))
    if op == "softmax":
        return X.mul(y, X.add(g, X.neg(X.reduce("sum", X.mul(g, y)))))
    raise NoMatrixForm(f"the gradient of {op} is not supported")
