"""What finite differences may difference: what the engine differentiates.

The engine sees each detach() as a constant, so the differences hold it at
its value at the point.  Python code (--func) can leave its recorded graph in
ways no walk can hold (.detach(), .item(), float()); there the differences
would see more than the engine, and are skipped with the reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from diffcli.engine.limits import OverBudget, over_budget, time_left
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError
from diffcli.verify import witnesses as W
from diffcli.verify.nonfinite import nonfinite_given
from diffcli.verify.question import Problem


def finite_differences(
    problem: Problem, engine: W.Engine, order: int, tol: Any
) -> W.FiniteDifferences:
    """The differences of what the engine differentiates: each detach() held
    at its value at the point (the engine sees it as a constant).  Python code
    that leaves the graph (.detach(), .item(), float()) cannot be held: there
    the differences would see more than the engine, so they are skipped.
    They share the command's time budget: over it, they are skipped too."""
    from diffcli.expr import symbolic as S

    why = over_budget()
    if why is not None:
        return W.FiniteDifferences(False, why)
    given = nonfinite_given(problem, problem.wrt)
    if given is not None:  # no step can be taken from there
        return W.FiniteDifferences(False, f"the point is not finite ({given})")
    try:
        with S.time_limit(time_left(), OverBudget):
            return _differences(problem, engine, order, tol)
    except OverBudget:
        return W.FiniteDifferences(False, over_budget() or "over the time budget")


def _differences(
    problem: Problem, engine: W.Engine, order: int, tol: Any
) -> W.FiniteDifferences:
    if problem.function is not None:
        if leaves_graph(problem):
            return W.FiniteDifferences(
                False,
                f"{problem.text} depends on the point outside its recorded graph "
                "(.detach(), .data, .item(), float(), ...), which finite "
                "differences would see",
            )
        return W.finite_differences(problem, engine, order, tol)
    return W.finite_differences(_held(problem), engine, order, tol)


def _held(problem: Problem) -> Problem:
    """``problem`` with each detach() replaced by its value at the point."""
    from diffcli.expr.numeric import NumericBackend
    from diffcli.expr.tree import Call, walk
    from diffcli.expr.walk import evaluate

    if not any(isinstance(n, Call) and n.func == "detach" for n in walk(problem.tree)):
        return problem
    held: list = []

    class Held(NumericBackend):
        calls = 0

        def detach(self, value: Any) -> Any:
            self.calls += 1
            if len(held) < self.calls:  # the first evaluation: at the point
                data = value._data if isinstance(value, Tensor) else value
                held.append(Tensor._wrap(np.array(data, dtype=np.float64)))
            return held[self.calls - 1]

    def function(**names: Any) -> Tensor:
        out = evaluate(problem.tree, Held(names), problem.text)
        return out if isinstance(out, Tensor) else Tensor._wrap(out)

    point = {n: problem.point[n] for n in problem.wrt}
    W.evaluate_at(dataclasses.replace(problem, function=function), point)
    return dataclasses.replace(problem, function=function)


def leaves_graph(problem: Problem) -> bool:
    """Whether Python code's value at a nearby point differs from its recorded
    graph's replayed there: some of it depends on the point outside the graph."""
    from diffcli.engine.replay import Trace

    point = {n: problem.point[n] for n in problem.wrt}
    out, tensors = W.evaluate_at(problem, point)
    trace = Trace(out, list(tensors.values()))
    near = {
        n: v
        + 1e-4 * np.maximum(1.0, np.abs(v)) * (1 + np.arange(v.size)).reshape(v.shape)
        for n, v in point.items()
    }
    moved, _ = W.evaluate_at(problem, near, grad_mode=False)
    try:
        with np.errstate(all="ignore"):
            replayed, _ = trace.run([near[n] for n in point])
    except DiffcliError:
        # A custom autograd Function has no replay: its own forward is what
        # the differences run, and its backward is checked against them.
        return False
    return not np.allclose(
        moved._data, replayed, rtol=1e-12, atol=1e-300, equal_nan=True
    )
