"""Where the engine stands on a boundary between branches: a tie, or a
comparison float64 decides otherwise than exact arithmetic.

At a tie (where(x > 0, ...) at x = 0, maximum of two equal values, clamp at
its bound, abs at 0) the engine, like PyTorch, takes one branch or shares
the gradient: a convention, which finite differences (looking around the
point) and SymPy (which may rewrite max(max(x, y), y) and lose the tie) need
not share.  The tree is walked once with the engine's values, each value
remembering the variables it depends on; a comparison whose sides are equal
there names them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.engine.tensor import Tensor
from diffcli.expr.numeric import NumericBackend
from diffcli.expr.walk import evaluate
from diffcli.verify.question import Problem

# primitive -> which of its arguments are compared, or that each is compared to 0
PAIRS = {"maximum", "minimum", "lt", "le", "gt", "ge", "eq", "ne", "atan2"}
AT_ZERO = {"abs", "relu", "sign", "norm"}
EXTREMES = {"amax", "amin", "max_dim", "min_dim"}


class _TieBackend(NumericBackend):
    def __init__(self, variables: dict[str, Tensor]) -> None:
        super().__init__(variables)
        self.depends: dict[int, frozenset[str]] = {}
        self.keep: list[Any] = []  # ids stay unique while the walk runs
        self.tied: set[str] = set()

    def variable(self, name: str) -> Tensor:
        value = super().variable(name)
        self._mark(value, frozenset({name}))
        return value

    def _mark(self, value: Any, names: frozenset[str]) -> None:
        self.depends[id(value)] = names
        self.keep.append(value)

    def op(self, name: str, *args: Any, **params: Any) -> Tensor:
        out = super().op(name, *args, **params)
        names = frozenset().union(*(self.depends.get(id(a), ()) for a in args))
        self._mark(out, names)
        if names and _tie(name, args, params):
            self.tied |= names
        return out


COMPARISONS = {"lt", "le", "gt", "ge", "eq", "ne"}


def branches(problem: Problem, exact: bool) -> list[np.ndarray] | None:
    """Every comparison's outcome in the walk's order, in float64 (the engine)
    or in exact arithmetic; None where the exact walk fails."""
    values = {**problem.fixed, **{n: problem.point[n] for n in problem.wrt}}
    outcomes: list[np.ndarray] = []
    if exact:
        from diffcli.expr.exact import ExactBackend

        class Backend(ExactBackend):
            def op(self, name: str, *args: Any, **params: Any) -> Any:
                out = super().op(name, *args, **params)
                if name in COMPARISONS:
                    outcomes.append(np.vectorize(bool, otypes=[bool])(out))
                return out

        backend: Any = Backend(values)
    else:

        class Backend(NumericBackend):  # type: ignore[no-redef]
            def op(self, name: str, *args: Any, **params: Any) -> Tensor:
                out = super().op(name, *args, **params)
                if name in COMPARISONS:
                    outcomes.append(np.asarray(out._data, dtype=bool))
                return out

        backend = Backend({n: Tensor._wrap(np.array(v)) for n, v in values.items()})
    try:
        with np.errstate(all="ignore"):
            evaluate(problem.tree, backend, problem.text)
    except Exception:  # SymPy could not decide a comparison: nothing known
        return None
    return outcomes


def rounding_flips(problem: Problem) -> bool:
    """Whether float64 takes another branch than exact arithmetic somewhere:
    a comparison whose sides differ only by rounding (sin(pi) > 0), or by an
    underflow (exp(-1e8) > 0)."""
    if problem.tree is None:
        return False
    exact = branches(problem, exact=True)
    floats = branches(problem, exact=False)
    if exact is None or floats is None or len(exact) != len(floats):
        return False
    return any(
        a.shape != b.shape or bool(np.any(a != b))
        for a, b in zip(exact, floats, strict=True)
    )


def _data(a: Any) -> np.ndarray:
    return np.asarray(a._data if isinstance(a, Tensor) else a, dtype=np.float64)


def _tie(name: str, args: tuple, params: dict) -> bool:
    with np.errstate(all="ignore"):
        if name in PAIRS and len(args) >= 2:
            a, b = _data(args[0]), _data(args[1])
            return (
                bool(np.any(a == b))
                if name != "atan2"
                else bool(np.any((a == 0) & (b == 0)))
            )
        if name in AT_ZERO:
            return bool(np.any(_data(args[0]) == 0))
        if name == "clamp":
            x = _data(args[0])
            bounds = [params.get("min"), params.get("max")]
            return any(b is not None and np.any(x == b) for b in bounds)
        if name in EXTREMES:
            x = _data(args[0])
            extreme = np.max(x) if name in ("amax", "max_dim") else np.min(x)
            return bool(np.sum(x == extreme) > 1)
    return False


def tied_names(problem: Problem) -> set[str]:
    """The variables that reach a comparison tied at the point; for Python
    code (no tree), none are known."""
    if problem.tree is None:
        return set()
    values = {**problem.fixed, **{n: problem.point[n] for n in problem.wrt}}
    backend = _TieBackend({n: Tensor._wrap(np.array(v)) for n, v in values.items()})
    try:
        with np.errstate(all="ignore"):
            evaluate(problem.tree, backend, problem.text)
    except Exception:  # the engine already evaluated it; nothing more to say
        return set()
    return backend.tied & set(problem.wrt)


# Functions of the language that can have a kink (one-sided slopes that part):
# those whose table entry names a choice at kinks, less those that have only
# poles or domain edges and are smooth wherever defined (1/x, log, lgamma).
SMOOTH_WHERE_DEFINED = {
    "div", "reciprocal", "rsqrt", "log", "log10", "log2", "log1p", "lgamma",
    "digamma", "polygamma", "erfinv", "sinc", "det",
}  # fmt: skip
BRANCHING = COMPARISONS | {"where", "heaviside", "logical_and", "logical_or"}


def may_kink(problem: Problem) -> bool:
    """Whether the expression can have a kink at all: a function with one
    (abs, relu, max, clamp, norm, sqrt...), a branch (where, a comparison) or
    a fractional power; Python code (no tree) may have anything."""
    from diffcli.expr import tree as T
    from diffcli.expr.parser import FUNCTIONS

    if problem.tree is None:
        return True
    for node in T.walk(problem.tree):
        if isinstance(node, T.Compare):
            return True
        if isinstance(node, T.Binary) and node.op == "**":
            power = T.literal(node.right)
            if power is None or power < 0 or power != int(power):
                return True
        if isinstance(node, T.Call) and (
            node.func in BRANCHING
            or (FUNCTIONS[node.func].kinks and node.func not in SMOOTH_WHERE_DEFINED)
        ):
            return True
    return False
