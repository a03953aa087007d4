"""One exception family for everything diffcli refuses.

``DiffcliError`` subclasses ``RuntimeError`` because PyTorch's autograd errors do,
so code written against PyTorch that catches ``RuntimeError`` keeps working.
"""

from __future__ import annotations

import re

CARET_WIDTH = 72  # characters of the source shown above a caret, at most


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
        line, col = self.source, self.col
        if len(line) > CARET_WIDTH:  # a window around the caret, elided with '…'
            start = max(0, min(col - CARET_WIDTH // 4, len(line) - CARET_WIDTH))
            stop = start + CARET_WIDTH
            head, tail = "…" * (start > 0), "…" * (stop < len(line))
            line = head + line[start:stop] + tail
            col = col - start + len(head)
            width = max(1, min(width, CARET_WIDTH + len(head) - col))
        return f"  {line}\n  {' ' * col}{'^' * width}"

    def render(self) -> str:
        """Message plus caret, ready for a terminal."""
        where = self.caret()
        return f"{self.message}\n{where}" if where else self.message


class ArgumentTypeError(DiffcliError, TypeError):
    """An argument of the wrong kind, said in diffcli's words (a TypeError, as
    PyTorch raises there), so that it is shown as written, not replaced."""


class ShapeError(DiffcliError, ValueError):
    """Inputs whose shapes do not fit the operation, found before computing."""


# --- text from users, shown safely ----------------------------------------------

# Control characters (every terminal escape sequence starts with one), lone
# surrogates (not UTF-8) and the two characters XML 1.0 forbids besides them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))


def visible(text: str, keep: str = "") -> str:
    """``text`` safe for a terminal, XML and UTF-8: what they cannot carry (or
    would obey) is shown as its escape, e.g. ESC as the four characters \\x1b;
    the characters in ``keep`` stay as they are (e.g. newlines in a message)."""
    return _UNSAFE.sub(lambda m: m[0] if m[0] in keep else _escape(m[0]), text)


def _escape(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def visible_error(err: ExprError) -> str:
    """``err.render()`` made visible, with its caret still under the span."""
    source = err.source
    if err.col is None or not source:
        return visible(err.render(), keep="\n\t")

    def shift(i: int) -> int:  # an offset into the source, after escaping
        return len(visible(source[:i])) + max(0, i - len(source))

    end = None if err.end is None else shift(err.end)
    moved = ExprError(
        visible(err.message, "\n\t"), visible(source), shift(err.col), end
    )
    return moved.render()
