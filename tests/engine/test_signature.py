"""Signature.parse reads the headers of THE table the way Python reads a def."""

from __future__ import annotations

import ast

import pytest

from diffcli.engine.signature import REQUIRED, Param, Signature
from diffcli.engine.table import FUNCTIONS


def as_python(header: str) -> Signature:
    """The same header read by Python's parser: the reference."""
    fn = ast.parse(f"def {header}: pass").body[0]
    a = fn.args
    kind = lambda arg: "T" if arg.annotation is None else ast.unparse(arg.annotation)
    defaults = [REQUIRED] * (len(a.args) - len(a.defaults)) + [
        ast.literal_eval(d) for d in a.defaults
    ]
    pairs = zip(a.args, defaults, strict=True)
    params = [Param(arg.arg, kind(arg), d) for arg, d in pairs]
    if a.vararg is not None:
        params.append(Param(a.vararg.arg, kind(a.vararg), variadic=True))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        default = REQUIRED if d is None else ast.literal_eval(d)
        params.append(Param(arg.arg, kind(arg), default, keyword_only=True))
    return Signature(fn.name, tuple(params))


HEADERS = [
    "f(input: T)",
    "f(input: T, dim: dims = None, keepdim: bool = False)",
    "f(input: T, *sizes: int)",
    "f(*size: int)",
    "f(input: T, *, approximate: str = 'none', n: int = -100, x: float = 1e-05)",
    "f(input: T, p: float | str = 2, s: str = 'a, b', t: str = \"q'\")",
    "f(tensors: tensors, dim: int = 0)",
    "f(input: T, shape: dims = (2, 3))",
    "f(input: T, *dims: int, keep: bool = True)",
]


@pytest.mark.parametrize("header", HEADERS)
def test_reads_a_header_as_python_does(header):
    assert Signature.parse(header) == as_python(header)


def test_every_table_header_round_trips():
    """Each function's signature, written back as a header, reads the same."""
    for fn in FUNCTIONS.values():
        parts, star = [], False
        for p in fn.signature.params:
            if p.keyword_only and not star:
                if not any(q.variadic for q in fn.signature.params):
                    parts.append("*")
                star = True
            text = ("*" if p.variadic else "") + f"{p.name}: {p.kind}"
            if p.default is not REQUIRED:
                text += f" = {p.default!r}"
            parts.append(text)
        header = f"{fn.name}({', '.join(parts)})"
        assert Signature.parse(header) == fn.signature == as_python(header)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("f(input: tensor)", "unknown parameter kind 'tensor'"),
        ("f(a: T = 1, b: T)", "required parameter after a default"),
        ("f input", "not a header"),
    ],
)
def test_a_bad_header_is_refused(header, problem):
    with pytest.raises(ValueError, match=problem):
        Signature.parse(header)
