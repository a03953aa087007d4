"""Gradient descent on an expression, cross-checked by SymPy's stationary points.

The expression is parsed and traced once; each step replays the trace
(forward and backward on numpy) and applies one of the engine's optimizers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.engine import optim as optim
from diffcli.engine.replay import Trace
from diffcli.engine.tensor import Tensor
from diffcli.errors import ExprError
from diffcli.minimize.stationary import StationaryPoint, solve_stationary
from diffcli.verify.nonfinite import nonfinite_given
from diffcli.verify.question import Values, prepare
from diffcli.verify.witnesses import evaluate_at

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
BOUND = 1e150  # |value| beyond this counts as diverging
STILL_STEPS = 10  # steps in a row that leave the point unchanged: stop
CURVE_POINTS = 60  # the loss curve keeps 60 to 120 evenly spaced values


@dataclass
class HistoryRow:
    step: int
    value: float
    grad_norm: float


@dataclass
class MinimizeResult:
    expr: str
    optimizer: str
    steps: int  # steps taken
    converged: bool
    stop_reason: str
    point: dict[str, np.ndarray]
    value: float
    grad_norm: float
    history: list[HistoryRow]
    diverged_at: int | None = None
    stationary_points: list[StationaryPoint] | None = None
    symbolic_reason: str | None = None  # why there are no stationary points
    curve: list[float] = field(default_factory=list)  # the value, sampled for a plot
    nearest_minimum: StationaryPoint | None = None
    distance_to_minimum: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C: a partial report, up to the last point


def make_optimizer(
    name: str,
    params: list[Tensor],
    lr: float,
    momentum: float,
    betas: tuple[float, float],
    weight_decay: float,
) -> optim.Optimizer:
    """The engine's optimizer for a ``--optimizer`` name."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return optim.SGD(
            params,
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
            nesterov=name == "nesterov",
        )
    if name == "adam":
        return optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    raise ExprError(f"unknown optimizer '{name}' (choose from {', '.join(OPTIMIZERS)})")


