"""Where grad f = 0, by SymPy, classified by the Hessian: minimize's witness."""

from __future__ import annotations

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.minimize import StationaryPoint
from diffcli.problem import Problem

MAX_UNKNOWNS = 8


def stationary_points(
    problem: Problem, timeout: float
) -> tuple[list[StationaryPoint] | None, str | None]:
    """Real isolated solutions of grad f = 0, or None and the reason why not."""
    from diffcli import symbolic as S

    count = sum(problem.point[n].size for n in problem.wrt)
    if count > MAX_UNKNOWNS:
        return (
            None,
            f"{count} unknowns is over the symbolic solve limit of {MAX_UNKNOWNS}",
        )
    try:
        with S.time_limit(timeout):
            return _solve(problem), None
    except S.SymbolicTimeout:
        return None, f"SymPy did not solve grad f = 0 within {timeout:g} s"
    except _NoSolve as err:
        return None, str(err)
    except (
        DiffcliError,
        NotImplementedError,
        ValueError,
        TypeError,
        ArithmeticError,
        RecursionError,
    ) as err:
        return None, f"SymPy could not solve grad f = 0: {str(err).splitlines()[0]}"


class _NoSolve(Exception):
    pass


def _solve(problem: Problem) -> list[StationaryPoint]:
    from diffcli import symbolic as S

    sp = S.sympy()
    symbols = {n: S.symbols_for(n, problem.point[n].shape) for n in problem.wrt}
    constants = {n: S.obj(v) for n, v in problem.constants.items()}
    value, frozen = S.evaluate_symbolic(
        problem.tree, {**constants, **symbols}, problem.text
    )
    if frozen:
        raise _NoSolve("the expression uses detach(): no single function to solve")
    f = sp.sympify(value.reshape(())[()])
    unknowns = [s for n in problem.wrt for s in symbols[n].ravel()]
    gradient = [sp.diff(f, s) for s in unknowns]
    hessian = sp.Matrix([[sp.diff(g, s) for s in unknowns] for g in gradient])
    solutions = sp.solve(gradient, unknowns, dict=True)
    points = []
    for sol in solutions:
        if any(s not in sol for s in unknowns) or any(
            sol[s].free_symbols for s in unknowns
        ):
            continue  # a continuum of stationary points: none is isolated
        values = [complex(sol[s].evalf()) for s in unknowns]
        if any(abs(v.imag) > 1e-12 for v in values):
            continue
        at = dict(zip(unknowns, (sp.Float(v.real) for v in values), strict=True))
        h = np.array(hessian.subs(at).evalf(), dtype=np.float64)
        point, k = {}, 0
        for n in problem.wrt:
            shape = problem.point[n].shape
            size = int(np.prod(shape))
            point[n] = np.array([v.real for v in values[k : k + size]]).reshape(shape)
            k += size
        points.append(StationaryPoint(point, _kind(h), float(f.subs(at).evalf())))
    return points


def _kind(hessian: np.ndarray) -> str:
    eig = np.linalg.eigvalsh((hessian + hessian.T) / 2)
    scale = max(1.0, float(np.max(np.abs(eig))))
    if np.all(eig > 1e-9 * scale):
        return "minimum"
    if np.all(eig < -1e-9 * scale):
        return "maximum"
    if np.any(eig > 1e-9 * scale) and np.any(eig < -1e-9 * scale):
        return "saddle"
    return "degenerate"
