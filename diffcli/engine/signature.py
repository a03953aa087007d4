"""How users call a function of the table: its parameters, declared once as text.

A table entry spells its call the way PyTorch's docs do,
``"sum(input: T, dim: dims = None, keepdim: bool = False)"``, and this module
reads it (with ``ast``: our own text, never the user's) into a ``Signature``
that binds arguments the same way for every caller: the Python API binds
values, the parser binds expression nodes, so both accept exactly the same
calls and report the same mistakes.

Kinds of parameter:
  T       a tensor operand (any expression)   tensors  a list of them
  int     a constant integer            dims   an int, a list of ints, or None
  bool    a constant True/False         float  a constant number
  str     a constant string             float | str  either (norm's p)
A ``*name`` parameter takes any number of positional arguments of its kind.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from diffcli.errors import ArgumentTypeError

KINDS = frozenset(
    {"T", "tensors", "int", "dims", "bool", "float", "str", "float | str"}
)
REQUIRED = object()  # the default of a parameter that has none
# NumPy's keyword names, which torch's Python functions accept for these.
NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


class BindError(ArgumentTypeError):
    """A call that does not fit the signature; the message names the function."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str
    default: Any = REQUIRED
    variadic: bool = False
    keyword_only: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.variadic

    def __str__(self) -> str:
        text = ("*" if self.variadic else "") + self.name
        if self.kind != "T":
            text += f": {self.kind}"
        if self.default is not REQUIRED:
            text += f"={self.default!r}"
        return text


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    params: tuple[Param, ...]

    @classmethod
    def parse(cls, header: str) -> Signature:
        """``"name(a: T, b: int = 0, *, c: bool = False)"`` -> Signature.

        A small reader of this one form (Python's own parser costs ten times
        as much, and the table reads a header per function at every start).
        """
        m = re.fullmatch(r"\s*(\w+)\((.*)\)\s*", header, re.S)
        if m is None:
            raise ValueError(f"not a header: {header!r}")
        params: list[Param] = []
        keyword_only = seen_default = False
        for part in _split(m[2]):
            if part == "*":
                keyword_only = True
                continue
            variadic = part.startswith("*")
            head, eq, default_text = part.lstrip("*").partition("=")
            name, _, kind = head.partition(":")
            name, kind = name.strip(), kind.strip() or "T"
            if not name.isidentifier() or kind not in KINDS:
                raise ValueError(f"unknown parameter kind {kind!r} for {name}")
            default = _literal(default_text.strip()) if eq else REQUIRED
            if not (variadic or keyword_only):
                if seen_default and not eq:
                    raise ValueError(f"{name}: a required parameter after a default")
                seen_default = seen_default or bool(eq)
            params.append(
                Param(name, kind, default, variadic, keyword_only and not variadic)
            )
            keyword_only = keyword_only or variadic
        return cls(m[1], tuple(params))

    @property
    def tensors(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.kind == "T")

    @property
    def keywords(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if not p.variadic)

    def bind(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        """Arguments by parameter name (a variadic one gets a tuple), defaults
        filled in; a ``BindError`` saying what does not fit."""
        out: dict[str, Any] = {}
        rest = list(args)
        for p in self.params:
            if p.keyword_only:
                continue
            if p.variadic:
                out[p.name] = tuple(rest)
                rest = []
                continue
            if rest:
                out[p.name] = rest.pop(0)
        if rest:
            raise BindError(self._count_message(len(args)))
        for key, value in kwargs.items():
            p = self._param(key)
            if p is None and key in NUMPY_NAMES:  # torch accepts them too
                key = NUMPY_NAMES[key]
                p = self._param(key)
            if p is None:
                allowed = ", ".join(sorted(self.keywords - {"input"}))
                hint = f" (allowed: {allowed})" if allowed else ""
                raise BindError(f"{self.name}() has no keyword '{key}'{hint}")
            if key in out:
                raise BindError(f"{self.name}() got '{key}' by position and keyword")
            out[key] = value
        for p in self.params:
            if p.name in out:
                continue
            if p.required:
                if p.keyword_only:
                    raise BindError(f"{self.name}() needs the keyword '{p.name}'")
                raise BindError(self._count_message(len(args)))
            out[p.name] = () if p.variadic else p.default
        return {p.name: out[p.name] for p in self.params}

    def _param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name and not p.variadic:
                return p
        return None

    def _count_message(self, given: int) -> str:
        positional = [p for p in self.params if not p.keyword_only]
        low = sum(p.required for p in positional)
        if any(p.variadic for p in positional):
            want = f"at least {low}"
        else:
            high = len(positional)
            want = str(low) if low == high else f"{low} to {high}"
        noun = "argument" if want in ("1", "at least 1") else "arguments"
        return f"{self.name}() takes {want} {noun}, got {given}"

    def __str__(self) -> str:
        parts, star = [], False
        for p in self.params:
            if p.keyword_only and not star:
                parts.append("*")
                star = True
            star = star or p.variadic
            parts.append(str(p))
        return f"{self.name}({', '.join(parts)})"


def _split(text: str) -> list[str]:
    """Top-level comma-separated parts (not inside brackets or quotes)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and not depth:
            parts.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return [*parts, last] if last else parts


_WORDS = {"None": None, "True": True, "False": False}


def _literal(text: str):
    """A default: None, True, False, a number or a quoted string."""
    if text in _WORDS:
        return _WORDS[text]
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return ast.literal_eval(text)  # anything else Python reads as a literal
