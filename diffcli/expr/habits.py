"""Typing habits from calculators, SymPy, NumPy and PyTorch, met halfway.

``^`` is read as ``**`` (every calculator and SymPy read it so; there is no
bitwise xor in differentiation).  Other habits are not guessed at but named
in the error: ``2x`` (did you mean 2*x?), ``x²`` (x**2), ``sin x`` (sin(x)).
An unknown function gets a did-you-mean from the functions of its own kind
only: a linear algebra name (``eig``) is never offered ``exp``.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping

from diffcli.engine.primitive import Function
from diffcli.engine.signature import Param

SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True))

# Names of other libraries' functions that diffcli does not have, by the kind
# of function they are: their did-you-mean stays within that kind.
ELSEWHERE = {
    "linear algebra": (
        "svd svdvals eig eigh eigvals eigvalsh qr lu lu_factor lstsq matrix_exp "
        "expm logm sqrtm matrix_rank cond adjoint adj cofactor cholesky_inverse "
        "tensordot einsum bmm mv vdot householder_product vecdot multi_dot"
    ),
    "reduction": (
        "median mode quantile nanmean nansum nanmedian cummax cummin "
        "logcumsumexp argmax argmin sort argsort topk kthvalue count_nonzero "
        "all any average ptp std_mean var_mean aminmax"
    ),
    "activation": (
        "softmin softsign mish hardswish hardsigmoid celu glu rrelu prelu "
        "tanhshrink softshrink hardshrink threshold swish"
    ),
    "loss": (
        "cosine_embedding_loss margin_ranking_loss hinge_embedding_loss "
        "triplet_margin_loss poisson_nll_loss gaussian_nll_loss ctc_loss "
        "multi_margin_loss multilabel_margin_loss soft_margin_loss focal_loss"
    ),
    "elementwise": (
        "logit i0 sgn cbrt gamma beta expit logaddexp logaddexp2 copysign "
        "nextafter ldexp frexp fix_ spence zeta"
    ),
}
KIND_OF = {name: kind for kind, names in ELSEWHERE.items() for name in names.split()}


def caret_to_power(body: str) -> tuple[str, list[int]]:
    """``body`` with each ``^`` written ``**``, and for each character of the
    result (and its end) the index in ``body`` it came from."""
    out: list[str] = []
    origin: list[int] = []
    quote = ""
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "^":
            out.append("**")
            origin += [i, i]
            continue
        out.append(ch)
        origin.append(i)
    origin.append(len(body))
    return "".join(out), origin


def syntax_hint(text: str, col: int, end: int) -> str:
    """A hint for a syntax error at ``text[col:end]`` made by habit, or ""."""
    if m := re.search(r"(?<![\w.])(\d+\.?\d*)([A-Za-z_]\w*)", text[col:end]):
        number, name = m.groups()
        if not re.fullmatch(r"[eE][+-]?\d*|[jJ]", name):
            return f" (did you mean '{number}*{name}'?)"
    if m := re.search(r"(?<![\w.])(\d+\.?\d*)\s+([A-Za-z_]\w*)$", text[:end]):
        return f" (did you mean '{m[1]}*{m[2]}'?)"  # 2 x
    if m := re.search("[⁰¹²³⁴⁵⁶⁷⁸⁹]+", text):
        power = "".join(SUPERSCRIPTS[c] for c in m[0])
        return f" (did you mean '{_operand_before(text, m.start())}**{power}'?)"
    return ""


def _operand_before(text: str, at: int) -> str:
    """The name, number or bracketed group that ends at ``at``."""
    start = at
    if start and text[start - 1] in ")]":
        depth = 0
        for start in range(at - 1, -1, -1):
            depth += (text[start] in ")]") - (text[start] in "([")
            if not depth:
                break
    while start and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    return text[start:at]


def call_without_parentheses(text: str, functions: Mapping[str, Function]) -> str:
    """`` (did you mean 'sin(x)'?)`` where a function name is followed by a
    space and an operand, as in ``sin x``."""
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s+([A-Za-z_]\w*|\d[\w.]*)\b", text):
        if m[1] in functions and m[2] not in ("and", "or", "if", "else", "for"):
            return f" (did you mean '{m[1]}({m[2]})'?)"
    return ""


NUMPY_KEYWORDS = {"axis": "dim", "keepdims": "keepdim"}


def numpy_keyword(key: str, fn: Function) -> str:
    """NumPy's ``axis=`` and ``keepdims=`` for PyTorch's ``dim`` and ``keepdim``."""
    names = {p.name for p in fn.signature.params}
    alias = NUMPY_KEYWORDS.get(key)
    return alias if alias in names and key not in names else key


def spread_sizes(positional: list[Param], given: list[ast.AST]) -> list[ast.AST]:
    """``reshape(x, (2, 3))`` as ``reshape(x, 2, 3)``: a tuple or list where
    a ``*sizes`` parameter starts, as PyTorch takes it."""
    start = len(positional) - 1
    if (
        positional
        and positional[-1].variadic
        and positional[-1].kind == "int"
        and len(given) == start + 1
        and isinstance(given[start], ast.Tuple | ast.List)
    ):
        return given[:start] + list(given[start].elts)
    return given


def did_you_mean(name: str, nargs: int, functions: Mapping[str, Function]) -> str:
    """`` (did you mean 'x'?)`` naming the closest function of the same kind
    that takes ``nargs`` arguments; what kind a name of another library is
    comes from ELSEWHERE.  For such a name with no close match of its kind,
    what it is and what diffcli has of that kind instead."""
    kind = KIND_OF.get(name)
    candidates = {
        spelled: fn
        for spelled, fn in functions.items()
        if (kind is None or fn.category == kind) and _takes(fn, nargs)
    }
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.7)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if kind is None:
        close = difflib.get_close_matches(name, candidates, n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""
    same_kind = sorted({fn.name for fn in functions.values() if fn.category == kind})
    listed = ", ".join(same_kind[:8]) + (", ..." if len(same_kind) > 8 else "")
    return f": diffcli has no such {kind} function (it has {listed})"


def _takes(fn: Function, nargs: int) -> bool:
    positional = [p for p in fn.signature.params if not p.keyword_only]
    if any(p.variadic for p in positional):
        return nargs >= sum(p.required for p in positional)
    return sum(p.required for p in positional) <= nargs <= len(positional)
