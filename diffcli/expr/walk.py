"""One walk over the expression tree, shared by the numeric and symbolic interpreters.

The walk knows the language (which function is which primitive of the table,
what a list or an index means) and checks shapes, so that both interpreters
accept exactly the same expressions and report errors at the same place.  A
``Backend`` only says what a number, a variable and a primitive call are.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from diffcli.errors import DiffcliError, ExprError
from diffcli.expr import parser as P

BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "@": "matmul"}
COMPARE = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
ELEMENTWISE = frozenset(P.ELEMENTWISE)
MAX_ELEMENTS = P.MAX_CONSTRUCTED_ELEMENTS


class Interrupt(DiffcliError):
    """A backend's budget (time, size) ran out: not a fault of any one node, so
    the walk lets it through unchanged instead of pointing at where it struck."""


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
    return _Walk(backend, source).eval(expr)


class _Walk:
    def __init__(self, backend: Backend, source: str) -> None:
        self.b = backend
        self.source = source

    def error(self, message: str, node: Any) -> ExprError:
        return ExprError(message, self.source, node.col, node.end)

    def eval(self, e: P.Expr) -> Any:
        try:
            return getattr(self, type(e).__name__)(e)
        except (ExprError, Interrupt):
            raise
        except (
            DiffcliError,
            ValueError,
            TypeError,
            IndexError,
            ZeroDivisionError,
        ) as err:
            raise self.error(str(err).split("\n")[0], e) from None
        except (OverflowError, MemoryError) as err:
            raise self.error(f"too large to compute: {err}", e) from None

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
        return value if e.op == "+" else self.b.op("neg", value)

    def Binary(self, e: P.Binary) -> Any:
        a, b = self.eval(e.left), self.eval(e.right)
        if e.op == "@":
            return self.product("matmul", a, b, e)
        self.broadcast(e, e.op, a, b)
        return self.b.op(BINARY[e.op], a, b)

    def Compare(self, e: P.Compare) -> Any:
        a, b = self.eval(e.left), self.eval(e.right)
        self.broadcast(e, e.op, a, b)
        return self.b.op(COMPARE[e.op], a, b)

    def broadcast(self, e: Any, what: str, *values: Any) -> tuple[int, ...]:
        shapes = [self.b.shape(v) for v in values]
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            listed = " and ".join(str(s) for s in shapes)
            raise self.error(
                f"shapes {listed} do not broadcast together in '{what}'", e
            ) from None

    def product(self, name: str, a: Any, b: Any, e: Any) -> Any:
        sa, sb = self.b.shape(a), self.b.shape(b)
        need = {"dot": (1, 1), "mm": (2, 2)}.get(name)
        if need and (len(sa), len(sb)) != need:
            raise self.error(
                f"{name} needs {need[0]}-D and {need[1]}-D arguments, got "
                f"shapes {sa} and {sb}",
                e,
            )
        if not sa or not sb:
            raise self.error(f"{name} needs arrays, got shapes {sa} and {sb}", e)
        inner = sb[-2] if len(sb) > 1 else sb[0]
        if sa[-1] != inner:
            raise self.error(
                f"shapes {sa} and {sb} cannot be multiplied in {name} "
                f"({sa[-1]} != {inner})",
                e,
            )
        return self.b.op(name, a, b)

    # --- containers -----------------------------------------------------------
    def ListExpr(self, e: P.ListExpr) -> Any:
        items = [self.eval(item) for item in e.items]
        if not items:
            raise self.error("an empty list has no value", e)
        shapes = {self.b.shape(v) for v in items}
        if len(shapes) > 1:
            raise self.error(f"list items have different shapes {sorted(shapes)}", e)
        return self.b.op("stack", *items, axis=0)

    def Index(self, e: P.Index) -> Any:
        value = self.eval(e.value)
        index = tuple(self.index_item(item) for item in e.items)
        shape = self.b.shape(value)
        try:
            np.empty(shape, dtype=bool)[index]
        except IndexError as err:
            raise self.error(
                f"{err} (the indexed value has shape {shape})", e
            ) from None
        return self.b.op("getitem", value, index=index if len(index) > 1 else index[0])

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
        f, kw = e.func, dict(e.kwargs)
        if f in ("arange", "ones", "zeros", "eye", "linspace"):
            return self.b.array(self.construct(e))
        args = [self.eval(a) for a in e.args]
        if f in ELEMENTWISE:
            return self.b.op(f, args[0])
        if f == "detach":
            return self.b.detach(args[0])
        if f == "pow":
            self.broadcast(e, "pow", *args)
            return self.b.op("pow", *args)
        if f in ("maximum", "minimum"):
            self.broadcast(e, f, *args)
            return self.b.op(f, *args)
        if f in ("dot", "mm", "matmul"):
            return self.product(f, *args, e)
        if f == "where":
            self.broadcast(e, "where", *args)
            return self.b.op("where", *args)
        if f == "clamp":
            bounds = list(e.args[1:]) + [None] * (3 - len(e.args))
            lo, hi = kw.get("min", bounds[0]), kw.get("max", bounds[1])
            if lo is None and hi is None:
                raise self.error("clamp needs min or max", e)
            return self.b.op(
                "clamp",
                args[0],
                min=None if lo is None else self.number_arg(lo),
                max=None if hi is None else self.number_arg(hi),
            )
        if f == "transpose":
            return self.transpose(e, args[0])
        return self.reduction(e, f, args[0], kw)

    def transpose(self, e: P.Call, value: Any) -> Any:
        ndim = len(self.b.shape(value))
        if len(e.args) == 3:
            d0, d1 = self.integer(e.args[1]), self.integer(e.args[2])
            if not (-ndim <= d0 < ndim and -ndim <= d1 < ndim):
                raise self.error(
                    f"dimensions ({d0}, {d1}) out of range for {ndim}-D", e
                )
            return self.b.op("transpose", value, dim0=d0, dim1=d1)
        return value if ndim < 2 else self.b.op("mT", value)

    def reduction(self, e: P.Call, f: str, value: Any, kw: dict) -> Any:
        dim_node = kw.get("dim", e.args[1] if len(e.args) > 1 else None)
        dim = None
        if dim_node is not None:
            dim = (
                tuple(self.integer(i) for i in dim_node.items)
                if isinstance(dim_node, P.ListExpr)
                else self.integer(dim_node)
            )
            ndim = len(self.b.shape(value))
            for d in dim if isinstance(dim, tuple) else (dim,):
                if not -max(ndim, 1) <= d < max(ndim, 1):
                    raise self.error(f"dim {d} is out of range for a {ndim}-D value", e)
        keepdim = bool(self.integer(kw["keepdim"])) if "keepdim" in kw else False
        shape = self.b.shape(value)
        if f in ("max", "min") and 0 in shape:
            raise self.error(f"{f} of an empty value", e)
        name = {"max": "amax", "min": "amin"}.get(f, f)
        if f in ("max", "min") and isinstance(dim, int) and shape:
            name = f"{f}_dim"  # torch.max(x, dim): the gradient goes to the index
        params = {"dim": dim, "keepdim": keepdim}
        if f == "norm":
            p = self.number_arg(kw["p"]) if "p" in kw else 2
            if not p > 0 or not np.isfinite(p):
                raise self.error(f"norm needs p > 0, got {p}", e)
            params["p"] = int(p) if float(p).is_integer() else p
        return self.b.op(name, value, **params)

    def construct(self, e: P.Call) -> np.ndarray:
        """The constant arrays arange/ones/zeros/eye/linspace, size-checked."""
        args = [self.number_arg(a) for a in e.args]
        if e.func == "arange":
            start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
            if step == 0:
                raise self.error("arange step must not be zero", e)
            count = max(0, int(np.ceil((stop - start) / step)))
            if count > MAX_ELEMENTS:
                raise self.error(
                    f"arange would make {count} elements (limit {MAX_ELEMENTS})", e
                )
            return np.arange(start, stop, step, dtype=np.float64)
        if e.func == "linspace":
            return np.linspace(args[0], args[1], int(args[2]))
        if e.func == "eye":
            return np.eye(*(int(a) for a in args))
        shape = tuple(int(a) for a in args)
        return (np.ones if e.func == "ones" else np.zeros)(shape)
