"""The SymPy witness: closed forms of the derivative, and their value at the point.

Bounded: over ``sym_max_elements`` symbols or ``sym_timeout`` seconds it is
skipped with the reason, never hanging the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.engine.limits import over_budget, time_left
from diffcli.errors import DiffcliError
from diffcli.expr import sweep
from diffcli.verify import progress
from diffcli.verify.closed_form_at import at_point, needs_value_state, value_state
from diffcli.verify.question import Problem, at_node


@dataclass
class ClosedForm:
    ok: bool
    reason: str | None = None
    value: Any = None  # the expression's value (object array)
    gradient: dict[str, np.ndarray] | None = None  # closed forms (object arrays)
    gradient_at: dict[str, np.ndarray] | None = None  # at the point
    exact: dict[str, np.ndarray] | None = None  # the gradient before tidying
    hessian: dict[str, dict[str, np.ndarray]] | None = None
    hessian_at: dict[str, dict[str, np.ndarray]] | None = None
    nth: Any = None
    nth_at: Any = None
    flat_at: np.ndarray | None = None  # the derivative under check, as floats
    # Per entry of flat_at: "finite", or "undefined" where the closed form is
    # not a finite real number at the point even when evaluated exactly (inf,
    # nan, complex), or "unknown" where it could not be evaluated.
    flat_state: np.ndarray | None = None
    # Where the engine's value is not finite: "finite" if the closed form's
    # value is (exactly), "undefined" if not either, "unknown"; None otherwise.
    value_state: str | None = None
    value_exact: np.ndarray | None = None  # the exact value there, as floats
    # |float64 - exact| of the closed form where it was evaluated exactly: how
    # much rounding this point's arithmetic suffers (cancellation)
    rounding: np.ndarray | None = None
    function: Any = None  # the scalar differentiated (SymPy), for on_boundary
    # the gradient's closed forms share subexpressions (expr/sweep.py): large
    # written out, so shown summarised, never simplified
    shared: bool = False
    point: dict | None = None  # its symbols' values


def closed_form(
    problem: Problem, seed: Any, order: int, tol, engine: Any = None
) -> ClosedForm:
    """Derive the closed forms; a SymPy failure or timeout is a stated skip.

    ``engine`` (its value and flat derivative) says where an exact evaluation
    is needed besides where the closed form's floats are not finite."""
    from diffcli.expr import symbolic as S

    shapes = {n: problem.shape_of(n) for n in problem.wrt}
    count = sum(int(np.prod(s)) for s in shapes.values())
    seconds = time_left(tol.sym_timeout)  # the command's budget, if any
    if count > tol.sym_max_elements:
        failed = ClosedForm(
            False,
            f"{count} variable elements is over the symbolic "
            f"limit of {tol.sym_max_elements}",
        )
    elif seconds is not None and seconds <= 0:
        failed = ClosedForm(False, over_budget() or "no time left")
    else:
        try:
            with S.time_limit(seconds):
                return _derive(problem, seed, order, shapes, tol, engine)
        except S.SymbolicTimeout as err:
            failed = ClosedForm(False, over_budget() or str(err))
        except S.SymbolicTooLarge as err:
            failed = ClosedForm(False, str(err))
        except (
            DiffcliError,
            ArithmeticError,
            TypeError,
            ValueError,
            RecursionError,
        ) as err:  # diffcli's own words, never the exception's text
            said = f"SymPy could not derive it{at_node(problem, err)}"
            failed = ClosedForm(False, said)
    if needs_value_state(engine) and problem.tree is not None:
        value_state(S, problem, failed, engine.value, None)  # no closed form needed
    return failed


def _derive(
    problem: Problem,
    seed: Any,
    order: int,
    shapes: dict,
    tol: Any,
    engine: Any = None,
) -> ClosedForm:
    from diffcli.expr import symbolic as S
    from diffcli.expr.tidy import tidy_all

    sp = S.sympy()
    symbols = {n: S.symbols_for(n, s) for n, s in shapes.items()}
    constants = {n: S.obj(v) for n, v in problem.fixed.items()}
    held = S.held_constants() if problem.numeric else {}
    if problem.function is not None:
        value, frozen = _replay(problem, symbols), {}
    else:
        value, frozen = S.evaluate_symbolic(
            problem.tree, {**constants, **symbols}, problem.text, held or None
        )
    exact_constants = {held["pi"]: sp.pi, held["e"]: sp.E} if held else {}
    if isinstance(seed, str):
        seed = np.ones(value.shape)
    if seed is not None:
        f = _contract(sp, value, S.obj(np.asarray(seed, dtype=np.float64)))
    elif value.size == 1:
        f = value.reshape(())[()]
    else:
        raise DiffcliError(f"the value has shape {value.shape}, not a scalar")
    f = sp.sympify(f)
    names = list(symbols)
    # Differentiated with detach's placeholders in place, so that a detached
    # value stays constant at every order; put back only in the results.
    large = order == 1 and sweep.is_large(
        f, sum(s.size for s in symbols.values()), S.SMALL_GRADIENT
    )
    progress.report("closed form: derivative")
    raw = _lazy(sp, f, symbols) if large else None
    raw = raw or {n: S.gradient(f, symbols[n], {}) for n in names}
    result = ClosedForm(True, value=_thaw(value, frozen), function=f)
    if order == 2:
        result.hessian = {
            a: {b: _thaw(_jac(raw[a], symbols[b]), frozen) for b in names}
            for a in names
        }
    elif order > 2:
        d = raw[names[0]].reshape(())[()]
        for _ in range(order - 1):
            d = S.diff(d, symbols[names[0]].reshape(())[()])
        result.nth = _thaw(S.obj(d), frozen)
    derived = {n: _thaw(raw[n], frozen) for n in names}
    point = {
        s: float(problem.point[n][i])
        for n in names
        if n in problem.point
        for s, i in zip(symbols[n].ravel(), np.ndindex(symbols[n].shape), strict=True)
    }
    point |= {held[c]: S.HELD_VALUES[c] for c in held}
    if large:  # shared graphs: simplify and xreplace would write them out
        result.gradient = derived
        if exact_constants and not set(exact_constants).isdisjoint(f.free_symbols):
            result.gradient = {n: _thaw(d, exact_constants) for n, d in derived.items()}
        result.exact = result.gradient
    else:
        shown = {n: _thaw(d, exact_constants) for n, d in derived.items()}
        result.exact = shown
        result.gradient = tidy_all(  # shown only
            shown, tol.simplify, point, _report_tidying
        )
    result.point = point
    result.shared = large
    progress.report("closed form: value at the point")
    at_point(problem, result, derived, symbols, names, order, tol, engine, point)
    # evaluated with float64's pi and e; shown with SymPy's
    result.value = _thaw(result.value, exact_constants)
    if result.hessian:
        result.hessian = {
            a: {b: _thaw(h, exact_constants) for b, h in row.items()}
            for a, row in result.hessian.items()
        }
    if result.nth is not None:
        result.nth = _thaw(result.nth, exact_constants)
    return result


