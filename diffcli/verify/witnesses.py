"""The witnesses: the engine, finite differences and SymPy, each on one Problem.

Each witness reports the derivative under check as a flat float vector in the
same order (variables in ``wrt`` order, elements in C order; for order 2 the
Hessian blocks row by row), so that the verdict is one comparison.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.engine import autograd as autograd
from diffcli.engine import finite_differences as FD
from diffcli.engine.limits import refuse_slow
from diffcli.engine.tensor import Tensor
from diffcli.errors import ExprError
from diffcli.verify import steps
from diffcli.verify.question import NonScalarOutput, Problem, to_value

# --- the engine -------------------------------------------------------------


@dataclass
class Engine:
    value: np.ndarray
    gradient: dict[str, np.ndarray]
    seed: np.ndarray | None
    flat: np.ndarray  # the derivative under check
    labels: list[str]
    derivatives: dict[str, Any] = field(default_factory=dict)


def seed_array(seed: Any) -> np.ndarray | str | None:
    """The seed as an array; ``"ones"`` stays a word until the value's shape
    is known."""
    if seed is None:
        return None
    if isinstance(seed, str) and seed.strip() == "ones":
        return "ones"
    return to_value("seed", seed)


def evaluate_at(
    problem: Problem, point: dict[str, np.ndarray], grad_mode: bool = True
) -> tuple[Tensor, dict[str, Tensor]]:
    """The value at ``point`` (copied into leaves that require grad), and those
    leaves; every other value is held fixed."""
    tensors = {
        n: Tensor._wrap(np.array(v)).requires_grad_(grad_mode) for n, v in point.items()
    }
    names = {**{n: Tensor._wrap(v) for n, v in problem.fixed.items()}, **tensors}
    with np.errstate(all="ignore"):
        return problem.evaluate(names), tensors


def seed_for(out: Tensor, seed: Any) -> np.ndarray | None:
    if isinstance(seed, str):
        return np.ones(out.shape)
    if seed is None:
        if out.numel() != 1:
            raise NonScalarOutput(tuple(out.shape))
        return None
    seed = np.asarray(seed, dtype=np.float64)
    if seed.shape != out.shape:
        try:
            seed = np.broadcast_to(seed, out.shape).copy()
        except ValueError:
            raise ExprError(
                f"the seed has shape {seed.shape} but the value has shape "
                f"{tuple(out.shape)}"
            ) from None
    return seed


def grads_or_none(out: Tensor, wrt: list[Tensor], seed, create_graph: bool = False):
    """``autograd.grad`` of ``out`` (graph kept, nan/inf quiet); None where unused."""
    with np.errstate(all="ignore"):
        return autograd.grad(
            [out],
            wrt,
            None if seed is None else [seed],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )


def _grads(out: Tensor, tensors: dict[str, Tensor], seed, create_graph: bool):
    wrt = list(tensors.values())
    if not out.requires_grad:
        return [Tensor._wrap(np.zeros_like(t._data)) for t in wrt]
    gs = grads_or_none(out, wrt, seed, create_graph)
    return [
        Tensor._wrap(np.zeros_like(t._data)) if g is None else g
        for g, t in zip(gs, wrt, strict=True)
    ]


def gradient_at(problem: Problem, point: dict[str, np.ndarray], seed) -> np.ndarray:
    """The engine's flat gradient at another point (finite differences of it)."""
    out, tensors = evaluate_at(problem, point)
    gs = _grads(out, tensors, seed_for(out, seed), False)
    return np.concatenate([g._data.ravel() for g in gs]) if gs else np.zeros(0)


def _kept(g: np.ndarray, order: int, held: list[Any]) -> np.ndarray:
    """A gradient as the result keeps it: the array itself when it is one of
    its own (first order, no view, shared with no value, seed or other
    gradient), else a copy; a copy of 1e7 values is 80 MB more."""
    own = order == 1 and g.flags.owndata and g.flags.writeable
    if own and not any(
        isinstance(h, np.ndarray) and np.may_share_memory(g, h) for h in held
    ):
        return g
    return g.copy()


