"""Matrix expressions in LaTeX (``--latex``): ``(A + A^{\\top}) x``,
``\\det(X) X^{-\\top}``; products are juxtaposed, elementwise ones ``\\odot``."""

from __future__ import annotations

import re
from fractions import Fraction

from diffcli.expr.matrix_expr import ATOM, POSTFIX, PRODUCT, SUM, UNARY, M, scale, split

NAMED = {
    "tanh": r"\tanh",
    "exp": r"\exp",
    "log": r"\log",
    "sin": r"\sin",
    "cos": r"\cos",
    "det": r"\det",
    "trace": r"\operatorname{tr}",
    "logdet": r"\log\det",
    "sigmoid": r"\sigma",
}


# op -> (template, each argument's level, its own level)
TEMPLATES = {
    "matmul": ("{0} {1}", (PRODUCT, POSTFIX), PRODUCT),
    "div": (r"\frac{{{0}}}{{{1}}}", (SUM, SUM), ATOM),
    "pow": ("{0}^{{{1}}}", (ATOM, SUM), POSTFIX),
    "T": (r"{0}^{{\top}}", (ATOM,), POSTFIX),
    "T-inv": (r"{0}^{{-\top}}", (ATOM,), POSTFIX),
    "inv": ("{0}^{{-1}}", (ATOM,), POSTFIX),
    "outer": (r"{0} {1}^{{\top}}", (POSTFIX, ATOM), PRODUCT),
    "sqrt": (r"\sqrt{{{0}}}", (SUM,), ATOM),
}


def latex(x: M) -> str:
    """``x`` in LaTeX."""
    return _show(x)[0]


def _name(name: str) -> str:
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    return f"{m.group(1)}_{{{m.group(2)}}}" if m else name


def _number(v) -> tuple[str, int]:
    if isinstance(v, Fraction) and v.denominator != 1:
        sign = "-" if v < 0 else ""
        return f"{sign}\\frac{{{abs(v.numerator)}}}{{{v.denominator}}}", UNARY
    shown = str(v.numerator) if isinstance(v, Fraction) else repr(v)
    return shown, ATOM if v >= 0 else UNARY


def _wrap(x: M, level: int) -> str:
    s, own = _show(x)
    return s if own >= level else f"\\left({s}\\right)"


def _show(x: M) -> tuple[str, int]:
    op, a = x.op, x.args
    if op == "num":
        return _number(x.data)
    if op == "var":
        return _name(x.data), ATOM
    if op == "ones":
        dims = r" \times ".join(map(str, x.shape))
        return rf"\mathbf{{1}}_{{{dims}}}", ATOM
    if op == "eye":
        return f"I_{{{x.shape[0]}}}", ATOM
    if op == "add":
        parts = [_show(a[0])[0]]
        for t in a[1:]:
            c = split(t)[0]
            negative = c < 0
            shown = scale(-1, t) if negative else t
            parts.append(("- " if negative else "+ ") + _wrap(shown, PRODUCT))
        return " ".join(parts), SUM
    if op == "mul" and a[0].op == "num":
        c = a[0].data
        if c == -1:
            return "-" + _wrap(a[1], PRODUCT), UNARY
        return f"{_number(c)[0]} {_wrap(a[1], PRODUCT)}", PRODUCT
    if op == "mul":
        scalar = not a[0].shape or not a[1].shape
        sign = " " if scalar else r" \odot "
        return f"{_wrap(a[0], PRODUCT)}{sign}{_wrap(a[1], POSTFIX)}", PRODUCT
    if op == "T" and a[0].op == "inv":
        x, op, a = a[0], "T-inv", a[0].args
    if op in TEMPLATES:
        template, levels, own = TEMPLATES[op]
        return template.format(*map(_wrap, a, levels)), own
    if op == "relu_grad":
        mask = rf"\mathbb{{1}}\left[{_show(a[0])[0]} > 0\right]"
        if a[1].op == "num" and a[1].data == 1:
            return mask, ATOM
        return f"{mask} {_wrap(a[1], POSTFIX)}", PRODUCT
    inner = ", ".join(_show(t)[0] for t in a)
    name = NAMED.get(op, rf"\operatorname{{{op}}}")
    if op in ("sum", "mean") and x.data is not None:
        name += f"_{{{','.join(map(str, x.data[0]))}}}"
    return f"{name}\\left({inner}\\right)", ATOM
