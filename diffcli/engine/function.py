"""Custom rules: PyTorch's ``autograd.Function``.

``MyFn.apply(x, ...)`` runs the user's ``forward`` without recording and
records one node whose rule is the user's ``backward`` (hooked_step.py runs
it).  The context ``ctx`` is that node's ``grad_fn``, as in PyTorch
(``<MyFnBackward>``).  A forward with one differentiable output makes that
output the node; several share a hidden node (``core``) that each output
sends its cotangent to, so that ``backward`` runs once with all of them.

``inline()``: inside it, ``apply`` records the forward's own operations
instead, which is how a checker compares the user's backward with what the
table's rules say about the forward (``diffcli grad --func``).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from diffcli.engine import hooks as H
from diffcli.engine.grad_fn import FREED_MESSAGE, GradFn
from diffcli.engine.inplace import LEAF_MESSAGE, retire
from diffcli.engine.primitive import Primitive
from diffcli.engine.tensor import NO_PARAMS, GradMode, Tensor, Version
from diffcli.errors import DiffcliError


class _Inline(threading.local):
    depth = 0


_INLINE = _Inline()


@contextlib.contextmanager
def inline() -> Iterator[None]:
    """Custom Functions record their forward's operations in this block."""
    _INLINE.depth += 1
    try:
        yield
    finally:
        _INLINE.depth -= 1


