"""Verdicts where numbers are not finite: say why instead of comparing them.

The closed form, evaluated exactly where floats are not finite (closed_form.py),
tells the cases apart:

* ``not-differentiable``: the function or its derivative is not a finite real
  number at the point (1/x at 0, sqrt(x) at 0, (-2)**x): the engine's inf or
  nan is right, or its finite number is PyTorch's choice there.  Exit 0.
* ``overflow``: the engine's value or derivative is not finite, yet exactly it
  is (log(sum(exp(x))) at 1000): float64 overflowed, or an inf met a 0 in the
  chain rule.  The engine's answer is not the derivative: exit 1.
* ``non-finite``: the engine's value or derivative is not finite and no witness
  can tell whether it should be.  Exit 0, never "ok".
"""

from __future__ import annotations

from typing import Any

import numpy as np

SPECIAL = ("overflow", "not-differentiable", "non-finite")  # by precedence


def states(sym: Any) -> np.ndarray:
    """Each closed-form entry: "finite", "undefined" or "unknown"."""
    if sym.flat_state is not None:
        return np.asarray(sym.flat_state, dtype=object)
    finite = np.isfinite(sym.flat_at)
    return np.where(finite, "finite", "unknown").astype(object)


def nonfinite_given(problem: Any, names: Any = None) -> str | None:
    """The first value given (of ``names``, else any) that is nan or infinite,
    as ``x[1] = inf``."""
    given = {**problem.fixed, **problem.point}
    for name, value in given.items():
        if names is not None and name not in names:
            continue
        flat = np.asarray(value, dtype=np.float64).ravel()
        bad = np.flatnonzero(~np.isfinite(flat))
        if bad.size:
            k = int(bad[0])
            where = name if np.ndim(value) == 0 else f"{name}{_index(value, k)}"
            return f"{where} = {_number(flat[k])}"
    return None


def _index(value: Any, k: int) -> str:
    return (
        "[" + ", ".join(str(int(i)) for i in np.unravel_index(k, np.shape(value))) + "]"
    )


def point_verdict(verdict: Any, problem: Any) -> Any | None:
    """A variable at nan or infinity: there is no derivative to check there."""
    given = nonfinite_given(problem, problem.wrt)
    if given is None:
        return None
    verdict.status = "not-differentiable"
    verdict.reason = (
        f"not differentiable here: the point is not finite ({given}); "
        "derivatives are taken at real numbers"
    )
    return verdict


def value_verdict(verdict: Any, engine: Any, sym: Any, problem: Any = None) -> Any:
    """The value itself is not finite: nothing to compare, only to explain."""
    value = np.asarray(engine.value, dtype=np.float64)
    shown = _number(value.ravel()[np.flatnonzero(~np.isfinite(value))[0]])
    state = None if sym is None else sym.value_state
    given = None if problem is None else nonfinite_given(problem)
    if given:
        verdict.status = "not-differentiable"
        verdict.reason = (
            f"not differentiable here: the point is not finite ({given}), and "
            f"so the value is {shown}"
        )
    elif state == "finite":
        exact = sym.value_exact.ravel()
        k = int(np.flatnonzero(~np.isfinite(value.ravel()))[0])
        verdict.status = "overflow"
        huge = abs(exact[k]) >= np.finfo(np.float64).max  # exact.exact_value
        said = "beyond float64's range" if huge else f"{exact[k]:.6g}"
        verdict.reason = (
            f"overflow in the engine: the value is {said} exactly, but "
            f"{shown} in float64 (and so its derivative)"
        )
    elif state == "undefined":
        verdict.status = "not-differentiable"
        verdict.reason = (
            "not differentiable here: the function is not a finite real number "
            f"at the point (value {shown}; computed exactly, it is not either)"
        )
    else:
        verdict.status = "non-finite"
        why = "SymPy could not evaluate it" if state == "unknown" else "no SymPy"
        verdict.reason = (
            f"the value is {shown} at the point and no witness can tell whether "
            f"the function is defined there ({why})"
        )
    return verdict


