"""The one tree walk and its two interpreters: values, shapes, errors with columns.

Every error is checked through both interpreters (engine tensors and SymPy):
they share the walk, so they must refuse the same text with the same message at
the same place.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from strategies import expressions

from diffcli.engine.tensor import Tensor
from diffcli.errors import ExprError
from diffcli.expr import parser as P
from diffcli.expr import symbolic as S
from diffcli.expr.numeric import evaluate_numeric, value_of
from diffcli.expr.walk import evaluate

VALUES = {
    "x": np.array([1.0, 2.0]),
    "y": np.array([1.0, 2.0, 3.0]),
    "A": np.arange(6.0).reshape(2, 3),
    "B": np.arange(6.0).reshape(3, 2) - 2.5,
    "s": np.array(2.0),
}


def numeric(text: str, values=VALUES) -> np.ndarray:
    tensors = {n: Tensor._wrap(np.array(v)) for n, v in values.items()}
    with np.errstate(all="ignore"):
        return evaluate_numeric(P.parse(text), tensors, text)._data


def symbolic(text: str, values=VALUES) -> np.ndarray:
    """The SymPy value with every variable's symbols put back to numbers."""
    symbols = {n: S.symbols_for(n, np.shape(v)) for n, v in values.items()}
    backend = S.SymbolicBackend(symbols, free=False)
    value = evaluate(P.parse(text), backend, text)
    subs = {
        symbols[n][i]: S._number(sp, np.asarray(v)[i])
        for n, v in values.items()
        for i in np.ndindex(np.shape(v))
    }
    subs |= {k: v.xreplace(subs) for k, v in backend.frozen.items()}
    out = np.empty(value.shape)
    for i in np.ndindex(value.shape):
        e = sp.sympify(value[i]).xreplace(subs)
        out[i] = float(e.xreplace(subs)) if not isinstance(e, bool) else e
    return out


def both_errors(text: str, values=VALUES) -> tuple[ExprError, ExprError]:
    tensors = {n: Tensor._wrap(np.array(v)) for n, v in values.items()}
    symbols = {n: S.symbols_for(n, np.shape(v)) for n, v in values.items()}
    tree = P.parse(text)
    with pytest.raises(ExprError) as num:
        evaluate_numeric(tree, tensors, text)
    with pytest.raises(ExprError) as sym:
        evaluate(tree, S.SymbolicBackend(symbols, free=False), text)
    return num.value, sym.value


# --- errors: message and column, the same from both interpreters ---------------

