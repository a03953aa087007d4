"""The recorded graph of one expression: each node's name, value and gradient.

``diffcli graph`` shows what PyTorch would record (``grad_fn`` names such as
``MulBackward0``) so that people can see where a gradient comes from.  The data
is built here; render.py draws it and ``to_dot`` writes Graphviz.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.engine.graph_walk import depth_first, tensor_inputs
from diffcli.engine.tensor import Tensor
from diffcli.errors import ExprError
from diffcli.verify import witnesses as W
from diffcli.verify.question import Values, prepare


@dataclass
class Node:
    """One tensor of the graph; ``inputs`` are node ids (edges input -> node)."""

    id: int
    name: str  # grad_fn name for operations, the variable name or literal for leaves
    kind: str  # "op" | "leaf" (requires grad) | "constant"
    shape: tuple[int, ...]
    value: np.ndarray
    grad: np.ndarray | None
    inputs: list[int] = field(default_factory=list)


@dataclass
class GraphResult:
    expr: str
    point: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    value: np.ndarray
    seed: np.ndarray | None
    nodes: list[Node]  # nodes[0] is the output; ids are list positions

    @property
    def edges(self) -> list[tuple[int, int]]:
        return [(i, n.id) for n in self.nodes for i in n.inputs]


def build_graph(
    text: str, at: Values | None = None, let: Values | None = None, seed: Any = None
) -> GraphResult:
    """Evaluate ``text`` on requires_grad tensors and walk what was recorded."""
    from diffcli.expr.numeric import evaluate_numeric

    problem = prepare(text, at, let)
    if not problem.numeric:
        raise ExprError(
            "the graph needs a value for every name; missing: "
            + ", ".join(problem.missing)
        )
    leaves = {
        n: Tensor._wrap(v.copy()).requires_grad_() for n, v in problem.point.items()
    }
    consts = {n: Tensor._wrap(v) for n, v in problem.constants.items()}
    with np.errstate(all="ignore"):
        out = evaluate_numeric(problem.tree, {**consts, **leaves}, text)
    seed_value = W.seed_for(out, W.seed_array(seed))
    names = {id(t): n for n, t in {**consts, **leaves}.items()}
    tensors = _walk(out)
    index = {id(t): k for k, t in enumerate(tensors)}
    grads = _gradients(out, tensors, seed_value)
    nodes = []
    for k, t in enumerate(tensors):
        inputs = [index[id(x)] for x in tensor_inputs(t)]
        kind = "op" if inputs else "leaf" if t.requires_grad else "constant"
        name = t.grad_fn.name() if inputs else names.get(id(t)) or _literal(t._data)
        nodes.append(
            Node(k, name, kind, tuple(t.shape), t._data.copy(), grads[k], inputs)
        )
    return GraphResult(
        text, problem.point, problem.constants, out._data.copy(), seed_value, nodes
    )


def _walk(out: Tensor) -> list[Tensor]:
    """Every tensor reachable from ``out``, once each, in the order a drawing
    from the output down reads them (pre-order, first input first)."""
    inputs_in_order = lambda t: reversed(tensor_inputs(t))
    return [t for t, done in depth_first([out], inputs_in_order) if not done]


def _gradients(out: Tensor, tensors: list[Tensor], seed) -> list[np.ndarray | None]:
    """d out / d node for every node that requires grad (non-leaves included)."""
    wanted = [t for t in tensors if t.requires_grad]
    if not out.requires_grad or not wanted:
        return [None] * len(tensors)
    gs = W.grads_or_none(out, wanted, seed)
    by_id = {id(t): g for t, g in zip(wanted, gs, strict=True)}
    return [
        None if by_id.get(id(t)) is None else by_id[id(t)]._data.copy() for t in tensors
    ]


def _literal(data: np.ndarray) -> str:
    if data.ndim == 0:
        return _number(data)
    return f"tensor{tuple(data.shape)}"


def _number(value: Any) -> str:
    """%.6g, nan and inf spelled out: render.text.number_text's spelling (a
    test holds them equal), which verify, below render, may not import."""
    return f"{float(value):.6g}"


def to_dot(graph: GraphResult) -> str:
    """Graphviz source: operations as boxes, leaves as ellipses, edges input -> op."""

    def short(a: np.ndarray | None) -> str:
        if a is None:
            return ""
        if a.size == 1:
            return _number(a.reshape(()))
        return f"shape {tuple(a.shape)}"

    lines = ["digraph diffcli {", "  rankdir=BT;", '  node [fontname="monospace"];']
    for n in graph.nodes:
        label = f"{n.name}\\nvalue {short(n.value)}"
        if n.grad is not None:
            label += f"\\ngrad {short(n.grad)}"
        shape = "box" if n.kind == "op" else "ellipse"
        style = ', style="filled", fillcolor="lightblue"' if n.kind == "leaf" else ""
        label = label.replace('"', '\\"')
        lines.append(f'  n{n.id} [label="{label}", shape={shape}{style}];')
    lines += [f"  n{a} -> n{b};" for a, b in graph.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
