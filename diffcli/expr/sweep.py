"""Closed forms of large gradients kept as a shared graph, and their value.

For an MLP loss or least squares with dozens of variables, every gradient
entry written out as one tree is tens of thousands of nodes (2.5 MB of text
for a width-8 MLP): SymPy's automatic evaluation, ``cse`` and ``lambdify`` of
those trees take minutes.  Here the reverse sweep builds each entry from
SymPy's own local derivatives (``fdiff``, the product and power rules) without
re-canonicalising the products and sums, so the entries share their
subexpressions, and ``values`` evaluates every distinct node once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

# Above this many distinct nodes of f times variables, or above SMALL_GRADIENT
# variables, the closed forms come from the lazy sweep (sp.diff of a sum of 30
# squares takes over ten seconds: each Pow rule builds and queries a log of the
# base; of tanh(A@x), 16 ms a variable for tanh of the sum rebuilt).
LARGE_WORK = 200
WHOLE_MAX = 8  # nodes of other kinds (Piecewise, Max, ...) lambdified alone

_NUMPY = {
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "Abs": np.abs,
    "sign": np.sign,
    "atan": np.arctan,
    "asin": np.arcsin,
    "acos": np.arccos,
}


def post_order(roots: Sequence[Any], into: Any = None) -> list[Any]:
    """Every distinct node under ``roots``, children before parents; only
    into the nodes ``into(node)`` accepts, if given."""
    order: list[Any] = []
    seen: set[Any] = set()
    stack = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            if into is None or into(node):
                stack.extend((a, False) for a in getattr(node, "args", ()))
    return order


def is_large(f: Any, targets: int, small: int) -> bool:
    """Whether the lazy sweep is the way: over ``small`` variables or a large f."""
    if targets > small:
        return True
    return targets > 1 and targets * len(post_order([f])) > LARGE_WORK


def tree_sizes(exprs: Sequence[Any]) -> list[int]:
    """Each expression's node count written out as a tree (shared nodes
    counted each time they occur), without walking the tree."""
    size: dict[Any, int] = {}
    for node in post_order(exprs):
        size[node] = 1 + sum(size[a] for a in getattr(node, "args", ()))
    return [size[e] for e in exprs]


def lazy_gradient(sp: Any, f: Any, targets: Sequence[Any], diff: Any) -> list[Any]:
    """d f / d each target in one reverse sweep, products and sums unevaluated."""
    return reverse_sweep(sp, f, targets, diff, (sp.Function,), evaluate=False)


def reverse_sweep(
    sp: Any,
    f: Any,
    targets: Sequence[Any],
    diff: Any,
    kinds: tuple[type, ...],
    evaluate: bool = True,
) -> list[Any]:
    """All of d f / d target in one reverse sweep over f's distinct subexpressions.

    ``sp.diff`` per target walks all of ``f`` each time (quadratic for
    ``norm(x**2)``); here each distinct node is visited once and its adjoint
    shared.  The chain rule uses SymPy's own derivatives of each node (never the
    engine's rules); nodes other than Add, Mul, Pow and the functions of one
    argument of ``kinds`` (Piecewise, Max, ...) are differentiated whole with
    ``diff`` (SymPy's, settled).
    ``evaluate=False`` leaves the products and sums as built (no flattening
    or assumption queries), so the entries share their subexpressions."""
    wanted = set(targets)

    def opaque(node: Any) -> bool:
        if isinstance(node, sp.Add | sp.Mul | sp.Pow):
            return False
        if isinstance(node, sp.Piecewise):
            return True
        return not (isinstance(node, kinds) and len(node.args) == 1)

    order = post_order([f])
    depends: dict[Any, bool] = {}
    for node in order:
        if node in wanted:
            depends[node] = True
        elif opaque(node):
            depends[node] = bool(node.args) and not wanted.isdisjoint(node.free_symbols)
        else:
            depends[node] = any(depends[a] for a in node.args)
    ops = _Ops(sp, evaluate)
    adjoint: dict[Any, list[Any]] = {f: [sp.Integer(1)]}
    found: dict[Any, list[Any]] = {s: [] for s in targets}
    for node in reversed(order):  # parents before children
        if not depends[node] or node not in adjoint:
            continue
        g = ops.sum(adjoint.pop(node))
        if node in wanted:
            found[node].append(g)
        elif opaque(node):
            for s in targets:
                if s in node.free_symbols:
                    found[s].append(ops.product(g, diff(node, s)))
        else:
            for arg, partial in ops.partials(node, depends):
                adjoint.setdefault(arg, []).append(ops.product(g, partial))
    return [ops.sum(found[s]) for s in targets]


class _Ops:
    """Sums, products and local derivatives, evaluated by SymPy or left as built."""

    def __init__(self, sp: Any, evaluate: bool) -> None:
        self.sp, self.evaluate = sp, evaluate
        self.rules: dict[Any, tuple[Any, Any, Any]] = {}

    def mul(self, *args: Any) -> Any:
        if len(args) == 1:
            return args[0]
        return self.sp.Mul(*args, evaluate=self.evaluate)

    def sum(self, terms: list[Any]) -> Any:
        if not terms:
            return self.sp.Integer(0)
        if len(terms) == 1 and not self.evaluate:
            return terms[0]
        return self.sp.Add(*terms, evaluate=self.evaluate)

    def product(self, a: Any, b: Any) -> Any:
        if self.evaluate:
            return a * b
        if a == 1:
            return b
        if b == 1:
            return a
        if isinstance(a, self.sp.Mul):  # flat: a chain of sines stays one product
            return self.mul(*a.args, b)
        return self.mul(a, b)

    def partials(self, node: Any, depends: dict) -> Iterator[tuple[Any, Any]]:
        """(argument, d node / d argument) for each argument that depends on a
        target."""
        sp, args = self.sp, node.args
        if isinstance(node, sp.Add):
            yield from ((a, sp.Integer(1)) for a in args if depends[a])
        elif isinstance(node, sp.Mul):
            for k, a in enumerate(args):
                if depends[a]:
                    yield a, self.mul(*args[:k], *args[k + 1 :])
        elif isinstance(node, sp.Pow):
            base, power = args
            if depends[base]:
                lower = sp.Pow(base, power - 1, evaluate=self.evaluate)
                yield base, self.mul(power, lower)
            if depends[power]:
                yield power, self.mul(node, sp.log(base, evaluate=self.evaluate))
        elif depends[args[0]]:
            yield args[0], node.fdiff(1) if self.evaluate else self.local(node)

    def local(self, node: Any) -> Any:
        """``node.fdiff(1)`` built on a placeholder and put together unevaluated:
        fdiff rebuilds the function of the whole argument (1 - tanh(u)**2),
        and SymPy's eval of tanh of a long sum takes 16 ms."""
        if node.func not in self.rules:  # one fdiff per kind of function
            x = self.sp.Dummy("x")
            self.rules[node.func] = (x, node.func(x), node.func(x).fdiff(1))
        x, fx, rule = self.rules[node.func]
        return _rebuild(self.sp, rule, {fx: node, x: node.args[0]})


def _rebuild(sp: Any, expr: Any, mapping: dict) -> Any:
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    args = [_rebuild(sp, a, mapping) for a in expr.args]
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:  # a kind with no evaluate flag
        return expr.func(*args)


def values(exprs: Sequence[Any], point: dict, evaluator: Any) -> np.ndarray | None:
    """The expressions at ``point`` (symbol -> float) as complex numbers, each
    distinct node once; nodes of other kinds by ``evaluator`` (lambdify) alone,
    and None if that fails or there are many of them."""
    import sympy as sp

    value: dict[Any, complex] = {}

    def into(node: Any) -> bool:  # the kinds valued here from their arguments
        if isinstance(node, sp.Add | sp.Mul | sp.Pow):
            return True
        return type(node).__name__ in _NUMPY and len(node.args) == 1

    order = post_order(exprs, into)
    opaque = [n for n in order if n.args and not into(n)]
    if len(opaque) > WHOLE_MAX:  # one lambdify of everything is cheaper
        return None
    with np.errstate(all="ignore"):
        for node in order:
            v = _node_value(sp, node, value, point, evaluator)
            if v is None:
                return None
            value[node] = v
    return np.array([value[e] for e in exprs], dtype=complex)


def _node_value(
    sp: Any, node: Any, value: dict, point: dict, evaluator: Any
) -> complex | None:
    if node in point:
        return complex(point[node])
    if isinstance(node, sp.Number) or node in (sp.pi, sp.E):
        try:
            return complex(node)
        except (TypeError, ValueError):  # zoo, nan
            return complex(np.nan)
    if not isinstance(node, sp.Add | sp.Mul | sp.Pow) and (
        type(node).__name__ not in _NUMPY or len(node.args) != 1
    ):
        return _whole(node, point, evaluator)
    args = [value[a] for a in node.args]
    if isinstance(node, sp.Add):
        return complex(sum(args))
    if isinstance(node, sp.Mul):
        out = complex(1)
        for a in args:
            out *= a
        return out
    if isinstance(node, sp.Pow):
        base, power = args
        if power.imag == 0 and power.real == int(power.real) and base.imag == 0:
            if base.real == 0 and power.real < 0:
                return complex(np.inf)
            return complex(np.power(base.real, float(power.real)))
        if base == 0:
            return complex(0) if power.real > 0 else complex(np.nan)
        return complex(np.power(base, power))
    fn, a = _NUMPY[type(node).__name__], args[0]
    if a.imag == 0 and type(node).__name__ not in ("log", "asin", "acos"):
        return complex(fn(a.real))
    return complex(fn(a))


def _whole(node: Any, point: dict, evaluator: Any) -> complex | None:
    """A node of another kind (Piecewise, Max, ...) lambdified on its own."""
    free = list(node.free_symbols)
    if not set(free) <= set(point):
        return None
    try:
        out = evaluator(free, [node])(*(point[s] for s in free))
        return complex(np.asarray(out[0], dtype=complex))
    except Exception:
        return None