ERRORS = [
    # (text, message, col, end)
    ("x + y", "shapes (2,) and (3,) do not broadcast together in '+'", 0, 5),
    ("s * (x - y)", "shapes (2,) and (3,) do not broadcast together in '-'", 5, 10),
    ("A @ A", "shapes (2, 3) and (2, 3) cannot be multiplied in matmul (3 != 2)", 0, 5),
    (
        "1 + A @ x",
        "shapes (2, 3) and (2,) cannot be multiplied in matmul (3 != 2)",
        4,
        9,
    ),
    ("mm(A, A)", "shapes (2, 3) and (2, 3) cannot be multiplied in mm (3 != 2)", 0, 8),
    (
        "matmul(x, y)",
        "shapes (2,) and (3,) cannot be multiplied in matmul (2 != 3)",
        0,
        12,
    ),
    ("dot(A, x)", "dot needs 1-D and 1-D arguments, got shapes (2, 3) and (2,)", 0, 9),
    ("dot(x, y)", "shapes (2,) and (3,) cannot be multiplied in dot (2 != 3)", 0, 9),
    ("mm(x, A)", "mm needs 2-D and 2-D arguments, got shapes (2,) and (2, 3)", 0, 8),
    ("x @ s", "matmul needs arrays, got shapes (2,) and ()", 0, 5),
    ("2 * z + 1", "'z' is used but has no value", 4, 5),
    ("sin(q)", "'q' is used but has no value", 4, 5),
    (
        "x[2]",
        "index 2 is out of bounds for axis 0 with size 2 "
        "(the indexed value has shape (2,))",
        0,
        4,
    ),
    (
        "sum(A[:, 5])",
        "index 5 is out of bounds for axis 1 with size 3 "
        "(the indexed value has shape (2, 3))",
        4,
        11,
    ),
    (
        "x[0, 0]",
        "too many indices: 1-dimensional, but 2 were indexed "
        "(the indexed value has shape (2,))",
        0,
        7,
    ),
    ("x[s]", "'s' must be a constant integer here", 2, 3),
    ("x[1.5]", "'1.5' must be a constant integer here", 2, 5),
    ("sum(A, dim=2)", "dim 2 is out of range for a 2-D value", 0, 13),
    # Checks a signature cannot say: at the call, when it is evaluated.
    ("ones()", "ones() takes at least 1 argument, got 0", 0, 6),
    ("transpose(A, 0)", "transpose() takes 1 or 3 arguments, got 2", 0, 15),
    ("ones(-2)", "ones() sizes must be non-negative integers", 0, 8),
    (
        "ones(100000, 100000)",
        "ones() would make 10000000000 elements (limit 10000000)",
        0,
        20,
    ),
    ("mean(x, dim=-2)", "dim -2 is out of range for a 1-D value", 0, 15),
    ("sum(x, dim=[0, 1])", "dim 1 is out of range for a 1-D value", 0, 18),
    ("max(A, 3)", "dim 3 is out of range for a 2-D value", 0, 9),
    ("transpose(A, 0, 2)", "dim 2 is out of range for a 2-D value", 0, 18),
    ("clamp(x, s, 1)", "'s' must be a constant number here", 9, 10),
    ("clamp(x, min=s)", "'s' must be a constant number here", 13, 14),
    ("clamp(x, max=sum(x))", "'sum(x)' must be a constant number here", 13, 19),
    ("clamp(x)", "clamp needs min or max", 0, 8),
    ("[x, y]", "list items have different shapes [(2,), (3,)]", 0, 6),
    ("[]", "an empty list has no value", 0, 2),
    (
        "where(x > 0, y, 1)",
        "shapes (2,) and (3,) and () do not broadcast together in 'where'",
        0,
        18,
    ),
    (
        "where(y > x, 1, 0)",
        "shapes (3,) and (2,) do not broadcast together in '>'",
        6,
        11,
    ),
    (
        "maximum(x, y)",
        "shapes (2,) and (3,) do not broadcast together in 'maximum'",
        0,
        13,
    ),
    ("pow(x, y)", "shapes (2,) and (3,) do not broadcast together in 'pow'", 0, 9),
    ("norm(x, p=0)", "norm needs p > 0, got 0.0", 0, 12),
    ("norm(x, p=-1)", "norm needs p > 0, got -1.0", 0, 13),
    ("norm(x, p=s)", "'s' must be a constant number here", 10, 11),
    ("arange(0, 1, 0)", "arange step must not be zero", 0, 15),
    ("max(zeros(0))", "max of an empty value", 0, 13),
]


@pytest.mark.parametrize(("text", "message", "col", "end"), ERRORS)
def test_error_message_and_column(text, message, col, end):
    num, sym = both_errors(text)
    assert (num.message, num.col, num.end) == (message, col, end)
    assert (sym.message, sym.col, sym.end) == (message, col, end)
    assert num.source == text
    caret = num.caret().splitlines()[1]
    assert caret.index("^") == col + 2  # two spaces of indent
    assert caret.count("^") == end - col


def test_error_caret_points_under_the_failing_node():
    num, _ = both_errors("sin(x) + cos(y) * 3")
    assert num.render() == (
        "shapes (2,) and (3,) do not broadcast together in '+'\n"
        "  sin(x) + cos(y) * 3\n"
        "  ^^^^^^^^^^^^^^^^^^^"
    )
    num, _ = both_errors("exp(s) + nope")
    assert num.render().splitlines()[-1] == "           ^^^^"


def test_unknown_function_is_a_parse_error_with_a_suggestion():
    with pytest.raises(ExprError) as info:
        P.parse("sine(x)")
    assert "sine" in info.value.message
    assert "sin" in info.value.message.replace("sine", "")
    assert info.value.col == 0


def test_symbolic_free_names_become_parameters_but_numeric_refuses():
    value, _ = S.evaluate_symbolic(P.parse("a*x + b"), {})
    a, b, x = sp.symbols("a b x", real=True)
    assert sp.simplify(value[()] - (a * x + b)) == 0
    num, _ = both_errors("a*x + b", {"x": np.array(1.0)})
    assert num.message == "'a' is used but has no value"


