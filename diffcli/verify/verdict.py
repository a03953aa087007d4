"""Three witnesses of a gradient, and the verdict on whether they agree.

The engine (reverse mode), the SymPy closed form (lambdified at the point) and
central finite differences of the forward pass.  Everything here returns data
(``GradResult``); printing is render.py's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.errors import ExprError
from diffcli.verify import witnesses as W
from diffcli.verify.closed_form import ClosedForm, closed_form
from diffcli.verify.question import Problem, Values, prepare, prepare_function


@dataclass(frozen=True)
class Tolerances:
    """PyTorch gradcheck's for finite differences; tight for the closed form."""

    rtol: float = 1e-3
    atol: float = 1e-5
    sym_rtol: float = 1e-9
    sym_atol: float = 1e-12
    sym_max_elements: int = 512
    sym_timeout: float = 10.0
    fd_max_elements: int = 2000
    simplify: bool = True  # tidy the closed forms for display; batch never shows them


@dataclass
class Verdict:
    status: str  # "ok" | "mismatch" | "skipped"
    symbolic_max_abs_err: float | None = None
    fd_max_abs_err: float | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    symbolic_max_rel_err: float | None = None  # |a - b| / max(|a|, |b|)
    fd_max_rel_err: float | None = None


@dataclass
class GradResult:
    """One expression's value, gradient (or higher derivative) and witnesses."""

    expr: str
    point: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    wrt: list[str]
    value: np.ndarray | None
    gradient: dict[str, np.ndarray | None]
    closed_form: dict[str, np.ndarray] | None
    closed_form_at_point: dict[str, np.ndarray] | None
    finite_differences: dict[str, np.ndarray] | None
    check: Verdict
    order: int = 1
    seed: np.ndarray | None = None
    hessian: dict[str, dict[str, np.ndarray]] | None = None
    hessian_closed_form: dict[str, dict[str, np.ndarray]] | None = None
    nth_derivative: np.ndarray | None = None
    nth_closed_form: Any = None
    symbolic_value: Any = None
    variable_checks: dict[str, str] = field(default_factory=dict)  # table rows


@dataclass
class MultiResult:
    """Several expressions at one point: each result, and their summed gradient."""

    outputs: list[GradResult]
    gradient: dict[str, np.ndarray | None]
    check: Verdict


def grad(
    text: str,
    at: Values | None = None,
    let: Values | None = None,
    wrt: list[str] | None = None,
    seed: Any = None,
    order: int = 1,
    check: bool = True,
    tol: Tolerances = Tolerances(),
) -> GradResult:
    """Differentiate ``text`` at a point and cross-check the result."""
    return grad_problem(prepare(text, at, let, wrt), seed, order, check, tol)


def grad_problem(
    problem: Problem,
    seed: Any = None,
    order: int = 1,
    check: bool = True,
    tol: Tolerances = Tolerances(),
) -> GradResult:
    if order < 1:
        raise ExprError(f"order must be at least 1, got {order}")
    if order > 2 and (len(problem.wrt) != 1 or problem.shape_of(problem.wrt[0])):
        raise ExprError(
            f"order {order} needs exactly one scalar variable; "
            "order 2 gives the Hessian of several"
        )
    engine = W.engine(problem, seed, order) if problem.numeric else None
    seed_array = engine.seed if engine else W.seed_array(seed)
    fd = None
    if check and engine:
        fd = (
            W.FiniteDifferences(
                False,
                "the expression uses detach(), which finite differences cannot see",
            )
            if _uses_detach(problem)
            else W.finite_differences(problem, engine, order, tol)
        )
    sym = closed_form(problem, seed_array, order, tol) if check else None
    verdict = judge(problem, engine, sym, fd, tol, check)
    if check and engine and problem.function is not None:
        _check_custom_functions(problem, verdict, tol)
    derivatives = engine.derivatives if engine else {}
    result = GradResult(
        expr=problem.text,
        point=problem.point,
        constants=problem.constants,
        wrt=problem.wrt,
        value=engine.value if engine else None,
        gradient={n: engine.gradient.get(n) for n in problem.wrt}
        if engine
        else {n: None for n in problem.wrt},
        closed_form=sym.gradient if sym and sym.ok else None,
        closed_form_at_point=sym.gradient_at if sym and sym.ok else None,
        finite_differences=fd.gradient if fd and fd.ok else None,
        check=verdict,
        order=order,
        seed=seed_array,
        hessian=derivatives.get("hessian"),
        hessian_closed_form=sym.hessian if sym and sym.ok else None,
        nth_derivative=derivatives.get("nth"),
        nth_closed_form=sym.nth if sym and sym.ok else None,
        symbolic_value=sym.value if sym and sym.ok else None,
    )
    result.variable_checks = variable_checks(result, tol)
    return result