def engine(problem: Problem, seed: Any, order: int) -> Engine:
    point = {n: problem.point[n] for n in problem.wrt}
    out, tensors = evaluate_at(problem, point)
    seed = seed_for(out, seed_array(seed))  # parse a seed given as text
    gs = _grads(out, tensors, seed, create_graph=order > 1)
    held = [out._data, seed, *point.values(), *problem.fixed.values()]
    gradient = {
        n: _kept(g._data, order, [*held, *(h._data for h in gs if h is not g)])
        for n, g in zip(tensors, gs, strict=True)
    }
    labels = Labels([(n, point[n].shape) for n in problem.wrt])
    if len(gradient) == 1:  # a view: no second copy of a large gradient
        flat = next(iter(gradient.values())).reshape(-1)
    else:
        flat = np.concatenate([g.ravel() for g in gradient.values()] or [np.zeros(0)])
    result = Engine(out._data.copy(), gradient, seed, flat, labels)
    if order == 2:
        result.derivatives["hessian"] = _hessian(tensors, gs)
        blocks = result.derivatives["hessian"]
        result.flat = np.concatenate(
            [blocks[a][b].ravel() for a in tensors for b in tensors]
        )
        result.labels = Labels([(n, point[n].shape) for n in tensors], pairs=True)
    elif order > 2:
        g, x = gs[0], next(iter(tensors.values()))
        took = [0.0, 0.0]  # the last two orders' times
        for k in range(2, order + 1):
            if not g.requires_grad:  # a constant: every higher order is 0
                g = Tensor._wrap(np.zeros_like(x._data))
                break
            _refuse_slow_orders(order, k, took)
            start = time.monotonic()
            g = _grads(g, {"x": x}, None, create_graph=k < order)[0]
            took = [took[1], time.monotonic() - start]
        result.derivatives["nth"] = g._data.copy()
        result.flat, result.labels = g._data.ravel().copy(), [f"d{order}"]
    return result


def _refuse_slow_orders(order: int, k: int, took: list[float]) -> None:
    """Each order's graph may be a multiple of the last one's (sin(sin(x))
    doubles): refuse when the orders left, growing at the rate seen so far,
    cannot end in the time left."""
    last, before = took[1], took[0]
    steps = min(order - k + 1, 500)  # enough to exceed any budget
    needed = last * steps  # at least as long as the last, each
    if last > 0.1 and before > 0:  # shorter times are too noisy for a rate
        rate = max(1.0, min(last / before, 3.0))
        needed = last * (steps if rate == 1 else rate * (rate**steps - 1) / (rate - 1))
    refuse_slow(f"order {order} (order {k - 1} took {last:.2g} s)", needed)


def _hessian(tensors: dict[str, Tensor], gs: list[Tensor]) -> dict:
    names = list(tensors)
    blocks = {
        a: {b: np.zeros(tensors[a].shape + tensors[b].shape) for b in names}
        for a in names
    }
    for a, g in zip(names, gs, strict=True):
        if not g.requires_grad:
            continue
        flat = g.reshape(-1)
        for k in range(flat.numel()):
            rows = _grads(flat[k], tensors, None, create_graph=False)
            for b, row in zip(names, rows, strict=True):
                blocks[a][b].reshape(-1, tensors[b].numel())[k] = row._data.ravel()
    return blocks


class Labels(Sequence[str]):
    """The label of each entry of the derivative under check ("x[0, 1]", or
    "d2/dxdy" of a Hessian), made when asked for: a list of all of them would
    take longer than the gradient of ``x = ones(10**7)`` and ten times its
    memory."""

    def __init__(self, parts: list[tuple[str, tuple]], pairs: bool = False) -> None:
        self.parts, self.pairs = parts, pairs
        self.sizes = [math.prod(shape) for _, shape in parts]
        if pairs:
            self.blocks = [(a, b) for a in range(len(parts)) for b in range(len(parts))]
            sizes = [self.sizes[a] * self.sizes[b] for a, b in self.blocks]
        else:
            sizes = self.sizes
        self.edges = np.cumsum([0, *sizes])

    def __len__(self) -> int:
        return int(self.edges[-1])

    def _one(self, part: int, k: int) -> str:
        name, shape = self.parts[part]
        if not shape:
            return name
        return f"{name}[{', '.join(map(str, np.unravel_index(k, shape)))}]"

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        k = int(k) + (len(self) if k < 0 else 0)
        if not 0 <= k < len(self):
            raise IndexError(k)
        block = int(np.searchsorted(self.edges, k, side="right")) - 1
        k -= int(self.edges[block])
        if not self.pairs:
            return self._one(block, k)
        a, b = self.blocks[block]
        return (
            f"d2/d{self._one(a, k // self.sizes[b])}d{self._one(b, k % self.sizes[b])}"
        )


