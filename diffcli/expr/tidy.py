"""Closed forms for people to read: simplified where that is safe and quick
(each simplification checked numerically), numbers readable, as text or LaTeX.
Nothing here decides a verdict: the exact forms are kept beside these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.expr import symbolic as S
from diffcli.expr.deadline import can_time_limit, time_limit
from diffcli.expr.symbolic import evaluator, sympy

SIMPLIFY_MAX_OPS = 60  # per entry
SIMPLIFY_TOTAL_OPS = 120  # over all entries: simplify is the slow part
SIMPLIFY_SECONDS = 0.5  # per tidy: what is not simplified by then stays as is


class _SimplifyBudget(DiffcliError):
    """tidy's own time budget ran out (never escapes tidy)."""


def tidy_all(
    arrays: Mapping[str, np.ndarray],
    simplify: bool = True,
    at: Mapping[Any, float] | None = None,
    on_entry: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """``tidy`` over several arrays at once: one size limit, one time budget."""
    names = list(arrays)
    flat = np.concatenate([np.ravel(arrays[n]) for n in names]) if names else []
    flat = np.asarray(flat, dtype=object)
    done, out, k = tidy(flat, simplify=simplify, at=at, on_entry=on_entry), {}, 0
    for n in names:
        size = np.size(arrays[n])
        out[n] = done[k : k + size].reshape(np.shape(arrays[n]))
        k += size
    return out


TRIVIAL_OPS = 2


def tidy(
    exprs: np.ndarray,
    budget_ops: int = SIMPLIFY_MAX_OPS,
    simplify: bool = True,
    at: Mapping[Any, float] | None = None,
    on_entry: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Simplify small closed forms; SymPy's simplify is slow, so only a few.

    A simplification must never change the function (SymPy rewrites periodic
    conditions of a Piecewise, or cancels a 0/0): each simplified entry is
    compared numerically with the derived one at ``at`` (symbol -> value) and at
    a few random points, and where they differ the derived one stays.

    ``simplify=False`` (``Tolerances.simplify``) skips it: the forms are only
    for people to read, and batch checks, which never show them, spend most of
    their time here otherwise.

    Sizes are checked before any op count: counting is itself a walk of every
    entry, which for large arrays costs more than the derivative did.  Even a
    small expression can keep simplify busy for many seconds, so it runs under
    ``SIMPLIFY_SECONDS`` (and not at all where no time limit can be set);
    entries it has not reached by then are left as derived.  ``on_entry(k, n)``
    is told before the k-th of n entries is simplified (for a progress line).
    """
    sp = sympy()
    out = np.array(exprs, dtype=object, copy=True)
    if not simplify or exprs.size > S.SMALL_GRADIENT or not can_time_limit():
        return out
    counts = [
        sp.count_ops(e) if isinstance(e, sp.Basic) else budget_ops + 1
        for e in exprs.ravel()
    ]
    if sum(counts) > SIMPLIFY_TOTAL_OPS:
        return out
    try:
        with time_limit(SIMPLIFY_SECONDS, _SimplifyBudget):
            for k, (i, count) in enumerate(
                zip(np.ndindex(exprs.shape), counts, strict=True)
            ):
                # One or two operations are as simple as it gets, and the first
                # simplify call of a process costs an import of sympy.physics.
                if TRIVIAL_OPS < count <= budget_ops:
                    if on_entry:
                        on_entry(k + 1, exprs.size)
                    out[i] = sp.simplify(exprs[i])
    except _SimplifyBudget:
        pass
    return same_function(exprs, out, at or {})


SAMPLES = 8  # random points a simplification is checked at, besides the point


def same_function(
    before: np.ndarray, after: np.ndarray, at: Mapping[Any, float]
) -> np.ndarray:
    """``after`` where each entry equals ``before``'s as a function (numerically,
    at ``at`` and at SAMPLES seeded random points), ``before``'s elsewhere."""
    sp = sympy()
    changed = [i for i in np.ndindex(before.shape) if after[i] is not before[i]]
    out = np.array(after, dtype=object, copy=True)
    if not changed:
        return out
    olds = [sp.sympify(before[i]) for i in changed]
    news = [sp.sympify(after[i]) for i in changed]
    symbols = sorted(set().union(*(e.free_symbols for e in olds + news)), key=str)
    rng = np.random.default_rng(0)
    points = [[at.get(s, rng.uniform(-3, 3)) for s in symbols]]
    points += [rng.uniform(-3, 3, len(symbols)) for _ in range(SAMPLES // 2)]
    points += [rng.uniform(-30, 30, len(symbols)) for _ in range(SAMPLES // 2)]
    try:
        fn = evaluator(symbols, olds + news)
        with np.errstate(all="ignore"):
            values = np.array([fn(*p) for p in points], dtype=complex)
    except Exception:  # unprintable or failing: keep what was derived
        values = None
    for j, i in enumerate(changed):
        if values is None:
            out[i] = before[i]
            continue
        a, b = values[:, j], values[:, len(changed) + j]
        with np.errstate(all="ignore"):
            same = np.isclose(a, b, rtol=1e-7, atol=1e-12, equal_nan=True) | (a == b)
        if not same.all():
            out[i] = before[i]
    return out


LONG_FRACTION = 10**6  # a numerator or denominator beyond: shown as a decimal


def readable_numbers(expr: Any) -> Any:
    """``expr`` with fractions of float values (816367648554073/400000000000000,
    a --let value made exact) shown as the float they came from (2.0409...):
    the same number, without a wall of digits.  Short fractions stay."""
    sp = sympy()
    if not isinstance(expr, sp.Basic):
        return expr
    long = {
        r: sp.Float(repr(float(r)), 17)
        for r in expr.atoms(sp.Rational)
        if max(abs(r.p), r.q) > LONG_FRACTION
    }
    return expr.xreplace(long) if long else expr


def to_text(expr: Any, latex: bool = False) -> str:
    sp = sympy()
    expr = readable_numbers(expr)
    if latex:
        names = {s: _latex_name(s.name) for s in getattr(expr, "free_symbols", ())}
        return sp.latex(expr, symbol_names=names)
    return str(expr)


def _latex_name(name: str) -> str:
    if "[" not in name:
        return name
    base, _, rest = name.partition("[")
    return f"{base}_{{{rest.rstrip(']').replace(' ', '')}}}"
