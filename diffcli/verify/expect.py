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
from diffcli.verify.expect_points import (
    PROOF_SECONDS,
    UNKNOWN,
    exact_at,
    exact_difference,
    jumps,
    natural,
    point_values,
    random_point,
    undefined_in_domain,
)
from diffcli.verify.witnesses import element_label

SAMPLES = 20  # random points tried when no proof is found
DECIDE_SECONDS = 8.0  # for one formula, proof and points together
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
    at = point_values(problem, symbols)
    try:
        fn = S.evaluator(symbols, every)
    except Exception:  # SymPy cannot write it for numpy
        check.status = "undecided"
        check.reason = "cannot evaluate it: SymPy could not write it for numpy"
        return check
    rng = np.random.default_rng(0)
    points = [at] if at and None not in at else []
    points += [random_point(rng, at, k) for k in range(SAMPLES * 3)]
    for p in points:
        with np.errstate(all="ignore"):
            values = np.array(fn(*p), dtype=complex).ravel()
        n = len(entries)
        a, b = values[:n], values[n : 2 * n]
        if not (np.isfinite(values).all() and not values.imag.any()):
            # outside the domain of the function or of its derivative: no
            # comparison; but a formula undefined where both are defined is wrong
            k = undefined_in_domain(mine, values, n, symbols, p)
            if k is not None:
                exact = exact_at(theirs[k], symbols, p)
                true = float(b[k].real) if exact is None else exact
                return _refuted(check, e, entries[k], symbols, p, (np.nan, true))
            continue
        close = np.abs(a - b) <= ATOL + RTOL * np.maximum(np.abs(a), np.abs(b))
        counts = True  # the point shows agreement only if every entry does
        for k in np.flatnonzero(~close):
            if jumps(fn, p, len(entries) + k):
                counts = False  # a kink: no derivative to compare with here
                continue
            exact = exact_difference(mine[k], theirs[k], symbols, p)
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
    at = point_values(problem, symbols)
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
        value = exact_at(forms[k], symbols, at)
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
