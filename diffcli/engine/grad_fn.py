"""``grad_fn`` as PyTorch shows it: a node's name, its edges
(``next_functions``, with ``AccumulateGrad`` for leaves), what it saved
(``_saved_self``...), and the hooks registered on it.

A recorded tensor is its own node (see tensor.py); ``GradFn`` is only a view
of it, made on each access, so two views of one node are equal but not
identical.  What the node saved is read from its rules: an input is saved
when a rule that will run reads it (``saved``), which is also what decides
whether changing it in place breaks the backward pass.
"""

from __future__ import annotations

import dis
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.engine import hooks as H
from diffcli.engine.table import FUNCTIONS
from diffcli.errors import DiffcliError

# PyTorch's Scalar overloads (``2 - x``, ``x ** 2``, ``2 ** x``, xlogy with a
# number): their number operand is an argument, not an edge of the graph.
SCALAR_OVERLOADS = frozenset(
    {
        "RsubBackward1",
        "PowBackward0",
        "PowBackward2",
        "XlogyBackward1",
        "XlogyBackward2",
    }
)
# Nodes PyTorch names with their C++ namespace (the repr shows the short name).
QUALIFIED = {
    "CopySlices": "torch::autograd::CopySlices",
    "Error": "torch::autograd::Error",
}
ACCUMULATE = "torch::autograd::AccumulateGrad"
FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


class Freed:
    """Stands in for a node's inputs once a backward has freed them.

    It remembers the node's name where that depended on the inputs.
    """

    __slots__ = ("name",)

    def __init__(self, name: str | None = None) -> None:
        self.name = name


FREED = Freed()


def is_tensor(x: Any) -> bool:
    return hasattr(x, "_requires_grad")


def is_custom(node: Any) -> bool:
    """Whether ``node`` was made by a custom ``autograd.Function``."""
    return "_ctx" in node._params


class GradFn:
    """PyTorch's view of a recorded operation: its name and where it leads."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor: Any) -> None:
        self._tensor = tensor

    def name(self) -> str:
        """PyTorch's name for this backward node, e.g. ``MulBackward0``."""
        short = self._short_name()
        return QUALIFIED.get(short, short)

    def _short_name(self) -> str:
        t = self._tensor
        inputs = t._inputs
        if type(inputs) is Freed:
            return inputs.name or t._prim.torch
        return t._prim.grad_fn_name(inputs, t._params)

    @property
    def next_functions(self) -> tuple:
        """One ``(node, output number)`` per input as PyTorch lists them:
        ``AccumulateGrad`` for a leaf that requires grad, None for a constant."""
        inputs = self._tensor._inputs
        if type(inputs) is not tuple:
            return ()
        return tuple(edge(inputs[k]) for k in listed(self._tensor))

    def register_hook(self, fn: Callable) -> H.RemovableHandle:
        """``fn(grad_inputs, grad_outputs)`` after the node ran; it may return
        new ``grad_inputs``."""
        return H.register(self._tensor, "post_hooks", fn)

    def register_prehook(self, fn: Callable) -> H.RemovableHandle:
        """``fn(grad_outputs)`` before the node runs; it may return new ones."""
        return H.register(self._tensor, "pre_hooks", fn)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_saved_"):
            return saved_value(self._tensor, name[len("_saved_") :])
        raise AttributeError(f"'{self._short_name()}' object has no attribute '{name}'")

    def __dir__(self) -> list[str]:
        listed = super().__dir__()
        if type(self._tensor._inputs) is tuple:
            listed += saved_names(self._tensor)
        return listed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GradFn) and other._tensor is self._tensor

    def __hash__(self) -> int:
        return id(self._tensor)

    def __repr__(self) -> str:
        return f"<{self._short_name()} object at {hex(id(self._tensor))}>"


