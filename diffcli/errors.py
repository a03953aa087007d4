"""One exception family for everything diffcli refuses.

``DiffcliError`` subclasses ``RuntimeError`` because PyTorch's autograd errors do,
so code written against PyTorch that catches ``RuntimeError`` keeps working.
"""

from __future__ import annotations


class DiffcliError(RuntimeError):
    """Base class of every error diffcli raises on purpose."""


class ExprError(DiffcliError, ValueError):
    """A problem in user text, located by a column span for the caret.

    ``col`` and ``end`` are 0-based offsets into ``source`` (``end`` exclusive);
    ``col`` is None when the problem has no single place (e.g. text too long).
    """

    def __init__(
        self,
        message: str,
        source: str = "",
        col: int | None = None,
        end: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.col = col
        self.end = end if end is not None else (None if col is None else col + 1)

    def caret(self) -> str:
        """The source line with a caret (or tildes) under the offending span."""
        if self.col is None or not self.source or "\n" in self.source:
            return ""
        width = max(1, min(self.end or self.col + 1, len(self.source) + 1) - self.col)
        return f"  {self.source}\n  {' ' * self.col}{'^' * width}"

    def render(self) -> str:
        """Message plus caret, ready for a terminal."""
        where = self.caret()
        return f"{self.message}\n{where}" if where else self.message


class ShapeError(DiffcliError, ValueError):
    """Inputs whose shapes do not fit the operation, found before computing."""