class FunctionCtx(GradFn):
    """What ``forward`` saves for ``backward``; also the node's ``grad_fn``."""

    _forward_cls: type[Function]

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple | None = ()
        self._ticks: tuple[int, ...] = ()
        self._non_differentiable: set[int] = set()
        self._dirty: set[int] = set()
        self._node_ref: Callable[[], Tensor | None] = lambda: None
        self.to_save: tuple = ()

    # --- the API forward and backward use ------------------------------------
    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise DiffcliError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self._saved = tensors
        self._ticks = tuple(-1 if t is None else t._tick for t in tensors)
        self.to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self.saved_for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors ``save_for_backward`` saved; refused once freed, or if
        one was changed in place since (PyTorch's version check)."""
        if self._saved is None:
            raise DiffcliError(FREED_MESSAGE)
        for k, (t, tick) in enumerate(zip(self._saved, self._ticks, strict=True)):
            if t is not None and t._tick > tick:
                raise DiffcliError(
                    "one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: saved tensor {k} of "
                    f"{self.name()} (shape {list(t.shape)}) changed after it was "
                    "saved; save a copy (x.clone()) or change a copy instead"
                )
        return self._saved

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Tensor) -> None:
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    # --- the node view (GradFn) ------------------------------------------------
    @property
    def _tensor(self) -> Any:
        node = self._node_ref()
        if node is None:
            raise DiffcliError(f"the node of {self.name()} is gone")
        return node

    def name(self) -> str:
        return f"{self._forward_cls.__name__}Backward"

    def _short_name(self) -> str:
        return self.name()

    def _moved(self, old: Tensor, new: Tensor) -> None:
        """The node moved to ``new`` (its output was changed in place)."""
        if self._node_ref() is old:
            self._node_ref = weakref.ref(new)

    def _free(self) -> None:
        self._saved = None

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx,
    *grad_outputs)`` (or ``forward(*args)`` plus ``setup_context(ctx, inputs,
    output)``), then call ``MyFn.apply(*args)``."""

    _backward_cls: type[FunctionCtx] = FunctionCtx

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(
            f"{cls.__name__}Backward", (FunctionCtx,), {"_forward_cls": cls}
        )
        cls._primitive = _primitive(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise DiffcliError(
            f"{type(self).__name__} is a custom autograd Function: call "
            f"{type(self).__name__}.apply(...) with static forward and backward "
            "methods, not an instance"
        )

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "diffcli has no forward mode: dc.autograd.functional.jvp computes "
            "Jacobian-vector products from backward passes"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return _apply(cls, args, kwargs)


def once_differentiable(backward: Callable) -> Callable:
    """A backward that runs without recording: differentiating its result
    again (create_graph) raises instead of giving a wrong zero."""

    def wrapped(ctx: Any, *grad_outputs: Any) -> Any:
        enabled = GradMode.enabled
        GradMode.enabled = False
        try:
            result = backward(ctx, *grad_outputs)
        finally:
            GradMode.enabled = enabled
        if not enabled or not any(
            isinstance(g, Tensor) and g._requires_grad for g in grad_outputs
        ):
            return result
        tracked = [
            g for g in grad_outputs if isinstance(g, Tensor) and g._requires_grad
        ]
        many = isinstance(result, tuple)
        out = tuple(
            _delayed_error(r, tracked, ctx.name()) if isinstance(r, Tensor) else r
            for r in (result if many else (result,))
        )
        return out if many else out[0]

    wrapped.__name__ = getattr(backward, "__name__", "backward")
    wrapped.__doc__ = backward.__doc__
    wrapped._once_differentiable = True
    return wrapped


def _delayed_error(value: Tensor, tracked: list[Tensor], name: str) -> Tensor:
    from diffcli.engine.tensor import apply

    message = (
        "trying to differentiate twice a function that was marked with "
        f"@once_differentiable ({name})"
    )

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise DiffcliError(message)

    prim = Primitive("delayed_error", lambda v, *rest: v, refuse, None, "Error", False)
    return apply(prim, value, *tracked)


def _primitive(cls: type[Function]) -> Primitive:
    """The node's primitive: its rules are run by hooked_step, so those here
    only say what replaying the node would need (a fresh forward each time)."""
    name = f"{cls.__name__}Backward"

    def forward(*values: Any, _ctx: Any = None) -> Any:
        raise DiffcliError(f"{name} cannot be replayed on arrays: call the function")

    return Primitive(cls.__name__, forward, _no_rule(name), None, name, True)


def _no_rule(name: str) -> Callable[..., Any]:
    def rule(argnum: int, *args: Any, **kwargs: Any) -> Any:
        raise DiffcliError(f"{name} runs only in the engine's backward pass")

    return rule


OUTPUT = Primitive(
    "function_output",
    lambda core, _ctx=None, _output=0: core[_output],
    _no_rule("an output of a custom Function"),
    None,
    lambda inputs, params: params["_ctx"].name(),
    False,
)


_APPLIED = [0]  # custom Function calls so far, in this process


def applied_count() -> int:
    """How many times a custom Function has been applied: a check of their
    backwards is needed only where this moved."""
    return _APPLIED[0]


def _apply(cls: type[Function], args: tuple, kwargs: dict) -> Any:
    _APPLIED[0] += 1
    needs = tuple(
        GradMode.enabled and isinstance(a, Tensor) and a._requires_grad for a in args
    )
    ctx = cls._backward_cls(needs)
    new_style = cls.setup_context is not Function.setup_context
    enabled = GradMode.enabled
    GradMode.enabled = bool(_INLINE.depth) and enabled
    try:
        if new_style:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    finally:
        GradMode.enabled = enabled
    if _INLINE.depth:
        outs = output if isinstance(output, tuple) else (output,)
        if any(needs) and not any(
            isinstance(o, Tensor) and o._requires_grad for o in outs
        ):
            raise DiffcliError(
                f"{cls.__name__}.forward leaves the graph (numpy, detach or "
                "no_grad inside): its own operations cannot be replayed"
            )
        return output
    many = isinstance(output, tuple)
    outputs = list(output if many else (output,))
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    for k, o in enumerate(outputs):
        if isinstance(o, Tensor) and id(o) in inputs and id(o) not in ctx._dirty:
            outputs[k] = Tensor._wrap(o._data)  # an input returned: a new tensor
    if any(needs):
        _record(cls, ctx, args, outputs)
    else:
        for o in outputs:
            if isinstance(o, Tensor) and id(o) in ctx._non_differentiable:
                o._requires_grad = False
    return tuple(outputs) if many else outputs[0]


def _record(cls: type[Function], ctx: FunctionCtx, args: tuple, outputs: list):
    """Make the outputs the node (or the node's outputs) of ``ctx``."""
    ctx._outputs = [
        (o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outputs
    ]
    live = [
        k
        for k, o in enumerate(outputs)
        if isinstance(o, Tensor)
        and id(o) not in ctx._non_differentiable
        and o.dtype.kind in "fc"
    ]
    for k, o in enumerate(outputs):
        if isinstance(o, Tensor) and k not in live:
            o._requires_grad = False
    if not live:
        return
    changed = {}  # inputs the forward changed in place: their old nodes
    for k in live:
        o = outputs[k]
        if id(o) in ctx._dirty:
            if o._prim is None and o._requires_grad:
                raise DiffcliError(LEAF_MESSAGE)
            changed[id(o)] = retire(o)
    args = tuple(changed.get(id(a), a) for a in args)
    if len(live) == 1:
        node = outputs[live[0]]
        _make_node(node, cls._primitive, {"_ctx": ctx}, args)
        ctx._node_output = live[0]
    else:
        node = Tensor._wrap(np.zeros(0))
        _make_node(node, cls._primitive, {"_ctx": ctx}, args)
        for k in live:
            _make_node(outputs[k], OUTPUT, {"_ctx": ctx, "_output": k}, (node,))
            H.EXTRAS.of(outputs[k]).ctx = ctx
        ctx._node_output = None
    ctx._node_ref = weakref.ref(node)
    H.EXTRAS.of(node).ctx = ctx
    for k in live:
        before = changed.get(id(outputs[k]))
        if before is not None:  # earlier uses keep the node it was
            changes = outputs[k]._bump()
            changes.history.append((outputs[k]._tick, before))
    if changed and ctx._saved:  # saved as the forward left them
        ctx._ticks = tuple(-1 if t is None else t._tick for t in ctx._saved)


def _make_node(t: Tensor, prim: Primitive, params: dict, inputs: tuple) -> None:
    t._prim, t._params, t._requires_grad = prim, params or NO_PARAMS, True
    t._inputs = inputs
    t._tick = Version.now