class AccumulateGrad:
    """The node PyTorch puts behind a leaf that requires grad: it adds the
    gradient into ``variable.grad``."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return ACCUMULATE

    def register_hook(self, fn: Callable) -> H.RemovableHandle:
        return H.register(self.variable, "acc_hooks", fn)

    def register_prehook(self, fn: Callable) -> H.RemovableHandle:
        return H.register(self.variable, "acc_prehooks", fn)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self.variable))}>"


def listed(node: Any) -> list[int]:
    """The positions of the inputs PyTorch lists as edges: every tensor but
    a condition (bool), and numbers too except in Scalar overloads and
    custom Functions."""
    inputs = node._inputs
    numbers = not is_custom(node) and GradFn(node)._short_name() not in SCALAR_OVERLOADS
    return [
        k
        for k, x in enumerate(inputs)
        if (x._data.dtype != np.bool_ if is_tensor(x) else numbers)
    ]


def edge(x: Any) -> tuple[Any, int]:
    """Where the graph goes from a node to its input ``x``."""
    if not is_tensor(x) or not x._requires_grad:
        return None, 0
    if x._prim is None:
        return AccumulateGrad(x), 0
    return x.grad_fn, x._params.get("_output", 0)


# --- what a node saved ------------------------------------------------------------


def needed(node: Any) -> list[int]:
    """The inputs whose gradients the node's rules will compute."""
    inputs = node._inputs
    return [i for i, x in enumerate(inputs) if is_tensor(x) and x._requires_grad]


def saved(node: Any) -> tuple[set[int], bool]:
    """Which inputs, and whether the output, the rules that will run read."""
    prim = node._prim
    wanted = needed(node)
    reads_ans = any(prim.reads_output(j) for j in wanted) if wanted else False
    if not prim.saves_inputs or is_custom(node):
        return set(), reads_ans
    read: set[int] = set()
    for j in wanted:
        read |= rule_reads(prim, j, len(node._inputs))
    return read, reads_ans


def rule_reads(prim: Any, j: int, count: int) -> set[int]:
    """The inputs input ``j``'s rule reads, from its bytecode: every input
    for a rule of all inputs (``*xs``) or one shared by all (variadic)."""
    rules = prim.vjps
    if not isinstance(rules, tuple):
        return set(range(count))
    return set(_reads(rules[j], count))


@functools.cache
def _reads(rule: Callable, count: int) -> tuple[int, ...]:
    code = rule.__code__
    names = code.co_varnames[: code.co_argcount]
    if code.co_flags & 0x04 or len(names) < 3 + count:  # *args: anything
        return tuple(range(count))
    loaded = set(code.co_cellvars)
    for ins in dis.get_instructions(code):
        if ins.opname.startswith("LOAD_"):
            value = ins.argval
            loaded.update(value if isinstance(value, tuple) else (value,))
    return tuple(k for k in range(count) if names[3 + k] in loaded)


def saved_value(node: Any, key: str) -> Any:
    """``grad_fn._saved_<key>``: an input by its parameter name (``self`` for
    the first, as PyTorch calls it) or its shape (``<name>_sym_sizes``),
    ``result``, or a parameter; None where the rules that will run do not
    read it."""
    inputs = node._inputs
    if type(inputs) is not tuple:
        raise DiffcliError(FREED_MESSAGE)
    read, reads_ans = saved(node)
    names = _input_names(node)
    if key == "result":
        return node if reads_ans else None
    if key.endswith("_sym_sizes") and key[: -len("_sym_sizes")] in names:
        return tuple(np.shape(_value(inputs[names.index(key[: -len("_sym_sizes")])])))
    if key in names:
        k = names.index(key)
        x = inputs[k]
        if k not in read:
            return None
        if is_tensor(x) or GradFn(node)._short_name() in SCALAR_OVERLOADS:
            return x
        return type(node)._wrap(np.asarray(x))
    if key == "alpha" and node._prim.name in ("add", "sub"):
        return 1
    if key in node._params and not key.startswith("_"):
        return node._params[key]
    raise AttributeError(
        f"'{GradFn(node)._short_name()}' object has no attribute '_saved_{key}'"
    )


def saved_names(node: Any) -> list[str]:
    """The ``_saved_*`` attributes ``dir(grad_fn)`` lists."""
    prim, count = node._prim, len(node._inputs)
    read: set[int] = set()
    if prim.saves_inputs:
        for j in range(count):
            read |= rule_reads(prim, j, count)
    names = [f"_saved_{n}" for k, n in enumerate(_input_names(node)) if k in read]
    names += [f"_saved_{k}" for k in node._params if not k.startswith("_")]
    if node._prim.name in ("add", "sub"):
        names.append("_saved_alpha")
    if any(node._prim.reads_output(j) for j in needed(node)):
        names.append("_saved_result")
    return sorted(names)


def _value(x: Any) -> Any:
    return x._data if is_tensor(x) else x


def _input_names(node: Any) -> list[str]:
    fn = FUNCTIONS.get(node._prim.name)
    if fn is None:
        return []
    names = [p.name for p in fn.signature.params if p.kind == "T"]
    return ["self" if k == 0 else n for k, n in enumerate(names)]