def _report_tidying(k: int, n: int) -> None:
    progress.report(f"closed form: simplifying {k}/{n}")


def _contract(sp: Any, value: np.ndarray, seed: np.ndarray) -> Any:
    """sum(seed * value) without the terms of zero weight: a Jacobian row's seed
    is zero but for one entry, and SymPy asks whether each ``0 * g`` is finite
    (35 ms for ``tanh`` of a sum)."""
    return sp.Add(*(v * w for v, w in np.broadcast(value, seed) if w != 0))


def _lazy(sp: Any, f: Any, symbols: dict) -> dict | None:
    """The gradient of a large f by the lazy sweep (expr/sweep.py), per variable."""
    from diffcli.expr import symbolic as S

    targets = [s for n in symbols for s in symbols[n].ravel()]
    flat = sweep.lazy_gradient(sp, f, targets, S.diff)
    # settle's search walks each entry as a tree: look once over shared nodes
    if any(isinstance(e, sp.Derivative) for e in sweep.post_order(flat)):
        flat = [S.settle(d) for d in flat]
    out, k = {}, 0
    for n, syms in symbols.items():
        out[n] = np.empty(syms.shape, dtype=object)
        for i in np.ndindex(syms.shape):
            out[n][i] = flat[k]
            k += 1
    return out


def _thaw(forms: np.ndarray, frozen: dict) -> np.ndarray:
    """Detached placeholders replaced by the values they stand for."""
    if not frozen:
        return forms
    out = np.empty(np.shape(forms), dtype=object)
    for i in np.ndindex(out.shape):
        e = forms[i]
        out[i] = e.xreplace(frozen) if hasattr(e, "xreplace") else e
    return out


def _replay(problem: Problem, symbols: dict) -> np.ndarray:
    """Run the user's function once and replay its recorded graph in SymPy;
    custom autograd Functions record their forward's own operations."""
    from diffcli.engine.function import inline
    from diffcli.expr import symbolic as S
    from diffcli.verify.witnesses import evaluate_at

    with inline():
        out, tensors = evaluate_at(problem, {n: problem.point[n] for n in symbols})
    return S.replay(out, {tensors[n]: symbols[n] for n in symbols})


def _jac(grad: np.ndarray, wrt: np.ndarray) -> np.ndarray:
    from diffcli.expr import symbolic as S

    out = np.empty(grad.shape + wrt.shape, dtype=object)
    for i in np.ndindex(grad.shape):
        for j in np.ndindex(wrt.shape):
            out[i + j] = S.diff(grad[i], wrt[j])
    return out


def tied(sym: ClosedForm) -> set[str]:
    """The variables (element labels) in comparisons tied at the point: a
    boundary between branches (where, clamp, max, abs, ...) that finite
    differences see both sides of, while the engine (and PyTorch) takes one
    branch, or shares the gradient."""
    from diffcli.expr import symbolic as S

    sp = S.sympy()
    f, point = sym.function, sym.point or {}
    if f is None or not isinstance(f, sp.Basic) or not f.free_symbols <= set(point):
        return set()
    from sympy.core.relational import Relational

    sides = [r.lhs - r.rhs for r in f.atoms(Relational)]
    sides += [a.args[0] for a in f.atoms(sp.Abs, sp.sign, sp.Heaviside)]
    sides += [a - b for m in f.atoms(sp.Max, sp.Min) for a in m.args for b in m.args]
    sides = [d for d in sides if d.free_symbols and d != 0]
    if not sides:
        return set()
    try:
        with S.time_limit(1.0):
            values = S.evaluator(list(point), sides)(*point.values())
    except Exception:  # no way to tell: no tie
        return set()
    names: set[str] = set()
    for d, v in zip(sides, values, strict=True):
        if np.asarray(v, dtype=complex) == 0:
            names |= {s.name for s in d.free_symbols}
    return names