def minimize(
    text: str,
    at: Values,
    let: Values | None = None,
    optimizer: str = "sgd",
    lr: float = 0.01,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
    weight_decay: float = 0.0,
    steps: int = 1000,
    tol: float | None = None,
    every: int | None = None,
    solve: bool = True,
    solve_timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
    stop_at_rounding: bool = True,
) -> MinimizeResult:
    """Run the optimizer from ``at`` for at most ``steps`` steps, or until the
    steps no longer move the point (``stop_at_rounding``); Ctrl-C ends the run
    with the result so far (``interrupted``)."""
    problem = prepare(text, at, let)
    if problem.free:
        raise ExprError(
            f"{', '.join(problem.free)} {'has' if len(problem.free) == 1 else 'have'}"
            " no value: give it with --at (a variable) or --let (a constant)",
            text,
        )
    if steps < 0:
        raise ExprError(f"steps must be >= 0, got {steps}")
    given = nonfinite_given(problem, problem.wrt)
    if given is not None:
        raise ExprError(f"the start point is not finite ({given})")
    out, tensors = evaluate_at(problem, {n: problem.point[n] for n in problem.wrt})
    params = list(tensors.values())
    # the leaves hold their own copy of the point; the problem keeps its shapes
    # only (all SymPy's stationary points need): 80 MB less on 1e7 values
    for n in problem.wrt:
        problem.point[n] = np.broadcast_to(0.0, problem.point[n].shape)
    if out.numel() != 1:
        raise ExprError(
            f"minimize needs a scalar expression; this one has shape "
            f"{tuple(out.shape)} (wrap it in sum(...) or norm(...))",
            text,
        )
    trace = Trace(out, params)
    # a one-element value of any shape ([x**2]) is a scalar to descend on
    to_float = float if out.ndim == 0 else lambda v: float(np.reshape(v, ()))
    del out  # its graph holds every intermediate value; the trace replays it
    opt = make_optimizer(optimizer, params, lr, momentum, betas, weight_decay)
    every = every or max(1, steps // 10)
    history: list[HistoryRow] = []
    curve: list[float] = []
    sample = 1  # doubled whenever the curve passes 2 * CURVE_POINTS samples
    last_good = [p._data.copy() for p in params]
    stop, converged, diverged, taken = f"reached {steps} steps", False, None, steps
    still, good_step = 0, 0  # steps in a row that left the point unchanged
    copying = False
    watch = stop_at_rounding and lr > 0
    interrupted = False
    with np.errstate(all="ignore"), _interruptible() as stopped:
        for step in range(steps + 1):
            value, grads = trace.run([p._data for p in params])
            value, gnorm = to_float(value), _norm(grads)
            # math, not numpy: np.isfinite on a float costs ~0.6 us, 2% of a step
            finite = math.isfinite(value) and math.isfinite(gnorm)
            if not finite or abs(value) > BOUND:
                bad_value = not math.isfinite(value) or abs(value) > BOUND
                what, bad = ("value", value) if bad_value else ("gradient", gnorm)
                stop = f"diverged at step {step}: the {what} became {_word(bad)}"
                diverged, taken = step, step
                history.append(HistoryRow(step, value, gnorm))
                for p, good in zip(params, last_good, strict=True):
                    p._data = good
                value, grads = trace.run([p._data for p in params])
                value, gnorm = to_float(value), _norm(grads)
                break
            if step % every == 0 or step == steps:
                history.append(HistoryRow(step, value, gnorm))
            if step % sample == 0:
                curve.append(value)
                if len(curve) > 2 * CURVE_POINTS:  # thin out: steps 0, 2s, 4s...
                    del curve[1::2]
                    sample *= 2
            if tol is not None and gnorm < tol:
                stop, converged, taken = (
                    f"gradient norm {gnorm:.3g} < {tol:g}",
                    True,
                    step,
                )
                if history[-1].step != step:
                    history.append(HistoryRow(step, value, gnorm))
                break
            if step == steps:
                break
            copying = True  # Ctrl-C in here: the parameters are still the point
            for p, good in zip(params, last_good, strict=True):
                np.copyto(good, p._data)  # in place: no second copy per step
            good_step, copying = step, False
            _step(opt, params, grads)
            grads = None  # no gradient kept while the next one is computed
            if progress is not None:
                progress(step + 1)
            if watch:
                moved = any(
                    _moved(p._data, good)
                    for p, good in zip(params, last_good, strict=True)
                )
                still = 0 if moved else still + 1
                if still == STILL_STEPS:
                    stop, converged, taken = (
                        f"the gradient vanished to rounding: {STILL_STEPS} steps "
                        f"left the point unchanged (|grad| {gnorm:.3g})",
                        True,
                        step + 1,
                    )
                    history.append(HistoryRow(step + 1, value, gnorm))
                    break
    if stopped:  # Ctrl-C: the report so far, at the last point evaluated
        if copying:  # last_good half written; the parameters are whole
            last_good, good_step = [p._data for p in params], step
        interrupted, taken = True, good_step
        stop = f"interrupted at step {good_step}"
        for p, good in zip(params, last_good, strict=True):
            p._data = good
        value, grads = trace.run([p._data for p in params])
        value, gnorm = to_float(value), _norm(grads)
        while history and history[-1].step > good_step:
            history.pop()
        if not history or history[-1].step != good_step:
            history.append(HistoryRow(good_step, value, gnorm))
    if diverged is None and taken % sample:
        curve.append(value)  # the curve ends where descent did
    # the parameters' own arrays: nothing updates them any more
    point = {n: p._data for n, p in zip(problem.wrt, params, strict=True)}
    result = MinimizeResult(
        text,
        optimizer,
        taken,
        converged,
        stop,
        point,
        value,
        gnorm,
        history,
        diverged,
        curve=curve,
        interrupted=interrupted,
        settings=dict(
            lr=lr,
            momentum=momentum,
            betas=list(betas),
            weight_decay=weight_decay,
            steps=steps,
            tol=tol,
        ),
    )
    if solve and not interrupted:
        add_stationary(result, *solve_stationary(problem, solve_timeout))
    return result


def _step(opt: optim.Optimizer, params: list[Tensor], grads: list[np.ndarray]) -> None:
    """One update with ``grads``, which no parameter keeps afterwards."""
    for p, g in zip(params, grads, strict=True):
        p.grad = Tensor._wrap(g)
    opt.step()
    opt.zero_grad()


def _moved(now: np.ndarray, before: np.ndarray) -> bool:
    """Whether a step changed any bit of a parameter: bytes for small arrays
    (20 times faster than np.array_equal, 0.1 us a step); large float64 ones
    compared as integers in place (tobytes would copy both arrays)."""
    large = now.size > 4096 and now.dtype == before.dtype == np.float64
    if large and now.flags.c_contiguous and before.flags.c_contiguous:
        return not np.array_equal(now.view(np.uint64), before.view(np.uint64))
    return now.tobytes() != before.tobytes()


class _Stopped:
    """Set once Ctrl-C ended the loop inside _interruptible."""

    def __init__(self) -> None:
        self.hit = False

    def __bool__(self) -> bool:
        return self.hit


@contextlib.contextmanager
def _interruptible() -> Iterator[_Stopped]:
    """Ctrl-C inside the block ends it quietly; the caller sees it as true."""
    stopped = _Stopped()
    try:
        yield stopped
    except KeyboardInterrupt:
        stopped.hit = True


def add_stationary(
    result: MinimizeResult,
    found: list[StationaryPoint] | None,
    reason: str | None,
) -> None:
    """Attach solve_stationary's answer to a result, with the nearest minimum."""
    result.stationary_points, result.symbolic_reason = found, reason
    _nearest(result)


def _member(point: np.ndarray, period: np.ndarray, end: np.ndarray) -> np.ndarray:
    """point + k * period nearest to end (element by element; nan period: none)."""
    with np.errstate(invalid="ignore"):
        k = np.where(np.isfinite(period), np.round((end - point) / period), 0.0)
        return np.where(np.isfinite(period), point + k * period, point)


def _norm(grads: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))


def _word(bad: float) -> str:
    return "nan" if np.isnan(bad) else ("inf" if np.isinf(bad) else f"{bad:.3g}")


def _nearest(result: MinimizeResult) -> None:
    """The minimum closest to where descent ended, and how far it is.

    A stationary point of a periodic f stands for its family (sin(x): every
    2 pi): each is moved to the member nearest where descent ended."""
    for s in result.stationary_points or ():
        if s.period is not None:
            s.point = {
                n: _member(v, s.period[n], result.point[n]) for n, v in s.point.items()
            }
    minima = [s for s in result.stationary_points or () if s.kind == "minimum"]
    if not minima:
        return
    here = np.concatenate([v.ravel() for v in result.point.values()])

    def distance(s: StationaryPoint) -> float:
        there = np.concatenate([np.asarray(s.point[n]).ravel() for n in result.point])
        return float(np.linalg.norm(here - there))

    best = min(minima, key=distance)
    result.nearest_minimum, result.distance_to_minimum = best, distance(best)
