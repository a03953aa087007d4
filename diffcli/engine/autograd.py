"""The reverse pass: ``backward`` and ``grad``.

The pass is iterative (no recursion, so million-node chains are fine) and
visits each node once, after every consumer of its output has sent its
cotangent (Kahn's order on the reversed graph).  Each rule of ``ops`` runs in
one of two namespaces: numpy forwards for a plain first-order pass, or the
recorded primitives when ``create_graph`` asks for a differentiable one; the
numpy pass lets rules overwrite arrays that would die unread (``reuse``).
Nodes with hooks or a custom Function's rule take the general step of
hooked_step.py; an edge to a tensor changed in place since is followed to the
node it was (inplace.as_recorded).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from diffcli.engine import hooked_step as hooked
from diffcli.engine import hooks as H
from diffcli.engine import memory_reuse as reuse
from diffcli.engine.grad_fn import FREED_MESSAGE
from diffcli.engine.grad_mode import (  # noqa: F401  (dc.autograd's names)
    GradSwitch,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from diffcli.engine.inplace import as_recorded
from diffcli.engine.table import PRIMITIVES
from diffcli.engine.tensor import FREED, Freed, GradFn, Tensor, apply
from diffcli.errors import DiffcliError

_NUMPY = SimpleNamespace(**{name: p.forward for name, p in PRIMITIVES.items()})
_TENSOR = SimpleNamespace(
    **{name: functools.partial(apply, p) for name, p in PRIMITIVES.items()}
)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf."""
    roots = _roots(tensors, grad_tensors, create_graph)
    grads = _run(roots, retain_graph, create_graph, capture=())
    taken: set[int] = set()
    extras = H.EXTRAS.data
    for leaf, g in grads.items():
        if extras and id(leaf) in extras:
            with GradSwitch(create_graph):
                g = hooked.leaf_gradient(leaf, g, not create_graph, True)
                _accumulate(leaf, g, create_graph, taken)
                hooked.accumulated(leaf, g)
        else:
            _accumulate(leaf, g, create_graph, taken)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` (summed) with respect to each of ``inputs``."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise DiffcliError(f"input {i} of grad() does not require grad")
    roots = _roots(outputs, grad_outputs, create_graph)
    grads = _run(roots, retain_graph, create_graph, capture=inputs)
    result: list[Tensor | None] = []
    extras = H.EXTRAS.data
    for i, x in enumerate(inputs):
        if x._prim is None and x in grads and extras and id(x) in extras:
            with GradSwitch(create_graph):
                grads[x] = hooked.leaf_gradient(x, grads[x], not create_graph, False)
        if x not in grads:
            if not allow_unused:
                raise DiffcliError(
                    f"input {i} of grad() appears to not have been used in the graph; "
                    "set allow_unused=True if this is the desired behavior"
                )
            result.append(None)
            continue
        result.append(_as_grad_tensor(grads[x], x.dtype, create_graph))
    return tuple(result)


def _roots(outputs: Any, gradients: Any, create_graph: bool) -> list[tuple[Any, Any]]:
    """Pair each output with its seed cotangent, checking shapes like PyTorch."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if (
        gradients is None
        or isinstance(gradients, (Tensor, np.ndarray))
        or np.isscalar(gradients)
    ):
        gradients = [gradients] * len(outputs) if gradients is None else [gradients]
    gradients = list(gradients)
    if len(gradients) != len(outputs):
        raise DiffcliError(
            f"got {len(gradients)} gradients for {len(outputs)} outputs; pass one each"
        )
    roots = []
    for i, (out, g) in enumerate(zip(outputs, gradients, strict=True)):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise DiffcliError(
                f"element {i} of tensors does not require grad and does not have a "
                "grad_fn: nothing it depends on requires gradients"
            )
        if g is None:
            if out.numel() != 1:
                raise DiffcliError(
                    "grad can be implicitly created only for scalar outputs; pass "
                    f"gradient= a tensor of shape {tuple(out.shape)} (e.g. "
                    "dc.ones_like(y)) or reduce the output first (y.sum())"
                )
            seed = np.ones(out.shape, dtype=out.dtype)
        else:
            seed = np.array(g._data if isinstance(g, Tensor) else g, dtype=out.dtype)
            if seed.shape != out.shape:
                raise DiffcliError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of "
                    f"{tuple(seed.shape)} and output[{i}] has a shape of "
                    f"{tuple(out.shape)}"
                )
        if create_graph:
            seed = g if isinstance(g, Tensor) else Tensor._wrap(seed)
        roots.append((out, seed))
    return roots


def _run(roots, retain_graph, create_graph, capture) -> dict:
    """The reverse sweep; returns the cotangents of leaves and of ``capture``."""
    if retain_graph is None:
        retain_graph = create_graph
    F = _TENSOR if create_graph else _NUMPY
    donate = not retain_graph and F is _NUMPY and reuse.COUNTS_REFS
    pending = _consumers([t for t, _ in roots if t._prim is not None])
    grads: dict[Tensor, Any] = {}
    lent: set[Tensor] = set()  # tensors whose cotangent no one else holds
    for t, seed in roots:
        grads[t] = grads[t] + seed if t in grads else seed
    ready = [
        t
        for t in dict.fromkeys(t for t, _ in roots)
        if t._prim is not None and not pending.get(t)
    ]
    captured = {t: None for t in capture if t._prim is not None}
    extras = H.EXTRAS.data  # nodes with hooks or a custom rule: rare, often none
    general = None
    mode = contextlib.nullcontext() if create_graph else np.errstate(all="ignore")
    with GradSwitch(create_graph), mode:
        while ready:
            node = ready.pop()
            try:
                g = grads.pop(node)
            except KeyError:  # a custom rule sent nothing (None)
                hooked.skip(node, pending, ready)
                continue
            if extras and id(node) in extras:
                lent.discard(node)
                general = general or hooked.Pass(
                    F, not create_graph, retain_graph, grads, pending, ready,
                    captured, input_grad, _free,
                )  # fmt: skip
                hooked.step(node, g, general)
                continue
            own = node in lent
            if own:
                lent.discard(node)
            if node in captured:
                captured[node] = g
                own = False
            inputs = node._inputs
            if (
                donate
                and not own
                and node._prim.overwrites_input
                and reuse.donor(node, pending)
            ):
                # Unlinked first, so that once ``unshared`` finds no one else
                # holding the input, no one can reach it while the rule writes.
                _free(node)
                if reuse.unshared(inputs):
                    _step(node, inputs, g, own, F, grads, lent, pending, ready, True)
                    continue
            _step(node, inputs, g, own, F, grads, lent, pending, ready)
            if not retain_graph and node._prim.saves_inputs:
                _free(node)
    grads.update({k: v for k, v in captured.items() if v is not None})
    return grads


def _consumers(roots: list[Tensor]) -> dict[Tensor, int]:
    """Each node's number of consumers in the graph above it (Kahn's in-degree),
    checking on the way that no input changed in place since it was used.

    The walk of ``graph_walk.depth_first`` over the edges it follows in the
    backward, specialised because order does not matter here and this loop is
    a sixth of a scalar chain's backward: the general walk's per-node events
    would make it three times slower, and even a call of ``recorded_inputs``
    per node a tenth, so that primitive is inlined (a freed node has no edges
    and is reported when reached).  tests/engine/test_graph_walk.py checks
    that the counts are the in-degrees of ``depth_first``'s walk.
    """
    pending = dict.fromkeys(roots, 0)  # a root given twice is walked once
    stack = list(pending)
    while stack:
        node = stack.pop()
        inputs = node._inputs
        if type(inputs) is not tuple:
            continue  # recorded_inputs(node) is empty
        for x in inputs:
            if type(x) is not Tensor:
                continue
            if x._tick > node._tick:  # changed in place since node used it
                x = as_recorded(node, x)
            if x._prim is not None and x._requires_grad:
                if x in pending:
                    pending[x] += 1
                else:
                    pending[x] = 1
                    stack.append(x)
    return pending


def _free(node: Tensor) -> None:
    """Drop a node's saved inputs, keeping the name they gave it."""
    static = isinstance(node._prim.torch, str)
    node._inputs = FREED if static else Freed(GradFn(node)._short_name())


def input_grad(prim, i: int, F, g, ans, values, params, shape) -> Any:
    """One input's gradient by its rule, summed back to its shape: the one
    place where broadcasting is undone."""
    rules = prim.vjps
    rule = rules[i] if type(rules) is tuple else prim.rule(i)
    gi = rule(F, g, ans, *values, **params) if params else rule(F, g, ans, *values)
    if getattr(gi, "shape", ()) != shape:
        gi = F.sum_to(gi, shape=shape)
    return gi


def _step(
    node: Tensor, inputs, g, own, F, grads, lent, pending, ready, donated=False
) -> None:
    """Send ``g`` through one node's rules to each input that wants it.

    ``own``: no one else holds ``g`` (a large array of this first-order pass),
    so the last rule to read it may overwrite it, unless an earlier input's
    gradient is a view of it.  ``donated``: the node's only input's value may
    be overwritten too (see memory_reuse).
    """
    if type(inputs) is not tuple:
        raise DiffcliError(FREED_MESSAGE)
    if F is _TENSOR:
        ans, values = node, inputs
    else:
        ans = node._data
        values = [x._data if type(x) is Tensor else x for x in inputs]
    prim, params = node._prim, node._params
    last = reuse.last_wanting(inputs) if own else -1
    for i, x in enumerate(inputs):
        if type(x) is not Tensor or not x._requires_grad:
            continue
        lend = i == last
        if lend or donated:
            gi = _overwriting(prim, i, g, lend, ans, values, params, donated)
        else:
            gi = input_grad(prim, i, F, g, ans, values, params, x._data.shape)
        if last > i and np.may_share_memory(gi, g):
            last = -1
        if x in grads:
            reuse.add_into(grads, lent, x, gi)
        else:
            grads[x] = gi
            if (
                type(gi) is np.ndarray
                and gi.nbytes >= reuse.LEND_BYTES
                and (
                    lend
                    if gi is g
                    else (donated and gi is values[0]) or reuse.fresh(gi, ans, values)
                )
            ):
                lent.add(x)
        if x._prim is not None:
            waiting = pending[x] - 1
            pending[x] = waiting
            if not waiting:
                ready.append(x)


def _overwriting(prim, i, g, lend, ans, values, params, donated) -> Any:
    """Input ``i``'s gradient by a rule handed the arrays it may overwrite: a
    lent ``g``, a donated input value."""
    rg = reuse.reusable(g) if lend else g
    given = list(values)
    if donated:
        given[0] = reuse.reusable(values[0])
    shape = np.shape(values[i])
    gi = input_grad(prim, i, _NUMPY, rg, ans, given, params, shape)
    if donated:
        gi = reuse.plain(gi, given[0], values[0])
    return reuse.plain(gi, rg, g) if lend else gi


def _as_grad_tensor(g: Any, dtype: np.dtype, create_graph: bool) -> Tensor:
    if isinstance(g, Tensor):
        return g if g.dtype == dtype or not create_graph else g.to(dtype)
    return Tensor._wrap(np.array(g, dtype=dtype))


# Threads may backpropagate into a shared leaf: each addition into its .grad is
# one step (read, add, write back), or one thread's update is lost.
_GRAD_LOCK = threading.Lock()


def _accumulate(leaf: Tensor, g: Any, create_graph: bool, taken: set[int]) -> None:
    """Add a gradient into ``leaf.grad``, never aliasing another array.

    A fresh array that this pass made (and gave to no other leaf) is kept as
    is; views, pass-throughs shared between leaves and other dtypes are copied.
    """
    if create_graph:
        g = g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g))
        with _GRAD_LOCK:
            # A copy: rules pass gradients through (add), and a seed may be the user's.
            leaf.grad = g.clone() if leaf.grad is None else leaf.grad + g
        return
    g = g._data if isinstance(g, Tensor) else g
    with _GRAD_LOCK:
        if leaf.grad is None:
            owned = (
                type(g) is np.ndarray
                and g.base is None
                and g.flags.writeable
                and g.dtype == leaf.dtype
                and id(g) not in taken
            )
            taken.add(id(g))
            leaf.grad = Tensor._wrap(g if owned else np.array(g, dtype=leaf.dtype))
        else:
            leaf.grad._data = np.asarray(leaf.grad._data + g, dtype=leaf.dtype)


def Variable(data: Any, requires_grad: bool = False) -> Tensor:
    """PyTorch's old wrapper: now just a tensor (kept so old tutorials run)."""
    t = data if isinstance(data, Tensor) else Tensor(data)
    return t.requires_grad_(requires_grad) if requires_grad else t
