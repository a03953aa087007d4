"""Where grad f = 0, by SymPy, classified by the Hessian: minimize's witness.

A witness of descent's result, so descent imports this module and never the
other way round: nothing here knows how the descent ran.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.verify.question import Problem

MAX_UNKNOWNS = 8


@dataclass
class StationaryPoint:
    point: dict[str, np.ndarray]
    kind: str  # "minimum" | "maximum" | "saddle" | "degenerate"
    value: float
    # f's period in each variable element (nan: not periodic): the point stands
    # for a family, point + k * period (sin(x): every 2 pi)
    period: dict[str, np.ndarray] | None = None


def solve_stationary(
    problem: Problem, timeout: float
) -> tuple[list[StationaryPoint] | None, str | None]:
    """SymPy's stationary points of a prepared problem, or why there are none.

    What minimize() calls after the descent, and BesideSolver beside it (in a
    child process, for `diffcli minimize`).
    """
    with _collector_paused():
        return stationary_points(problem, timeout)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for SymPy's import and solve.

    They allocate hundreds of thousands of objects and free nearly all of them
    by reference counting, yet trigger full collections that walk them all:
    pausing saves about a quarter of this phase (~70 ms of `diffcli
    minimize`'s 1 s budget).  Bounded by the solve's timeout; restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def stationary_points(
    problem: Problem, timeout: float
) -> tuple[list[StationaryPoint] | None, str | None]:
    """Real isolated solutions of grad f = 0, or None and the reason why not."""
    from diffcli.expr import symbolic as S

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
    from diffcli.expr import symbolic as S

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
    period = _periods(sp, f, problem, symbols)
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
        value = float(f.subs(at).evalf())
        points.append(StationaryPoint(point, _kind(h), value, period))
    return points


def _periods(sp, f: Any, problem: Problem, symbols: dict) -> dict | None:
    """f's period in each variable element, nan where it has none; None if
    f is periodic in none (the usual case).

    Only symbols inside a periodic function (or a floor, whose difference
    with its argument is) can be periods' variables: asking SymPy about the
    others costs seconds for a least-squares fit and always answers none."""
    from sympy.functions.elementary.trigonometric import TrigonometricFunction

    kinds = (TrigonometricFunction, sp.Mod, sp.frac, sp.floor, sp.ceiling)
    inside = set().union(*(a.free_symbols for a in f.atoms(*kinds)))
    out = {}
    for n in problem.wrt:
        out[n] = np.full(symbols[n].shape, np.nan)
        for i in np.ndindex(symbols[n].shape):
            if symbols[n][i] not in inside:
                continue
            try:
                t = sp.periodicity(f, symbols[n][i])
            except (NotImplementedError, ValueError, TypeError):
                t = None
            if t is not None and t.is_positive and t.is_finite:
                out[n][i] = float(t)
    return out if any(np.isfinite(v).any() for v in out.values()) else None


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


class BesideSolver:
    """SymPy's stationary points, found beside the descent when it can be.

    Importing SymPy and solving take about as long as 10,000 steps of a small
    expression, and neither needs the other; on Linux with two or more CPUs a
    forked child does the solve while this process descends, and hands back
    the pickled answer through a pipe (0.15-0.3 s off the whole command).
    Elsewhere, or if the child fails in any way, result() solves in-process:
    the answer is the same either way (the very same function).  The child
    ignores Ctrl-C, writes nothing to the terminal and never returns into
    click: it ends with os._exit.  close() reaps it, killing it if need be.
    """

    def __init__(self, problem: Any, timeout: float) -> None:
        self.problem, self.timeout = problem, timeout
        self.pid: int | None = None
        self.pipe: int | None = None
        if can_fork():
            self._fork()

    def _fork(self) -> None:
        import warnings

        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a process with threads: here
            # those are OpenBLAS's workers, which it re-creates after a fork.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError:  # out of processes or memory: solve in-process
                os.close(read)
                os.close(write)
                return
        if pid == 0:  # the child
            os.close(read)
            self._child(write)
        os.close(write)
        self.pid, self.pipe = pid, read

    def _child(self, write: int) -> NoReturn:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            answer = pickle.dumps(solve_stationary(self.problem, self.timeout))
            with os.fdopen(write, "wb") as pipe:
                pipe.write(answer)
            code = 0
        finally:
            os._exit(code)

    def result(self) -> tuple[Any, str | None]:
        """(stationary points or None, the reason if None), waiting if needed."""
        answer = None
        if self.pipe is not None:
            with os.fdopen(self.pipe, "rb") as pipe:
                self.pipe = None
                data = pipe.read()
            self.close()
            with contextlib.suppress(Exception):
                answer = pickle.loads(data) if data else None
        if answer is None:
            answer = solve_stationary(self.problem, self.timeout)
        return answer

    def close(self) -> None:
        """Reap the child (killed if still solving) and close the pipe."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None


def can_fork() -> bool:
    """Linux (fork without exec is unsafe with macOS's frameworks) with a
    second CPU to run the child on."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    return len(os.sched_getaffinity(0)) > 1
