"""The user's own derivation: is a formula the user wrote the true derivative?

Three answers, from strongest to weakest: ``proved`` (SymPy reduces the
difference to zero), ``refuted`` (a point where the two differ, with both
values), and ``agrees`` (not proved, but equal at every one of ``SAMPLES``
random points of the domain, and at the user's point).  A formula that cannot
be compared anywhere is ``undecided`` with the reason; never a silent pass.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.errors import ExprError
from diffcli.expr import parser as P
from diffcli.verify.witnesses import element_label, element_labels

SAMPLES = 20  # random points tried when no proof is found
DECIDE_SECONDS = 8.0  # for one formula, proof and points together
PROOF_SECONDS = 2.0  # for SymPy's simplification of all differences together
RTOL, ATOL = 1e-7, 1e-10  # two float64 evaluations of equal formulas agree so
SHOWN = 4  # coordinates of a refuting point named in its description

_TARGET = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\[\s*([\d\s,]*)\])?\s*$")


@dataclass
class Expectation:
    """``NAME=FORMULA`` as typed: the derivative with respect to ``name``
    (or to one entry of it, ``index``) is claimed to be ``formula``."""

    name: str
    index: tuple[int, ...] | None
    formula: str

    @property
    def target(self) -> str:
        return element_label(self.name, self.index or ())


@dataclass
class ExpectCheck:
    """The answer for one expectation; ``entry``, ``at``, ``expected`` and
    ``actual`` locate a refutation."""

    target: str
    formula: str
    status: str  # proved | refuted | agrees | undecided
    reason: str = ""
    points: int = 0  # points where they agree (for ``agrees``)
    entry: str | None = None
    at: dict[str, float] = field(default_factory=dict)
    expected: float | None = None
    actual: float | None = None

    def describe(self) -> str:
        """What was found, in words: the proof, the points, the refutation."""
        if self.status == "proved":
            return f"{self.target}: SymPy reduces the difference to zero"
        if self.status == "agrees":
            where = "point" if self.points == 1 else "points"
            found = f"{self.target}: equal at {self.points} {where}, not proved"
            return f"{found} ({self.reason})" if self.reason else found
        if self.status == "refuted":
            shown = [f"{k}={v:.6g}" for k, v in list(self.at.items())[:SHOWN]]
            more = ", ..." if len(self.at) > SHOWN else ""
            if not np.isfinite(self.expected):
                return (
                    f"{self.entry} at {', '.join(shown)}{more}: the derivative is "
                    f"{self.actual:.6g}, but your formula is not a finite real "
                    "number there"
                )
            return (
                f"{self.entry} at {', '.join(shown)}{more}: the derivative is "
                f"{self.actual:.6g}, your formula {self.expected:.6g}"
            )
        return f"{self.target}: {self.reason}"


def parse_expectation(text: str) -> Expectation:
    """``x=FORMULA`` or ``x[0]=FORMULA``; the first lone ``=`` splits them."""
    split = re.search(r"(?<![<>=!])=(?!=)", text)
    if split is None:
        raise ExprError(f"--expect needs NAME=FORMULA (like x=2*x), got '{text}'", text)
    head, formula = text[: split.start()], text[split.end() :]
    match = _TARGET.match(head)
    if match is None:
        raise ExprError(
            "--expect: before '=' goes a variable or one entry of it "
            f"(x, x[0], A[1, 2]), got '{head.strip()}'",
            text,
            0,
            split.start(),
        )
    index = None
    if match.group(2) is not None:
        parts = [p for p in match.group(2).replace(" ", "").split(",") if p]
        index = tuple(int(p) for p in parts)
    if not formula.strip():
        raise ExprError(f"--expect {head.strip()}= has no formula", text)
    return Expectation(match.group(1), index, formula.strip())


@dataclass
class Claim:
    """An expectation with its formula in SymPy (same symbols as the closed form)."""

    expectation: Expectation
    formula: np.ndarray


def claims(texts: Sequence[str], problem: Any, order: int = 1) -> list[Claim]:
    """Each ``NAME=FORMULA`` parsed and checked against the problem, before any
    work: a wrong name, entry or shape is an error now, not after the check."""
    if texts and order != 1:
        raise ExprError(f"--expect checks the gradient (order 1), not order {order}")
    out = []
    for text in texts:
        e = parse_expectation(text)
        formula = _formula(e, problem)
        shape = problem.shape_of(e.name) if e.index is None else ()
        if formula.size == 1 and formula.shape != shape:
            formula = np.broadcast_to(formula.reshape(()), shape)
        if formula.shape != shape:
            raise ExprError(
                f"--expect {e.target}: the formula has shape {formula.shape}, "
                f"the derivative has shape {shape}",
                e.formula,
            )
        out.append(Claim(e, formula))
    return out


def check_all(
    given: Sequence[Claim],
    problem: Any,
    exact: Mapping[str, np.ndarray] | None,
    engine_gradient: Mapping[str, Any] | None,
    reason: str = "",
    function: Any = None,
) -> list[ExpectCheck]:
    """Each claim against the exact closed form ``exact`` (name -> object
    array); without one (SymPy gave up: ``reason``), against the engine's
    gradient at the point only.  ``function`` (the value in SymPy) bounds the
    domain: a formula is only compared where the function is real."""
    out = []
    for c in given:
        e = c.expectation
        if exact is None:
            out.append(_at_point_only(e, c.formula, problem, engine_gradient, reason))
            continue
        true = np.asarray(exact[e.name], dtype=object)
        if e.index is not None:
            true = np.asarray(true[e.index], dtype=object)
        decide = functools.partial(_decide, e, c.formula, true, problem, function)
        out.append(_within_budget(e, decide))
    return out


def _within_budget(e: Expectation, decide: Any) -> ExpectCheck:
    """``decide()`` under DECIDE_SECONDS and what is left of the command's
    time budget; over it, undecided with the reason."""
    from diffcli.engine.limits import time_left
    from diffcli.expr import symbolic as S

    seconds = time_left(DECIDE_SECONDS)
    late = ExpectCheck(e.target, e.formula, "undecided")
    if seconds is not None and seconds <= 0:
        late.reason = "not tried: the command's time budget is spent"
        return late
    try:
        with S.time_limit(seconds, _OutOfTime):
            return decide()
    except _OutOfTime:
        late.reason = f"no decision within {seconds:.3g} s"
        return late


class _OutOfTime(BaseException):
    """The budget of one decision: a BaseException, so that the handlers
    inside (a SymPy failure at one point) cannot take it for theirs."""


def _formula(e: Expectation, problem: Any) -> np.ndarray:
    """The formula in SymPy, over the same symbols as the closed form."""
    from diffcli.expr import symbolic as S

    if e.name not in problem.wrt:
        raise ExprError(
            f"--expect {e.target}: '{e.name}' is not a variable differentiated "
            f"here (variables: {', '.join(problem.wrt)})",
            e.formula,
        )
    shape = problem.shape_of(e.name)
    if e.index is not None and (
        len(e.index) != len(shape)
        or any(not 0 <= i < n for i, n in zip(e.index, shape, strict=True))
    ):
        raise ExprError(
            f"--expect {e.target}: no such entry; {e.name} has shape {shape}",
            e.formula,
        )
    tree = P.parse(e.formula)
    known = {*P.free_names(problem.tree), *problem.point, *problem.constants}
    for name in P.free_names(tree):
        if name not in known:
            raise ExprError(
                f"--expect {e.target}: '{name}' is not a name of '{problem.text}'",
                e.formula,
            )
    symbols = {n: S.symbols_for(n, problem.shape_of(n)) for n in problem.wrt}
    constants = {n: S.obj(v) for n, v in problem.fixed.items()}
    value, frozen = S.evaluate_symbolic(tree, {**constants, **symbols}, e.formula)
    value = np.asarray(value, dtype=object)
    if frozen:  # detach() in a formula is the value itself
        thaw = np.vectorize(
            lambda v: S.sympy().sympify(v).xreplace(frozen), otypes=[object]
        )
        value = thaw(value)
    return value


def _decide(
    e: Expectation,
    formula: np.ndarray,
    true: np.ndarray,
    problem: Any,
    function: Any = None,
) -> ExpectCheck:
    from diffcli.expr import symbolic as S

    sp = S.sympy()
    entries = list(np.ndindex(true.shape))
    mine = [sp.sympify(formula[i]) for i in entries]
    theirs = [sp.sympify(true[i]) for i in entries]
    check = ExpectCheck(e.target, e.formula, "agrees")
    if _proved([a - b for a, b in zip(mine, theirs, strict=True)]):
        check.status = "proved"
        return check
    domain = [sp.sympify(v) for v in np.ravel(function)] if function is not None else []
    every = mine + theirs + domain
    symbols = sorted(set().union(*(x.free_symbols for x in every)), key=natural)
    at = _point_values(problem, symbols)
    try:
        fn = S.evaluator(symbols, every)
    except Exception:  # SymPy cannot write it for numpy
        check.status = "undecided"
        check.reason = "cannot evaluate it: SymPy could not write it for numpy"
        return check
    rng = np.random.default_rng(0)
    points = [at] if at and None not in at else []
    points += [_random_point(rng, at, k) for k in range(SAMPLES * 3)]
    for p in points:
        with np.errstate(all="ignore"):
            values = np.array(fn(*p), dtype=complex).ravel()
        n = len(entries)
        a, b = values[:n], values[n : 2 * n]
        if not (np.isfinite(values).all() and not values.imag.any()):
            # outside the domain of the function or of its derivative: no
            # comparison; but a formula undefined where both are defined is wrong
            k = _undefined_in_domain(mine, values, n, symbols, p)
            if k is not None:
                exact = _exact_at(theirs[k], symbols, p)
                true = float(b[k].real) if exact is None else exact
                return _refuted(check, e, entries[k], symbols, p, (np.nan, true))
            continue
        close = np.abs(a - b) <= ATOL + RTOL * np.maximum(np.abs(a), np.abs(b))
        counts = True  # the point shows agreement only if every entry does
        for k in np.flatnonzero(~close):
            if _jumps(fn, p, len(entries) + k):
                counts = False  # a kink: no derivative to compare with here
                continue
            exact = _exact_difference(mine[k], theirs[k], symbols, p)
            if exact == UNKNOWN:
                counts = False
            elif exact is not None:
                return _refuted(check, e, entries[k], symbols, p, exact)
        check.points += counts
        if check.points == SAMPLES:
            break
    if check.points == 0:
        check.status = "undecided"
        check.reason = "no point tried where both are defined could be compared"
    return check


def _refuted(
    check: ExpectCheck, e: Expectation, entry: tuple, symbols: list, p: list, found
) -> ExpectCheck:
    """``check`` refuted at point ``p``: ``found`` is (formula, derivative)."""
    check.status, check.entry = "refuted", _entry_name(e, entry)
    check.at = {s.name: float(v) for s, v in zip(symbols, p, strict=True)}
    check.expected, check.actual = found
    return check


def _undefined_in_domain(
    mine: list[Any], values: np.ndarray, n: int, symbols: list[Any], p: list[float]
) -> int | None:
    """The first entry where the formula is not a finite real number at ``p``
    (computed exactly: float64 overflow is no proof) while the derivative and
    the function are; None if there is none."""
    real = np.isfinite(values) & (values.imag == 0)
    if not real[n:].all():
        return None
    for k in np.flatnonzero(~real[:n]):
        if _exactly_undefined(mine[k], symbols, p):
            return int(k)
    return None


def _exactly_undefined(form: Any, symbols: list[Any], at: list[float]) -> bool:
    """Whether ``form`` at ``at``, to 30 digits, is nan, infinite or not real
    (False where SymPy cannot tell in time)."""
    value = _exact_complex(form, symbols, at)
    return value is not None and (not np.isfinite(value) or value.imag != 0)


def _jumps(fn: Any, p: list[float], k: int) -> bool:
    """Whether output ``k`` of ``fn`` differs on the two sides of ``p`` (a
    kink of the function: relu's derivative at 0), rather than varying."""
    at = np.asarray(p, dtype=np.float64)
    d = 1e-7 * np.maximum(np.abs(at), 1.0)
    with np.errstate(all="ignore"):
        left, right = (
            np.array(fn(*(at + s * d)), dtype=complex).ravel()[k] for s in (-1, 1)
        )
    return not np.isclose(left, right, rtol=1e-4, atol=1e-8)


def _proved(diffs: list[Any]) -> bool:
    """Whether SymPy reduces every difference to zero within PROOF_SECONDS."""
    from diffcli.expr import symbolic as S

    sp = S.sympy()
    try:
        with S.time_limit(PROOF_SECONDS):
            return all(
                d == 0 or sp.cancel(d) == 0 or sp.simplify(d) == 0 for d in diffs
            )
    except (S.SymbolicTimeout, ArithmeticError, TypeError, ValueError, RecursionError):
        return False


UNKNOWN = "unknown"  # _exact_difference could not tell


def _exact_difference(
    mine: Any, theirs: Any, symbols: list[Any], p: list[float]
) -> tuple[float, float] | str | None:
    """Both values at ``p`` to 30 digits if they really differ there, None if
    they do not (float64 cancellation must not refute a right formula), or
    UNKNOWN if SymPy cannot tell in time (the point then does not count)."""
    a, b = _exact_at(mine, symbols, p), _exact_at(theirs, symbols, p)
    if a is None or b is None:
        return UNKNOWN
    if abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300):
        return None
    return a, b


