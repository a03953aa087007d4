"""What a few tensors carry beyond their graph: hooks, retained gradients,
in-place history, a custom Function's context.

Kept beside the tensors rather than in them, keyed by identity and dropped
with the tensor, so that the millions of tensors without any of it pay
nothing: the backward pass asks about a node only when the registry is not
empty (``EXTRAS.data``).
"""

from __future__ import annotations

import itertools
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any


class Extras:
    """One tensor's extras; every field is None until used."""

    __slots__ = (
        "acc_hooks",
        "acc_prehooks",
        "ctx",
        "hooks",
        "post_accumulate",
        "post_hooks",
        "pre_hooks",
        "retains",
    )

    def __init__(self) -> None:
        self.hooks: dict[int, Callable] | None = None  # Tensor.register_hook
        self.retains = False  # Tensor.retain_grad
        self.pre_hooks: dict[int, Callable] | None = None  # grad_fn.register_prehook
        self.post_hooks: dict[int, Callable] | None = None  # grad_fn.register_hook
        self.acc_prehooks: dict[int, Callable] | None = None  # AccumulateGrad's
        self.acc_hooks: dict[int, Callable] | None = None
        self.post_accumulate: dict[int, Callable] | None = None
        self.ctx: Any = None  # a custom Function's node: its context

    def moves_with_node(self) -> bool:
        """Whether anything here belongs to the node rather than the tensor."""
        return bool(self.hooks or self.pre_hooks or self.post_hooks or self.ctx)


class Changes:
    """A tensor's in-place changes: how many (PyTorch's ``_version``), the
    ticks of the latest ones, and the nodes it was before each change that
    recorded one, as (tick, node): the node was the tensor until ``tick``."""

    __slots__ = ("edits", "history", "ticks")

    def __init__(self) -> None:
        self.edits = 0
        self.ticks: deque[int] = deque(maxlen=64)
        self.history: list[tuple[int, Any]] = []

    def since(self, tick: int) -> int:
        """How many changes came after ``tick`` (all kept ones, at most)."""
        newer = sum(1 for t in self.ticks if t > tick)
        return self.edits if newer == len(self.ticks) else newer


class Registry:
    """Records of type ``kind`` by tensor identity; an entry goes when its
    tensor does."""

    def __init__(self, kind: Callable[[], Any]) -> None:
        self.kind = kind
        self.data: dict[int, tuple[weakref.ref, Any]] = {}

    def get(self, t: Any) -> Any:
        entry = self.data.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def of(self, t: Any) -> Any:
        """``t``'s record, made on first use."""
        found = self.get(t)
        if found is not None:
            return found
        key, data = id(t), self.data
        extras = self.kind()
        data[key] = (weakref.ref(t, lambda _ref: data.pop(key, None)), extras)
        return extras


EXTRAS = Registry(Extras)
CHANGES = Registry(Changes)
_ids = itertools.count()


def move_node(old: Any, new: Any) -> None:
    """``old``'s node now lives in ``new`` (an in-place change): hooks
    registered so far, and a Function's context, go with it; retained
    gradients and the edit count stay with the tensor, as in PyTorch."""
    extras = EXTRAS.get(old)
    if extras is None or not extras.moves_with_node():
        return
    moved = EXTRAS.of(new)
    moved.hooks, extras.hooks = extras.hooks, None
    moved.pre_hooks, extras.pre_hooks = extras.pre_hooks, None
    moved.post_hooks, extras.post_hooks = extras.post_hooks, None
    moved.ctx, extras.ctx = extras.ctx, None
    if moved.ctx is not None:
        moved.ctx._moved(old, new)


class RemovableHandle:
    """What ``register_hook`` returns: ``.remove()`` takes the hook away."""

    def __init__(self, hooks: dict[int, Callable], key: int) -> None:
        self._hooks = hooks
        self.id = key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register(t: Any, kind: str, fn: Callable) -> RemovableHandle:
    """Add ``fn`` to ``t``'s hooks of one kind (an ``Extras`` field)."""
    extras = EXTRAS.of(t)
    hooks = getattr(extras, kind)
    if hooks is None:
        hooks = {}
        setattr(extras, kind, hooks)
    return add_hook(hooks, fn)


def add_hook(hooks: dict[int, Callable], fn: Callable) -> RemovableHandle:
    """Append ``fn`` to an ordered table of hooks and hand back its handle."""
    if not callable(fn):
        raise TypeError(f"a hook must be callable, got {type(fn).__name__}")
    key = next(_ids)
    hooks[key] = fn
    return RemovableHandle(hooks, key)
