"""The closed form at the point: evaluated in float64, exactly where float64
cannot be trusted (an overflow, a cancellation, a value that is not finite),
with the rounding this point's arithmetic suffers, and whether the function is
a real number there at all.  ``closed_form.py`` derives; this evaluates.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from diffcli.expr import sweep
from diffcli.verify.question import Problem


def needs_value_state(engine: Any) -> bool:
    """Whether the engine's value or derivative is not finite somewhere."""
    return engine is not None and not (
        np.all(np.isfinite(engine.value)) and np.all(np.isfinite(engine.flat))
    )


def at_point(
    problem: Problem,
    result: Any,
    derived: dict,
    symbols: dict,
    names: list,
    order: int,
    tol: Any,
    engine: Any = None,
    point: dict | None = None,
) -> None:
    """Evaluate every closed form at the point: lambdified when all is numeric,
    exactly where the floats are not finite, or the engine's are not, or the
    two disagree (cancellation can spoil the closed form's floats too)."""
    from diffcli.expr import symbolic as S

    groups: list[np.ndarray] = [derived[n] for n in names]
    if result.hessian:
        groups += [result.hessian[a][b] for a in names for b in names]
    if result.nth is not None:
        groups.append(result.nth)
    exprs = [e for g in groups for e in g.ravel()]
    args = [s for n in names for s in symbols[n].ravel()]
    if problem.numeric:
        args = list(point)  # the variables' symbols, then pi and e if held
        values = list(point.values())
        shared = sweep.values(exprs, point, S.evaluator)  # each distinct node once
        if shared is not None:
            flat = np.array([_real(v) for v in shared], dtype=np.float64)
        else:
            flat = _numbers(S, args, exprs, values)
        out = [flat[k : k + g.size].reshape(g.shape) for k, g in _offsets(groups)]
    else:
        subs = {
            s: S._number(S.sympy(), problem.point[n][i])
            for n in names
            if n in problem.point
            for s, i in zip(
                symbols[n].ravel(), np.ndindex(symbols[n].shape), strict=True
            )
        }
        at_point = np.vectorize(
            lambda e: S.sympy().sympify(e).subs(subs), otypes=[object]
        )
        out = [at_point(g) for g in groups]
        result.value = at_point(result.value)  # symbolic: show it at the point
        flat = None
    result.gradient_at = dict(zip(names, out[: len(names)], strict=True))
    rest = out[len(names) :]
    if result.hessian:
        result.hessian_at = {a: {b: rest.pop(0) for b in names} for a in names}
    if result.nth is not None:
        result.nth_at = rest.pop(0)
    if flat is None:
        return
    # a view of flat (the groups in order): exact values written here show
    under_check = [derived[n] for n in names]
    start = 0
    if order == 2:
        start = sum(g.size for g in under_check)
        under_check = [result.hessian[a][b] for a in names for b in names]
    elif order > 2:
        start = sum(g.size for g in under_check)
        under_check = [result.nth]
    result.flat_at = flat[start : start + sum(g.size for g in under_check)]
    point = dict(zip(args, values, strict=True))
    forms = [e for g in under_check for e in g.ravel()]
    floats = result.flat_at.copy()
    suspect = ~np.isfinite(floats)
    result.flat_state = np.where(suspect, "unknown", "finite").astype(object)
    if engine is not None and engine.flat.shape == suspect.shape:
        with np.errstate(all="ignore"):
            suspect |= ~np.isfinite(engine.flat) | ~np.isclose(
                engine.flat, floats, rtol=tol.sym_rtol, atol=tol.sym_atol
            )
    exact_at = _exact_budget(point)
    result.rounding = np.zeros(floats.shape)
    checked = np.flatnonzero(suspect)[:EXACT_MAX]
    many = _precise_at(point, [forms[k] for k in checked])  # fast, if it can
    for i, k in enumerate(checked):
        exact = exact_at(forms[k]) if many is None else many[i]
        if exact is not None:
            real = _real(exact)
            result.flat_at[k] = real
            result.flat_state[k] = "finite" if np.isfinite(real) else "undefined"
            if np.isfinite(real) and np.isfinite(floats[k]):
                result.rounding[k] = abs(floats[k] - real)
    variables = {s for n in names for s in symbols[n].ravel()}
    spread = _spread_near(point, variables, [forms[k] for k in checked])
    if spread is not None:
        result.rounding[checked] = np.maximum(result.rounding[checked], spread)
    if needs_value_state(engine):
        value_state(S, problem, result, engine.value, exact_at)


