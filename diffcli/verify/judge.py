"""The verdict: whether the engine agrees with its witnesses, entry by entry.

``judge`` compares the engine's derivative with the closed form and the finite
differences (excusing kinks, and unreliable differences), and where numbers
are not finite lets nonfinite.py say why; ``compare`` is the one judge of
agreement, also for batch expectations; ``combine`` joins several verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.verify import nonfinite as NF
from diffcli.verify import witnesses as W
from diffcli.verify.closed_form import ClosedForm, tied
from diffcli.verify.conditioning import Conditioning
from diffcli.verify.question import Problem
from diffcli.verify.ties import may_kink, rounding_flips, tied_names
from diffcli.verify.tolerances import Tolerances

ROUNDING_SLACK = 10  # times the closed form's own float64 error, for the engine's
KINK_NOTES = 3  # kinks named one by one; beyond, counted in one note


@dataclass
class Verdict:
    # "ok" | "mismatch" | "skipped", or where values are not finite (nonfinite.py)
    # "overflow" | "not-differentiable" | "non-finite"
    status: str
    symbolic_max_abs_err: float | None = None
    fd_max_abs_err: float | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    symbolic_max_rel_err: float | None = None  # |a - b| / max(|a|, |b|)
    fd_max_rel_err: float | None = None
    entries: dict[str, str] = field(default_factory=dict)  # label -> its status


@dataclass(frozen=True)
class Comparison:
    """How far ``got`` is from ``want``, entry by entry."""

    off: np.ndarray  # outside the tolerance
    abs_err: np.ndarray  # |got - want|
    rel_err: np.ndarray  # |got - want| / max(|got|, |want|); 0 where both are 0

    @property
    def agree(self) -> bool:
        return not self.off.any()

    def max_err(self, relative: bool = False, where: Any = True) -> float:
        """The largest finite difference (nan and inf entries say nothing, nor
        do entries outside ``where``)."""
        errors = self.rel_err if relative else self.abs_err
        errors = errors[np.isfinite(errors) & where]
        return float(errors.max()) if errors.size else 0.0

    def differ(self, k: int) -> str:
        """Entry ``k``'s absolute and relative difference, for a reason."""
        return f"abs diff {self.abs_err[k]:.3g}, rel diff {self.rel_err[k]:.3g}"


def compare(got: Any, want: Any, rtol: float, atol: float) -> Comparison:
    """The one judge of agreement: an entry agrees when it equals ``want``'s or
    is within ``atol + rtol * |want|`` (nan agrees with nan)."""
    got, want = np.asarray(got), np.asarray(want)
    with np.errstate(all="ignore"):
        close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        abs_err = np.abs(got - want)
        scale = np.maximum(np.abs(got), np.abs(want))
        rel_err = np.where(scale > 0, abs_err / np.where(scale > 0, scale, 1), 0.0)
        return Comparison(~(close | (got == want)), abs_err, rel_err)


