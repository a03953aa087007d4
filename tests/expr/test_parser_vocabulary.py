"""The syntax users bring from PyTorch, NumPy and calculators: strings for
parameters of kind str, and the hints the parser gives."""

from __future__ import annotations

import pytest

from diffcli.errors import ExprError
from diffcli.expr.parser import Call, Name, Str, parse

x = Name("x")


def err(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        parse(text)
    return info.value


def test_a_string_is_the_argument_of_a_str_parameter():
    tree = parse("gelu(x, approximate='tanh')")
    assert tree == Call("gelu", (x,), (("approximate", Str("tanh")),))
    assert str(tree) == "gelu(x, approximate='tanh')"
    assert (tree.kwargs[0][1].col, tree.kwargs[0][1].end) == (20, 26)


@pytest.mark.parametrize(
    "text",
    ["sin('x')", "'a' + x", "gelu('tanh')", "gelu(x, 'tanh')", "sum(x, dim='0')"],
)
def test_a_string_anywhere_else_is_refused(text):
    """Only a str parameter takes one: not an operand, not an int parameter,
    not by position where the parameter is keyword-only."""
    e = err(text)
    assert e.message == "strings are not supported"
    assert text[e.col : e.end].strip("'") in ("x", "a", "tanh", "0")