EXACT_MAX = 64  # entries evaluated exactly, at most (each may take a while)
EXACT_SECONDS = 2.0  # for all of them: the rest stay unknown


def _precise_at(point: dict, forms: list) -> list | None:
    """The forms to more digits than float64 at once, finite ones only (the
    rest, and any form mpmath cannot take, are left to ``exact``)."""
    from diffcli.expr.exact import precise

    if not forms:
        return None
    values = precise(forms, point, EXACT_SECONDS)
    if values is None or not all(np.isfinite(v) and not v.imag for v in values):
        return None
    return values


def _exact_budget(point: dict) -> Any:
    """exact() at the point, sharing EXACT_SECONDS among all its calls."""
    import time

    from diffcli.expr.exact import exact

    deadline = time.monotonic() + EXACT_SECONDS

    def exact_at(expr: Any) -> complex | None:
        left = deadline - time.monotonic()
        return exact(expr, point, left) if left > 0.01 else None

    return exact_at


def _numbers(S: Any, args: list, exprs: list, values: list) -> np.ndarray:
    """The closed forms at the point as floats (nan where complex: not real);
    one by one, exactly, if they cannot be lambdified together."""
    try:
        fn = S.evaluator(args, exprs)
        with np.errstate(all="ignore"):
            numbers = fn(*values)
    except (
        ArithmeticError,
        LookupError,
        NameError,
        NotImplementedError,
        TypeError,
        ValueError,
    ):
        exact_at = _exact_budget(dict(zip(args, values, strict=True)))
        numbers = [exact_at(e) for e in exprs]
        numbers = [np.nan if v is None else v for v in numbers]
    return np.array([_real(complex(v)) for v in numbers], dtype=np.float64)


def _real(value: complex) -> float:
    """A real number, or nan for one with an imaginary part (not real here)."""
    scale = max(1.0, abs(value.real)) if np.isfinite(value.real) else 1.0
    return value.real if abs(value.imag) <= 1e-12 * scale else np.nan


def value_state(
    S: Any, problem: Problem, result: Any, engine_value: Any, exact_at: Any
) -> None:
    """Whether the function is real and finite at the point, computed exactly
    step by step (sqrt(-1)**2 is not, though SymPy's closed form reads -1)."""
    from diffcli.verify.nonfinite import nonfinite_given

    if nonfinite_given(problem):  # a nan or inf given: nothing exact to find
        result.value_state = "undefined"
        return
    if problem.tree is not None:
        from diffcli.expr.exact import exact_value

        found = exact_value(
            problem.tree, {**problem.fixed, **problem.point}, EXACT_SECONDS
        )
        if found is None:
            result.value_state = "unknown"
            return
        values, real = found
        exact = np.array([_real(v) for v in values.ravel()]).reshape(values.shape)
        result.value_exact = exact
        finite = real and np.all(np.isfinite(exact))
        result.value_state = (
            "finite" if finite and _real_around(problem) else "undefined"
        )
        return
    # --func: the replayed graph's value, exactly where the engine's is not finite
    value = np.asarray(result.value, dtype=object)
    if value.size != np.size(engine_value):
        return
    exact = np.full(value.size, np.nan)
    states = ["finite"]
    bad = np.flatnonzero(~np.isfinite(np.asarray(engine_value, dtype=np.float64)))
    for k in bad[:EXACT_MAX]:
        v = exact_at(value.ravel()[k])
        exact[k] = np.nan if v is None else _real(v)
        finite = "finite" if np.isfinite(exact[k]) else "undefined"
        states.append("unknown" if v is None else finite)
    result.value_exact = exact.reshape(value.shape)
    result.value_state = next(
        s for s in ("undefined", "unknown", "finite") if s in states
    )