def judge(
    problem: Problem,
    engine: W.Engine | None,
    sym: ClosedForm | None,
    fd: W.FiniteDifferences | None,
    tol: Tolerances,
    check: bool,
    cond: Conditioning | None = None,
) -> Verdict:
    """Compare the engine with each available witness, excusing kinks; where
    values are not finite, say why (nonfinite.py) rather than compare them;
    at an ill-conditioned matrix (``cond``), within the digits float64 keeps."""
    if not check:
        return Verdict("skipped", reason="checks turned off")
    if engine is None:
        missing = problem.missing
        return Verdict(
            "skipped",
            reason=f"{', '.join(missing)} "
            f"{'has' if len(missing) == 1 else 'have'} no value: "
            "the result is symbolic",
        )
    e, labels, notes = engine.flat, engine.labels, []
    verdict = Verdict("ok", notes=notes)
    if NF.point_verdict(verdict, problem):
        return verdict
    if not np.all(np.isfinite(engine.value)):
        NF.value_verdict(verdict, engine, sym, problem)
        if cond is not None and cond.singular and verdict.status == "overflow":
            verdict.reason += (  # not an overflow: rounding left no digit
                f"; {cond.function}'s matrix is numerically singular there "
                f"(condition number {cond.number:.2g})"
            )
        return verdict
    bad = np.zeros(e.shape, dtype=bool)
    kinks = np.zeros(e.shape, dtype=bool)
    sym_agrees = np.zeros(e.shape, dtype=bool)
    fd_bad, fd_c = np.zeros_like(bad), None  # a copy: bad grows in place below
    witnesses = 0
    if fd is not None and fd.ok:
        votes = np.isfinite(fd.flat) & np.isfinite(fd.noise) & np.isfinite(e)
        unreliable = ~np.isfinite(fd.flat) & np.isfinite(e)
        if fd.unreliable is not None:
            votes &= ~fd.unreliable
            unreliable |= fd.unreliable
        if fd.kinks is not None and fd.kinks.any() and not may_kink(problem):
            # parted slopes, but nothing in the expression has a kink: strong
            # curvature or ill-conditioning; the differences fail there
            parted = fd.kinks & votes
            votes, unreliable = votes & ~parted, unreliable | parted
            fd.unreliable = unreliable
        if unreliable.any():
            notes.append(
                NF.unreliable_note([labels[k] for k in np.flatnonzero(unreliable)])
            )
        witnesses += bool(votes.any())
        c = compare(e, fd.flat, tol.rtol, tol.atol)
        if votes.any():
            verdict.fd_max_abs_err = c.max_err(where=votes)
            verdict.fd_max_rel_err = c.max_err(relative=True, where=votes)
        off = c.off & votes
        if fd.noise is not None:  # differences cannot see below their rounding
            coarse = off & (c.abs_err <= fd.noise)
            off = off & ~coarse
            if coarse.any():
                k = int(np.argmax(np.where(coarse, fd.noise, -np.inf)))
                where = ", ".join(labels[j] for j in np.flatnonzero(coarse)[:3])
                more = " ..." if coarse.sum() > 3 else ""
                notes.append(
                    f"finite differences differ at {where}{more} only within their "
                    f"rounding (up to ±{fd.noise[k]:.3g}): a large value, a small "
                    "slope"
                )
        if fd.kinks is not None:
            # one-sided differences are first-order: allow their tolerance
            slack = tol.rtol * np.maximum(abs(fd.left), abs(fd.right)) + tol.atol
            inside = (np.minimum(fd.left, fd.right) - slack <= e) & (
                e <= np.maximum(fd.left, fd.right) + slack
            )
            kinks = fd.kinks & inside & votes
        at_kinks = np.flatnonzero(kinks)
        for k in at_kinks[:KINK_NOTES]:  # even where all agree: say so
            notes.append(
                f"{labels[k]} is at a kink (one-sided slopes "
                f"{fd.left[k]:.6g} and {fd.right[k]:.6g}); the engine "
                f"takes {e[k]:.6g}, PyTorch's choice"
            )
        if len(at_kinks) > KINK_NOTES:
            notes.append(
                f"and {len(at_kinks) - KINK_NOTES} more entries at a kink; the "
                "engine takes PyTorch's choice at each"
            )
        fd_bad, fd_c, fd_votes = off & ~kinks, c, votes
    elif fd is not None:
        notes.append(f"finite differences skipped: {fd.reason}")
    state = None
    if sym is not None and sym.ok and sym.flat_at is not None:
        state = NF.states(sym)
        votes = (state == "finite") & np.isfinite(e)
        c = compare(e, sym.flat_at, tol.sym_rtol, tol.sym_atol)
        if votes.any():
            verdict.symbolic_max_abs_err = c.max_err(where=votes)
            verdict.symbolic_max_rel_err = c.max_err(relative=True, where=votes)
        off = c.off & votes
        slack = None if sym.rounding is None else ROUNDING_SLACK * sym.rounding
        if cond is not None:  # the engine's own rounding at an ill-conditioned X
            scale = np.max(np.abs(np.where(votes, e, 0.0)), initial=0.0)
            slack = cond.slack(scale) + (0.0 if slack is None else slack)
        if slack is not None:  # within what float64 loses here: no verdict
            spoiled = off & (
                c.abs_err <= tol.sym_atol + slack + tol.sym_rtol * np.abs(sym.flat_at)
            )
            off &= ~spoiled
            if spoiled.any() and sym.rounding is not None:
                notes.append(
                    f"{NF.listed(labels, spoiled)}: the derivative is ill-conditioned "
                    "here (float64's rounding of it or of the point moves the "
                    f"closed form by up to {np.max(sym.rounding[spoiled]):.3g}); the "
                    "engine is within that of its exact value"
                )
        for k in np.flatnonzero(off & kinks)[:KINK_NOTES]:
            notes.append(
                f"the closed form takes {sym.flat_at[k]:.6g} at the kink in {labels[k]}"
            )
        # at a tie (where(x > 0, ...) at x = 0, max of equal values) the
        # engine takes PyTorch's branch or shares the gradient: a convention,
        # which witnesses looking around the point need not share
        doubted = fd_bad | (off & ~kinks)
        at_tie = doubted
        if doubted.any():
            at_tie = _at_tie(labels, tied_names(problem) | tied(sym))
        if (doubted & at_tie).any():
            fd_bad = fd_bad & ~at_tie
            off = off & ~at_tie
            if fd_c is not None:
                verdict.fd_max_abs_err = fd_c.max_err(where=fd_votes & ~at_tie)
                verdict.fd_max_rel_err = fd_c.max_err(True, fd_votes & ~at_tie)
            verdict.symbolic_max_abs_err = c.max_err(where=votes & ~at_tie)
            verdict.symbolic_max_rel_err = c.max_err(True, votes & ~at_tie)
            notes.append(
                f"{NF.listed(labels, doubted & at_tie)}: the point is at a tie of a "
                "comparison (a branch boundary); the engine takes PyTorch's choice "
                "there, the witnesses may see the branches around it"
            )
        if (off & ~kinks).any() and rounding_flips(problem):
            notes.append(
                f"{NF.listed(labels, off & ~kinks)}: float64 decides a comparison "
                "otherwise than exact arithmetic here (its sides differ by rounding "
                "or an underflow); the closed form follows exact arithmetic and "
                "does not vote"
            )
            votes = votes & ~(off & ~kinks)
            off = off & kinks
            verdict.symbolic_max_abs_err = (
                c.max_err(where=votes) if votes.any() else None
            )
            verdict.symbolic_max_rel_err = (
                c.max_err(True, votes) if votes.any() else None
            )
        if (off & ~kinks).any():
            k = int(np.flatnonzero(off & ~kinks)[0])
            said = (
                f"the closed form disagrees at {labels[k]}: engine "
                f"{e[k]:.15g}, closed form {sym.flat_at[k]:.15g} "
                f"({c.differ(k)})"
            )
            verdict.reason = said
        bad |= off & ~kinks
        sym_agrees = votes & ~off
        witnesses += bool(votes.any() or (state == "undefined").any())
    elif sym is not None:
        notes.append(f"closed form skipped: {sym.reason}")
    # Where differences already fail here (no two steps agree, or one-sided
    # slopes part somewhere: an ill-conditioned point), they do not outvote a
    # closed form that agrees; elsewhere they still catch a forward and its
    # twin that disagree.
    troubled = kinks.any() or (
        fd is not None and fd.unreliable is not None and fd.unreliable.any()
    )
    overruled = fd_bad & sym_agrees if troubled else np.zeros_like(fd_bad)
    if overruled.any():  # the exact witness agrees: differences fail here
        fd_bad = fd_bad & ~overruled
        verdict.fd_max_abs_err = fd_c.max_err(where=fd_votes & ~overruled)
        verdict.fd_max_rel_err = fd_c.max_err(True, fd_votes & ~overruled)
        where = ", ".join(labels[k] for k in np.flatnonzero(overruled)[:3])
        more = " ..." if overruled.sum() > 3 else ""
        notes.append(
            f"finite differences disagree at {where}{more}, where the closed form, "
            "derived independently, agrees with the engine: differences are "
            "unreliable here (strong curvature or ill-conditioning) and do not vote"
        )
    if fd_bad.any():  # before the closed form's reason, if both disagree
        k = int(np.flatnonzero(fd_bad)[0])
        said = (
            f"finite differences disagree at {labels[k]}: engine "
            f"{e[k]:.10g}, finite differences {fd.flat[k]:.10g} "
            f"({fd_c.differ(k)})"
        )
        verdict.reason = f"{said}; {verdict.reason}" if verdict.reason else said
        bad |= fd_bad
    if bad.any():
        verdict.status = "mismatch"
        verdict.entries = {labels[k]: "mismatch" for k in np.flatnonzero(bad)}
    elif NF.entries_verdict(
        verdict, e, labels, state, sym, kinks, _parted(problem, fd)
    ):
        pass  # not finite somewhere: the verdict says why
    elif not witnesses:
        verdict.status = "skipped"
        verdict.reason = "; ".join(notes) or "no witness could run"
        verdict.notes = []  # each is in the reason: said once
    return verdict


