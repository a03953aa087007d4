"""Closed forms and expressions evaluated exactly (to 30 digits), not in float64.

``exact`` evaluates a closed form at a point to EXACT_DIGITS digits, free of
float64's rounding and overflow, for the few entries floats cannot settle;
``exact_value`` evaluates the expression itself step by step that way, and
says whether every step stayed real.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.expr import parser as P
from diffcli.expr.symbolic import HELD_VALUES, SymbolicBackend, sympy, time_limit
from diffcli.expr.walk import evaluate

EXACT_DIGITS = 30


class _ExactBudget(DiffcliError):
    """exact's own time budget ran out (never escapes exact)."""


def exact(
    expr: Any, point: Mapping[Any, float], seconds: float = 1.0
) -> complex | None:
    """``expr`` at ``point`` (symbol -> float, each float taken exactly) to
    EXACT_DIGITS digits, free of the rounding and overflow of float64: a complex
    number, nan where it is undefined (0/0, DiracDelta(0)), inf where infinite;
    None if SymPy fails or takes over ``seconds``.  Slow: for the few entries
    floats cannot settle."""
    sp = sympy()
    values = {s: exact_number(sp, float(v)) for s, v in point.items()}
    try:
        with time_limit(seconds, _ExactBudget):
            return _exact(sp, expr, values)
    except _ExactBudget:
        return None


def _exact(sp, expr: Any, values: Mapping[Any, Any]) -> complex | None:
    try:
        r = sp.sympify(expr).xreplace(values)
        if r.free_symbols:
            return None
        if r == sp.zoo:  # complex infinity: infinite, no sign
            return complex(np.inf)
        # steps see their argument's sign only once it is a number
        steps = (sp.DiracDelta, sp.Heaviside, sp.sign)
        r = r.replace(
            lambda e: isinstance(e, steps),
            lambda e: e.func(e.args[0].evalf(EXACT_DIGITS), *e.args[1:]),
        )
        if not _real_throughout(sp, r):
            return complex(np.nan)
        return complex(r.evalf(EXACT_DIGITS))
    except TypeError:  # a function undefined here stays unevaluated
        return complex(np.nan)
    except (ArithmeticError, ValueError, NotImplementedError):
        return None


def _real_throughout(sp, r: Any) -> bool:
    """Whether every step of ``r`` (numbers only) stays real: the engine's
    functions are real, so sqrt(-1)**2 is undefined there, not -1."""
    if r.has(sp.I):
        return False
    for node in sp.preorder_traversal(r):
        if isinstance(node, sp.Pow) and not node.exp.is_integer:
            inside = node.base
        elif isinstance(node, sp.log):
            inside = node.args[0]
        else:
            continue
        value = inside.evalf(EXACT_DIGITS)
        if value.is_extended_negative or not value.is_extended_real:
            return False
    return True


def exact_number(sp, v: float) -> Any:
    """A float as SymPy takes it exactly: small integers as Integers (0**0,
    sign(0) stay exact), the rest as Floats with more digits than float64
    holds.  Never large Integers or Rationals: 1e8**1e8 would be computed
    digit by digit."""
    if v.is_integer() and abs(v) <= 1000:
        return sp.Integer(int(v))
    return sp.Float(v, EXACT_DIGITS + 10) if np.isfinite(v) else sp.Float(v)


