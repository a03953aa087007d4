"""User text -> diffcli's own small expression tree.

Python's ``ast`` does the tokenizing, but only a whitelist of node types is
translated; everything else is an ``ExprError`` pointing at the offending text.
User text is never evaluated (no eval/exec/compile/sympify).
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import sys
import warnings

from diffcli.engine.primitive import Function
from diffcli.engine.signature import BindError, Param
from diffcli.engine.table import BY_NAME
from diffcli.errors import ExprError
from diffcli.expr import habits as H
from diffcli.expr.prescan import (  # noqa: F401  (the limits, re-exported)
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_LENGTH,
    MAX_OPERATORS,
    prescan,
    too_deep,
)
from diffcli.expr.tree import (  # noqa: F401  (re-exported: the tree is parse's output)
    Binary,
    Call,
    Compare,
    Const,
    Expr,
    Index,
    ListExpr,
    Name,
    Num,
    Slice,
    Str,
    Unary,
    chain,
    children,
    free_names,
    integer,
    literal,
    walk,
)

MAX_LITERAL_ELEMENTS = 100_000
MAX_EXPONENT = 1000
CONSTANTS = ("pi", "e")
# Named numbers without a symbol of their own: plain float64 values.
NUMBERS = {"inf": math.inf, "nan": math.nan}


def _language() -> dict[str, Function]:
    """The functions the language offers, by name and alias: THE table's."""
    return {n: f for n, f in BY_NAME.items() if "expr" in f.surfaces}


FUNCTIONS = _language()
CONSTANT_KINDS = {"int": "an integer", "dims": "an integer", "bool": "True or False"}
ATTRIBUTES = {"T": "transpose", "mT": "transpose"}  # x.T, x.mT: the last two dims


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_BINOPS[ast.MatMult] = "@"
_BADOPS = {ast.Mod: "%", ast.FloorDiv: "//", ast.LShift: "<<", ast.RShift: ">>"}
_BADOPS |= {ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "=="}
_CMPOPS[ast.NotEq] = "!="
_BADCMP = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
# Plain names for node types outside the whitelist ("... are not supported").
_UNSUPPORTED = {ast.Lambda: "lambda expressions", ast.JoinedStr: "f-strings"}
_UNSUPPORTED |= {ast.Dict: "dictionaries", ast.Set: "sets", ast.Tuple: "tuples"}
_UNSUPPORTED |= {ast.Await: "await expressions", ast.Starred: "starred expressions"}
_UNSUPPORTED |= {ast.Yield: "yield expressions", ast.YieldFrom: "yield expressions"}
_UNSUPPORTED |= {ast.NamedExpr: "assignment expressions (:=)"}
_UNSUPPORTED |= {ast.IfExp: "conditional expressions (use where(cond, a, b))"}
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_UNSUPPORTED |= dict.fromkeys(_COMPS, "comprehensions")


_LEVELS = [{ast.Add, ast.Sub}, {ast.Mult, ast.Div, ast.MatMult}]


def _chained(node: ast.AST, child: ast.AST) -> bool:
    """``child`` is the left operand of ``node``, of the same precedence
    (a - b + c: a chain, walked along; a ** b ** c nests to the right)."""
    return (
        isinstance(node, ast.BinOp)
        and child is node.left
        and isinstance(child, ast.BinOp)
        and any({type(node.op), type(child.op)} <= level for level in _LEVELS)
    )


