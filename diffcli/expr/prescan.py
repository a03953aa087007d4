"""User text checked before Python's parser sees it: what could make that
parser slow or crash (length, nesting, digits, operators) is refused with a
caret instead.  A chain a + b + c ... is not nesting (parser.py walks it)."""

from __future__ import annotations

import re

from diffcli.errors import ExprError

MAX_LENGTH = 10_000
MAX_DEPTH = 200  # nesting; a chain a + b + c ... does not nest
MAX_OPERATORS = 2000  # terms of a long sum, within what Python's parser takes
MAX_DIGITS = 400


def too_deep() -> str:
    return f"expression is too deeply nested (limit {MAX_DEPTH})"


def prescan(text: str) -> None:
    """Refuse, before Python's parser, input that could make it slow or crash."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is too long (limit {MAX_LENGTH} characters)")
    if not text.strip():
        raise ExprError("empty expression", text, 0)
    for i, ch in enumerate(text):
        if not (ch.isprintable() or ch in " \t\n\r"):
            raise ExprError(f"unexpected character U+{ord(ch):04X}", text, i)
        if ch == "#":  # Python would silently drop the rest as a comment
            raise ExprError("unexpected '#'", text, i)
    for m in re.finditer(r"(?<![\w.])\d[\d_]*", text):
        if len(m.group()) > MAX_DIGITS:
            msg = f"number has too many digits (limit {MAX_DIGITS})"
            raise ExprError(msg, text, m.start(), m.end())
    operators = list(re.finditer(r"[-+*/@]", text))
    if len(operators) > MAX_OPERATORS:
        at = operators[MAX_OPERATORS].start()
        msg = f"expression has {len(operators)} operators (limit {MAX_OPERATORS})"
        raise ExprError(msg, text, at)
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch in "([{") - (ch in ")]}")
        if depth > MAX_DEPTH:
            raise ExprError(too_deep(), text, i)
