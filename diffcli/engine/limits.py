"""Bounded work: the size of every result, known before it is computed, and
one time budget per command.

The command line runs each command inside ``bounded()``: a primitive whose
result would be larger than ``MAX_RESULT_ELEMENTS`` is refused before numpy
allocates it, one evaluation of an expression may make at most
``MAX_TOTAL_ELEMENTS`` in all, and the work whose cost grows without bound
(SymPy's closed forms, higher orders, the user's own code) shares one
deadline, ``TIME_BUDGET`` seconds from the start.  Outside (the Python API)
nothing is limited: a library caller decides what fits in their machine.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError

MAX_RESULT_ELEMENTS = 10_000_000  # one array: 80 MB of float64
MAX_TOTAL_ELEMENTS = 50_000_000  # every array one evaluation makes: 400 MB
TIME_BUDGET = 10.0  # seconds per command for the work that can be cut short


class SizeError(DiffcliError):
    """A result over the size limit, refused before it was computed."""


class OverBudget(DiffcliError):
    """Work that cannot end within the command's time budget, refused."""


class _Active:
    """The limits in force (None: none), and what the evaluation has made."""

    per_result: int | None = None
    total: int | None = None
    used: int | None = None  # counted inside one_evaluation() only
    deadline: float | None = None  # time.monotonic() when the budget ends
    budget: float | None = None  # its length in seconds


ACTIVE = _Active()


@contextlib.contextmanager
def size_limits(
    per_result: int = MAX_RESULT_ELEMENTS, total: int = MAX_TOTAL_ELEMENTS
) -> Iterator[None]:
    """Refuse results over ``per_result`` elements while inside."""
    saved = (ACTIVE.per_result, ACTIVE.total)
    ACTIVE.per_result, ACTIVE.total = per_result, total
    try:
        yield
    finally:
        ACTIVE.per_result, ACTIVE.total = saved


@contextlib.contextmanager
def time_budget(seconds: float = TIME_BUDGET) -> Iterator[None]:
    """One deadline, ``seconds`` from now, for everything inside."""
    saved = (ACTIVE.deadline, ACTIVE.budget)
    ACTIVE.deadline, ACTIVE.budget = time.monotonic() + seconds, seconds
    try:
        yield
    finally:
        ACTIVE.deadline, ACTIVE.budget = saved


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """A command's limits: sizes and one time budget."""
    with size_limits(), time_budget():
        yield


def time_left(cap: float | None = None) -> float | None:
    """Seconds left of the budget (at most ``cap``); ``cap`` with no budget."""
    if ACTIVE.deadline is None:
        return cap
    left = max(0.0, ACTIVE.deadline - time.monotonic())
    return left if cap is None else min(cap, left)


def over_budget() -> str | None:
    """Why work that may be skipped is skipped now, or None while time is left."""
    if ACTIVE.deadline is None or time.monotonic() < ACTIVE.deadline:
        return None
    return f"over the command's time budget of {ACTIVE.budget:g} s"


def refuse_slow(what: str, needed: float) -> None:
    """Refuse work that would need ``needed`` more seconds than are left."""
    left = time_left()
    if left is not None and needed > left:
        raise OverBudget(
            f"{what} would need about {needed:.3g} s more, over the command's "
            f"time budget of {ACTIVE.budget:g} s ({left:.2g} s left)"
        )


@contextlib.contextmanager
def one_evaluation() -> Iterator[None]:
    """Count what one evaluation of an expression makes, from zero."""
    saved = ACTIVE.used
    ACTIVE.used = 0
    try:
        yield
    finally:
        ACTIVE.used = saved


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(int(n) for n in shape)


def result_size(prim: Any, inputs: tuple, params: dict) -> int | None:
    """Elements of what ``prim`` would make of ``inputs``; None if unknown."""
    shapes = [np.shape(x) for x in inputs]
    try:
        if prim.shape is not None:
            return _size(prim.shape(*shapes, **params))
        if prim.name == "broadcast_to":
            return _size(params["shape"])
        if prim.name == "stack":
            return len(shapes) * _size(shapes[0]) if shapes else 0
    except Exception:
        return None  # the primitive's own error says what is wrong
    return max((_size(s) for s in shapes), default=1)


def check_new(what: str, shape: tuple[int, ...]) -> None:
    """Refuse a new array (ones(20000, 20000) in --func code) over the limit
    per result, as an operation's result would be."""
    size = _size(shape)
    if ACTIVE.per_result is not None and size > ACTIVE.per_result:
        raise SizeError(
            f"{what}() of shape {tuple(shape)} would make {size} elements "
            f"(limit {ACTIVE.per_result} per result)"
        )


def check(prim: Any, inputs: tuple, params: dict) -> None:
    """Refuse ``prim`` on ``inputs`` if its result is over the limits."""
    size = result_size(prim, inputs, params)
    if size is None or ACTIVE.per_result is None:
        return
    shapes = " and ".join(str(tuple(np.shape(x))) for x in inputs)
    if size > ACTIVE.per_result:
        raise SizeError(
            f"'{prim.name}' of shapes {shapes} would make {size} elements "
            f"(limit {ACTIVE.per_result} per result)"
        )
    if ACTIVE.used is None or ACTIVE.total is None:
        return
    ACTIVE.used += size
    if ACTIVE.used > ACTIVE.total:
        raise SizeError(
            f"'{prim.name}' of shapes {shapes} would make {size} more elements, "
            f"{ACTIVE.used} in all (limit {ACTIVE.total} per evaluation)"
        )


def refuse_over(what: str, size: int) -> None:
    """Refuse a derived array (a Hessian, a Jacobian) before any of it is made."""
    limit = ACTIVE.per_result
    if limit is not None and size > limit:
        raise SizeError(f"{what} would have {size} elements (limit {limit})")
