"""The switches that gate recording: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, each a context manager and a decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from diffcli.engine.tensor import GradMode


class GradSwitch:
    """Sets this thread's grad mode for a block, or for each call of a
    decorated function (a switch of its own per call, so calls in several
    threads or recursive ones restore what they found)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(GradMode.enabled)
        GradMode.enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self._saved.pop()

    def __call__(self, func: Callable) -> Callable:
        enabled = self._enabled

        @functools.wraps(func)
        def switched(*args: Any, **kwargs: Any) -> Any:
            with GradSwitch(enabled):
                return func(*args, **kwargs)

        return switched


class _SetGradEnabled(GradSwitch):
    """Switches at once, as PyTorch's does when called as a function; as a
    context manager it then restores the mode it found."""

    def __init__(self, enabled: bool) -> None:
        super().__init__(enabled)
        self._found = GradMode.enabled
        GradMode.enabled = enabled

    def __enter__(self) -> None:
        GradMode.enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self._found

    def __call__(self, func: Callable) -> Callable:
        GradMode.enabled = self._found  # a decorator switches only its calls
        return super().__call__(func)


def no_grad(func: Callable | None = None) -> Any:
    """Operations inside do not record a graph (their results need no grad).

    A context manager, or a decorator with or without parentheses.
    """
    switch = GradSwitch(False)
    return switch if func is None else switch(func)


def enable_grad(func: Callable | None = None) -> Any:
    """Recording back on inside a ``no_grad`` block (also a decorator)."""
    switch = GradSwitch(True)
    return switch if func is None else switch(func)


def set_grad_enabled(mode: bool) -> GradSwitch:
    """Turn recording on or off now; as a context manager, for a block."""
    return _SetGradEnabled(mode)


def is_grad_enabled() -> bool:
    return GradMode.enabled