# --- values: the numeric walk, and the symbolic one agreeing with it ----------

CASES = [
    ("1 + 2 * 3 ** 2", 19.0),
    ("-2 ** 2", -4.0),
    ("+s - -1", 3.0),
    ("pi", math.pi),
    ("e", math.e),
    ("2 / 4", 0.5),
    ("[1, 2]", [1.0, 2.0]),
    ("[[1, 2], [3, 4]]", [[1.0, 2.0], [3.0, 4.0]]),
    ("[x[0]**2, x[1]**3]", [1.0, 8.0]),
    ("[s, 2 * s]", [2.0, 4.0]),
    ("x[0]", 1.0),
    ("x[-1]", 2.0),
    ("A[1]", [3.0, 4.0, 5.0]),
    ("A[:, 1]", [1.0, 4.0]),
    ("A[1, 2]", 5.0),
    ("A[0, ::2]", [0.0, 2.0]),
    ("A[:, [2, 0]]", [[2.0, 0.0], [5.0, 3.0]]),
    ("y[1:]", [2.0, 3.0]),
    ("y[::-1]", [3.0, 2.0, 1.0]),
    ("x @ x", 5.0),
    ("A @ y", [8.0, 26.0]),
    ("x @ A", [6.0, 9.0, 12.0]),
    ("mm(A, B)", [[2.5, 5.5], [-2.0, 10.0]]),
    ("matmul(B, x)", [-5.5, 0.5, 6.5]),
    ("dot(y, y)", 14.0),
    ("transpose(A)", [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]),
    ("transpose(A, 0, 1)", [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]),
    ("transpose(x)", [1.0, 2.0]),
    ("sum(A)", 15.0),
    ("sum(A, dim=0)", [3.0, 5.0, 7.0]),
    ("sum(A, dim=1, keepdim=True)", [[3.0], [12.0]]),
    ("sum(A, dim=[0, 1])", 15.0),
    ("mean(A, dim=-1)", [1.0, 4.0]),
    ("mean(y)", 2.0),
    ("norm(x)", math.sqrt(5)),
    ("norm(A, dim=1)", [math.sqrt(5), math.sqrt(50)]),
    ("norm(y, p=1)", 6.0),
    ("norm(y, p=3)", 36 ** (1 / 3)),
    ("max(y)", 3.0),
    ("min(A, 0)", [0.0, 1.0, 2.0]),
    ("max(A, dim=1, keepdim=True)", [[2.0], [5.0]]),
    ("maximum(x, 1.5)", [1.5, 2.0]),
    ("minimum(x, [2, 0])", [1.0, 0.0]),
    ("pow(x, 2)", [1.0, 4.0]),
    ("pow(2, x)", [2.0, 4.0]),
    ("where(x > 1, x, -x)", [-1.0, 2.0]),
    ("where(y <= 2, 1, 0)", [1.0, 1.0, 0.0]),
    ("where(y == 2, 10, y)", [1.0, 10.0, 3.0]),
    ("where(y != 2, 10, y)", [10.0, 2.0, 10.0]),
    ("where(x >= 2, 1, 0) + where(x < 2, 2, 0)", [2.0, 1.0]),
    ("clamp(y, 1.5, 2.5)", [1.5, 2.0, 2.5]),
    ("clamp(y, min=2)", [2.0, 2.0, 3.0]),
    ("clamp(y, max=2)", [1.0, 2.0, 2.0]),
    ("relu(x - 1.5)", [0.0, 0.5]),
    ("abs(x - 1.5)", [0.5, 0.5]),
    ("sigmoid(0)", 0.5),
    ("tanh(0) + sin(0) + cos(0) + tan(0)", 1.0),
    ("exp(log(s)) + sqrt(4)", 4.0),
    ("detach(x * x) * x", [1.0, 8.0]),
    ("arange(3)", [0.0, 1.0, 2.0]),
    ("arange(1, 2, 0.5)", [1.0, 1.5]),
    ("ones(2) + zeros(2)", [1.0, 1.0]),
    ("ones(1, 2)", [[1.0, 1.0]]),
    ("eye(2)", [[1.0, 0.0], [0.0, 1.0]]),
    ("eye(2, 3)[1]", [0.0, 1.0, 0.0]),
    ("linspace(0, 1, 3)", [0.0, 0.5, 1.0]),
    ("x * ones(2, 2)", [[1.0, 2.0], [1.0, 2.0]]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_numeric_and_symbolic_values(text, expected):
    got = numeric(text)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(symbolic(text), expected, rtol=1e-12, atol=1e-15)


def test_array_variables_are_component_symbols():
    value, _ = S.evaluate_symbolic(
        P.parse("A[0, 1] * x[1]"),
        {"A": S.symbols_for("A", (2, 2)), "x": S.symbols_for("x", (2,))},
    )
    assert str(value[()]) == "A[0, 1]*x[1]"
    assert all(s.is_real for s in value[()].free_symbols)
    assert str(S.symbols_for("s", ())[()]) == "s"


def test_symbolic_detach_is_a_placeholder_put_back_after():
    x = S.symbols_for("x", (2,))
    value, frozen = S.evaluate_symbolic(P.parse("sum(detach(x * x) * x)"), {"x": x})
    assert len(frozen) == 2
    grad = S.gradient(value[()], x, frozen)
    assert [str(g) for g in grad] == ["x[0]**2", "x[1]**2"]


def test_constants_become_exact_numbers():
    value, _ = S.evaluate_symbolic(P.parse("0.1 + pi + e + 2"), {})
    assert value[()] == sp.Rational(1, 10) + sp.pi + sp.E + 2


def test_max_along_a_dim_gives_the_gradient_to_the_first_index():
    """torch.max(x, dim) sends the gradient to the returned index; torch.max(x)
    shares it among ties."""
    a = Tensor._wrap(np.array([[1.0, 1.0], [0.0, 3.0]])).requires_grad_()
    evaluate_numeric(P.parse("sum(max(A, 1))"), {"A": a}).backward()
    np.testing.assert_array_equal(a.grad._data, [[1, 0], [0, 1]])
    b = Tensor._wrap(np.array([1.0, 1.0, 0.0])).requires_grad_()
    evaluate_numeric(P.parse("max(b)"), {"b": b}).backward()
    np.testing.assert_array_equal(b.grad._data, [0.5, 0.5, 0])


def test_value_of_parses_values_with_constructors():
    np.testing.assert_array_equal(value_of("arange(4)"), [0, 1, 2, 3])
    np.testing.assert_allclose(value_of("[pi/4, 2*e]"), [math.pi / 4, 2 * math.e])
    assert value_of("ones(2, 3)").shape == (2, 3)
    with pytest.raises(ExprError, match="not a value"):
        value_of("x + 1")


# --- the two interpreters agree on random expressions --------------------------

LEAVES = ("x", "y[:2]", "s", "A[1, :2]", "x[0]", "2", "0.5", "pi", "arange(2)")
UNARY = (
    "sin({})",
    "cos({})",
    "tanh({})",
    "sigmoid({})",
    "exp(tanh({}))",
    "log(1 + ({})**2)",
    "sqrt(1 + ({})**2)",
    "abs({})",
    "relu({})",
    "-({})",
    "({})**2",
    "clamp({}, -1, 1)",
    "detach({})",
)
BINARY = (
    "({}) + ({})",
    "({}) - ({})",
    "({}) * ({})",
    "({}) / (1 + ({})**2)",
    "maximum({}, {})",
    "minimum({}, {})",
    "where(({}) > 0.3, {}, 1)",
    "[({}) * ones(2), ({}) * ones(2)][1]",
)
TOPS = ("{}", "sum({})", "norm({})", "max({})", "mean({})", "dot({}, x)")


EXPRS = expressions(LEAVES, UNARY, BINARY, TOPS, inside="ones(2)")


@settings(max_examples=40, deadline=None)
@given(EXPRS)
def test_interpreters_agree(text):
    np.testing.assert_allclose(symbolic(text), numeric(text), rtol=1e-9, atol=1e-12)


def test_nested_detach_is_a_constant_in_both_interpreters():
    """Found by the agreement property: a detach of a detach left a placeholder
    inside the symbolic value."""
    text = "(detach(detach(detach(x)))) * ones(2)"
    np.testing.assert_allclose(symbolic(text), numeric(text), rtol=1e-12)
