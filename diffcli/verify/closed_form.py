"""The SymPy witness: closed forms of the derivative, and their value at the point.

Bounded: over ``sym_max_elements`` symbols or ``sym_timeout`` seconds it is
skipped with the reason, never hanging the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.verify.question import Problem


@dataclass
class ClosedForm:
    ok: bool
    reason: str | None = None
    value: Any = None  # the expression's value (object array)
    gradient: dict[str, np.ndarray] | None = None  # closed forms (object arrays)
    gradient_at: dict[str, np.ndarray] | None = None  # at the point
    hessian: dict[str, dict[str, np.ndarray]] | None = None
    hessian_at: dict[str, dict[str, np.ndarray]] | None = None
    nth: Any = None
    nth_at: Any = None
    flat_at: np.ndarray | None = None  # the derivative under check, as floats


def closed_form(problem: Problem, seed: Any, order: int, tol) -> ClosedForm:
    """Derive the closed forms; a SymPy failure or timeout is a stated skip."""
    from diffcli.expr import symbolic as S

    shapes = {n: problem.shape_of(n) for n in problem.wrt}
    count = sum(int(np.prod(s)) for s in shapes.values())
    if count > tol.sym_max_elements:
        return ClosedForm(
            False,
            f"{count} variable elements is over the symbolic "
            f"limit of {tol.sym_max_elements}",
        )
    try:
        with S.time_limit(tol.sym_timeout):
            return _derive(problem, seed, order, shapes, tol.simplify)
    except (S.SymbolicTimeout, S.SymbolicTooLarge) as err:
        return ClosedForm(False, str(err))
    except (
        DiffcliError,
        ArithmeticError,
        TypeError,
        ValueError,
        RecursionError,
    ) as err:
        return ClosedForm(False, f"SymPy could not derive it: {err}")


def _derive(
    problem: Problem, seed: Any, order: int, shapes: dict, simplify: bool = True
) -> ClosedForm:
    from diffcli.expr import symbolic as S

    sp = S.sympy()
    symbols = {n: S.symbols_for(n, s) for n, s in shapes.items()}
    constants = {n: S.obj(v) for n, v in problem.fixed.items()}
    if problem.function is not None:
        value, frozen = _replay(problem, symbols), {}
    else:
        value, frozen = S.evaluate_symbolic(
            problem.tree, {**constants, **symbols}, problem.text
        )
    if isinstance(seed, str):
        seed = np.ones(value.shape)
    if seed is not None:
        f = np.sum(value * S.obj(np.asarray(seed, dtype=np.float64)))
    elif value.size == 1:
        f = value.reshape(())[()]
    else:
        raise DiffcliError(f"the value has shape {value.shape}, not a scalar")
    f = sp.sympify(f)
    result = ClosedForm(True, value=value)
    result.gradient = S.tidy_all(
        {n: S.gradient(f, symbols[n], frozen) for n in symbols}, simplify
    )
    names = list(symbols)
    if order == 2:
        result.hessian = {
            a: {b: _jac(result.gradient[a], symbols[b]) for b in names} for a in names
        }
    elif order > 2:
        d = result.gradient[names[0]].reshape(())[()]
        for _ in range(order - 1):
            d = sp.diff(d, symbols[names[0]].reshape(())[()])
        result.nth = S.obj(d)
    _at_point(problem, result, symbols, names, order)
    return result


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

    sp = S.sympy()
    out = np.empty(grad.shape + wrt.shape, dtype=object)
    for i in np.ndindex(grad.shape):
        for j in np.ndindex(wrt.shape):
            out[i + j] = sp.diff(grad[i], wrt[j])
    return out


def _at_point(
    problem: Problem, result: ClosedForm, symbols: dict, names: list, order: int
) -> None:
    """Evaluate every closed form at the point: lambdified when all is numeric."""
    from diffcli.expr import symbolic as S

    groups: list[np.ndarray] = [result.gradient[n] for n in names]
    if result.hessian:
        groups += [result.hessian[a][b] for a in names for b in names]
    if result.nth is not None:
        groups.append(result.nth)
    exprs = [e for g in groups for e in g.ravel()]
    args = [s for n in names for s in symbols[n].ravel()]
    if problem.numeric:
        fn = S.evaluator(args, exprs)
        values = [
            problem.point[n][i]
            for n in names
            for i in np.ndindex(problem.point[n].shape)
        ]
        with np.errstate(all="ignore"):
            flat = np.array(
                [
                    complex(v).real if np.iscomplexobj(v) else float(v)
                    for v in fn(*values)
                ],
                dtype=np.float64,
            )
        out = [flat[k : k + g.size].reshape(g.shape) for k, g in _offsets(groups)]
    else:
        subs = {
            s: S._number(S.sympy(), problem.point[n][i])
            for n in names
            if n in problem.point
            for s, i in zip(
                symbols[n].ravel(), np.ndindex(symbols[n].shape), strict=True
            )
        }
        at_point = np.vectorize(
            lambda e: S.sympy().sympify(e).subs(subs), otypes=[object]
        )
        out = [at_point(g) for g in groups]
        result.value = at_point(result.value)  # symbolic: show it at the point
        flat = None
    result.gradient_at = dict(zip(names, out[: len(names)], strict=True))
    rest = out[len(names) :]
    if result.hessian:
        result.hessian_at = {a: {b: rest.pop(0) for b in names} for a in names}
    if result.nth is not None:
        result.nth_at = rest.pop(0)
    if flat is not None:
        if order == 1:
            result.flat_at = np.concatenate([o.ravel() for o in out[: len(names)]])
        elif order == 2:
            result.flat_at = np.concatenate(
                [result.hessian_at[a][b].ravel() for a in names for b in names]
            )
        else:
            result.flat_at = np.asarray(result.nth_at, dtype=np.float64).ravel()


def _offsets(groups: list[np.ndarray]):
    k = 0
    for g in groups:
        yield k, g
        k += g.size