def _check_custom_functions(problem: Problem, verdict: Verdict, tol) -> None:
    """Each custom autograd Function's backward, checked where it is used:
    a wrong one is named with the output/input pair and both values."""
    from diffcli.engine.function_check import check_functions

    out, _ = W.evaluate_at(problem, {n: problem.point[n] for n in problem.wrt})
    for found in check_functions(out, tol.rtol, tol.atol):
        if found.ok is False:
            verdict.status = "mismatch"
            verdict.reason = "; ".join(filter(None, [found.text, verdict.reason]))
        else:
            verdict.notes.append(found.text)


def _uses_detach(problem: Problem) -> bool:
    from diffcli.expr.tree import Call, walk

    if problem.tree is None:
        return False
    return any(isinstance(n, Call) and n.func == "detach" for n in walk(problem.tree))


def grad_function(
    function,
    label: str,
    at: Values | None = None,
    let: Values | None = None,
    seed: Any = None,
    order: int = 1,
    check: bool = True,
    tol: Tolerances = Tolerances(),
) -> GradResult:
    """Differentiate Python code written with diffcli (``--func FILE.py:NAME``)."""
    return grad_problem(
        prepare_function(function, label, at, let), seed, order, check, tol
    )


@dataclass
class JacobianResult:
    """The full Jacobian of a vector output: shape value.shape + variable.shape."""

    expr: str
    point: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    value: np.ndarray
    jacobian: dict[str, np.ndarray]
    closed_form: dict[str, np.ndarray] | None
    check: Verdict


def jacobian(
    text: str,
    at: Values | None = None,
    let: Values | None = None,
    wrt: list[str] | None = None,
    check: bool = True,
    tol: Tolerances = Tolerances(),
) -> JacobianResult:
    """One vector-Jacobian product per output element, each cross-checked."""
    problem = prepare(text, at, let, wrt)
    if not problem.numeric:
        raise ExprError(
            "the Jacobian needs a value for every name; missing: "
            + ", ".join(problem.missing)
        )
    value = W.engine(problem, "ones", 1).value
    rows = []
    for k in np.ndindex(value.shape):
        seed = np.zeros(value.shape)
        seed[k] = 1.0
        rows.append(grad_problem(problem, seed, 1, check, tol))
    jac, closed = {}, {}
    for name in problem.wrt:
        shape = value.shape + problem.shape_of(name)
        jac[name] = np.array([r.gradient[name] for r in rows]).reshape(shape)
        if all(r.closed_form for r in rows):
            closed[name] = np.array(
                [r.closed_form[name] for r in rows], dtype=object
            ).reshape(shape)
    return JacobianResult(
        text,
        problem.point,
        problem.constants,
        value,
        jac,
        closed or None,
        combine([r.check for r in rows]),
    )


def grad_many(
    texts: list[str],
    at: Values | None = None,
    let: Values | None = None,
    wrt: list[str] | None = None,
    seed: Any = None,
    check: bool = True,
    tol: Tolerances = Tolerances(),
) -> MultiResult:
    """``autograd.grad([y1, y2], xs)``: each output's gradient and their sum."""
    results = [grad(t, at, let, wrt, seed, 1, check, tol) for t in texts]
    names = list(dict.fromkeys(n for r in results for n in r.wrt))
    total: dict[str, np.ndarray | None] = {}
    for name in names:
        parts = [r.gradient.get(name) for r in results]
        known = [p for p in parts if p is not None]
        total[name] = sum(known[1:], known[0]) if known else None
    return MultiResult(results, total, combine([r.check for r in results]))


@dataclass(frozen=True)
class Comparison:
    """How far ``got`` is from ``want``, entry by entry."""

    off: np.ndarray  # outside the tolerance
    abs_err: np.ndarray  # |got - want|
    rel_err: np.ndarray  # |got - want| / max(|got|, |want|); 0 where both are 0

    @property
    def agree(self) -> bool:
        return not self.off.any()

    def max_err(self, relative: bool = False) -> float:
        """The largest finite difference (nan and inf entries say nothing)."""
        errors = self.rel_err if relative else self.abs_err
        errors = errors[np.isfinite(errors)]
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


