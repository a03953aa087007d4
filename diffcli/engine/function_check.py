"""Checking a custom ``autograd.Function``'s backward where it is used.

Each custom node behind an output is taken apart at the values it was
called with: its Jacobian by the user's ``backward`` (one pass per output
element), by central differences of its ``forward``, and by the table's
rules on the forward's own operations (``function.inline``).  The first
entry where the backward disagrees is reported with its output, its input
and every witness's value, so a wrong backward is found where it is.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.engine.function import Function, inline
from diffcli.engine.gradcheck import analytical_jacobian, numerical_jacobian
from diffcli.engine.graph_walk import topological
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError

MAX_ELEMENTS = 2000  # input elements per node: differences cost two forwards each


@dataclass
class FunctionCheck:
    """One custom Function's backward against its witnesses."""

    name: str
    ok: bool | None  # None: it could not be checked
    text: str


def check_functions(output: Tensor, rtol: float, atol: float) -> list[FunctionCheck]:
    """A check of every custom Function node behind ``output``."""
    seen: set[int] = set()
    checks = []
    for node in topological([output]):
        ctx = node._params.get("_ctx") if node._prim is not None else None
        if ctx is None or id(ctx) in seen or "_output" in node._params:
            continue
        seen.add(id(ctx))
        checks.append(_check(ctx, node._inputs, rtol, atol))
    return checks


def _check(ctx: Any, inputs: Any, rtol: float, atol: float) -> FunctionCheck:
    cls = ctx._forward_cls
    name = f"{cls.__name__}.backward"
    if type(inputs) is not tuple:
        return FunctionCheck(name, None, f"{name} not checked: its graph was freed")
    args = [
        Tensor._wrap(x._data.copy()).requires_grad_(x._requires_grad)
        if isinstance(x, Tensor)
        else x
        for x in inputs
    ]
    wrt = [k for k, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    size = sum(args[k].numel() for k in wrt)
    if size > MAX_ELEMENTS:
        why = f"{size} input elements (over {MAX_ELEMENTS})"
        return FunctionCheck(name, None, f"{name} not checked: {why}")
    live = [k for k, meta in enumerate(ctx._outputs) if meta is not None]

    def run(*xs: Any) -> list[Tensor]:
        out = cls.apply(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        return [outs[k] for k in live]

    def traced(*xs: Any) -> list[Tensor]:
        with inline():
            return run(*xs)

    backward = analytical_jacobian(run, args)
    numeric = numerical_jacobian(run, args)
    try:
        replay = analytical_jacobian(traced, args)
        replayed = "the table's rules on its forward"
    except DiffcliError:  # the closed form's note says why
        replay, replayed = None, "its forward cannot be replayed"
    names = _parameter_names(cls, len(args))
    sizes = [int(np.prod(ctx._outputs[k][0])) for k in live]
    for block, k in enumerate(wrt):
        for j, row in _output_rows(sizes):
            b, n = backward[block][row], numeric[block][row]
            r = None if replay is None else replay[block][row]
            bad = ~np.isclose(b, n, rtol=rtol, atol=atol, equal_nan=True)
            if r is not None:
                bad |= ~np.isclose(b, r, rtol=1e-9, atol=1e-12, equal_nan=True)
            if bad.any():
                e, i = np.unravel_index(int(np.argmax(bad)), bad.shape)
                where = (
                    f"output {live[j]}{_index(ctx._outputs[live[j]][0], e)} / input "
                    f"{k} ({names[k]}){_index(args[k].shape, i)}"
                )
                said = f", {replayed} {r[e, i]:.10g}" if r is not None else ""
                return FunctionCheck(
                    name,
                    False,
                    f"{name} disagrees at {where}: backward {b[e, i]:.10g}, finite "
                    f"differences {n[e, i]:.10g}{said}",
                )
    witnesses = "finite differences" + (
        f" and {replayed}" if replay is not None else f" ({replayed})"
    )
    return FunctionCheck(name, True, f"{name} agrees with {witnesses}")


def _output_rows(sizes: list[int]):
    start = 0
    for j, n in enumerate(sizes):
        yield j, slice(start, start + n)
        start += n


def _index(shape: tuple, flat: int) -> str:
    return str([int(i) for i in np.unravel_index(flat, shape)]) if shape else ""


def _parameter_names(cls: type, count: int) -> list[str]:
    """The forward's parameter names (after ``ctx`` in the older style)."""
    try:
        params = list(inspect.signature(cls.forward).parameters)
    except (TypeError, ValueError):
        params = []
    if cls.setup_context is Function.setup_context:
        params = params[1:]
    params += [f"arg{k}" for k in range(len(params), count)]
    return params[:count]