def _real_around(problem: Problem) -> bool:
    """Whether the function stays real just beside the point, both ways
    ((-1)**v is real at v = 1 only, so it has no derivative there)."""
    from diffcli.expr.exact import exact_value

    for sign in (1.0, -1.0):
        moved = {
            n: v + sign * 1e-9 * np.maximum(1.0, np.abs(v))
            for n, v in problem.point.items()
            if n in problem.wrt
        }
        found = exact_value(problem.tree, {**problem.fixed, **moved}, EXACT_SECONDS)
        if found is not None and not found[1]:
            return False
    return True


def _exactly_where_overflowed(flat, exprs, args, values) -> None:
    """Entries float64 could not evaluate (exp(1000) / (exp(1000) + ...))
    are evaluated by SymPy at the exact point instead; nan where that has no
    real value either."""
    from diffcli.expr import symbolic as S

    bad = np.flatnonzero(~np.isfinite(flat))
    if not bad.size:
        return
    sp = S.sympy()
    point = {s: S._number(sp, v) for s, v in zip(args, values, strict=True)}
    for k in bad:
        with contextlib.suppress(TypeError, ValueError):  # complex, undefined
            flat[k] = float(sp.sympify(exprs[k]).xreplace(point).evalf(30))


ALONE = 16  # up to this many variable elements are nudged one at a time


def _spread_near(point: dict, variables: set, forms: list) -> np.ndarray | None:
    """How much each form changes when a variable moves by float64's rounding
    of a value of its size (at least 1): the engine computes with intermediates
    rounded so (cos(atan2(2, 0)) is 6e-17, not 0), which a steep derivative
    turns into an error the exact closed form does not see.  One variable at a
    time (moving another may leave a domain: (-y)**y), or all together over
    ALONE of them; points where a form is not finite do not count, and neither
    does a change that does not grow with the step (a jump, not a slope)."""
    from diffcli.expr import symbolic as S

    if not forms:
        return None
    args, values = list(point), np.array(list(point.values()), dtype=np.float64)
    moved = np.flatnonzero([a in variables for a in args])
    step = np.zeros(len(values))
    step[moved] = np.finfo(np.float64).eps * np.maximum(np.abs(values[moved]), 1.0)
    if len(moved) <= ALONE:
        nudges = [np.where(np.arange(len(values)) == i, step, 0.0) for i in moved]
    else:
        nudges = [step]
    moves = [sign * d for d in nudges for sign in (-1, 1)]
    try:
        fn = S.evaluator(args, forms)
        with np.errstate(all="ignore"):
            here = np.array(fn(*values), dtype=complex)
            one, four = (
                np.max([_moved_by(fn, values + k * d, here) for d in moves], axis=0)
                for k in (1, 4)
            )
    except Exception:  # a form numpy cannot evaluate: no estimate
        return None
    # a slope grows with the step; a jump (a kink, a branch) does not, and is
    # no rounding: it gets no allowance
    return np.where(four >= 2 * one, one, 0.0)


def _moved_by(fn: Any, values: np.ndarray, here: np.ndarray) -> np.ndarray:
    """|fn(values) - here|, 0 where either is not finite (outside a domain)."""
    change = np.abs(np.array(fn(*values), dtype=complex) - here)
    return np.where(np.isfinite(change), change, 0.0)


def _offsets(groups: list[np.ndarray]):
    k = 0
    for g in groups:
        yield k, g
        k += g.size
