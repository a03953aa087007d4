"""The syntax users bring from PyTorch, NumPy and calculators: strings for
parameters of kind str, and the hints the parser gives."""

from __future__ import annotations

import math

import pytest

from diffcli.engine.table import FUNCTIONS as TABLE
from diffcli.errors import ExprError
from diffcli.expr import parser as P
from diffcli.expr.parser import Call, Name, Num, Str, parse

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


# --- methods and attributes ------------------------------------------------------

SAMPLE = {"T": "y", "int": "1", "dims": "0", "bool": "True", "float": "0.5"}
SAMPLE["tensors"] = "[x, y]"
METHODS = sorted(
    (spelled, fn)
    for spelled, fn in P.FUNCTIONS.items()
    if fn.method and fn.signature.params and fn.signature.params[0].kind == "T"
)


@pytest.mark.parametrize(("spelled", "fn"), METHODS, ids=[m for m, _ in METHODS])
def test_every_method_of_the_table_parses_as_the_call(spelled, fn):
    """``x.f(args)`` is ``f(x, args)`` for each function marked as a method."""
    rest = [
        SAMPLE[p.kind]
        for p in fn.signature.params[1:]
        if p.required and not p.keyword_only
    ]
    as_method = parse(f"x.{spelled}({', '.join(rest)})")
    assert as_method == parse(f"{spelled}({', '.join(['x', *rest])})")
    assert str(as_method) == f"x.{spelled}({', '.join(rest)})"
    assert as_method.form == "method"


def test_a_function_that_is_no_method_is_refused_as_one():
    not_methods = [n for n, fn in P.FUNCTIONS.items() if not fn.method]
    assert {"where", "ones", "solve", "softplus"} <= set(not_methods)
    e = err("x.softplus()")
    assert e.message == "'softplus' is not a method: call it as softplus(...)"
    assert (e.col, e.end) == (2, 10)


@pytest.mark.parametrize(
    ("text", "same_as", "shown"),
    [
        ("A.T", "transpose(A)", "A.T"),
        ("(A @ B).mT @ x", "transpose(A @ B) @ x", "(A @ B).mT @ x"),
        ("x.sum()", "sum(x)", "x.sum()"),
        ("(x + 1).sum(0, keepdim=True)", "sum(x + 1, 0, keepdim=True)", None),
        ("A.det().exp()", "exp(det(A))", "A.det().exp()"),
        ("x.norm(p=1)", "norm(x, p=1)", None),
        ("x.reshape(2, 3)", "reshape(x, 2, 3)", None),
        ("x.reshape((2, 3))", "reshape(x, 2, 3)", "x.reshape(2, 3)"),
        ("reshape(x, [2, 3])", "reshape(x, 2, 3)", "reshape(x, 2, 3)"),
        ("-x.sum()", "-sum(x)", None),
    ],
)
def test_methods_and_attributes_are_calls(text, same_as, shown):
    tree = parse(text)
    assert tree == parse(same_as)
    assert str(tree) == (shown or text)
    assert parse(str(tree)) == tree


# --- numpy and calculator habits ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("x^2 + 1", "x**2 + 1"),
        ("2^x^2", "2**x**2"),
        ("-x^2", "-(x**2)"),
        ("(x+1)^-1", "(x+1)**-1"),
        ("sum(x, axis=0)", "sum(x, dim=0)"),
        ("sum(x, axis=0, keepdims=True)", "sum(x, dim=0, keepdim=True)"),
        ("sum(C, dim=(0, 2))", "sum(C, dim=[0, 2])"),
    ],
)
def test_habits_read_as_python(text, same_as):
    assert parse(text) == parse(same_as)


def test_caret_keeps_the_columns_of_what_was_typed():
    tree = parse("x^2 + y")
    assert (tree.left.col, tree.left.end, tree.left.right.col) == (0, 3, 2)
    assert (tree.right.col, tree.right.end) == (6, 7)
    e = err("x ^ ^ 2")
    assert (e.message, e.col) == ("unexpected '^'", 4)


def test_inf_and_nan_are_numbers_not_variables():
    assert parse("inf") == Num(math.inf) and math.isnan(parse("nan").value)
    assert str(parse("x * -inf")) == "x * -inf"
    assert P.free_names(parse("x + inf")) == ["x"]
    with pytest.raises(ExprError, match="'inf' is a constant"):
        P.split_assignments("inf=1")


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        ("2x + 1", "invalid number '2x' (did you mean '2*x'?)", 0),
        ("3.5y", "invalid number '3.5y' (did you mean '3.5*y'?)", 0),
        ("x²", "unexpected character '²' (did you mean 'x**2'?)", 1),
        ("(x + 1)³", "unexpected character '³' (did you mean '(x + 1)**3'?)", 7),
        ("sin(x)²", "unexpected character '²' (did you mean 'sin(x)**2'?)", 6),
        ("sin x", "unexpected 'x' (did you mean 'sin(x)'?)", 4),
        ("1 + exp 2", "unexpected '2' (did you mean 'exp(2)'?)", 8),
        ("2 x", "unexpected 'x' (did you mean '2*x'?)", 2),
    ],
)
def test_typing_habits_get_a_hint(text, message, col):
    e = err(text)
    assert (e.message, e.col) == (message, col)


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("softmx(x, 0)", "softmax"),
        ("atan3(x, y)", "atan2"),  # two arguments: not atan
        ("logsoftmax(x, 0)", "log_softmax"),
        ("arcsinn(x)", "arcsin"),
        ("crossentropy(x, y)", "cross_entropy"),
        ("celu(x)", "elu"),  # an activation for an activation
        ("median(x)", "mean"),  # a reduction for a reduction
    ],
)
def test_did_you_mean_stays_in_kind_and_arity(text, suggested):
    assert f"(did you mean '{suggested}'?)" in err(text).message


@pytest.mark.parametrize("name", ["eig", "svd", "qr", "lstsq", "matrix_exp", "expm"])
def test_a_matrix_function_is_never_offered_an_elementwise_one(name):
    """eig is not exp, expm is not exp: a linear algebra name gets linear
    algebra functions or none."""
    message = err(f"{name}(A)").message
    assert message.startswith(f"unknown function '{name}'")
    offered = message.split("(did you mean '")[-1].split("'")[0]
    if "did you mean" in message:
        assert TABLE[P.FUNCTIONS[offered].name].category == "linear algebra"
    else:
        assert "diffcli has no such linear algebra function (it has " in message
