"""A deadline for one block of work (SymPy's, a user's --func code, finite
differences): SIGALRM interrupts the block when its time is up.  Nothing here
knows SymPy; the symbolic layer is its first user, hence the default error.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
import time
from typing import Any

from diffcli.expr.walk import Interrupt


class SymbolicTimeout(Interrupt):
    """SymPy took longer than its budget."""


def can_time_limit() -> bool:
    """Whether ``time_limit`` can interrupt here (SIGALRM: main thread only)."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )


# After the deadline the alarm repeats this often until the block is left: the
# deadline waits where it may not strike (below), and SymPy may swallow it.
RETRY_SECONDS = 0.05

# Frames the deadline never interrupts: a finalizer's exception is dropped by
# Python, and a context manager cut short leaves its state half set or undone.
_UNINTERRUPTIBLE = frozenset({"__del__", "__enter__", "__exit__"})
# weakref callbacks (finalize(), a WeakSet's _remove): Python ignores what
# they raise, with an "Exception ignored" report
WEAKREF_MODULES = frozenset({"weakref", "_weakrefset"})


def time_limit(
    seconds: float | None, error: type[Exception] = SymbolicTimeout
) -> contextlib.AbstractContextManager[None]:
    """Interrupt SymPy after ``seconds`` (main thread only; elsewhere no limit).

    The exception surfaces inside the block only, never after it has ended: a
    deadline that strikes in a finalizer, a gc callback or a context manager's
    enter or exit waits for the next retry.  Nests: inside an enclosing limit
    that ends sooner this one does nothing (the enclosing one stays in
    charge); otherwise the enclosing limit is put back afterwards with the
    time it has left.
    """
    return _Deadline(seconds, error)


class _Deadline:
    """time_limit's context manager: a class, so that the alarm handler knows
    the block's frame and can tell whether an exception raised where the
    alarm struck would reach it."""

    def __init__(self, seconds: float | None, error: type[Exception]) -> None:
        self.seconds, self.error = seconds, error
        self.block: Any = None  # the frame running the with-block, while armed

    def __enter__(self) -> None:
        if not self.seconds or not can_time_limit():
            return
        self.outer_left, self.outer_every = signal.getitimer(signal.ITIMER_REAL)
        if self.outer_left and self.outer_left <= self.seconds:
            return
        self.block = sys._getframe(1)
        self.previous = signal.signal(signal.SIGALRM, self._expire)
        self.start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.seconds, RETRY_SECONDS)

    def __exit__(self, *exc: object) -> None:
        if self.block is None:
            return
        self.block = None
        signal.setitimer(signal.ITIMER_REAL, 0)
        # signal.signal() first runs an alarm still pending: disarmed, a no-op
        signal.signal(signal.SIGALRM, self.previous)
        if self.outer_left:
            left = self.outer_left - (time.monotonic() - self.start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), self.outer_every)

    def _expire(self, signum: int, frame: Any) -> None:
        if self.block is None:
            return
        if self._reaches_block(frame):
            raise self.error(f"SymPy took longer than {self.seconds:g} s")
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS, RETRY_SECONDS)

    def _reaches_block(self, frame: Any) -> bool:
        """Whether an exception raised in ``frame`` propagates to the block."""
        callbacks = {
            getattr(getattr(c, "__func__", c), "__code__", None) for c in gc.callbacks
        }
        while frame is not None and frame is not self.block:
            code = frame.f_code
            if (
                code.co_name in _UNINTERRUPTIBLE
                or code in callbacks
                or frame.f_globals.get("__name__") in WEAKREF_MODULES
            ):
                return False
            frame = frame.f_back
        return frame is not None
