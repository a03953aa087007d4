"""Shapes for the names given no value, so the matrix form can still be written.

``x@A@x`` with x = [1, 2] makes A 2 x 2; ``A@w`` with w of 3 elements makes A
n x 3, n a size nobody gave.  Each value-less name is tried as a scalar (as
the per-component forms take it), then as a vector and as a matrix; the sizes
follow from the shapes given by unification.  Among the ranks that fit, a
name multiplied with ``@`` or given to det/inv/trace/logdet is a matrix, and
one added to an array has its shape (no broadcasting), as a reader expects;
where that still leaves a choice, capitals are matrices and lower-case names
vectors or scalars (``x @ A @ y``), as in the Matrix Cookbook.

Sizes nobody gave become stand-in integers (primes no value and no number of
the expression uses), so the matrix backend runs unchanged; ``name_sizes``
then writes them as n, m, ... and refuses a form holding a number made from
them that it cannot name: never a wrong form.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from diffcli.expr import parser as P
from diffcli.expr.matrix_expr import NoMatrixForm

MAX_NAMES = 6  # 3**6 rank assignments, each one walk of the tree
LABELS = ("n", "m", "p", "q", "r", "k", "l")
SQUARE = {"trace": (), "det": (), "logdet": (), "inv": None, "inverse": None}
ELEMENTWISE = {
    "abs", "exp", "log", "ln", "tanh", "sin", "cos", "sqrt", "sigmoid", "relu",
    "neg", "negative", "square", "reciprocal", "detach", "softplus", "log1p",
    "expm1", "sinh", "cosh", "tan", "rsqrt", "logsigmoid", "softmax", "log_softmax",
}  # fmt: skip
BINARY = {"add": "+", "sub": "-", "subtract": "-", "mul": "*", "multiply": "*"}
BINARY |= {"div": "/", "divide": "/", "true_divide": "/", "pow": "**"}
BINARY |= {"matmul": "@", "mm": "@"}


_NODES = {"ListExpr": "a list [...]"}


class _Clash(Exception):
    """This choice of ranks does not fit the expression."""


class _Sizes:
    """Dimensions are ints or variables (str); one walk with chosen ranks."""

    def __init__(self, given: Mapping[str, tuple], ranks: Mapping[str, int]) -> None:
        self.bound: dict[str, Any] = {}
        self.count = itertools.count()
        self.shapes = {n: tuple(s) for n, s in given.items()}
        for n, r in ranks.items():
            self.shapes[n] = tuple(self.fresh() for _ in range(r))
        self.free = set(ranks)
        self.penalty = 0  # a matrix taken as less, a name broadcast

    def fresh(self) -> str:
        return f"?{next(self.count)}"

    def find(self, d: Any) -> Any:
        while isinstance(d, str) and d in self.bound:
            d = self.bound[d]
        return d

    def unify(self, a: Any, b: Any) -> Any:
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        if isinstance(a, str):
            self.bound[a] = b
            return b
        if isinstance(b, str):
            self.bound[b] = a
            return a
        raise _Clash

    def broadcast(self, a: tuple, b: tuple, nodes: tuple) -> tuple:
        if len(a) != len(b) and any(self._is_free(n) for n in nodes):
            self.penalty += 1
        out = []
        for i in range(1, max(len(a), len(b)) + 1):
            x = self.find(a[-i]) if i <= len(a) else 1
            y = self.find(b[-i]) if i <= len(b) else 1
            out.append(y if x == 1 else x if y == 1 else self.unify(x, y))
        return tuple(out[::-1])

    def _is_free(self, node: Any) -> bool:
        return isinstance(node, P.Name) and node.id in self.free

    def matmul(self, a: tuple, b: tuple, left: Any) -> tuple:
        if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
            raise _Clash
        if self._is_free(left) and len(a) != 2:
            self.penalty += 1
        self.unify(a[-1], b[0])
        return a[:-1] + b[1:]

    def shape(self, e: Any) -> tuple:
        if isinstance(e, P.Num | P.Const):
            return ()
        if isinstance(e, P.Name):
            if e.id not in self.shapes:
                raise NoMatrixForm(f"'{e.id}' has no shape")
            return self.shapes[e.id]
        if isinstance(e, P.Unary):
            return self.shape(e.operand)
        if isinstance(e, P.Binary):
            return self.binary(e.op, e.left, e.right)
        if isinstance(e, P.Call):
            return self.call(e)
        if isinstance(e, P.Compare):
            return self.binary(e.op, e.left, e.right)
        if isinstance(e, P.Index):
            return self.index(self.shape(e.value), e.items)
        what = _NODES.get(type(e).__name__, type(e).__name__.lower())
        raise NoMatrixForm(f"{what} with a value-less name is not supported")

    def binary(self, op: str, left: Any, right: Any) -> tuple:
        a, b = self.shape(left), self.shape(right)
        if op == "@":
            return self.matmul(a, b, left)
        return self.broadcast(a, b, (left, right))

    def call(self, e: P.Call) -> tuple:
        f = e.func
        bound = P.FUNCTIONS[f].signature.bind(e.args, dict(e.kwargs))
        first = bound.get(P.FUNCTIONS[f].signature.params[0].name)
        if f in BINARY and len(e.args) == 2 and not e.kwargs:
            return self.binary(BINARY[f], *e.args)
        if f in ("dot", "inner") and len(e.args) == 2:  # of two vectors
            a, b = (self.shape(t) for t in e.args)
            if len(a) != 1 or len(b) != 1:
                raise _Clash
            self.unify(a[0], b[0])
            return ()
        if f in ("maximum", "minimum", "where") and not e.kwargs:
            shape = self.shape(e.args[0])
            for arg in e.args[1:]:
                shape = self.broadcast(shape, self.shape(arg), (e.args[0], arg))
            return shape
        if f == "cross_entropy" and len(e.args) == 2 and not e.kwargs:
            if len(self.shape(first)) != 1:  # one input vector, a class index
                raise _Clash
            return ()
        if f in ELEMENTWISE and len(e.args) == 1 and not e.kwargs:
            return self.shape(first)
        if f in SQUARE:
            s = self.shape(first)
            if len(s) != 2:
                raise _Clash
            self.unify(s[0], s[1])
            return s if SQUARE[f] is None else ()
        if f in ("sum", "mean"):
            s, keep = self.shape(first), _flag(bound.get("keepdim"))
            if bound.get("dim") is None:
                return (1,) * len(s) if keep else ()
            return self.reduced(s, bound["dim"], keep)
        if f in ("norm", "logsumexp") and len(e.args) == 1 and not e.kwargs:
            self.shape(first)
            return ()
        if f == "transpose" and len(e.args) == 1:
            s = self.shape(first)
            return s[::-1] if len(s) <= 2 else s[:-2] + s[-2:][::-1]
        raise NoMatrixForm(f"{f} with a value-less name is not supported")

    def index(self, s: tuple, items: tuple) -> tuple:
        """By integers and whole slices (``x[0]``, ``A[:, 1]``): the sizes
        left are known; other slices and lists would need the size."""
        if len(items) > len(s):
            raise _Clash
        out = []
        for d, item in zip(s, items, strict=False):
            whole = isinstance(item, P.Slice) and item == P.Slice(None, None, None)
            i = None if isinstance(item, P.Slice) else P.literal(item)
            if whole:
                out.append(d)
            elif isinstance(i, int) and not isinstance(i, bool):
                n = self.find(d)
                if isinstance(n, int) and not -n <= i < n:
                    raise _Clash
            else:
                raise NoMatrixForm("indexing with a value-less name is not supported")
        return (*out, *s[len(items) :])

    def reduced(self, s: tuple, dim: Any, keep: bool) -> tuple:
        dims = dim.items if isinstance(dim, P.ListExpr) else [dim]
        given = [int(P.literal(d)) for d in dims]
        if any(not -max(1, len(s)) <= d < max(1, len(s)) for d in given):
            raise _Clash  # dim=1 of a vector: it is a matrix
        axes = {d % max(1, len(s)) for d in given}
        return tuple(
            1 if i in axes else d for i, d in enumerate(s) if keep or i not in axes
        )


def _against_case(ranks: Mapping[str, int]) -> int:
    """The Matrix Cookbook's convention, where the shapes leave a choice:
    A, X are matrices and x, y vectors (x @ A @ y is a bilinear form)."""
    return sum(
        (n[0].isupper() and r != 2) or (n[0].islower() and r == 2)
        for n, r in ranks.items()
    )


def _flag(node: Any) -> bool:
    return bool(P.literal(node) if isinstance(node, P.Expr) else node)


def infer(
    tree: P.Expr, given: Mapping[str, tuple], free: list[str], out: tuple | None
) -> dict[str, tuple]:
    """The shape of each name in ``free`` (dims: ints, or str variables for
    sizes nobody gave); ``out``: the value's shape (its seed's), if known."""
    if len(free) > MAX_NAMES:
        raise NoMatrixForm(f"over {MAX_NAMES} names without a value")
    best, reason = None, "the shapes given do not fit any ranks of " + ", ".join(free)
    choices = itertools.product((0, 1, 2), repeat=len(free))
    for ranks in sorted(choices, key=lambda r: (any(r), sum(r))):
        sizes = _Sizes(given, dict(zip(free, ranks, strict=True)))
        try:
            shape = sizes.shape(tree)
            if out is not None and len(shape) != len(out):
                continue
            for d, e in zip(shape, out or (), strict=False):
                sizes.unify(d, e)
        except _Clash:
            continue
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise NoMatrixForm(f"the sizes of {', '.join(free)}: {err}") from None
        if not any(ranks):  # every one a scalar: as the per-component forms
            return {n: () for n in free}
        penalty = sizes.penalty + _against_case(dict(zip(free, ranks, strict=True)))
        if best is None or penalty < best[0]:
            best = (penalty, sizes)
    if best is None:
        raise NoMatrixForm(reason)
    sizes = best[1]
    return {n: tuple(sizes.find(d) for d in sizes.shapes[n]) for n in free}


def stand_ins(
    shapes: Mapping[str, tuple], taken: set[int], names: set[str]
) -> tuple[dict[str, tuple], dict[int, str]]:
    """Each size variable as a distinct prime no given size nor number of the
    expression is, and the label it prints as (n, m, ..., none a name used)."""
    primes = (p for p in range(1009, 10_000, 2) if all(p % q for q in range(3, 99)))
    spare = LABELS + tuple(f"n{i}" for i in range(1, 99))
    labels = (x for x in spare if x not in names)
    ints: dict[str, int] = {}
    label: dict[int, str] = {}
    out = {}
    for name, shape in shapes.items():
        dims = []
        for d in shape:
            if isinstance(d, str):
                if d not in ints:
                    ints[d] = next(p for p in primes if all(t % p for t in taken))
                    label[ints[d]] = next(labels)
                d = ints[d]
            dims.append(d)
        out[name] = tuple(dims)
    return out, label


_INT = re.compile(r"(?<![\d.])\d+(?![\d.])|[₀-₉]+")
_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_LOW = str.maketrans("nmpklr", "ₙₘₚₖₗᵣ")  # 𝟏ₙ: the Unicode form's subscripts


def name_sizes(text: str, label: Mapping[int, str]) -> str:
    """The stand-in sizes in ``text`` written as their labels; a number made
    of them otherwise (n * m) is refused rather than printed as digits."""
    if not label:
        return text

    def one(m: re.Match) -> str:
        digits = m.group().translate(_DIGITS)
        v = int(digits)
        if v in label and digits != m.group():  # a subscript
            low = label[v].translate(_LOW)
            return low if low != label[v] and len(low) == 1 else f"_{label[v]}"
        if v in label:
            return label[v]
        if any(v >= p and v % p == 0 for p in label):
            raise NoMatrixForm("a number made of sizes nobody gave")
        return m.group()

    return _INT.sub(one, text)


def sizes(shape: tuple, label: Mapping[int, str]) -> list:
    """The shape for JSON: a size nobody gave is its label (``["n", 3]``)."""
    return [label.get(d, d) for d in shape]


def describe(shape: list) -> str:
    """``an n x 3 matrix``, ``a vector of n``, ``a scalar``."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    kind = "matrix" if len(shape) == 2 else "array"
    dims = " x ".join(map(str, shape))
    an = dims[0] in "nmrl8" or dims[:2] in ("11", "18")
    return f"{'an' if an else 'a'} {dims} {kind}"