def element_label(name: str, index: tuple[int, ...]) -> str:
    """``x``, ``x[0]``, ``A[0, 1]``: how an element is named everywhere."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    return [element_label(name, i) for i in np.ndindex(shape)]


# --- finite differences -------------------------------------------------------


@dataclass
class FiniteDifferences:
    ok: bool
    reason: str | None = None
    flat: np.ndarray | None = None
    gradient: dict[str, np.ndarray] | None = None
    kinks: np.ndarray | None = None  # order 1: one-sided slopes differ here
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    noise: np.ndarray | None = None  # rounding noise (finite_differences.Differences)
    unreliable: np.ndarray | None = None  # no step settles here: no vote (steps.py)


def finite_differences(
    problem: Problem, eng: Engine, order: int, tol
) -> FiniteDifferences:
    """Central differences of the forward pass (order 1) or of the engine's
    gradient (order 2) or (N-1)-th derivative (order N)."""
    point = {n: problem.point[n] for n in problem.wrt}
    size = sum(v.size for v in point.values())
    if size > tol.fd_max_elements:
        return FiniteDifferences(
            False,
            f"{size} elements is over the finite-difference "
            f"limit of {tol.fd_max_elements}",
        )
    seed = eng.seed
    moved = {n: v.copy() for n, v in point.items()}  # differences move it in place

    def scalar():
        out, _ = evaluate_at(problem, moved, grad_mode=False)
        data = out._data  # one element of any shape when there is no seed
        return float(np.sum(data * seed) if seed is not None else data.reshape(()))

    if order == 1:
        f = scalar
    elif order == 2:
        f = lambda: gradient_at(problem, moved, seed)
    else:
        name = problem.wrt[0]
        f = lambda: _nth(problem, moved, name, order - 1)
    with np.errstate(all="ignore"):
        result = _result(FD.differences(f, list(moved.values())), point, order, tol)
    n = result.flat.size if order == 1 else size
    where = [(k, ()) for k in range(n)]  # order 1: element k, the one output
    if order == 2:  # entry (gradient i, perturbed j) in the flat block order
        cells = _hessian_order(np.arange(size * size).reshape(size, size), point)
        where = [(c % size, (c // size,)) for c in cells]
    elif order > 2:
        where = [(0, ())]
    steps.recheck(result, f, list(moved.values()), eng.flat, where, tol.rtol, tol.atol)
    return result


def _result(d: FD.Differences, point: dict, order: int, tol) -> FiniteDifferences:
    """The differences as the derivative under check, in the engine's flat order."""
    result = FiniteDifferences(True)
    if order == 1:
        result.flat = np.array(d.central, dtype=np.float64)
        result.noise = np.array(d.noise, dtype=np.float64)
        result.left, result.right = d.left, d.right
        gap = np.abs(result.left - result.right)
        result.kinks = (
            gap
            > 100 * (tol.atol + tol.rtol * np.abs(result.flat))
            + 1e-3
            + 4 * result.noise
        )
        result.gradient, k = {}, 0
        for name, value in point.items():
            result.gradient[name] = result.flat[k : k + value.size].reshape(value.shape)
            k += value.size
    elif order == 2:
        # rows: gradient entries, cols: perturbed entries
        result.flat = _hessian_order(d.central.T, point)
        result.noise = _hessian_order(d.noise.T, point)
    else:
        result.flat = d.central.ravel()
        result.noise = np.array(d.noise, dtype=np.float64).ravel()
    return result


def _nth(problem: Problem, point: dict, name: str, order: int) -> np.ndarray:
    out, tensors = evaluate_at(problem, point)
    g = out
    for k in range(order):
        if not g.requires_grad:
            return np.zeros(())
        g = _grads(g, tensors, None, create_graph=k < order - 1)[0]
    return g._data


def _hessian_order(matrix: np.ndarray, point: dict) -> np.ndarray:
    """Reorder a full (entries x entries) Hessian into per-block flat order."""
    sizes = [v.size for v in point.values()]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    return np.concatenate(
        [
            matrix[edges[a] : edges[a + 1], edges[b] : edges[b + 1]].ravel()
            for a in range(len(sizes))
            for b in range(len(sizes))
        ]
    )