def _exact_at(form: Any, symbols: list[Any], at: list) -> float | None:
    """``form`` at the point to 30 digits (None if it cannot be had)."""
    value = _exact_complex(form, symbols, at)
    return value.real if value is not None and not value.imag else None


def _exact_complex(form: Any, symbols: list[Any], at: list) -> complex | None:
    """``form`` at the point to 30 digits, None if SymPy cannot tell in time."""
    from diffcli.expr import symbolic as S

    sp = S.sympy()
    try:
        subs = {s: sp.Float(v, 30) for s, v in zip(symbols, at, strict=True)}
        with S.time_limit(PROOF_SECONDS):
            return complex(sp.sympify(form).evalf(30, subs=subs))
    except (S.SymbolicTimeout, ArithmeticError, TypeError, ValueError):
        return None


def natural(symbol: Any) -> list:
    """Sort key: x[2] before x[10] (indices as numbers, not as text)."""
    parts = re.split(r"(\d+)", str(symbol))
    return [int(t) if t.isdigit() else t for t in parts]


def _point_values(problem: Any, symbols: list[Any]) -> list[float | None]:
    """The user's point for each symbol (None where it has no value)."""
    at: dict[str, float] = {}
    for name, value in problem.point.items():
        arr = np.asarray(value, dtype=np.float64)
        at |= zip(element_labels(name, arr.shape), map(float, arr.ravel()), strict=True)
    return [at.get(s.name) for s in symbols]


