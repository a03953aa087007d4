"""One walk over the expression tree, shared by the numeric and symbolic interpreters.

The walk knows the language (what an operator, a list or an index means; a
call runs the body of a function of THE table, bound by its signature) and
checks shapes by the table's rules, so that both interpreters accept exactly
the same expressions and report errors at the same place.  A ``Backend`` only
says what a number, a variable and a primitive call are.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from diffcli.engine.limits import OverBudget, one_evaluation
from diffcli.engine.primitive import Ops
from diffcli.engine.table import FUNCTIONS, PRIMITIVES
from diffcli.errors import DiffcliError, ExprError
from diffcli.expr import parser as P

BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "@": "matmul"}
COMPARE = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}


class Interrupt(DiffcliError):
    """A backend's budget (time, size) ran out: not a fault of any one node, so
    the walk lets it through unchanged instead of pointing at where it struck."""


def _cannot(e: Any, err: Exception) -> str:
    """A failure inside a function or operator, in diffcli's words."""
    what = f"{e.func}()" if isinstance(e, P.Call) else "this"
    zero = isinstance(err, ZeroDivisionError)
    why = "a division by zero" if zero else "its arguments"
    return f"{what} cannot be computed here ({why})"


def _out_of_range(index: tuple, shape: tuple) -> str:
    """Which index does not fit ``shape``, said as numpy would mean it."""
    n = sum(i is not None for i in index)
    if n > len(shape):
        return f"too many indices: {len(shape)}-dimensional, but {n} were indexed"
    for axis, (i, size) in enumerate(zip(index, shape, strict=False)):
        for k in i if isinstance(i, list) else [i]:
            if isinstance(k, int) and not -size <= k < size:
                return f"index {k} is out of bounds for axis {axis} with size {size}"
    return "an index is out of range"


class Backend(Protocol):
    """What an interpreter supplies; values are whatever it computes with."""

    def number(self, value: float) -> Any: ...
    def constant(self, name: str) -> Any: ...
    def variable(self, name: str) -> Any: ...
    def array(self, values: np.ndarray) -> Any: ...
    def op(self, name: str, *args: Any, **params: Any) -> Any: ...
    def detach(self, value: Any) -> Any: ...
    def shape(self, value: Any) -> tuple[int, ...]: ...


def evaluate(expr: P.Expr, backend: Backend, source: str = "") -> Any:
    """The value of ``expr``; any failure is an ExprError at the node that failed."""
    with one_evaluation():
        return _Walk(backend, source).eval(expr)