def combine(verdicts: list[Verdict]) -> Verdict:
    """The verdict of several: a mismatch anywhere wins, then ok, then skipped."""
    for status in ("mismatch", *NF.SPECIAL, "ok", "skipped"):
        hits = [v for v in verdicts if v.status == status]
        if hits:
            errs = lambda key: [
                getattr(v, key) for v in verdicts if getattr(v, key) is not None
            ]
            return Verdict(
                status,
                max(errs("symbolic_max_abs_err"), default=None),
                max(errs("fd_max_abs_err"), default=None),
                hits[0].reason,
                [n for v in verdicts for n in v.notes],
                max(errs("symbolic_max_rel_err"), default=None),
                max(errs("fd_max_rel_err"), default=None),
                {k: s for v in verdicts for k, s in v.entries.items()},
            )
    return Verdict("skipped", reason="nothing to check")


def _parted(problem: Problem, fd: W.FiniteDifferences | None) -> Any:
    """Where finite differences saw two one-sided slopes and the expression can
    have a kink there: (mask, left slopes, right slopes), or None."""
    if fd is None or not fd.ok or fd.kinks is None or not may_kink(problem):
        return None
    return fd.kinks, fd.left, fd.right


def _at_tie(labels: list[str], names: set[str]) -> np.ndarray:
    """The entries a tie can touch: a tied variable's (a higher derivative's
    label names no variable, so any tie touches it)."""
    if not names:  # no label made: there may be millions
        return np.zeros(len(labels), dtype=bool)
    return np.array(
        [bool(names) and (label in names or label.startswith("d")) for label in labels]
    )
