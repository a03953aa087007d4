"""THE table, part one: arithmetic and elementwise functions."""

from __future__ import annotations

import operator

import numpy as np

from diffcli.engine import composites as C
from diffcli.engine import rules as R
from diffcli.engine import rules_special as RS
from diffcli.engine import shapes as S
from diffcli.engine import twins as Y
from diffcli.engine.primitive import Function
from diffcli.engine.table.declare import define


def _unary(name, forward, rule, sympy, doc, reads_ans, **kw) -> Function:
    return define(
        f"{name}(input: T)",
        doc,
        forward,
        (rule,),
        sympy=sympy,
        reads_ans=reads_ans,
        shape=S.same,
        category="elementwise",
        **kw,
    )


# --- arithmetic: the operators + - * / ** and their names ---------------------
_ARITH = {"category": "arithmetic", "shape": S.broadcast}
define(
    "add(input: T, other: T)",
    "input + other",
    operator.add,
    (lambda F, g, ans, x, y: g, lambda F, g, ans, x, y: g),
    saves_inputs=False,
    reads_ans=False,
    **_ARITH,
)
define(
    "sub(input: T, other: T)",
    "input - other",
    operator.sub,
    (lambda F, g, ans, x, y: g, lambda F, g, ans, x, y: -g),
    torch=R._sub_name,
    saves_inputs=False,
    reads_ans=False,
    aliases=("subtract",),
    **_ARITH,
)
define(
    "mul(input: T, other: T)",
    "input * other",
    operator.mul,
    (lambda F, g, ans, x, y: g * y, lambda F, g, ans, x, y: g * x),
    reads_ans=False,
    aliases=("multiply",),
    **_ARITH,
)
define(
    "div(input: T, other: T)",
    "input / other",
    operator.truediv,
    (lambda F, g, ans, x, y: g / y, lambda F, g, ans, x, y: -g * x / (y * y)),
    torch=R._div_name,
    reads_ans=False,
    aliases=("divide", "true_divide"),
    kinks="division by zero gives inf or nan, as in PyTorch",
    **_ARITH,
)
define(
    "pow(input: T, exponent: T)",
    "input ** exponent",
    operator.pow,
    (R._pow_base, R._pow_exponent),
    torch=R._pow_name,
    reads_ans=(False, True),
    kinks="d/d exponent of 0 ** y (y >= 0) is 0, not nan (PyTorch's choice)",
    **_ARITH,
)
define(
    "neg(input: T)",
    "-input",
    operator.neg,
    (lambda F, g, ans, x: -g,),
    saves_inputs=False,
    reads_ans=False,
    aliases=("negative",),
    category="arithmetic",
    shape=S.same,
)
define(
    "maximum(input: T, other: T)",
    "elementwise larger of two values",
    np.maximum,
    (
        lambda F, g, ans, x, y: R._winner_vjp(F, g, x, y),
        lambda F, g, ans, x, y: R._winner_vjp(F, g, y, x),
    ),
    sympy="Max",
    reads_ans=False,
    kinks="a tie sends half the gradient to each side",
    **_ARITH,
)
define(
    "minimum(input: T, other: T)",
    "elementwise smaller of two values",
    np.minimum,
    (
        lambda F, g, ans, x, y: R._winner_vjp(F, g, y, x),
        lambda F, g, ans, x, y: R._winner_vjp(F, g, x, y),
    ),
    sympy="Min",
    reads_ans=False,
    kinks="a tie sends half the gradient to each side",
    **_ARITH,
)
define(
    "atan2(input: T, other: T)",
    "angle of the point (other, input): atan(input / other) in the right quadrant",
    np.arctan2,
    (
        lambda F, g, ans, y, x: g * x / (x * x + y * y),
        lambda F, g, ans, y, x: g * -y / (x * x + y * y),
    ),
    sympy="atan2",
    reads_ans=False,
    aliases=("arctan2",),
    kinks="at (0, 0) the gradient is nan, as in PyTorch",
    **{**_ARITH, "category": "elementwise"},
)

# --- elementwise functions ------------------------------------------------------
_unary("exp", np.exp, lambda F, g, ans, x: g * ans, "exp", "e ** input", True)
_unary(
    "log",
    np.log,
    lambda F, g, ans, x: g / x,
    "log",
    "natural logarithm",
    False,
    aliases=("ln",),
    kinks="log(0) = -inf; negative inputs give nan",
)
_unary("sin", np.sin, lambda F, g, ans, x: g * F.cos(x), "sin", "sine", False)
_unary("cos", np.cos, lambda F, g, ans, x: -g * F.sin(x), "cos", "cosine", False)
_unary("tan", np.tan, lambda F, g, ans, x: g * (1 + ans * ans), "tan", "tangent", True)
_unary(
    "sqrt",
    np.sqrt,
    lambda F, g, ans, x: g / (2 * ans),
    "sqrt",
    "square root",
    True,
    kinks="the gradient at 0 is inf, as in PyTorch",
)
_unary(
    "abs",
    np.abs,
    lambda F, g, ans, x: g * F.sign(x),
    "Abs",
    "absolute value",
    False,
    aliases=("absolute",),
    kinks="the gradient at 0 is 0 (PyTorch's choice)",
)
_unary(
    "tanh",
    np.tanh,
    lambda F, g, ans, x: g * (1 - ans * ans),
    "tanh",
    "hyperbolic tangent",
    True,
)
_unary(
    "sigmoid",
    R._sigmoid,
    lambda F, g, ans, x: g * (ans * (1 - ans)),
    Y.elementwise(lambda sp, v: 1 / (1 + sp.exp(-v))),
    "logistic function 1 / (1 + exp(-input)), stable for large |input|",
    True,
)
_unary(
    "relu",
    lambda x: np.maximum(x, 0),
    lambda F, g, ans, x: F.where(ans > 0, g, 0.0),  # PyTorch saves the result
    Y.elementwise(Y.relu),
    "max(input, 0)",
    True,
    kinks="the gradient at 0 is 0 (PyTorch's choice)",
)
define(
    "sign(input: T)",
    "-1, 0 or 1 by the sign of input (a zero gradient)",
    np.sign,
    (lambda F, g, ans, x: RS.zeros(F, g),),  # PyTorch records SignBackward0 too
    sympy="sign",
    saves_inputs=False,
    reads_ans=False,
    shape=S.same,
    kinks="piecewise constant: the gradient is 0 everywhere, as in PyTorch",
    category="elementwise",
)
define(
    "clamp(input: T, min: float = None, max: float = None)",
    "input limited to [min, max]",
    R._clip,
    (R._clamp_vjp,),
    sympy=Y.elementwise(Y.clamp),
    torch="ClampBackward1",
    reads_ans=False,
    shape=S.same,
    aliases=("clip",),
    kinks="at a bound the gradient passes through (PyTorch's choice)",
    category="elementwise",
    body=C.clamp,
)
define(
    "where(condition: T, input: T, other: T)",
    "input where condition holds, other elsewhere",
    R._where,
    (
        R._no_grad,
        lambda F, g, ans, c, a, b: F.where(c, g, 0.0),
        lambda F, g, ans, c, a, b: F.where(c, 0.0, g),
    ),
    sympy=Y.elementwise(Y.piecewise),
    reads_ans=(True, False, False),
    shape=S.broadcast,
    method=False,
    category="elementwise",
)
