"""Matrix expressions as a mathematician writes them, for reading (not for
pasting back, which ``matrix_text.text`` is for): LaTeX (``--latex``:
``(A + A^{\\top}) x``, ``\\det(X) X^{-\\top}``) and Unicode (``(A + Aᵀ) x``,
``det(X) X⁻ᵀ``).  Products are juxtaposed, elementwise ones ``⊙``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from diffcli.expr.matrix_expr import M, scale, split
from diffcli.expr.matrix_text import ATOM, POSTFIX, PRODUCT, SUM, UNARY, show_picking


@dataclass(frozen=True)
class Style:
    """What differs between LaTeX and Unicode."""

    paren: str  # format of a parenthesised part
    frac: str  # format of p / q
    templates: dict  # op -> (format, each argument's level, its own level)
    named: dict  # function -> its name
    other: str  # format of any other function's name
    odot: str
    ones: str  # format of ones, given its dimensions joined by ``times``
    times: str
    eye: str
    mask: str  # format of the indicator of u > 0
    axes: str  # format of sum's and mean's axes after their name
    subscript: str  # format of W1's subscript
    relations: dict  # comparison -> its sign


LATEX = Style(
    paren=r"\left({}\right)",
    frac=r"\frac{{{}}}{{{}}}",
    templates={
        "div": (r"\frac{{{0}}}{{{1}}}", (SUM, SUM), ATOM),
        "pow": ("{0}^{{{1}}}", (ATOM, SUM), POSTFIX),
        "T": (r"{0}^{{\top}}", (ATOM,), POSTFIX),
        "T-inv": (r"{0}^{{-\top}}", (ATOM,), POSTFIX),
        "inv": ("{0}^{{-1}}", (ATOM,), POSTFIX),
        "outer": (r"{0} {1}^{{\top}}", (POSTFIX, ATOM), PRODUCT),
        "sqrt": (r"\sqrt{{{0}}}", (SUM,), ATOM),
    },
    named={
        **{f: "\\" + f for f in ("tanh", "exp", "log", "sin", "cos", "det")},
        "trace": r"\operatorname{tr}",
        "logdet": r"\log\det",
        "sigmoid": r"\sigma",
        "norm": r"\operatorname{norm}",
    },
    other=r"\operatorname{{{}}}",
    odot=r"\odot",
    ones=r"\mathbf{{1}}_{{{}}}",
    times=r" \times ",
    eye="I_{{{}}}",
    mask=r"\mathbb{{1}}\left[{} > 0\right]",
    axes="_{{{}}}",
    subscript="{}_{{{}}}",
    relations={"<=": r"\le", ">=": r"\ge", "==": "=", "!=": r"\ne"},
)

HADAMARD = (SUM + PRODUCT) / 2  # P ⊙ Q R is P ⊙ (Q R)
SUPERSCRIPT = str.maketrans("0123456789-()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁽⁾")
UNICODE = Style(
    paren="({})",
    frac="{}/{}",
    templates={
        "div": ("{0} / {1}", (PRODUCT, POSTFIX), PRODUCT),
        "pow": ("{0}^{1}", (ATOM, ATOM), POSTFIX),
        "T": ("{0}ᵀ", (ATOM,), POSTFIX),
        "T-inv": ("{0}⁻ᵀ", (ATOM,), POSTFIX),
        "inv": ("{0}⁻¹", (ATOM,), POSTFIX),
        "outer": ("{0} {1}ᵀ", (POSTFIX, ATOM), PRODUCT),
        "sqrt": ("√{0}", (ATOM,), POSTFIX),
    },
    named={"trace": "tr", "sigmoid": "σ", "logdet": "log det"},
    other="{}",
    odot="⊙",
    ones="𝟏{}",
    times="ₓ",
    eye="I",
    mask="[{} > 0]",
    axes="_{}",
    subscript="{}{}",
    relations={"<=": "≤", ">=": "≥", "==": "=", "!=": "≠"},
)


SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def latex(x: M) -> str:
    """``x`` in LaTeX."""
    return _show(x, LATEX)[0]


def unicode(x: M) -> str:
    """``x`` in Unicode: ``(A + Aᵀ) x``."""
    return _show(x, UNICODE)[0]


def _name(name: str, style: Style) -> str:
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    if not m and style is LATEX:  # W_out: W_{out}; any other _ escaped
        sub = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)_(\w*[A-Za-z0-9])", name)
        if sub:
            rest = sub.group(2).replace("_", r"\_")
            return f"{sub.group(1)}_{{{rest}}}"
        return name.replace("_", r"\_")
    if not m:
        return name
    digits = m.group(2)
    if style is UNICODE:
        digits = digits.translate(SUBSCRIPT)
    return style.subscript.format(m.group(1), digits)


def _number(v, style: Style) -> tuple[str, int]:
    if isinstance(v, Fraction) and v.denominator != 1:
        sign = "-" if v < 0 else ""
        return sign + style.frac.format(abs(v.numerator), v.denominator), UNARY
    shown = str(v.numerator) if isinstance(v, Fraction) else repr(v)
    return shown, ATOM if v >= 0 else UNARY


def _wrap(x: M, level: int, style: Style) -> str:
    s, own = _show(x, style)
    return s if own >= level else style.paren.format(s)


def _left(x: M, style: Style, level: float = PRODUCT) -> str:
    """The left factor of a product: ``a / b c`` would read as ``a / (b c)``
    (and ``a / b ⊙ c`` as ``a / (b ⊙ c)``), so a Unicode quotient there is
    parenthesised."""
    if style is UNICODE and x.op == "div":
        return style.paren.format(_show(x, style)[0])
    return _wrap(x, level, style)


def _show(x: M, style: Style) -> tuple[str, int]:
    op, a = x.op, x.args
    wrap = lambda t, level: _wrap(t, level, style)
    if op == "num":
        return _number(x.data, style)
    if op == "var":
        return _name(x.data, style), ATOM
    if op == "ones":
        dims = style.times.join(map(str, x.shape))
        if style is UNICODE:
            dims = dims.translate(SUBSCRIPT)
        return style.ones.format(dims), ATOM
    if op == "eye":
        return style.eye.format(x.shape[0]), ATOM
    if op == "add":
        parts = [_show(a[0], style)[0]]
        for t in a[1:]:
            negative = split(t)[0] < 0
            shown = scale(-1, t) if negative else t
            parts.append(("- " if negative else "+ ") + wrap(shown, HADAMARD))
        return " ".join(parts), SUM
    if op == "mul" and a[0].op == "num":
        c = a[0].data
        if c == -1:
            return "-" + wrap(a[1], PRODUCT), UNARY
        return f"{_number(c, style)[0]} {wrap(a[1], PRODUCT)}", PRODUCT
    if op == "mul" and (not a[0].shape or not a[1].shape):
        # a scalar before a product: det(X) Aᵀ X⁻ᵀ
        right = PRODUCT if not a[0].shape else POSTFIX
        return f"{_left(a[0], style)} {wrap(a[1], right)}", PRODUCT
    if op == "mul":  # looser than juxtaposition: (P ⊙ Q) R
        left = _left(a[0], style, HADAMARD)
        return f"{left} {style.odot} {wrap(a[1], PRODUCT)}", HADAMARD
    if op == "pow" and style is UNICODE and a[1].op == "num":
        power = _number(a[1].data, style)[0].translate(SUPERSCRIPT)
        if "/" not in power and "." not in power:
            return wrap(a[0], ATOM) + power, POSTFIX
    if op == "T" and a[0].op == "inv":
        x, op, a = a[0], "T-inv", a[0].args
    if op == "matmul" and a[0].ndim == 1:  # an inner product: xᵀ y
        template, (level,), _ = style.templates["T"]
        left = template.format(wrap(a[0], level))
        return f"{left} {wrap(a[1], POSTFIX)}", PRODUCT
    if op == "matmul":  # associative: Xᵀ (D + Dᵀ) (X w - y)
        right = PRODUCT if a[1].op == "matmul" else POSTFIX
        return f"{_left(a[0], style)} {wrap(a[1], right)}", PRODUCT
    if op in style.templates:
        template, levels, own = style.templates[op]
        return template.format(*map(wrap, a, levels)), own
    if op == "relu_grad":
        mask = style.mask.format(_show(a[0], style)[0])
        if a[1].op == "num" and a[1].data == 1:
            return mask, ATOM
        if a[1].shape:  # elementwise: [u > 0] ⊙ v, not a product
            return f"{mask} {style.odot} {wrap(a[1], PRODUCT)}", HADAMARD
        return f"{mask} {wrap(a[1], POSTFIX)}", PRODUCT
    picked = show_picking(x, wrap)
    if picked:
        text, level = picked
        for plain, nice in style.relations.items():
            text = text.replace(f" {plain} ", f" {nice} ")
        return text, level
    inner = ", ".join(_show(t, style)[0] for t in a)
    name = style.named.get(op, style.other.format(op))
    if op in ("sum", "mean") and x.data is not None:
        name += style.axes.format(",".join(map(str, x.data[0])))
    return name + style.paren.format(inner), ATOM
