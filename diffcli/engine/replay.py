"""A recorded graph replayed on new leaf values: forward and backward on numpy.

Minimizing evaluates one expression thousands of times.  Tracing it once and
replaying the primitives' forwards and VJP rules straight on arrays skips the
parser, the tree walk and the Tensor bookkeeping, while using the very same
rules as the engine (``autograd.input_grad``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from diffcli.engine.autograd import _NUMPY, input_grad
from diffcli.engine.graph_walk import tensor_inputs, topological
from diffcli.engine.tensor import Tensor


class Trace:
    """The operations between ``leaves`` and ``output``, in evaluation order."""

    def __init__(self, output: Tensor, leaves: Sequence[Tensor]) -> None:
        slot = {id(t): k for k, t in enumerate(leaves)}
        self.leaves = len(leaves)
        self.program: list[tuple] = []
        for node in topological([output], _differentiable_inputs):
            if node._prim is None:  # a leaf: a variable or, if not given, a constant
                continue
            args = tuple(
                ("slot", slot[id(x)])
                if isinstance(x, Tensor) and id(x) in slot
                else ("const", _scalar(x._data if isinstance(x, Tensor) else x))
                for x in node._inputs
            )
            slot[id(node)] = len(slot)
            self.program.append((node._prim, args, node._params))
        self.output = slot.get(id(output))
        if self.output is None:
            self.constant = output._data

    def run(self, values: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The output's value at ``values`` and its gradient for each leaf."""
        if self.output is None:
            return self.constant, [np.zeros_like(v) for v in values]
        vals: list[Any] = [_scalar(v) for v in values]
        inputs_of: list[list[Any]] = []  # each op's inputs, kept for its rules
        for prim, args, params in self.program:
            inputs = [vals[a] if kind == "slot" else a for kind, a in args]
            inputs_of.append(inputs)
            vals.append(prim.forward(*inputs, **params))
        grads: list[Any] = [None] * len(vals)
        value = vals[self.output]
        grads[self.output] = np.ones_like(value) if np.ndim(value) else 1.0
        for k in range(len(self.program) - 1, -1, -1):
            # every consumer of this node came later and is done: drop what is
            # kept for it (on 1e7 values each array kept to the end is 80 MB)
            g, ans, inputs = grads[self.leaves + k], vals[self.leaves + k], inputs_of[k]
            vals[self.leaves + k] = grads[self.leaves + k] = inputs_of[k] = None
            if g is None:
                continue
            prim, args, params = self.program[k]
            slots = [i for i, (kind, _) in enumerate(args) if kind == "slot"]
            if not any(prim.reads_output(i) for i in slots):
                ans = None  # x**2's value is gone before 2*x*g is made
            for i, (kind, a) in enumerate(args):
                if kind == "slot":
                    gi = input_grad(
                        prim, i, _NUMPY, g, ans, inputs, params, np.shape(vals[a])
                    )
                    grads[a] = gi if grads[a] is None else grads[a] + gi
            g = ans = inputs = gi = None
        out = [
            np.zeros_like(v) if g is None else np.asarray(g)
            for v, g in zip(values, grads[: self.leaves], strict=True)
        ]
        return np.asarray(value), out


def _scalar(x: Any) -> Any:
    """0-d arrays as numpy scalars: their arithmetic is ten times faster."""
    return x[()] if type(x) is np.ndarray and x.ndim == 0 else x


def _differentiable_inputs(node: Tensor) -> list[Tensor]:
    """The inputs a trace replays; the others are constants of the program."""
    return [x for x in tensor_inputs(node) if x._requires_grad]
