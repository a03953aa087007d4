"""--expect's points: where a formula is compared with the derivative, and
the values there to 30 digits, which float64's cancellation cannot spoil."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from diffcli.verify.witnesses import element_labels

PROOF_SECONDS = 2.0  # for one exact evaluation (and SymPy's simplification)


def undefined_in_domain(
    mine: list[Any], values: np.ndarray, n: int, symbols: list[Any], p: list[float]
) -> int | None:
    """The first entry where the formula is not a finite real number at ``p``
    (computed exactly: float64 overflow is no proof) while the derivative and
    the function are; None if there is none."""
    real = np.isfinite(values) & (values.imag == 0)
    if not real[n:].all():
        return None
    for k in np.flatnonzero(~real[:n]):
        if exactly_undefined(mine[k], symbols, p):
            return int(k)
    return None


def exactly_undefined(form: Any, symbols: list[Any], at: list[float]) -> bool:
    """Whether ``form`` at ``at``, to 30 digits, is nan, infinite or not real
    (False where SymPy cannot tell in time)."""
    value = exact_complex(form, symbols, at)
    return value is not None and (not np.isfinite(value) or value.imag != 0)


def jumps(fn: Any, p: list[float], k: int) -> bool:
    """Whether output ``k`` of ``fn`` differs on the two sides of ``p`` (a
    kink of the function: relu's derivative at 0), rather than varying."""
    at = np.asarray(p, dtype=np.float64)
    d = 1e-7 * np.maximum(np.abs(at), 1.0)
    with np.errstate(all="ignore"):
        left, right = (
            np.array(fn(*(at + s * d)), dtype=complex).ravel()[k] for s in (-1, 1)
        )
    return not np.isclose(left, right, rtol=1e-4, atol=1e-8)


UNKNOWN = "unknown"  # exact_difference could not tell


def exact_difference(
    mine: Any, theirs: Any, symbols: list[Any], p: list[float]
) -> tuple[float, float] | str | None:
    """Both values at ``p`` to 30 digits if they really differ there, None if
    they do not (float64 cancellation must not refute a right formula), or
    UNKNOWN if SymPy cannot tell in time (the point then does not count)."""
    a, b = exact_at(mine, symbols, p), exact_at(theirs, symbols, p)
    if a is None or b is None:
        return UNKNOWN
    if abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300):
        return None
    return a, b


def exact_at(form: Any, symbols: list[Any], at: list) -> float | None:
    """``form`` at the point to 30 digits (None if it cannot be had)."""
    value = exact_complex(form, symbols, at)
    return value.real if value is not None and not value.imag else None


def exact_complex(form: Any, symbols: list[Any], at: list) -> complex | None:
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


def point_values(problem: Any, symbols: list[Any]) -> list[float | None]:
    """The user's point for each symbol (None where it has no value)."""
    at: dict[str, float] = {}
    for name, value in problem.point.items():
        arr = np.asarray(value, dtype=np.float64)
        at |= zip(element_labels(name, arr.shape), map(float, arr.ravel()), strict=True)
    return [at.get(s.name) for s in symbols]


def random_point(rng: np.random.Generator, at: list, k: int) -> list[float]:
    """Near the user's point, then positive values, then anywhere: a domain
    like sqrt's or log's is met by some of them."""
    if k % 3 == 0 and at and None not in at:
        return [v + rng.normal(0, 0.5 + abs(v) / 4) for v in at]
    if k % 3 == 1:
        return list(rng.uniform(0.1, 3, len(at)))
    return list(rng.uniform(-3, 3, len(at)))