def variable_checks(result: GradResult, tol: Tolerances) -> dict[str, str]:
    """Each variable's status in the gradient table: the overall one, narrowed
    down on a mismatch (or for a Hessian, whose verdict is not about the
    gradient) by comparing this variable's gradient with the witnesses."""
    overall = result.check.status
    if overall == "skipped" or (overall == "ok" and result.order == 1):
        return dict.fromkeys(result.wrt, overall)
    witnesses = [
        (result.closed_form_at_point or {}, tol.sym_rtol, tol.sym_atol),
        (result.finite_differences or {}, tol.rtol, tol.atol),
    ]
    checks = {}
    for name in result.wrt:
        engine = result.gradient.get(name)
        agree = [
            compare(engine, values[name], rtol, atol).agree
            for values, rtol, atol in witnesses
            if engine is not None
            and name in values
            and np.asarray(values[name]).dtype != object
        ]
        checks[name] = overall if not agree else "ok" if all(agree) else "mismatch"
    return checks


def judge(
    problem: Problem,
    engine: W.Engine | None,
    sym: ClosedForm | None,
    fd: W.FiniteDifferences | None,
    tol: Tolerances,
    check: bool,
) -> Verdict:
    """Compare the engine with each available witness, excusing kinks."""
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
    bad = np.zeros(e.shape, dtype=bool)
    kinks = np.zeros(e.shape, dtype=bool)
    verdict = Verdict("ok", notes=notes)
    witnesses = 0
    if fd is not None and fd.ok:
        witnesses += 1
        c = compare(e, fd.flat, tol.rtol, tol.atol)
        verdict.fd_max_abs_err = c.max_err()
        verdict.fd_max_rel_err = c.max_err(relative=True)
        off = c.off
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
        # nan differences witness nothing (sqrt at 0: engine inf, closed form inf)
        unreliable = np.isnan(fd.flat) | (~np.isfinite(fd.flat) & np.isfinite(e))
        if fd.kinks is not None:
            inside = (np.minimum(fd.left, fd.right) - tol.atol <= e) & (
                e <= np.maximum(fd.left, fd.right) + tol.atol
            )
            kinks = fd.kinks & inside
        for k in np.flatnonzero(kinks):  # even where all agree: say so
            notes.append(
                f"{labels[k]} is at a kink (one-sided slopes "
                f"{fd.left[k]:.6g} and {fd.right[k]:.6g}); the engine "
                f"takes {e[k]:.6g}, PyTorch's choice"
            )
        for k in np.flatnonzero(unreliable):
            notes.append(f"finite differences are not finite at {labels[k]}")
        bad |= off & ~kinks & ~unreliable
        if (off & ~kinks & ~unreliable).any():
            k = int(np.flatnonzero(off & ~kinks & ~unreliable)[0])
            verdict.reason = (
                f"finite differences disagree at {labels[k]}: engine "
                f"{e[k]:.10g}, finite differences {fd.flat[k]:.10g} "
                f"({c.differ(k)})"
            )
    elif fd is not None:
        notes.append(f"finite differences skipped: {fd.reason}")
    if sym is not None and sym.ok and sym.flat_at is not None:
        witnesses += 1
        c = compare(e, sym.flat_at, tol.sym_rtol, tol.sym_atol)
        verdict.symbolic_max_abs_err = c.max_err()
        verdict.symbolic_max_rel_err = c.max_err(relative=True)
        off = c.off
        for k in np.flatnonzero(off & kinks):
            notes.append(
                f"the closed form takes {sym.flat_at[k]:.6g} at the kink in {labels[k]}"
            )
        if (off & ~kinks).any():
            k = int(np.flatnonzero(off & ~kinks)[0])
            said = (
                f"the closed form disagrees at {labels[k]}: engine "
                f"{e[k]:.15g}, closed form {sym.flat_at[k]:.15g} "
                f"({c.differ(k)})"
            )  # after the finite differences' reason, if both disagree
            verdict.reason = f"{verdict.reason}; {said}" if verdict.reason else said
        bad |= off & ~kinks
    elif sym is not None:
        notes.append(f"closed form skipped: {sym.reason}")
    nonfinite = [labels[k] for k in np.flatnonzero(~np.isfinite(e))]
    if nonfinite or not np.all(np.isfinite(engine.value)):
        notes.append("non-finite values: " + ", ".join(nonfinite or ["the value"]))
    if bad.any():
        verdict.status = "mismatch"
    elif not witnesses:
        verdict.status = "skipped"
        verdict.reason = "; ".join(notes) or "no witness could run"
    return verdict


def combine(verdicts: list[Verdict]) -> Verdict:
    """The verdict of several: a mismatch anywhere wins, then ok, then skipped."""
    for status in ("mismatch", "ok", "skipped"):
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
            )
    return Verdict("skipped", reason="nothing to check")
