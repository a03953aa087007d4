"""The backward step of the few nodes that carry extras (hooks.EXTRAS):
tensor hooks, retained gradients, a node's pre- and post-hooks, and custom
Functions' ``backward``, in PyTorch's order: tensor hooks, then ``.grad`` of
a tensor that retains it, then the node's pre-hooks, the node itself, and
its post-hooks.  The fast step in autograd.py never sees these nodes; this
one gives up its memory reuse, since a hook may keep what it is handed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.engine import hooks as H
from diffcli.engine.function import Function
from diffcli.engine.grad_fn import FREED_MESSAGE, listed
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError


@dataclass
class Pass:
    """What the step needs of the reverse pass it is part of."""

    F: Any  # the namespace rules run in
    numpy: bool  # first order on arrays (else recorded on tensors)
    retain_graph: bool
    grads: dict
    pending: dict
    ready: list
    captured: dict
    rule: Callable[..., Any]  # autograd.input_grad
    free: Callable[[Tensor], None]  # autograd._free


class Slots:
    """The cotangents a custom Function's shared node has received, by output."""

    __slots__ = ("by",)

    def __init__(self, by: dict[int, Any]) -> None:
        self.by = by

    def __add__(self, other: Slots) -> Slots:
        merged = dict(self.by)
        for k, v in other.by.items():
            merged[k] = merged[k] + v if k in merged else v
        return Slots(merged)


def step(node: Tensor, g: Any, p: Pass) -> None:
    extras = H.EXTRAS.get(node)
    if extras.hooks:
        g = tensor_hooks(extras.hooks, g, p.numpy)
    if extras.retains:
        _retain(node, g, p.numpy)
    if node in p.captured:
        p.captured[node] = g
    inputs = node._inputs
    if type(inputs) is not tuple:
        raise DiffcliError(FREED_MESSAGE)
    if "_output" in node._params:  # one output of a custom Function
        _send(inputs, [Slots({node._params["_output"]: g})], p)
        return
    ctx = extras.ctx
    outs = [g] if ctx is None else _grad_outputs(ctx, g)
    if extras.pre_hooks:
        outs = _pre_hooks(extras.pre_hooks, outs, p.numpy)
    if ctx is None:
        grads_in = _rules(node, inputs, outs[0], p)
    else:
        grads_in = _custom(ctx, inputs, outs, p)
    if extras.post_hooks:
        grads_in = _post_hooks(node, extras.post_hooks, grads_in, outs, p.numpy)
    _send(inputs, grads_in, p)
    if not p.retain_graph and node._prim.saves_inputs:
        p.free(node)
        if ctx is not None:
            ctx._free()


def skip(node: Tensor, p_pending: dict, ready: list) -> None:
    """A node no gradient reached (a custom backward returned None): its
    inputs still stop waiting for it."""
    inputs = node._inputs
    if type(inputs) is not tuple:
        return
    for x in inputs:
        if type(x) is Tensor and x._requires_grad and x._prim is not None:
            waiting = p_pending[x] - 1
            p_pending[x] = waiting
            if not waiting:
                ready.append(x)


def _rules(node: Tensor, inputs: tuple, g: Any, p: Pass) -> list:
    if p.numpy:
        ans, values = node._data, [x._data if type(x) is Tensor else x for x in inputs]
    else:
        ans, values = node, inputs
    return [
        p.rule(node._prim, i, p.F, g, ans, values, node._params, x._data.shape)
        if type(x) is Tensor and x._requires_grad
        else None
        for i, x in enumerate(inputs)
    ]


def _send(inputs: tuple, grads_in: list, p: Pass) -> None:
    grads = p.grads
    for x, gi in zip(inputs, grads_in, strict=True):
        if type(x) is not Tensor or not x._requires_grad:
            continue
        if gi is not None:
            grads[x] = grads[x] + gi if x in grads else gi
        if x._prim is not None:
            waiting = p.pending[x] - 1
            p.pending[x] = waiting
            if not waiting:
                p.ready.append(x)


# --- hooks --------------------------------------------------------------------------


def wrap(g: Any) -> Tensor:
    """A gradient as hooks and custom backwards see it: a tensor."""
    return g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g))


def unwrap(value: Any, numpy: bool, like: Any = None) -> Any:
    """A tensor handed back by user code, as the pass carries it."""
    if not isinstance(value, Tensor):
        value = Tensor._wrap(np.asarray(value))
    if like is not None and np.shape(like) != value.shape:
        raise DiffcliError(
            f"hook changed the size of the gradient: expected {list(np.shape(like))}, "
            f"got {list(value.shape)}"
        )
    return value._data if numpy else value


def tensor_hooks(hooks: dict, g: Any, numpy: bool) -> Any:
    for hook in list(hooks.values()):
        out = hook(wrap(g))
        if out is not None:
            g = unwrap(out, numpy, g)
    return g


