"""The matrix closed form: the gradient in matrix notation, and a witness.

``derive`` writes d f / d x as a matrix expression over the user's names
(constants stay names: their values are used only to evaluate it) and
evaluates it at the point with numpy.  Its cost does not grow with the array
sizes the way per-component forms do, so beyond their limit it stands in as
the symbolic witness (``stand_in``); below it, it is compared with the engine
as well (``check``).  Where it cannot be written the reason is kept, and the
per-component forms (if any) are all there is: never wrong, never silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.expr import parser as P
from diffcli.verify.judge import compare
from diffcli.verify.question import Problem, failed_node


@dataclass
class MatrixForm:
    forms: dict[str, str] | None = None  # name -> diffcli syntax
    latex: dict[str, str] | None = None  # name -> LaTeX
    unicode: dict[str, str] | None = None  # name -> (A + Aᵀ) x
    values: dict[str, np.ndarray] | None = None  # at the point
    reason: str | None = None  # why there is none
    agrees: bool | None = None  # with the engine, at the point
    note: str | None = None  # for the verdict: it stood in for what
    sizes: dict[str, list] | None = None  # value-less name -> ["n", 3]


def derive(
    problem: Problem, seed: Any, order: int, seconds: float | None = None
) -> MatrixForm:
    """The matrix form of the gradient, or the reason there is none; bounded
    by ``seconds`` as SymPy is (a form that long would not be read)."""
    from diffcli.expr import symbolic as S

    if seconds is not None and seconds <= 0:  # 0 would mean no limit below
        return MatrixForm(reason="no matrix form: the command's time is up")
    try:
        with S.time_limit(seconds):
            return _derive(problem, seed, order)
    except S.SymbolicTimeout:
        return MatrixForm(reason=f"no matrix form: it took longer than {seconds:g} s")


def _derive(problem: Problem, seed: Any, order: int) -> MatrixForm:
    from diffcli.errors import DiffcliError
    from diffcli.expr import matrix_expr as X
    from diffcli.expr import matrix_value as V
    from diffcli.expr import symbolic as S

    if order != 1:
        return MatrixForm(reason="matrix forms are of first derivatives only")
    if problem.tree is None:
        return MatrixForm(reason="a --func function has no expression to write")
    values = {**problem.constants, **problem.point}
    shapes = {n: np.shape(v) for n, v in values.items()}
    stage = "written"  # what failed, in diffcli's words (never an exception's)
    try:
        if not problem.numeric:  # no values to evaluate it with
            return _symbolic(problem, shapes, seed)
        forms, latex, shown, exprs = _written(problem, shapes, seed)
        stage = "evaluated at the point"
        memo: dict = {}
        env = {**values, "pi": np.pi, "e": np.e}
        at = {
            n: np.broadcast_to(
                np.asarray(V.value(exprs[n], env, memo), dtype=np.float64),
                problem.shape_of(n),
            ).copy()
            if n in exprs
            else np.zeros(problem.shape_of(n))
            for n in problem.wrt
        }
    except S.SymbolicTimeout:
        raise  # derive says so
    except X.NoMatrixForm as err:
        return MatrixForm(reason=f"no matrix form: {_said(str(err))}")
    except RecursionError:
        return MatrixForm(reason="no matrix form: the expression is nested too deeply")
    except DiffcliError as err:  # at a node of the expression: name it
        return MatrixForm(reason=_failed(problem, err, stage))
    except Exception:  # a gap here must not cost the gradient: said
        return MatrixForm(reason=_failed(problem, None, stage))
    return MatrixForm(forms, latex, shown, at)


def _written(problem: Problem, shapes: dict[str, tuple], seed: Any) -> tuple:
    """The gradient as matrix expressions, and as text, LaTeX and Unicode."""
    from diffcli.expr import matrix_backend as MB
    from diffcli.expr import matrix_latex as L
    from diffcli.expr import matrix_text as XT

    f = MB.matrix_of(problem.tree, shapes, problem.text)
    grads = MB.gradient(f, problem.wrt, _seed(f, seed))
    exprs = {n: g for n, g in grads.items() if g is not None}
    forms = {n: XT.zeros_text(shapes.get(n, ())) for n in problem.wrt}
    forms |= {n: XT.text(g) for n, g in exprs.items()}
    latex = {n: "0" for n in problem.wrt} | {n: L.latex(g) for n, g in exprs.items()}
    shown = {n: "0" for n in problem.wrt} | {n: L.unicode(g) for n, g in exprs.items()}
    return forms, latex, shown, exprs


def _symbolic(problem: Problem, given: dict[str, tuple], seed: Any) -> MatrixForm:
    """The form over the names given no value: their shapes from the shapes
    given, or sizes nobody gave, as stand-in integers printed as n, m, ...

    Written with other stand-ins until two agree: a number that changes with
    them was made of them (n + 1, say) and is refused rather than printed as
    digits; a number of the user's that equals one is not renamed n."""
    from diffcli.expr import matrix_expr as X
    from diffcli.expr import matrix_sizes as Z

    # a gradient without a seed is of a scalar; with one, of the seed's shape
    out = None if isinstance(seed, str) else np.shape(seed) if seed is not None else ()
    found = Z.infer(problem.tree, given, problem.missing, out)
    taken = {d for s in given.values() for d in s}
    taken |= {int(m) for m in re.findall(r"\d+", problem.text)}
    taken.discard(0)
    names = set(P.free_names(problem.tree))
    tries: list = []
    for _ in range(3):  # two that agree: the first may hit a number of the user's
        stand, label = Z.stand_ins(found, taken, names)
        written = _written(problem, {**given, **stand}, seed)[:3]
        try:
            named = [{n: Z.name_sizes(t, label) for n, t in d.items()} for d in written]
        except X.NoMatrixForm:  # a count of elements (n * m), or a user's number
            named = None
        if named is not None and tries and tries[-1] == named:
            sizes = {n: Z.sizes(stand[n], label) for n in problem.missing}
            return MatrixForm(*named, sizes=sizes)
        tries.append(named)
        taken |= set(label)
    raise X.NoMatrixForm("its numbers depend on sizes nobody gave")


