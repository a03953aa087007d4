"""Three witnesses of a gradient, and the verdict on whether they agree.

The engine (reverse mode), the SymPy closed form (lambdified at the point) and
central finite differences of the forward pass.  Everything here returns data
(``GradResult``); printing is render.py's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.engine.function import applied_count
from diffcli.engine.limits import OverBudget, over_budget, refuse_over, time_left
from diffcli.errors import ExprError
from diffcli.expr import parser as P
from diffcli.verify import held, progress
from diffcli.verify import matrix_form as MF
from diffcli.verify import nonfinite as NF
from diffcli.verify import witnesses as W
from diffcli.verify.closed_form import ClosedForm, closed_form
from diffcli.verify.closed_form_at import needs_value_state
from diffcli.verify.conditioning import DIFFERENCES_SKIPPED, NOTED, conditioning
from diffcli.verify.directional import Directional
from diffcli.verify.directional import along as along  # re-exported
from diffcli.verify.expect import Claim, ExpectCheck, check_all
from diffcli.verify.judge import Comparison as Comparison  # re-exported
from diffcli.verify.judge import Verdict, combine, compare, judge
from diffcli.verify.question import (
    Problem,
    Values,
    check_used,
    prepare,
    prepare_function,
)
from diffcli.verify.tolerances import Tolerances as Tolerances  # re-exported

MAX_ORDER = 1000  # higher ones could not end within the time budget
SYMBOLIC_INVERSE = 4  # larger matrices inverted: per-component forms left out


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
    direction: Directional | None = None  # --direction: the gradient along it
    expectations: list[ExpectCheck] = field(default_factory=list)  # --expect
    closed_form_matrix: dict[str, str] | None = None  # (A + A.T) @ x
    matrix_reason: str | None = None  # why there is no matrix form
    closed_form_matrix_latex: dict[str, str] | None = None
    closed_form_matrix_unicode: dict[str, str] | None = None
    matrix_sizes: dict[str, list] | None = None  # value-less name -> ["n", 3]


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
    expect: Sequence[Claim] = (),
) -> GradResult:
    """``expect``: the user's formulas (``expect.claims``), decided against the
    exact closed form."""
    if order < 1:
        raise ExprError(f"order must be at least 1, got {order}")
    if order > MAX_ORDER:
        raise ExprError(f"order {order} is over the highest order, {MAX_ORDER}")
    _require_variables(problem)
    if order > 2 and (len(problem.wrt) != 1 or problem.shape_of(problem.wrt[0])):
        raise ExprError(
            f"order {order} needs exactly one scalar variable; "
            "order 2 gives the Hessian of several"
        )
    if order == 2:
        n = sum(problem.point[v].size for v in problem.wrt if v in problem.point)
        refuse_over(f"the Hessian of {n} input elements ({n} x {n})", n * n)
    applied = applied_count()
    engine = W.engine(problem, seed, order) if problem.numeric else None
    seed_array = engine.seed if engine else W.seed_array(seed)
    mat, cond, fd, sym = _witnesses(problem, engine, seed_array, order, check, tol)
    verdict = judge(problem, engine, sym, fd, tol, check, cond)
    MF.check(problem, verdict, engine, mat, tol, cond)
    if cond is not None and cond.singular and verdict.status in ("ok", "skipped"):
        verdict.status, verdict.reason = "skipped", cond.note()
    elif cond is not None and cond.lost > NOTED and not needs_value_state(engine):
        verdict.notes.append(cond.note())
    MF.explain_sizes(verdict, sym, mat)
    if check and engine and applied_count() > applied:  # custom Functions ran
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
        closed_form_matrix=mat.forms if mat else None,
        matrix_reason=mat.reason if mat else None,
        closed_form_matrix_latex=mat.latex if mat else None,
        closed_form_matrix_unicode=mat.unicode if mat else None,
        matrix_sizes=mat.sizes if mat else None,
    )
    result.variable_checks = variable_checks(result, tol)
    if expect:
        exact = sym.exact if sym and sym.ok else None
        off = verdict.reason if check else "--no-check turns SymPy off"
        why = (sym.reason if sym else off) or ""
        value = sym.value if exact is not None else None
        result.expectations = check_all(
            expect, problem, exact, result.gradient, why, value
        )
    return result


def _witnesses(
    problem: Problem, engine: Any, seed: Any, order: int, check: bool, tol: Tolerances
) -> tuple:
    """The matrix form, the conditioning at the point, finite differences and
    the closed form: each that can say something here."""
    if not check:
        return None, None, None, None
    # first: it takes milliseconds, and stands in when the others run out
    progress.report("closed form (matrix)")
    mat = MF.derive(problem, seed, order, time_left(tol.sym_timeout))
    cond = conditioning(problem) if engine else None
    if cond is not None and cond.singular and not needs_value_state(engine):
        return mat, cond, None, None  # no digit left for a witness to compare
    fd = None
    if cond is not None and cond.blinds_differences:
        fd = W.FiniteDifferences(False, DIFFERENCES_SKIPPED)
    elif engine:
        progress.report("finite differences")
        fd = held.finite_differences(problem, engine, order, tol)
    if cond is not None and cond.size > SYMBOLIC_INVERSE:
        n = cond.size  # cofactors of n! terms each: minutes, and no one reads them
        why = f"{cond.function} of a matrix of {n} x {n} needs forms of {n}! terms"
        sym = ClosedForm(False, why)
    else:
        progress.report("closed form (SymPy)")
        sym = closed_form(problem, seed, order, tol, engine)
    return mat, cond, fd, MF.stand_in(sym, mat)  # where per-component forms lack


def _require_variables(problem: Problem) -> None:
    if not problem.wrt and not problem.free:
        fixed = ", ".join(problem.constants)
        why = f"; {fixed} held constant (--let): give it with --at" if fixed else ""
        raise ExprError(
            f"nothing to differentiate: '{problem.text}' has no variables{why}"
        )


def _check_custom_functions(problem: Problem, verdict: Verdict, tol) -> None:
    """Each custom autograd Function's backward, checked where it is used:
    a wrong one is named with the output/input pair and both values."""
    from diffcli.engine.function_check import check_functions
    from diffcli.expr import symbolic as S

    why = "custom autograd Functions' backwards not checked: {}"
    if over_budget():
        verdict.notes.append(why.format(over_budget()))
        return
    try:
        with S.time_limit(time_left(), OverBudget):
            point = {n: problem.point[n] for n in problem.wrt}
            out, _ = W.evaluate_at(problem, point)
            found_all = check_functions(out, tol.rtol, tol.atol)
    except OverBudget:
        verdict.notes.append(why.format(over_budget() or "over the time budget"))
        return
    for found in found_all:
        if found.ok is False:
            verdict.status = "mismatch"
            verdict.reason = "; ".join(filter(None, [found.text, verdict.reason]))
        else:
            verdict.notes.append(found.text)


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
    direction: Directional | None = None  # --direction: the Jacobian along it

    @property
    def scalar_variables(self) -> bool:
        """Every variable a scalar: the Jacobian is one matrix."""
        shape = np.shape(self.value)
        return bool(self.jacobian) and all(
            np.shape(b) == shape for b in self.jacobian.values()
        )

    def matrix(self, closed: bool = False) -> np.ndarray | None:
        """Scalar variables: outputs (flattened) x variables, in wrt order."""
        blocks = self.closed_form if closed else self.jacobian
        if blocks is None:
            return None
        return np.stack([np.ravel(blocks[n]) for n in self.jacobian], axis=1)


def jacobian(
    text: str,
    at: Values | None = None,
    let: Values | None = None,
    wrt: list[str] | None = None,
    check: bool = True,
    tol: Tolerances = Tolerances(),
    strict: bool = False,
) -> JacobianResult:
    """One vector-Jacobian product per output element, each cross-checked."""
    problem = prepare(text, at, let, wrt, strict)
    _require_variables(problem)  # before the value, which may be large
    if not problem.numeric:
        raise ExprError(
            "the Jacobian needs a value for every name; missing: "
            + ", ".join(problem.missing)
        )
    value = W.engine(problem, "ones", 1).value
    n_in = sum(problem.point[n].size for n in problem.wrt)
    refuse_over(
        f"the Jacobian of {value.size} outputs by {n_in} input elements",
        value.size * n_in,
    )
    rows = []
    for k in np.ndindex(value.shape):
        seed = np.zeros(value.shape)
        seed[k] = 1.0
        with progress.within(f"output {len(rows) + 1}/{value.size}"):
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
    strict: bool = False,
) -> MultiResult:
    """``autograd.grad([y1, y2], xs)``: each output's gradient and their sum."""
    problems = [prepare(t, at, let, wrt) for t in texts]
    if strict:  # each value used by some expression
        used = {n for p in problems for n in P.free_names(p.tree)}
        first = problems[0]
        check_used([*first.point, *first.constants], used, ", ".join(texts))
    results = [grad_problem(p, seed, 1, check, tol) for p in problems]
    names = list(dict.fromkeys(n for r in results for n in r.wrt))
    total: dict[str, np.ndarray | None] = {}
    for name in names:
        parts = [r.gradient.get(name) for r in results]
        known = [p for p in parts if p is not None]
        total[name] = sum(known[1:], known[0]) if known else None
    return MultiResult(results, total, combine([r.check for r in results]))


def variable_checks(result: GradResult, tol: Tolerances) -> dict[str, str]:
    """Each variable's status in the gradient table: the overall one, narrowed
    down on a mismatch (or for a Hessian, whose verdict is not about the
    gradient) by comparing this variable's gradient with the witnesses."""
    overall = result.check.status
    if overall == "skipped" or (overall == "ok" and result.order == 1):
        return dict.fromkeys(result.wrt, overall)
    entries = result.check.entries
    if result.order == 1 and (entries or overall in NF.SPECIAL):
        rank = ("mismatch", *NF.SPECIAL, "ok")
        return {
            name: min(
                (
                    entries.get(label, "ok" if entries else overall)
                    for label in W.element_labels(name, result.point[name].shape)
                ),
                key=rank.index,
                default=overall,
            )
            for name in result.wrt
        }
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
        if engine is not None and not np.all(np.isfinite(engine)):
            checks[name] = overall if overall in NF.SPECIAL else "non-finite"
    return checks
