"""How many digits float64 keeps through the matrices an expression inverts.

``inv``, ``solve``, ``logdet`` and their kin lose up to log10(cond) of float64's
16 digits: at the 12x12 Hilbert matrix (cond 1.7e16) the engine's gradient and
every float64 witness are all off in their leading digits.  Comparing them to
the usual 1e-9 then calls rounding a mismatch.  Here the worst condition
number at the point is measured once, and the verdict compares within what it
costs: closed forms within ``cond * eps`` of the largest entry, finite
differences not at all where rounding swamps their steps, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError
from diffcli.verify.question import Problem

# det is not here: its value and cofactor gradient stay exact at a singular X
LINALG = frozenset({"inv", "logabsdet", "solve", "pinv", "cholesky"})
EPS = float(np.finfo(np.float64).eps)
SHOWN = {"logabsdet": "logdet"}  # the primitive as the user wrote it
SLACK = 10  # times cond * eps: a few operations each lose that much
# cond * eps beyond this and a central difference's step (1e-6 relative, say)
# sees rounding of the function as large as the change it measures
DIFFERENCES_BLIND = 1e-8
DIFFERENCES_SKIPPED = (
    "the matrix is so ill-conditioned that float64's rounding of the function "
    "is as large as the change their steps measure"
)
NOTED = 1e-10  # cond * eps beyond this: the user is told digits are lost
SINGULAR = 1e-2  # beyond: not two digits are left to compare


@dataclass(frozen=True)
class Conditioning:
    """The largest condition number of a matrix the expression inverts."""

    number: float  # in the 1-norm (no SVD): within n of the 2-norm's
    function: str  # where: inv, solve, logdet, ...
    size: int = 0  # the largest matrix inverted: n of n x n

    @property
    def lost(self) -> float:
        """The relative rounding float64 may leave in a result."""
        return self.number * EPS

    def slack(self, scale: float) -> float:
        """What rounding may move a result whose entries reach ``scale``."""
        return SLACK * self.lost * scale

    @property
    def blinds_differences(self) -> bool:
        return not self.lost <= DIFFERENCES_BLIND

    @property
    def singular(self) -> bool:
        """Numerically singular: no digit of a result can be trusted."""
        return not self.lost <= SINGULAR

    def note(self) -> str:
        lost = np.log10(max(self.number, 1.0))  # inf at a singular matrix
        digits = 16 if not lost < 16 else max(0, round(lost))
        if self.singular:
            return (
                f"{self.function}'s matrix is numerically singular (condition "
                f"number {self.number:.2g}): float64 keeps about {16 - digits} of "
                "its 16 digits of the result, in the engine and in any witness; "
                "nothing can be checked"
            )
        return (
            f"{self.function}'s matrix is ill-conditioned (condition number "
            f"{self.number:.2g}): float64 loses about {digits} of its 16 digits "
            "there, in the engine and in every witness; they are compared within "
            "that"
        )


def conditioning(problem: Problem) -> Conditioning | None:
    """The worst conditioning at the point, where the expression (or the
    graph Python code records) inverts a matrix; None where nothing does."""
    from diffcli.engine.limits import OverBudget

    if not problem.numeric:
        return None
    if problem.tree is not None and not _inverts(problem):
        return None
    worst: list[Any] = [0.0, "", 0]
    try:
        if problem.tree is not None:
            _evaluate_recording(problem, worst)
        else:
            _graph_recording(problem, worst)
    except (DiffcliError, ArithmeticError, ValueError, np.linalg.LinAlgError):
        return None  # the engine's evaluation says what went wrong, if anything
    except OverBudget:
        return None  # the verdict says the time is up
    if not worst[1]:
        return None
    return Conditioning(*worst)


def _inverts(problem: Problem) -> bool:
    from diffcli.expr.tree import Call, walk

    used = {n.func for n in walk(problem.tree) if isinstance(n, Call)}
    return bool(used & (LINALG | {"logdet", "slogdet", "matrix_power"}))


def _measure(name: str, a: np.ndarray, worst: list[Any]) -> None:
    """Keep the worst condition number in ``worst`` (number, function, size)."""
    if a.ndim < 2 or not a.size:
        return
    square = a.shape[-1] == a.shape[-2]
    with np.errstate(all="ignore"):  # the 1-norm's: no SVD
        c = float(np.max(np.linalg.cond(a, 1 if square else None)))
    c = c if np.isfinite(c) else np.inf
    if c > worst[0] or not worst[1]:
        worst[:2] = [c, SHOWN.get(name, name)]
    worst[2] = max(worst[2], a.shape[-1])


def _evaluate_recording(problem: Problem, worst: list[Any]) -> None:
    from diffcli.engine.grad_mode import no_grad
    from diffcli.engine.tensor import Tensor
    from diffcli.expr.numeric import NumericBackend
    from diffcli.expr.walk import evaluate

    class Recording(NumericBackend):
        def op(self, name: str, *args: Any, **params: Any) -> Tensor:
            if name in LINALG and args and isinstance(args[0], Tensor):
                _measure(name, args[0]._data, worst)
            return super().op(name, *args, **params)

    values = {**problem.fixed, **problem.point}
    names = {n: Tensor._wrap(np.asarray(v, np.float64)) for n, v in values.items()}
    with no_grad():
        evaluate(problem.tree, Recording(names), problem.text)


def _graph_recording(problem: Problem, worst: list[Any]) -> None:
    """Python code (--func): its recorded graph's matrix functions, from one
    more call within the command's time budget."""
    from diffcli.engine.graph_walk import topological
    from diffcli.engine.limits import OverBudget, time_left
    from diffcli.engine.tensor import Tensor
    from diffcli.expr.deadline import time_limit
    from diffcli.verify.witnesses import evaluate_at

    with time_limit(time_left(), OverBudget):
        out, _ = evaluate_at(problem, {n: problem.point[n] for n in problem.wrt})
    for node in topological([out]):
        name = getattr(getattr(node, "_prim", None), "name", None)
        first = (getattr(node, "_inputs", ()) or (None,))[0]
        if name in LINALG and isinstance(first, Tensor):
            _measure(name, first._data, worst)