def _failed(problem: Problem, err: Exception | None, stage: str) -> str:
    """Why there is no matrix form, in diffcli's words: the function (or
    operator) where writing it failed, else the stage that failed."""
    node = failed_node(problem, err) if err is not None else None
    if stage == "written" and node:
        return f"no matrix form for {_NAMES.get(node, node)}"
    return f"no matrix form: it could not be {stage}"


_NAMES = {"getitem": "indexing", "stack": "a list [...]", "reshape": "reshape"}


def _said(reason: str) -> str:
    """An op's name as the user wrote it: getitem is indexing."""
    op, _, rest = reason.partition(" ")
    return f"{_NAMES.get(op, op)} {rest}"


def _seed(f: Any, seed: Any) -> Any:
    from diffcli.expr import matrix_expr as X

    if seed is None or isinstance(seed, str):
        return None  # ones: 1, broadcast
    seed = np.asarray(seed, dtype=np.float64)
    if np.all(seed == 1):
        return None
    raise X.NoMatrixForm("a seed other than ones is not supported")


def _flat(problem: Problem, mat: MatrixForm) -> np.ndarray:
    return np.concatenate([np.ravel(mat.values[n]) for n in problem.wrt])


def stand_in(sym: Any, mat: MatrixForm | None) -> Any:
    """Where the per-component forms could not be had (over their size limit,
    a constant too large for SymPy, out of time), the matrix form is the
    symbolic witness; the reason they are missing stays in ``mat.note``."""
    from diffcli.verify.closed_form import ClosedForm

    if mat is None or mat.values is None or sym is None or sym.ok:
        return sym
    mat.note = (
        f"per-component closed form skipped ({sym.reason}); "
        "the matrix closed form stands in"
    )
    flat = np.concatenate([np.ravel(v) for v in mat.values.values()])
    state = np.where(np.isfinite(flat), "finite", "unknown").astype(object)
    return ClosedForm(  # the reason stays: no per-component forms (--expect)
        True, sym.reason, gradient_at=mat.values, flat_at=flat, flat_state=state
    )


def explain_sizes(verdict: Any, sym: Any, mat: MatrixForm | None) -> None:
    """One line where the matrix form has value-less names and the
    per-component forms could not be had: what the names were taken as."""
    if mat is None or not mat.sizes or mat.forms is None or (sym and sym.ok):
        return
    from diffcli.expr.matrix_sizes import describe

    if not any(mat.sizes.values()):  # scalars: no matrix to speak of
        return
    taken = ", ".join(f"{n} as {describe(v)}" for n, v in mat.sizes.items())
    verdict.notes.append(
        f"no per-component closed form without values; the matrix form takes {taken}"
    )


def check(
    problem: Problem,
    verdict: Any,
    engine: Any,
    mat: MatrixForm | None,
    tol: Any,
    cond: Any = None,
) -> None:
    """The matrix form beside the per-component forms, against the engine.

    Where it stood in for them, the verdict already judged it.  Beside them, a
    matrix form that disagrees is withheld with the reason (and a note): the
    per-component forms and finite differences have judged the engine, and a
    form that does not hold is never shown."""
    if mat is None or mat.values is None or engine is None:
        return
    if mat.note:  # it stood in: judged as the closed form
        verdict.notes.append(mat.note)
    flat = _flat(problem, mat)
    if flat.shape != engine.flat.shape or not np.all(np.isfinite(engine.value)):
        return  # no derivative where the function is not a real number to check
    undefined = ~np.isfinite(flat)
    shown = any(np.ndim(v) for v in {**problem.point, **problem.constants}.values())
    if undefined.any() and shown:
        # no witness there: said, never agreeing silently (over scalars it is
        # the per-component form again, not shown; a value not finite is said)
        from diffcli.verify.nonfinite import listed

        verdict.notes.append(
            f"the matrix closed form is not a finite real number at "
            f"{listed(engine.labels, undefined)} (undefined at the point); "
            "it is no witness there"
        )
    if mat.note:
        return
    usable = np.isfinite(flat) & np.isfinite(engine.flat)
    # norm-wise: float64 rounding in a sum of products is relative to the
    # largest entries, not to each one (the terms of A @ w - b may cancel)
    scale = float(np.max(np.abs(flat[usable]), initial=0.0))
    slack = tol.sym_atol + tol.sym_rtol * scale
    if cond is not None:  # an ill-conditioned matrix: float64 keeps fewer digits
        slack += cond.slack(scale)
    c = compare(engine.flat, flat, tol.sym_rtol, slack)
    off = c.off & usable
    mat.agrees = None if not usable.any() else not off.any()
    if mat.agrees is not False:
        return
    k = int(np.flatnonzero(off)[0])
    mat.reason = (
        f"no matrix form: the one found disagrees with the engine at "
        f"{engine.labels[k]} (engine {engine.flat[k]:.15g}, matrix form "
        f"{flat[k]:.15g}, {c.differ(k)}), so it is not shown"
    )
    mat.forms = mat.latex = mat.unicode = None
    verdict.notes.append(mat.reason)
