"""Matrix expressions printed in diffcli's own syntax, which the user can
paste back: ``(A + A.T) @ x``, ``det(X) * inv(X).T`` (numpy's semantics:
vectors are 1-d).  The binding levels are shared with the LaTeX and Unicode
forms (matrix_latex.py)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from diffcli.expr import matrix_select as S
from diffcli.expr.matrix_expr import M, is_num, scale, split

ATOM, POSTFIX, POW, UNARY, PRODUCT, SUM = 6, 5, 4, 3, 2, 1


def text(x: M) -> str:
    """diffcli's syntax for ``x``: ``(A + A.T) @ x``, ``det(X) * inv(X).T``."""
    return _show(x)[0]


def _number(v: Any) -> tuple[str, int]:
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return str(v.numerator), ATOM if v >= 0 else UNARY
        return f"{v.numerator} / {v.denominator}", PRODUCT
    return repr(v), ATOM if v >= 0 else UNARY


def _wrap(x: M, level: int) -> str:
    s, own = _show(x)
    return s if own >= level else f"({s})"


def _dims(shape: tuple) -> str:
    return ", ".join(map(str, shape))


def _show(x: M) -> tuple[str, int]:
    op, a = x.op, x.args
    if op == "num":
        return _number(x.data)
    if op == "var":
        return x.data, ATOM
    if op in ("ones", "eye"):
        return f"{op}({_dims(x.shape if op == 'ones' else x.shape[:1])})", ATOM
    if op == "add":
        parts = [_show(a[0])[0]]
        for t in a[1:]:
            c = split(t)[0]
            negative = c < 0 if isinstance(c, Fraction | int | float) else False
            shown = scale(-1, t) if negative else t
            parts.append(("- " if negative else "+ ") + _wrap(shown, PRODUCT))
        return " ".join(parts), SUM
    if op == "mul" and is_num(a[0]):
        c = a[0].data
        if c == -1:
            return "-" + _wrap(a[1], PRODUCT), UNARY
        return f"{_number(c)[0]} * {_wrap(a[1], PRODUCT)}", PRODUCT
    if op in ("mul", "div", "matmul"):
        sign = {"mul": "*", "div": "/", "matmul": "@"}[op]
        # a scalar times a product: (s * P) @ Q is s * (P @ Q)
        right = PRODUCT if op == "mul" and not a[0].shape else UNARY
        if op == "matmul" and a[1].op == "matmul":  # associative: A @ B @ x
            right = PRODUCT
        # (P * Q) @ R: the parentheses Python does not need, a reader does
        left = UNARY if op == "matmul" and a[0].op in ("mul", "div") else PRODUCT
        return f"{_wrap(a[0], left)} {sign} {_wrap(a[1], right)}", PRODUCT
    if op == "pow":
        return f"{_wrap(a[0], POSTFIX)}**{_wrap(a[1], POSTFIX)}", POW
    if op == "T":
        return f"{_wrap(a[0], POSTFIX)}.T", POSTFIX
    if op == "relu_grad":
        return f"where({_show(a[0])[0]} > 0, {_show(a[1])[0]}, 0)", ATOM
    picked = show_picking(x, lambda t, level: _wrap(t, level))
    if picked:
        return picked
    inner = ", ".join(_show(t)[0] for t in a)
    if op in ("sum", "mean") and x.data is not None:
        axes, keep = x.data
        inner += f", dim={axes[0] if len(axes) == 1 else list(axes)}"
        inner += ", keepdim=True" if keep else ""
    return f"{op}({inner})", ATOM


COMPARE = 0  # below a sum: u + 1 > 0


def show_picking(x: M, wrap: Any) -> tuple[str, int] | None:
    """Indexing, selection matrices and comparisons, in diffcli's syntax (the
    LaTeX and Unicode forms write them the same way)."""
    if x.op == "getitem":
        items = list(x.data)
        while items and items[-1] is None:
            items.pop()
        return f"{wrap(x.args[0], POSTFIX)}[{', '.join(map(S.item_text, items))}]", (
            POSTFIX
        )
    if x.op == "select":
        n, item = x.data
        return f"eye({n})[{S.item_text(item)}]", ATOM
    if x.op in S.COMPARISONS:
        a, b = x.args
        return f"{wrap(a, SUM)} {S.COMPARISONS[x.op]} {wrap(b, SUM)}", COMPARE
    return None


def zeros_text(shape: tuple) -> str:
    """The gradient of what does not depend on a variable."""
    return f"zeros({_dims(shape)})" if shape else "0"