def unreliable_note(labels: list[str]) -> str:
    where = ", ".join(labels[:3]) + (" ..." if len(labels) > 3 else "")
    return (
        f"finite differences are unreliable here at {where}: no two steps agree "
        "(a jump, a pole, cancellation or a huge magnitude); they do not vote there"
    )


def entries_verdict(
    verdict: Any,
    e: np.ndarray,
    labels: list[str],
    state: np.ndarray | None,
    sym: Any,
    kinks: np.ndarray,
    parted: Any = None,
) -> bool:
    """Set the verdict where the engine's derivative or the closed form is not
    finite (nothing else disagreed); False if everything is finite.  ``parted``
    (mask, left, right): one-sided slopes that differ, where a kink can be."""
    finite = np.isfinite(e)
    if state is None:
        state = np.full(e.shape, "unknown", dtype=object)
    exact_finite = state == "finite"
    undefined = state == "undefined"
    # a step that left the reals (sqrt(-1)**2) makes the function undefined here,
    # whatever SymPy's closed form of its derivative reads
    outside = sym is not None and sym.value_state == "undefined"
    at_kink = np.zeros(e.shape, bool) if parted is None else parted[0]
    # sqrt(x**2) at 0: SymPy's |x| takes sign(0) = 0, the engine's 0 * inf is
    # nan (PyTorch's too): at a kink that is no overflow, there is no slope
    kinked = ~finite & exact_finite & at_kink & (not outside)
    overflow = ~finite & exact_finite & (not outside) & ~kinked
    agree = ~finite & (undefined | outside)
    chosen = finite & undefined & ~kinks
    unknown = ~finite & ~exact_finite & ~undefined
    if (finite & undefined & kinks).any():
        verdict.notes.append(
            "the closed form is not a finite real number at the kink in "
            f"{listed(labels, finite & undefined & kinks)}"
        )
    found = [
        ("overflow", overflow),
        ("not-differentiable", agree | chosen | kinked),
        ("non-finite", unknown),
    ]
    for status, mask in found:
        verdict.entries.update({labels[k]: status for k in np.flatnonzero(mask)})
    for status, mask in found:
        if not mask.any():
            continue
        k = int(np.flatnonzero(mask)[0])
        at = listed(labels, mask)
        verdict.status = status
        if status == "overflow":
            verdict.reason = (
                f"overflow in the engine at {at}: the engine's derivative is "
                f"{_number(e[k])}, but exactly it is {sym.flat_at[k]:.10g} (float64 "
                "overflowed or underflowed, or an inf met a 0 in the chain rule)"
            )
        elif status == "non-finite":
            verdict.reason = (
                f"the engine's derivative at {at} is {_number(e[k])} and no witness "
                "can tell whether it exists there"
            )
        elif kinked[k]:
            verdict.reason = (
                f"not differentiable here: {at} is at a kink (one-sided slopes "
                f"{parted[1][k]:.6g} and {parted[2][k]:.6g}); the engine's "
                f"{_number(e[k])} is PyTorch's there"
            )
        elif chosen[k]:
            verdict.reason = (
                f"not differentiable here: exactly, the derivative at {at} is not a "
                f"finite real number; the engine takes {e[k]:.6g}, PyTorch's choice"
            )
        elif undefined[k]:
            verdict.reason = (
                f"not differentiable here: the derivative at {at} is "
                f"{_number(e[k])}, and not a finite real number exactly either"
            )
        else:
            verdict.reason = (
                "not differentiable here: computed exactly, the function leaves the "
                "real numbers (or is undefined) at the point or just beside it; "
                f"the derivative at {at} is {_number(e[k])}"
            )
        return True
    return False


def listed(labels: list[str], mask: np.ndarray) -> str:
    """The labels where ``mask`` holds: the first three, then '...'."""
    where = [labels[k] for k in np.flatnonzero(mask)]
    return ", ".join(where[:3]) + (" ..." if len(where) > 3 else "")


def _number(v: float) -> str:
    return f"{v:.6g}"  # nan, inf and -inf spelled out
