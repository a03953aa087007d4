"""diffcli's small expression tree: the nodes both interpreters walk.

Frozen dataclasses with a source span (``col``, ``end``) for error carets;
equality ignores the span.  ``str()`` gives canonical text back.  parse.py
builds these from user text; interpret.py evaluates them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


class _Node:
    __slots__ = ()

    def __str__(self) -> str:
        return _fmt(self)


def _span() -> int:
    return field(default=0, compare=False)  # equality is structural, not positional


@dataclass(frozen=True, slots=True)
class Num(_Node):
    value: int | float
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Str(_Node):
    """A string: only as the argument of a parameter of kind str
    (``gelu(x, approximate='tanh')``, ``norm(A, 'fro')``)."""

    value: str
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Const(_Node):
    name: str
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Name(_Node):
    id: str
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Unary(_Node):
    op: str
    operand: Expr
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Binary(_Node):
    op: str
    left: Expr
    right: Expr
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Compare(_Node):
    op: str
    left: Expr
    right: Expr
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Call(_Node):
    """``func(*args, **kwargs)``; ``form`` only says how it was written:
    "" as a call, "method" as ``args[0].func(...)``, or the attribute
    (``"T"``, ``"mT"``) that stands for it."""

    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...] = ()
    col: int = _span()
    end: int = _span()
    form: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class ListExpr(_Node):
    items: tuple[Expr, ...]
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Slice(_Node):
    lower: Expr | None
    upper: Expr | None
    step: Expr | None
    col: int = _span()
    end: int = _span()


@dataclass(frozen=True, slots=True)
class Index(_Node):
    value: Expr
    items: tuple[Expr | Slice, ...]
    col: int = _span()
    end: int = _span()


Expr = Num | Str | Const | Name | Unary | Binary | Compare | Call | ListExpr | Index

_PREC = {"+": 2, "-": 2, "*": 3, "/": 3, "@": 3, "**": 5}


def _prec(e: object) -> int:
    if isinstance(e, Compare):
        return 1
    if isinstance(e, Binary):
        return _PREC[e.op]
    if isinstance(e, Unary) or (isinstance(e, Num) and e.value < 0):
        return 4
    return 6


def _fmt(e: object) -> str:
    """Canonical text with only the parentheses Python's grammar needs."""
    par = lambda x, need: f"({_fmt(x)})" if need else _fmt(x)
    if isinstance(e, Num | Str):
        return repr(e.value)
    if isinstance(e, Const | Name):
        return e.name if isinstance(e, Const) else e.id
    if isinstance(e, Unary):
        return e.op + par(e.operand, _prec(e.operand) < 4)
    if isinstance(e, Binary) and e.op == "**":
        return f"{par(e.left, _prec(e.left) <= 5)}**{par(e.right, _prec(e.right) < 4)}"
    if isinstance(e, Binary):  # left-associative: a long chain walked along
        p, spine = _prec(e), chain(e)
        text = par(spine[-1].left, _prec(spine[-1].left) < p)
        for link in reversed(spine):
            text += f" {link.op} {par(link.right, _prec(link.right) <= p)}"
        return text
    if isinstance(e, Compare):
        p = _prec(e)  # comparisons never chain
        left = par(e.left, _prec(e.left) < p + 1)
        return f"{left} {e.op} {par(e.right, _prec(e.right) <= p)}"
    if isinstance(e, Call):
        parts = [_fmt(a) for a in e.args] + [f"{k}={_fmt(v)}" for k, v in e.kwargs]
        if not e.form:
            return f"{e.func}({', '.join(parts)})"
        receiver = par(e.args[0], _prec(e.args[0]) < 6)
        if e.form != "method":
            return f"{receiver}.{e.form}"
        return f"{receiver}.{e.func}({', '.join(parts[1:])})"
    if isinstance(e, ListExpr):
        return f"[{', '.join(_fmt(i) for i in e.items)}]"
    if isinstance(e, Slice):
        bounds = ["" if b is None else _fmt(b) for b in (e.lower, e.upper, e.step)]
        return ":".join(bounds if e.step is not None else bounds[:2])
    if isinstance(e, Index):
        return f"{par(e.value, _prec(e.value) < 6)}[{', '.join(map(_fmt, e.items))}]"
    raise TypeError(f"not an expression node: {e!r}")


def chain(e: Binary) -> list[Binary]:
    """``e`` and the left operands of its precedence (a + b - c: the '-' and
    the '+'), outermost first: a long sum is walked along, not recursed into."""
    spine = [e]
    while (
        e.op != "**"
        and isinstance(spine[-1].left, Binary)
        and _PREC[spine[-1].left.op] == _PREC[e.op]
    ):
        spine.append(spine[-1].left)
    return spine


def children(e: Expr | Slice) -> list[Expr | Slice | None]:
    match e:
        case Unary():
            return [e.operand]
        case Binary() | Compare():
            return [e.left, e.right]
        case Call():
            return [*e.args, *(v for _, v in e.kwargs)]
        case ListExpr():
            return list(e.items)
        case Index():
            return [e.value, *e.items]
        case Slice():
            return [e.lower, e.upper, e.step]
    return []


def walk(expr: Expr | Slice) -> list[Expr | Slice]:
    """Nodes in source order (pre-order, left to right), iteratively."""
    out, stack = [], [expr]
    while stack:
        e = stack.pop()
        out.append(e)
        stack.extend(k for k in reversed(children(e)) if k is not None)
    return out


def free_names(expr: Expr) -> list[str]:
    """Variable names in order of first appearance (constants excluded)."""
    return list(dict.fromkeys(n.id for n in walk(expr) if isinstance(n, Name)))


def literal(e: Expr, memo: dict | None = None) -> float | int | None:
    """Value of a numeric constant expression, or None; never raises.

    ``memo`` (node id -> value) keeps exponent checks on nested ``**`` linear.
    """
    if memo is not None and id(e) in memo:
        return memo[id(e)]
    v: float | int | None = None
    if isinstance(e, Num):
        v = e.value
    elif isinstance(e, Const):
        v = math.pi if e.name == "pi" else math.e
    elif isinstance(e, Unary):
        v = literal(e.operand, memo)
        v = None if v is None else (-v if e.op == "-" else v)
    elif isinstance(e, Binary) and e.op != "@":
        spine = chain(e)  # a long sum: along the chain, not recursed into
        v = literal(spine[-1].left, memo)
        for link in reversed(spine):
            b = None if v is None else literal(link.right, memo)
            v = None if b is None else _arithmetic(link.op, v, b)
    if memo is not None:
        memo[id(e)] = v
    return v


def _arithmetic(op: str, a: float | int, b: float | int) -> float | int | None:
    try:
        if op in "+-*":
            a, b = float(a), float(b)
            return a + b if op == "+" else a - b if op == "-" else a * b
        return a / b if op == "/" else math.pow(a, b)
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return None


def integer(e: Expr) -> int | None:
    """An integer typed as one (``3``, not ``3.0``) or computed (``10**7``)."""
    v = literal(e)
    if isinstance(e, Binary) and isinstance(v, float) and v.is_integer():
        return int(v) if abs(v) < 2**53 else None
    return v if isinstance(v, int) and not isinstance(v, bool) else None