def _random_point(rng: np.random.Generator, at: list, k: int) -> list[float]:
    """Near the user's point, then positive values, then anywhere: a domain
    like sqrt's or log's is met by some of them."""
    if k % 3 == 0 and at and None not in at:
        return [v + rng.normal(0, 0.5 + abs(v) / 4) for v in at]
    if k % 3 == 1:
        return list(rng.uniform(0.1, 3, len(at)))
    return list(rng.uniform(-3, 3, len(at)))


def _entry_name(e: Expectation, entry: tuple) -> str:
    return e.target if e.index is not None else element_label(e.name, entry)


def _at_point_only(
    e: Expectation,
    formula: np.ndarray,
    problem: Any,
    engine_gradient: Mapping[str, np.ndarray] | None,
    reason: str | None,
) -> ExpectCheck:
    """SymPy gave up: the formula against the engine at the point, if any."""
    from diffcli.expr import symbolic as S

    check = ExpectCheck(e.target, e.formula, "undecided", reason=reason or "")
    if not engine_gradient or engine_gradient.get(e.name) is None:
        check.reason = f"no closed form ({reason}) and no point to compare at"
        return check
    engine = np.asarray(engine_gradient[e.name], dtype=np.float64)
    if e.index is not None:
        engine = np.asarray(engine[e.index])
    symbols = sorted(
        set().union(*(S.sympy().sympify(f).free_symbols for f in formula.ravel())),
        key=natural,
    )
    at = _point_values(problem, symbols)
    with np.errstate(all="ignore"):
        mine = np.broadcast_to(
            np.array(
                S.evaluator(symbols, list(formula.ravel()))(*at), dtype=complex
            ).reshape(formula.shape),
            engine.shape,
        )
    close = np.isclose(mine, engine, rtol=1e-6, atol=1e-9)
    forms = np.broadcast_to(formula, engine.shape)
    for k in map(tuple, np.argwhere(~close)):  # float64 cancellation in the formula?
        value = _exact_at(forms[k], symbols, at)
        if value is not None and np.isclose(value, engine[k], rtol=1e-6, atol=1e-9):
            close[k] = True
    if close.all():
        check.status, check.points = "agrees", 1
        check.reason = f"at the point only, against the engine: {reason}"
        return check
    k = tuple(np.argwhere(~close)[0])
    check.status, check.entry = "refuted", _entry_name(e, k)
    check.at = {s.name: v for s, v in zip(symbols, at, strict=True)}
    check.expected, check.actual = complex(mine[k]).real, float(engine[k])
    check.reason = f"against the engine at the point (no closed form: {reason})"
    return check
