"""Python's SyntaxError about an expression, in plain words at the place
the user typed (the text Python parsed had each ``^`` written ``**``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from diffcli.engine.primitive import Function
from diffcli.errors import ExprError
from diffcli.expr import habits as H

_CLOSER = {"(": ")", "[": "]", "{": "}"}


def syntax_error(
    e: SyntaxError,
    text: str,
    lead: int,
    origin: list[int],
    functions: Mapping[str, Function],
    too_deep: str,
) -> ExprError:
    """Python's SyntaxError (character offsets, 1-based, in the text as
    parsed: ``origin`` maps them back) in plain words, with a hint where a
    typing habit made it (``2x``, ``x²``, ``sin x``)."""
    error = _python_error(e, text, lead, origin, too_deep)
    hint = H.syntax_hint(text, error.col, error.end)
    if not hint and error.message.startswith(("missing operator", "unexpected '")):
        hint = H.call_without_parentheses(text, functions)
    if hint:
        return ExprError(error.message + hint, text, error.col, error.end)
    return error


def _python_error(
    e: SyntaxError, text: str, lead: int, origin: list[int], too_deep: str
) -> ExprError:
    msg, stop = e.msg, len(text.rstrip())
    at = lambda offset: lead + origin[min(offset - 1, len(origin) - 1)]
    col = at(e.offset) if e.offset and e.offset > 0 else stop
    if m := re.fullmatch(r"'(.)' was never closed", msg):
        return ExprError(f"unmatched '{m[1]}'", text, col)
    if m := re.fullmatch(r"unmatched '(.)'", msg):
        return ExprError(f"unexpected '{m[1]}'", text, col)
    if m := re.match(r"closing parenthesis '(.)' does not match .* '(.)'", msg):
        return ExprError(f"unexpected '{m[1]}' (expected '{_CLOSER[m[2]]}')", text, col)
    if m := re.match(r"invalid character '(.)'", msg):
        return ExprError(f"unexpected character '{m[1]}'", text, col)
    if "line continuation" in msg:
        return ExprError("unexpected '\\'", text, text.find("\\"))
    if "nested parentheses" in msg:
        return ExprError(too_deep, text, col)
    if "string" in msg or "bytes" in msg:
        what = "f-strings" if "f-string" in msg else "strings"
        return ExprError(f"{what} are not supported", text, col)
    if "literal" in msg or "leading zeros" in msg:
        a = b = min(col, stop - 1)
        while a > 0 and (text[a - 1].isalnum() or text[a - 1] in "._"):
            a -= 1
        while b < stop and (text[b].isalnum() or text[b] in "._"):
            b += 1
        return ExprError(f"invalid number '{text[a:b]}'", text, a, b)
    if not msg.startswith("invalid syntax"):
        return ExprError(msg, text, min(col, stop))
    if col >= stop:
        return ExprError("unexpected end of expression", text, stop)
    end = at(e.end_offset - 1) + 1 if (e.end_offset or 0) > e.offset else col + 1
    if "forgot a comma" in msg:
        return ExprError(
            f"missing operator or ',' in '{text[col:end]}'", text, col, end
        )
    return ExprError(f"unexpected '{text[col:end].strip()}'", text, col, end)