class ExactBackend(SymbolicBackend):
    """Numbers to EXACT_DIGITS digits instead of symbols, checked at every step:
    ``real`` turns False once any value leaves the real numbers or is undefined
    (sqrt(-1), 0/0, 1/0), even if a later step brings it back (sqrt(-1)**2)."""

    def __init__(self, variables: Mapping[str, np.ndarray]) -> None:
        sp = sympy()
        numbers = {
            n: np.vectorize(lambda v: exact_number(sp, float(v)), otypes=[object])(
                np.asarray(v, dtype=np.float64)
            )
            for n, v in variables.items()
        }
        # pi and e as the engine has them (float64's), to as many digits
        constants = {c: exact_number(sp, v) for c, v in HELD_VALUES.items()}
        super().__init__(numbers, free=False, constants=constants)
        self.real = True

    def op(self, name: str, *args: Any, **params: Any) -> np.ndarray:
        out = super().op(name, *args, **params)
        sp = self.sp
        for e in out.flat:
            if not isinstance(e, sp.Expr):
                continue
            if not e.is_Number:  # left unevaluated (sqrt(-3.1)): its number
                e = e.evalf(EXACT_DIGITS)
            if e.has(sp.I, sp.nan, sp.zoo) or e.is_infinite:
                self.real = False
        return out

    def detach(self, value: np.ndarray) -> np.ndarray:
        return value


def exact_value(
    tree: P.Expr, point: Mapping[str, np.ndarray], seconds: float = 1.0
) -> tuple[np.ndarray, bool] | None:
    """The value at ``point`` computed step by step to EXACT_DIGITS digits,
    and whether every step stayed real and finite; None if SymPy fails."""
    backend = ExactBackend(point)
    try:
        with time_limit(seconds, _ExactBudget), np.errstate(all="ignore"):
            value = evaluate(tree, backend)
            exact = [sympy().sympify(e).evalf(EXACT_DIGITS) for e in value.flat]
            numbers = [complex(e) for e in exact]
            finite = [bool(e.is_finite) for e in exact]
    except (DiffcliError, ArithmeticError, TypeError, ValueError, RecursionError):
        # after a step left the reals, SymPy may fail on it (Max(1, I)): that
        # step already answered; otherwise nothing is known
        return (np.array(complex(np.nan)), False) if not backend.real else None
    # beyond float64's range (1e400) a number is finite, though complex() of it
    # is inf: as the largest float it stays finite for the callers, who tell an
    # overflow (finite exactly) from a value that is not a number at all
    big = np.finfo(np.float64).max
    numbers = [
        n if np.isfinite(n) or not f else complex(np.copysign(big, n.real))
        for n, f in zip(numbers, finite, strict=True)
    ]
    return np.array(numbers).reshape(np.shape(value)), backend.real


_MPMATH = ("exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan")


def precise(
    exprs: list[Any], point: Mapping[Any, float], seconds: float = 1.0
) -> list[complex] | None:
    """``exprs`` at ``point`` with EXACT_DIGITS + 20 digits, each distinct node
    once (mpmath): fast where ``exact``'s evalf of a large form is not, for
    sums, products, powers and the elementary functions only (else None).
    Cancellation that spoils float64 (an ill-conditioned inverse) is gone."""
    import mpmath

    from diffcli.expr.sweep import post_order

    sp = sympy()
    got: dict[Any, Any] = {}
    try:
        with time_limit(seconds, _ExactBudget), mpmath.workdps(EXACT_DIGITS + 20):
            for node in post_order(exprs):
                value = _mp_node(sp, mpmath, node, got, point)
                # a step off the reals (sqrt(-1)**2), or not finite: exact's
                if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
                    return None
                got[node] = value
            return [complex(got[e]) for e in exprs]
    except (_ExactBudget, ArithmeticError, TypeError, ValueError, KeyError):
        return None


def _mp_node(sp: Any, mp: Any, node: Any, got: dict, point: Mapping) -> Any:
    if node.is_Symbol:
        return mp.mpf(float(point[node]))
    if node.is_Rational:
        return mp.mpf(int(node.p)) / int(node.q)
    if node.is_Number or node.is_NumberSymbol:
        return mp.mpf(str(node.evalf(EXACT_DIGITS + 20)))
    args = [got[a] for a in node.args]
    if isinstance(node, sp.Add):
        return mp.fsum(args)
    if isinstance(node, sp.Mul):
        return mp.fprod(args)
    if isinstance(node, sp.Pow):
        return mp.power(*args)
    name = type(node).__name__
    if name in _MPMATH and len(args) == 1:
        return getattr(mp, name)(args[0])
    return None