class _Converter:
    """One parse: translates whitelisted ast nodes, tracking literal sizes."""

    def __init__(self, text: str, body: str, lead: int, origin: list[int]) -> None:
        """``body`` is what Python parsed; ``origin`` maps its characters back
        to ``text`` (``^`` became ``**``), after ``lead`` spaces."""
        self.text, self.body, self.lead, self.elements = text, body, lead, 0
        self.origin = origin
        self.memo: dict[int, float | int | None] = {}
        self.bytemap: list[int] | None = None
        if not body.isascii():
            self.bytemap = [i for i, ch in enumerate(body) for _ in ch.encode()]
            self.bytemap.append(len(body))

    def span(self, node: ast.AST) -> tuple[int, int]:
        a, b = node.col_offset, node.end_col_offset  # UTF-8 byte offsets
        if self.bytemap is not None:
            a, b = self.bytemap[a], self.bytemap[b]
        start = self.origin[a]
        end = self.origin[b - 1] + 1 if b > a else start
        return self.lead + start, self.lead + end

    def error(self, msg: str, node: ast.AST | tuple[int, int]) -> ExprError:
        col, end = node if isinstance(node, tuple) else self.span(node)
        return ExprError(msg, self.text, col, end)

    def check_depth(self, root: ast.AST) -> None:
        stack = [(root, 1)]
        while stack:
            node, d = stack.pop()
            if d > MAX_DEPTH:
                raise self.error(too_deep(), node)
            for c in ast.iter_child_nodes(node):
                # a chain a + b + c ... nests its left operand: a long sum is
                # not deep, and the tree's walks follow such chains iteratively
                deeper = isinstance(c, ast.expr) and not _chained(node, c)
                stack.append((c, d + deeper))

    def expr(
        self, node: ast.AST, cond: bool = False, kw: bool = False, text: bool = False
    ) -> Expr:
        sp = self.span(node)
        if isinstance(node, ast.Constant):
            if text and isinstance(node.value, str):
                return Str(node.value, *sp)
            return self.number(node, sp, kw)
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return Const(node.id, *sp)
            if node.id in NUMBERS:
                return Num(NUMBERS[node.id], *sp)
            if node.id in FUNCTIONS:
                msg = f"'{node.id}' is a function: call it as {node.id}(...)"
                raise self.error(msg, sp)
            return Name(node.id, *sp)
        if isinstance(node, ast.UnaryOp):
            op = {ast.USub: "-", ast.UAdd: "+"}.get(type(node.op))
            if op is None:
                bad = "not" if isinstance(node.op, ast.Not) else "~"
                raise self.error(f"'{bad}' is not supported", sp)
            return Unary(op, self.expr(node.operand), *sp)
        if isinstance(node, ast.BinOp):
            return self.binop(node, sp)
        if isinstance(node, ast.Compare):
            return self.compare(node, sp, cond)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            raise self.error(f"'{op}' is not supported", sp)
        if isinstance(node, ast.Call):
            return self.call(node, sp)
        if isinstance(node, ast.List):
            return self.listexpr(node, sp)
        if isinstance(node, ast.Subscript):
            tup = isinstance(node.slice, ast.Tuple)
            elts = node.slice.elts if tup else [node.slice]
            if not elts:
                raise self.error("an index needs at least one item", node.slice)
            return Index(self.expr(node.value), tuple(map(self.item, elts)), *sp)
        if isinstance(node, ast.Attribute):
            if node.attr in ATTRIBUTES:
                value = self.expr(node.value)
                return Call(ATTRIBUTES[node.attr], (value,), (), *sp, form=node.attr)
            msg = "attribute access is not supported (x.T and x.mT are)"
            raise self.error(msg, sp)
        what = _UNSUPPORTED.get(type(node), f"{type(node).__name__} expressions")
        raise self.error(f"{what} are not supported", sp)

    def number(self, node: ast.Constant, sp: tuple[int, int], kw: bool) -> Num:
        v, shown = node.value, self.text[sp[0] : sp[1]]
        if isinstance(v, bool):
            if kw:
                return Num(v, *sp)
            raise self.error(f"booleans are not supported: '{shown}'", sp)
        if isinstance(v, int | float):
            if abs(v) > sys.float_info.max:  # also inf; never int -> float
                shown = shown if len(shown) <= 20 else shown[:17] + "..."
                raise self.error(f"number {shown} is too large for float64", sp)
            return Num(v, *sp)
        kind = {complex: "complex numbers", str: "strings", bytes: "bytes"}.get(type(v))
        msg = f"{kind} are not supported" if kind else f"{v!r} is not supported"
        raise self.error(msg, sp)

    def binop(self, node: ast.BinOp, sp: tuple[int, int]) -> Binary:
        spine = [node]  # a + b - c ...: the chain is followed, not recursed
        while _chained(spine[-1], spine[-1].left):
            spine.append(spine[-1].left)
        for link in spine:  # outermost first, as the recursion found them
            self.operator(link)
        out = self.expr(spine[-1].left)
        for link in reversed(spine):
            op, right = _BINOPS[type(link.op)], self.expr(link.right)
            if op == "**":
                self.check_exponent(right)
            out = Binary(op, out, right, *self.span(link))
        return out

    def operator(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINOPS:
            sym = _BADOPS.get(type(node.op), "?")
            _, a = self.span(node.left)
            b = self.text.find(sym, a, self.span(node.right)[0])
            at = (b, b + len(sym)) if b >= 0 else self.span(node)
            raise self.error(f"operator '{sym}' is not supported", at)

    def check_exponent(self, e: Expr) -> None:
        v = literal(e, self.memo)
        if v is not None and abs(v) > MAX_EXPONENT:
            msg = f"exponent {e} is too large (limit {MAX_EXPONENT})"
            raise self.error(msg, (e.col, e.end))

    def compare(self, node: ast.Compare, sp: tuple[int, int], cond: bool) -> Compare:
        if len(node.ops) > 1:
            raise self.error("chained comparisons (a < b < c) are not supported", sp)
        if not cond:
            msg = "comparisons are only allowed as the condition of where(cond, a, b)"
            raise self.error(msg, sp)
        op = _CMPOPS.get(type(node.ops[0]))
        if op is None:
            bad = _BADCMP[type(node.ops[0])]
            raise self.error(f"operator '{bad}' is not supported", sp)
        left, right = self.expr(node.left), self.expr(node.comparators[0])
        return Compare(op, left, right, *sp)

    def item(self, node: ast.AST) -> Expr | Slice:
        if isinstance(node, ast.Slice):
            bounds = (node.lower, node.upper, node.step)
            b = [None if x is None else self.expr(x) for x in bounds]
            return Slice(*b, *self.span(node))
        return self.expr(node)

    def listexpr(self, node: ast.List, sp: tuple[int, int]) -> ListExpr:
        items = tuple(self.expr(e) for e in node.elts)
        self.elements += sum(not isinstance(i, ListExpr) for i in items)
        if self.elements > MAX_LITERAL_ELEMENTS:
            limit = MAX_LITERAL_ELEMENTS
            raise self.error(f"list literal is too large (limit {limit} numbers)", sp)
        rows = [len(i.items) for i in items if isinstance(i, ListExpr)]
        if rows and len(rows) < len(items):
            raise self.error("ragged list: mixes lists and non-lists", sp)
        if len(set(rows)) > 1:
            raise self.error("ragged list: every row must have the same length", sp)
        return ListExpr(items, *sp)

    def call(self, node: ast.Call, sp: tuple[int, int]) -> Call:
        f, given = node.func, list(node.args)
        if isinstance(f, ast.Attribute):  # x.sum(0): sum(x, 0)
            name, fn, form = f.attr, FUNCTIONS.get(f.attr), "method"
            where = (self.span(f)[1] - len(name), self.span(f)[1])
            if fn is not None and not fn.method:
                msg = f"'{name}' is not a method: call it as {name}(...)"
                raise self.error(msg, where)
            given.insert(0, f.value)
        elif isinstance(f, ast.Name) and f.col_offset == node.col_offset:
            name, fn, form, where = f.id, FUNCTIONS.get(f.id), "", self.span(f)
        else:
            raise self.error("only a function name can be called, e.g. sin(x)", sp)
        if fn is None:
            hint = H.did_you_mean(name, len(given), FUNCTIONS)
            raise self.error(f"unknown function '{name}'{hint}", where)
        params = fn.signature.params
        positional = [p for p in params if not p.keyword_only]
        given = H.spread_sizes(positional, given)
        args = tuple(self.argument(a, _nth(positional, i)) for i, a in enumerate(given))
        kwargs: list[tuple[str, Expr]] = []
        for k in node.keywords:
            if k.arg is None:
                raise self.error("'**' arguments are not supported", k)
            key = H.numpy_keyword(k.arg, fn)
            if any(key == seen for seen, _ in kwargs):
                raise self.error(f"{name}() got keyword '{key}' twice", sp)
            param = next((p for p in params if p.name == key), None)
            kwargs.append((key, self.argument(k.value, param, kw=True)))
        try:
            bound = fn.signature.bind(args, dict(kwargs))
        except BindError as err:
            raise self.error(
                str(err).replace(f"{fn.name}()", f"{name}()"), sp
            ) from None
        self.check_call(name, fn, bound, sp)
        return Call(name, args, tuple(kwargs), *sp, form=form)

    def argument(self, node: ast.AST, param: Param | None, kw: bool = False) -> Expr:
        """An argument for ``param``: a condition may compare, a parameter of
        kind str takes a string."""
        if param is None:
            return self.expr(node, kw=kw)
        if param.kind == "dims" and isinstance(node, ast.Tuple):  # dim=(0, 1)
            return self.listexpr(node, self.span(node))
        text = "str" in param.kind.split(" | ")
        return self.expr(node, param.name == "condition", kw, text)

    def check_call(self, name: str, fn: Function, bound: dict, sp) -> None:
        """Arguments that must be constants of a kind, checked where typed."""
        for p in fn.signature.params:
            value = bound[p.name]
            nodes = value if p.variadic else (value,)
            for node in nodes:
                if not isinstance(node, Expr) or p.kind not in CONSTANT_KINDS:
                    continue  # a default, or an operand
                items = node.items if isinstance(node, ListExpr) else (node,)
                if p.kind == "bool":
                    if literal(node) not in (0, 1):
                        raise self.error(
                            f"{name}(): {p.name} must be True or False", sp
                        )
                    continue
                for d in items:
                    if integer(d) is None:
                        elementwise = f"{name}imum"
                        hint = (
                            f" (use {elementwise}(a, b) elementwise)"
                            if elementwise in FUNCTIONS
                            else ""
                        )
                        msg = f"{name}(): {p.name} must be an integer, got '{d}'{hint}"
                        raise self.error(msg, (d.col, d.end))
        if fn.primitive is not None and fn.primitive.name == "pow":
            self.check_exponent(bound["exponent"])


def _nth(positional: list[Param], i: int) -> Param | None:
    """The parameter the i-th positional argument binds to (a ``*`` one takes
    the rest); None past the end (binding then says so)."""
    if positional and positional[-1].variadic and i >= len(positional) - 1:
        return positional[-1]
    return positional[i] if i < len(positional) else None


def parse(text: str) -> Expr:
    """Parse an expression; free variable names are allowed."""
    prescan(text)
    flat = text.replace("\r", " ").replace("\n", " ")  # keeps columns; one line
    stripped = flat.lstrip()
    lead = len(flat) - len(stripped)
    body, origin = H.caret_to_power(stripped)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except SyntaxError as e:
        from diffcli.expr.syntax_errors import syntax_error  # only on errors

        raise syntax_error(e, text, lead, origin, FUNCTIONS, too_deep()) from None
    except (RecursionError, MemoryError):
        raise ExprError(too_deep(), text) from None
    except (ValueError, OverflowError):  # defensive: odd literals
        raise ExprError(
            "cannot parse expression: a literal is out of range", text
        ) from None
    conv = _Converter(text, body, lead, origin)
    conv.check_depth(tree.body)
    try:
        return conv.expr(tree.body)
    except RecursionError:  # only if the caller's own stack is already deep
        raise ExprError(too_deep(), text) from None


def parse_value(text: str) -> Expr:
    """Parse a value: like parse(), but naming a variable is an error."""
    expr = parse(text)
    for n in walk(expr):
        if isinstance(n, Name):
            msg = f"'{n.id}' is not a value: values may not name variables"
            raise ExprError(msg, text, n.col, n.end)
    return expr


def split_assignments(text: str) -> list[tuple[str, str]]:
    """Split 'x=1, y=[1,2]' into (name, value text) pairs for --at style options."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text + ","):
        depth = max(0, depth + (ch in "([{") - (ch in ")]}"))
        if (ch == "," and depth == 0) or i == len(text):  # unclosed: keep the rest
            parts.append((start, i))
            start = i + 1
    if not text.strip():
        return []
    out: list[tuple[str, str]] = []
    for a, b in parts:
        chunk = text[a:b]
        at = a + len(chunk) - len(chunk.lstrip())
        if not chunk.strip():
            raise ExprError("empty assignment (expected name=value)", text, at)
        m = re.search(r"(?<![<>=!])=(?!=)", chunk)
        if m is None:
            raise ExprError("expected name=value", text, at, a + len(chunk.rstrip()))
        name, eq = chunk[: m.start()].strip(), a + m.start()
        if not name:
            raise ExprError("missing name before '='", text, eq)
        problem = (
            "is not a valid variable name"
            if not name.isidentifier() or keyword.iskeyword(name)
            else "is a constant"
            if name in CONSTANTS or name in NUMBERS
            else "is a function name"
            if name in FUNCTIONS
            else "is assigned twice"
            if any(name == n for n, _ in out)
            else ""
        )
        if problem:
            raise ExprError(f"'{name}' {problem}", text, at, at + len(name))
        value = chunk[m.end() :].strip()
        if not value:
            raise ExprError(f"missing value for '{name}'", text, eq, eq + 1)
        out.append((name, value))
    return out
