"""Tests for diffcli.expr.parser: trees, spans, errors, limits, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffcli.errors import ExprError
from diffcli.expr import parser as P
from diffcli.expr.parser import (
    Binary,
    Call,
    Compare,
    Const,
    Index,
    ListExpr,
    Name,
    Num,
    Slice,
    Unary,
    free_names,
    parse,
    parse_value,
    split_assignments,
)

x, y = Name("x"), Name("y")


def spans(e: object) -> list[tuple[str, int, int]]:
    """(type, col, end) of every node, pre-order; equality ignores spans."""
    out = [(type(e).__name__, e.col, e.end)]
    for f in ("operand", "left", "right", "value", "lower", "upper", "step"):
        sub = getattr(e, f, None)
        if sub is not None and not isinstance(sub, int | float | str):
            out += spans(sub)
    for sub in (*getattr(e, "args", ()), *getattr(e, "items", ())):
        out += spans(sub)
    for _, sub in getattr(e, "kwargs", ()):
        out += spans(sub)
    return out


def err(text: str, fn=parse) -> ExprError:
    with pytest.raises(ExprError) as info:
        fn(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("42", Num(42)),
        ("1.5e-3", Num(0.0015)),
        ("0x10", Num(16)),
        ("pi", Const("pi")),
        ("e", Const("e")),
        ("x", x),
        ("-x", Unary("-", x)),
        ("+x", Unary("+", x)),
        ("-x**2", Unary("-", Binary("**", x, Num(2)))),
        ("x - y - 1", Binary("-", Binary("-", x, y), Num(1))),
        ("x**y**2", Binary("**", x, Binary("**", y, Num(2)))),
        ("A @ B / 2", Binary("/", Binary("@", Name("A"), Name("B")), Num(2))),
        ("sin(x)", Call("sin", (x,))),
        (
            "sum(x, dim=0, keepdim=True)",
            Call("sum", (x,), (("dim", Num(0)), ("keepdim", Num(True)))),
        ),
        ("max(x, -1)", Call("max", (x, Unary("-", Num(1))))),
        ("where(x > 0, x, 0)", Call("where", (Compare(">", x, Num(0)), x, Num(0)))),
        ("where(x != y, 1, 2)", Call("where", (Compare("!=", x, y), Num(1), Num(2)))),
        (
            "[[1, 2], [3, x]]",
            ListExpr((ListExpr((Num(1), Num(2))), ListExpr((Num(3), x)))),
        ),
        ("[]", ListExpr(())),
        ("x[0]", Index(x, (Num(0),))),
        ("x[-1]", Index(x, (Unary("-", Num(1)),))),
        ("A[:, 1]", Index(Name("A"), (Slice(None, None, None), Num(1)))),
        ("x[1:3]", Index(x, (Slice(Num(1), Num(3), None),))),
        ("x[::2]", Index(x, (Slice(None, None, Num(2)),))),
        ("x[[0, 2]]", Index(x, (ListExpr((Num(0), Num(2))),))),
        ("sin(x)[0]", Index(Call("sin", (x,)), (Num(0),))),
        ("transpose(A, 0, 1)", Call("transpose", (Name("A"), Num(0), Num(1)))),
        ("ones(2, 3)", Call("ones", (Num(2), Num(3)))),
        ("clamp(x, min=0)", Call("clamp", (x,), (("min", Num(0)),))),
        ("x\n+ 1", Binary("+", x, Num(1))),
    ],
)
def test_constructs(text: str, tree: object) -> None:
    assert parse(text) == tree
    assert parse(str(tree)) == tree


def test_spans() -> None:
    assert spans(parse("  x + sin(y)")) == [
        ("Binary", 2, 12),
        ("Name", 2, 3),
        ("Call", 6, 12),
        ("Name", 10, 11),
    ]
    assert spans(parse("A[1:, ::2]")) == [
        ("Index", 0, 10),
        ("Name", 0, 1),
        ("Slice", 2, 4),
        ("Num", 2, 3),
        ("Slice", 6, 9),
        ("Num", 8, 9),
    ]
    assert spans(parse("sum(x, dim=-1)"))[-2:] == [("Unary", 11, 13), ("Num", 12, 13)]
    # ast reports UTF-8 byte offsets; spans are characters.
    assert spans(parse("θ * éé")) == [("Binary", 0, 6), ("Name", 0, 1), ("Name", 4, 6)]


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        ("", "empty expression", 0),
        ("x+)", "unexpected ')'", 2),
        ("(x))", "unexpected ')'", 3),
        ("x+", "unexpected end of expression", 2),
        ("(x+1", "unmatched '('", 0),
        ("[1, 2)", "unexpected ')' (expected ']')", 5),
        ("2 x", "unexpected 'x' (did you mean '2*x'?)", 2),
        ("[1, 2 3]", "missing operator or ',' in '2 3'", 4),
        ("x[1:2:3:4]", "unexpected ':'", 7),
        ("if x", "unexpected 'if'", 0),
        ("x = 1", "unexpected '='", 2),
        ("2x", "invalid number '2x' (did you mean '2*x'?)", 0),
        ("x € 1", "unexpected character '€'", 2),
        ("x\x00", "unexpected character U+0000", 1),
        ("é + )", "unexpected ')'", 4),
        ("sine(x)", "unknown function 'sine' (did you mean 'sin'?)", 0),
        ("1 + qqq(x)", "unknown function 'qqq'", 4),
        ("sin(x, y)", "sin() takes 1 argument, got 2", 0),
        ("x + where(x)", "where() takes 3 arguments, got 1", 4),
        ("clamp(x, 1, 2, 3)", "clamp() takes 1 to 3 arguments, got 4", 0),
        ("y * sum(x, foo=1)", "sum() has no keyword 'foo' (allowed: dim, keepdim)", 4),
        ("sin(x, dim=1)", "sin() has no keyword 'dim'", 0),
        ("sum(x, dim=0, dim=1)", "sum() got keyword 'dim' twice", 0),
        ("max(x, 1, dim=0)", "max() got 'dim' by position and keyword", 0),
        (
            "max(x, y)",
            "max(): dim must be an integer, got 'y' (use maximum(a, b) elementwise)",
            7,
        ),
        ("sum(x, keepdim=2)", "sum(): keepdim must be True or False", 0),
        ("ones(2.5)", "ones(): size must be an integer, got '2.5'", 5),
        ("x.shape", "attribute access is not supported (x.T and x.mT are)", 0),
        ("x.where(x, 1)", "'where' is not a method: call it as where(...)", 2),
        ("(sin)(x)", "only a function name can be called, e.g. sin(x)", 0),
        ("sin(x)(y)", "only a function name can be called, e.g. sin(x)", 0),
        ("1 + sin", "'sin' is a function: call it as sin(...)", 4),
        (
            "x < 1",
            "comparisons are only allowed as the condition of where(cond, a, b)",
            0,
        ),
        (
            "where(x, x > 1, 0)",
            "comparisons are only allowed as the condition of where(cond, a, b)",
            9,
        ),
        (
            "where(0 < x < 1, x, 0)",
            "chained comparisons (a < b < c) are not supported",
            6,
        ),
        ("where(x is y, x, 0)", "operator 'is' is not supported", 6),
        ("x and y", "'and' is not supported", 0),
        ("x or y", "'or' is not supported", 0),
        ("not x", "'not' is not supported", 0),
        ("~x", "'~' is not supported", 0),
        ("x % 2", "operator '%' is not supported", 2),
        ("(x < 1) & (y < 2)", "operator '&' is not supported", 8),
        ("x // 2", "operator '//' is not supported", 2),
        ("True + x", "booleans are not supported: 'True'", 0),
        ("None", "None is not supported", 0),
        ("1j", "complex numbers are not supported", 0),
        ("'abc'", "strings are not supported", 0),
        ("b'abc'", "bytes are not supported", 0),
        ("'abc", "strings are not supported", 0),
        ("(1, 2)", "tuples are not supported", 0),
        ("lambda: 1", "lambda expressions are not supported", 0),
        ("[x for x in y]", "comprehensions are not supported", 0),
        ("f'{x}'", "f-strings are not supported", 0),
        ("sin(*x)", "starred expressions are not supported", 4),
        ("{1: 2}", "dictionaries are not supported", 0),
        ("{1}", "sets are not supported", 0),
        ("(x := 1)", "assignment expressions (:=) are not supported", 1),
        (
            "x if y else 1",
            "conditional expressions (use where(cond, a, b)) are not supported",
            0,
        ),
        ("sin(**k)", "'**' arguments are not supported", 4),
        ("x[()]", "an index needs at least one item", 2),
        ("[[1], [2, 3]]", "ragged list: every row must have the same length", 0),
        ("[1, [2]]", "ragged list: mixes lists and non-lists", 0),
        ("1e999", "number 1e999 is too large for float64", 0),
        (
            "2 * 0x" + "f" * 300,
            "number 0xfffffffffffffff... is too large for float64",
            4,
        ),
        ("x**100000", "exponent 100000 is too large (limit 1000)", 3),
        ("2**10**10", "exponent 10**10 is too large (limit 1000)", 3),
        ("x**-(2000)", "exponent -2000 is too large (limit 1000)", 3),
        ("pow(x, 5000)", "exponent 5000 is too large (limit 1000)", 7),
        ("1" * 401, "number has too many digits (limit 400)", 0),
        ("sum(x, keepdim=True) * False", "booleans are not supported: 'False'", 23),
        ("x \\ y", "unexpected '\\'", 2),
        ("x # comment", "unexpected '#'", 2),
        ("\t sin(x, y)", "sin() takes 1 argument, got 2", 2),
    ],
)
def test_errors(text: str, message: str, col: int) -> None:
    e = err(text)
    assert (e.message, e.col) == (message, col)
    assert e.source == text and e.end > e.col
    assert "^" in e.render() or not text


def test_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "expression is too deeply nested (limit 200)"
    for text in [
        "-" * 201 + "x",
        "(" * 300 + "x" + ")" * 300,
        "x" + "[0]" * 3000,
        "x**" * 201 + "x",
        "sin(" * 250 + "x" + ")" * 250,
        "[" * 201 + "]" * 201,
        "x" + "+(x" * 201 + ")" * 201,
    ]:
        assert err(text).message == deep
    # a long sum is a chain, not a nesting: up to MAX_OPERATORS terms
    assert str(parse("+".join(["x"] * 2001))) == " + ".join(["x"] * 2001)
    assert str(parse("x" + "-x+x*x/x" * 500)) == "x" + " - x + x * x / x" * 500
    # the 2001st operator is marked; the caret's line is a window of 72
    for text, n, col in [
        ("x" + "+x" * 4999, 4999, 4001),
        ("-" * 9999 + "x", 9999, 2000),
    ]:
        e = err(text)
        assert (e.message, e.col) == (f"expression has {n} operators (limit 2000)", col)
        assert e.caret().splitlines() == [
            "  …" + text[col - 18 : col + 54] + "…",
            "  " + " " * 19 + "^",
        ]
    too_long = "expression is too long (limit 10000 characters)"
    assert err("x" * 10_001).message == too_long and parse("x" * 10_000)
    assert parse("+".join(["x"] * 200))  # depth 200 is fine
    assert parse("x**1000") and parse("1" * 300)
    assert err("1" * 400).message == f"number {'1' * 17}... is too large for float64"
    monkeypatch.setattr(P, "MAX_LITERAL_ELEMENTS", 5)
    assert parse("[[1, 2], [3, 4]]")
    e = err("[[1, 2, 3], [4, 5, 6]]")
    assert (e.message, e.col) == ("list literal is too large (limit 5 numbers)", 12)


def test_equality_ignores_spans_and_str() -> None:
    assert parse("x+1") == parse(" x  +  1") == parse("(x)+1\n")
    assert hash(parse("x+1")) == hash(parse("(x)+1"))
    assert parse("x[1,]") == parse("x[1]") and parse("1_0.0") == Num(10)
    assert str(parse("((x)) + (2*y)")) == "x + 2 * y"
    assert str(parse("(x + y) * -(z - 1) ** 2")) == "(x + y) * -(z - 1)**2"
    assert str(parse("(-x)**(y**2)")) == "(-x)**y**2"
    assert str(parse("(x**y)**2")) == "(x**y)**2"
    assert str(parse("x - (y - z)")) == "x - (y - z)"
    assert (
        str(parse("where((x) >= (y+1), x[1:, ::2], A[:])"))
        == "where(x >= y + 1, x[1:, ::2], A[:])"
    )
    assert str(parse("(x + 1)[0]")) == "(x + 1)[0]"
    assert str(Binary("**", Num(-2), Num(2))) == "(-2)**2"


def test_free_names_and_parse_value() -> None:
    names = free_names(parse("y * sin(x) + pi * x + z[0] + where(w > e, a, b)"))
    assert names == ["y", "x", "z", "w", "a", "b"]
    assert free_names(parse("x[i:j]")) == ["x", "i", "j"]
    assert parse_value("[[1, 2], [3, -4.5]]") == ListExpr(
        (ListExpr((Num(1), Num(2))), ListExpr((Num(3), Unary("-", Num(4.5)))))
    )
    for ok in [
        "sqrt(2) * pi",
        "arange(5)",
        "ones(2, 3)",
        "eye(3)",
        "linspace(0, 1, 5)",
        "e**2",
    ]:
        assert free_names(parse_value(ok)) == []
    e = err("[1, x + 2]", parse_value)
    assert (e.message, e.col, e.end) == (
        "'x' is not a value: values may not name variables",
        4,
        5,
    )
    assert err("1 +", parse_value).message == "unexpected end of expression"


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("x=1,y=[1,2]", [("x", "1"), ("y", "[1,2]")]),
        (" x = 1 , y = sum([1, 2], dim=0) ", [("x", "1"), ("y", "sum([1, 2], dim=0)")]),
        ("A=[[1,2],[3,4]]", [("A", "[[1,2],[3,4]]")]),
        ("t=where(1 <= 2, 1, 0)", [("t", "where(1 <= 2, 1, 0)")]),
        ("θ=2", [("θ", "2")]),
        ("", []),
    ],
)
def test_split_assignments(text: str, pairs: list) -> None:
    assert split_assignments(text) == pairs


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        ("x=1, y", "expected name=value", 5),
        ("x==1", "expected name=value", 0),
        ("=1", "missing name before '='", 0),
        ("x=1, 2x=3", "'2x' is not a valid variable name", 5),
        ("lambda=1", "'lambda' is not a valid variable name", 0),
        ("x=1,,y=2", "empty assignment (expected name=value)", 4),
        ("x=1,", "empty assignment (expected name=value)", 4),
        ("x=", "missing value for 'x'", 1),
        ("x=1, x=2", "'x' is assigned twice", 5),
        ("pi=3", "'pi' is a constant", 0),
        ("sin=3", "'sin' is a function name", 0),
    ],
)
def test_split_assignment_errors(text: str, message: str, col: int) -> None:
    e = err(text, split_assignments)
    assert (e.message, e.col) == (message, col)


# --- fuzzing -------------------------------------------------------------------

ALPHABET = "x+-*/()[],.:0123456789 e"


def must_be_clean(text: str) -> None:
    """Only ExprError may escape; anything that parses must round-trip."""
    for fn in (parse, parse_value, split_assignments):
        try:
            out = fn(text)
        except ExprError as e:
            assert isinstance(e.message, str) and e.message
            assert e.col is None or 0 <= e.col <= len(text)
            continue
        if fn is parse:
            assert parse(str(out)) == out


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(ALPHABET), st.text(ALPHABET + "éθ€\t\n%<=_'\"@;")))
def test_fuzz_text_only_raises_expr_error(text: str) -> None:
    must_be_clean(text)


NAMES = st.sampled_from(["x", "y", "w1", "θ", "pi", "e"])
SMALL = st.integers(0, 5).map(str)
LEAF = st.one_of(NAMES, st.integers(0, 10**6).map(str), st.floats(0, 1e6).map(repr))
INDEX = st.sampled_from(["0", "-1", ":", "1:", "::2", "[0, 1]", "0, 1:2"])


def form(template: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda t: template.format(*t))


def extend(kid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Over-parenthesized text for every construct; parse must drop the parens."""
    one = st.sampled_from(["sin", "exp", "sqrt", "relu", "detach"])
    return st.one_of(
        form("({}) {} ({})", kid, st.sampled_from("+-*/@"), kid),
        form("({})**{}", kid, st.one_of(SMALL, NAMES)),
        form("{}({})", st.sampled_from("-+"), kid),
        form("{}({})", one, kid),
        form("maximum({}, {})", kid, kid),
        form("pow({}, {})", kid, SMALL),
        form("sum({}, dim={}, keepdim=False)", kid, SMALL),
        form("where(({}) {} ({}), {}, 0)", kid, st.sampled_from("<>"), kid, kid),
        form("({})[{}]", kid, INDEX),
        st.lists(LEAF, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
    )


EXPRESSIONS = st.recursive(LEAF, extend, max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS)
def test_fuzz_valid_expressions_round_trip(text: str) -> None:
    tree = parse(text)
    again = parse(str(tree))
    assert again == tree and str(again) == str(tree)
    for kind, col, end in spans(tree):
        assert 0 <= col < end <= len(text), (kind, col, end)