def _pre_hooks(hooks: dict, outs: list, numpy: bool) -> list:
    for hook in list(hooks.values()):
        new = hook(tuple(None if o is None else wrap(o) for o in outs))
        if new is not None:
            outs = [None if n is None else unwrap(n, numpy) for n in new]
    return outs


def _post_hooks(node: Tensor, hooks: dict, grads_in: list, outs: list, numpy: bool):
    shown = listed(node)
    view = tuple(None if grads_in[k] is None else wrap(grads_in[k]) for k in shown)
    grad_outputs = tuple(None if o is None else wrap(o) for o in outs)
    for hook in list(hooks.values()):
        new = hook(view, grad_outputs)
        if new is not None:
            view = tuple(new)
    grads_in = list(grads_in)
    for k, v in zip(shown, view, strict=True):
        grads_in[k] = None if v is None else unwrap(v, numpy, grads_in[k])
    return grads_in


def _retain(node: Tensor, g: Any, numpy: bool) -> None:
    """``.grad`` of a non-leaf that retains it: summed over backward calls."""
    if node.grad is None:
        node.grad = Tensor._wrap(np.array(g)) if numpy else wrap(g)
    elif numpy:
        node.grad = Tensor._wrap(node.grad._data + g)
    else:
        node.grad = node.grad + g


def leaf_gradient(leaf: Tensor, g: Any, numpy: bool, accumulating: bool) -> Any:
    """A leaf's gradient after its tensor hooks (and, when it is about to
    be accumulated, its AccumulateGrad pre-hooks)."""
    extras = H.EXTRAS.get(leaf)
    if extras is None:
        return g
    if extras.hooks:
        g = tensor_hooks(extras.hooks, g, numpy)
    if accumulating and extras.acc_prehooks:
        (g,) = _pre_hooks(extras.acc_prehooks, [g], numpy)
    return g


def accumulated(leaf: Tensor, g: Any) -> None:
    """Post-accumulate hooks and AccumulateGrad post-hooks of a leaf."""
    extras = H.EXTRAS.get(leaf)
    if extras is None:
        return
    for hook in list((extras.post_accumulate or {}).values()):
        hook(leaf)
    for hook in list((extras.acc_hooks or {}).values()):
        hook((), (wrap(g),))


# --- custom Functions ----------------------------------------------------------------


def _grad_outputs(ctx: Any, g: Any) -> list:
    """One cotangent per forward output: zeros where none arrived (unless the
    Function turned that off), None for outputs that are not tensors."""
    by = g.by if isinstance(g, Slots) else {ctx._node_output: g}
    outs = []
    for k, meta in enumerate(ctx._outputs):
        gk = by.get(k)
        if gk is None and meta is not None and ctx.materialize_grads:
            gk = np.zeros(*meta)
        outs.append(gk)
    return outs


def _custom(ctx: Any, inputs: tuple, outs: list, p: Pass) -> list:
    """The user's backward, checked as PyTorch checks it."""
    cls = ctx._forward_cls
    backward = cls.vjp if cls.backward is Function.backward else cls.backward
    result = backward(ctx, *(None if o is None else wrap(o) for o in outs))
    result = list(result) if isinstance(result, tuple | list) else [result]
    n = len(inputs)
    if len(result) > n and all(r is None for r in result[n:]):
        result = result[:n]
    if len(result) != n:
        raise DiffcliError(
            f"function {ctx.name()} returned an incorrect number of gradients "
            f"(expected {n}, got {len(result)})"
        )
    grads_in: list[Any] = []
    for k, (x, r) in enumerate(zip(inputs, result, strict=True)):
        if r is not None and not isinstance(x, Tensor):
            raise DiffcliError(
                f"function {ctx.name()} returned a gradient different than None at "
                f"position {k + 1}, but the corresponding forward input was not a "
                "Variable"
            )
        if r is None or not x._requires_grad:
            grads_in.append(None)
            continue
        grads_in.append(_fitted(ctx, k, x, wrap(r), p))
    return grads_in


def _fitted(ctx: Any, k: int, x: Tensor, r: Tensor, p: Pass) -> Any:
    """A returned gradient in its input's shape and dtype, as the pass carries it."""
    shape = x.shape
    if r.shape != shape:
        try:
            fits = np.broadcast_shapes(shape, r.shape) == r.shape
        except ValueError:
            fits = False
        if not fits:
            raise DiffcliError(
                f"Function {ctx.name()} returned an invalid gradient at index {k} - "
                f"got {list(r.shape)} but expected shape compatible with "
                f"{list(shape)}"
            )
    value = r._data if p.numpy else r
    if r.shape != shape:
        value = p.F.sum_to(value, shape=tuple(shape))
    if r.dtype != x.dtype:
        value = (
            np.asarray(value, x.dtype) if p.numpy else p.F.cast(value, dtype=x.dtype)
        )
    return value