class _Walk:
    def __init__(self, backend: Backend, source: str) -> None:
        self.b = backend
        self.source = source
        self.F = Ops(
            lambda prim, *args, **params: backend.op(prim.name, *args, **params),
            FUNCTIONS,
            PRIMITIVES,
            constant=backend.array,
            detach=backend.detach,
        )

    def error(self, message: str, node: Any) -> ExprError:
        return ExprError(message, self.source, node.col, node.end)

    def eval(self, e: P.Expr) -> Any:
        try:  # one frame per node: the nesting limit is Python's stack
            return getattr(self, type(e).__name__)(e)
        except Exception as err:
            raise self.failed(e, err) from None

    def failed(self, e: P.Expr, err: Exception) -> Exception:
        """What to raise for ``err`` at node ``e``: diffcli's words, never
        Python's; a budget or an error already placed passes unchanged."""
        if isinstance(err, ExprError | Interrupt | OverBudget):  # no node's fault
            return err
        if isinstance(err, DiffcliError):  # diffcli's own sentence
            return self.error(str(err).split("\n")[0], e)
        if isinstance(err, ValueError | TypeError | IndexError | ZeroDivisionError):
            return self.error(_cannot(e, err), e)
        if isinstance(err, OverflowError | MemoryError):
            return self.error("too large to compute", e)
        return err

    # --- leaves -------------------------------------------------------------
    def Num(self, e: P.Num) -> Any:
        return self.b.number(e.value)

    def Const(self, e: P.Const) -> Any:
        return self.b.constant(e.name)

    def Name(self, e: P.Name) -> Any:
        try:
            return self.b.variable(e.id)
        except KeyError:
            raise self.error(f"'{e.id}' is used but has no value", e) from None

    # --- operators ----------------------------------------------------------
    def Unary(self, e: P.Unary) -> Any:
        value = self.eval(e.operand)
        return value if e.op == "+" else self.F.op("neg", value)

    def Binary(self, e: P.Binary) -> Any:
        spine = P.chain(e)  # a + b + c ...: followed, not recursed
        value = self.eval(spine[-1].left)
        for link in reversed(spine):
            try:
                value = self.link(link, value)
            except Exception as err:
                raise self.failed(link, err) from None
        return value

    def link(self, e: P.Binary, a: Any) -> Any:
        b = self.eval(e.right)
        if e.op != "@":
            self.broadcast(e, e.op, a, b)
        return self.F.op(BINARY[e.op], a, b)

    def Compare(self, e: P.Compare) -> Any:
        a, b = self.eval(e.left), self.eval(e.right)
        self.broadcast(e, e.op, a, b)
        return self.F.op(COMPARE[e.op], a, b)

    def broadcast(self, e: Any, what: str, *values: Any) -> tuple[int, ...]:
        shapes = [self.b.shape(v) for v in values]
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            listed = " and ".join(str(s) for s in shapes)
            raise self.error(
                f"shapes {listed} do not broadcast together in '{what}'", e
            ) from None

    # --- containers -----------------------------------------------------------
    def ListExpr(self, e: P.ListExpr) -> Any:
        items = [self.eval(item) for item in e.items]
        if not items:
            raise self.error("an empty list has no value", e)
        shapes = {self.b.shape(v) for v in items}
        if len(shapes) > 1:
            raise self.error(f"list items have different shapes {sorted(shapes)}", e)
        return self.F.op("stack", *items, axis=0)

    def Index(self, e: P.Index) -> Any:
        value = self.eval(e.value)
        index = tuple(self.index_item(item) for item in e.items)
        shape = self.b.shape(value)
        try:
            np.empty(shape, dtype=bool)[index]
        except IndexError:
            said = _out_of_range(index, shape)
            said += f" (the indexed value has shape {shape})"
            raise self.error(said, e) from None
        return self.F.op("getitem", value, index=index if len(index) > 1 else index[0])

    def index_item(self, item: Any) -> Any:
        if isinstance(item, P.Slice):
            bounds = [
                None if b is None else self.integer(b)
                for b in (item.lower, item.upper, item.step)
            ]
            return slice(*bounds)
        if isinstance(item, P.ListExpr):
            return [self.integer(i) for i in item.items]
        return self.integer(item)

    def integer(self, e: P.Expr) -> int:
        value = P.literal(e)
        if value is None or (isinstance(value, float) and not value.is_integer()):
            raise self.error(f"'{e}' must be a constant integer here", e)
        return int(value)

    def number_arg(self, e: P.Expr) -> float:
        value = P.literal(e)
        if value is None:
            raise self.error(f"'{e}' must be a constant number here", e)
        return float(value)

    # --- functions ------------------------------------------------------------
    def Call(self, e: P.Call) -> Any:
        """Any function of the table: arguments bound by its signature, tensor
        arguments evaluated, constant ones read, then its body on this backend."""
        fn = P.FUNCTIONS[e.func]
        bound = fn.signature.bind(e.args, dict(e.kwargs))
        values = [
            self.argument(p.kind, bound[p.name], p.variadic)
            for p in fn.signature.params
        ]
        return fn.body(self.F, *values)

    def argument(self, kind: str, node: Any, variadic: bool) -> Any:
        if variadic:
            return tuple(self.argument(kind, n, False) for n in node)
        if not isinstance(node, P.Expr):
            return node  # the parameter's default
        if isinstance(node, P.Str):
            return node.value
        if kind == "T":
            return self.eval(node)
        if kind == "tensors":
            items = node.items if isinstance(node, P.ListExpr) else (node,)
            return [self.eval(i) for i in items]
        if kind == "dims" and isinstance(node, P.ListExpr):
            return tuple(self.integer(i) for i in node.items)
        if kind in ("int", "dims"):
            return self.integer(node)
        if kind == "bool":
            return bool(self.integer(node))
        return self.number_arg(node)
