"""What the check is doing now, for a spinner: the verify layer says, the CLI
shows it (on stderr, only when that is a terminal); nothing is shown otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

_LISTENERS: list[Callable[[str], None]] = []
_WHERE: list[str] = []


def report(what: str) -> None:
    """Say what is being done now ("finite differences"), after where
    ("output 3/10: finite differences")."""
    text = ": ".join([*_WHERE, what])
    for listener in _LISTENERS:
        listener(text)


@contextlib.contextmanager
def within(where: str) -> Iterator[None]:
    """Reports inside are about ``where`` (one output of a Jacobian)."""
    _WHERE.append(where)
    try:
        yield
    finally:
        _WHERE.pop()


def listen(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener`` with each report; returns the function that stops it."""
    _LISTENERS.append(listener)
    return lambda: _LISTENERS.remove(listener)
