"""The three-way check on the vocabulary users bring: every function of the
expression language, away from its kinks, gets an ok verdict; and a closed
form float64 cannot evaluate (it overflows) is evaluated exactly instead."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.engine.table import FUNCTIONS
from diffcli.expr.parser import free_names, parse
from diffcli.verify import verdict as C
from diffcli.verify.verdict import Tolerances


def test_logsumexp_is_stable_and_its_gradient_is_the_softmax():
    r = C.grad("logsumexp(x)", at={"x": [1000, 1001, 1002]})
    assert float(r.value) == np.log(np.exp([-2.0, -1.0, 0.0]).sum()) + 1002
    softmax = np.exp([-2.0, -1.0, 0.0]) / np.exp([-2.0, -1.0, 0.0]).sum()
    # exp(x - 1002.4076...) as PyTorch: the value's rounding at 1e3 shows
    np.testing.assert_allclose(np.asarray(r.gradient["x"], float), softmax, rtol=1e-12)
    # exp(1000) / (exp(1000) + ...) overflows in float64: SymPy evaluates it
    np.testing.assert_allclose(r.closed_form_at_point["x"], softmax, rtol=1e-14)
    assert r.check.status == "ok", r.check


def test_the_naive_formula_overflows_and_the_check_says_so():
    """log(sum(exp(x))) at 1000: the engine's nan is no longer waved through."""
    r = C.grad("log(sum(exp(x)))", at={"x": [1000, 1001, 1002]})
    assert np.isnan(np.asarray(r.gradient["x"], float)).all()
    assert np.isfinite(r.closed_form_at_point["x"]).all()
    assert r.check.status == "overflow"  # the verdict for an engine's nan there


# --- the three-way check on every function of the language -------------------------


X = [0.3, -0.7, 0.5]  # inside (-1, 1), no ties, no zeros, no integers
Y = [1.3, 0.6, 2.1]  # positive
A = [[1.5, 0.4], [-0.3, 2.0]]  # well away from singular
SPD = [[2.0, 0.5], [0.5, 1.5]]
P = [0.2, 0.7, 0.4]  # probabilities
AT = {"x": X, "y": Y, "A": A, "S": SPD, "p": P}
# One expression per function, at a point away from its kinks; x, y, A, S, p
# are the variables above.
WITNESSES = {
    **{f: f"sum({f}(x))" for f in ("abs", "asin", "acos", "atan", "atanh", "erf")},
    **{f: f"sum({f}(x))" for f in ("sinh", "cosh", "asinh", "exp", "exp2", "expm1")},
    **{f: f"sum({f}(x))" for f in ("erfc", "erfinv", "neg", "sin", "cos", "tan")},
    **{f: f"sum({f}(x))" for f in ("tanh", "sigmoid", "relu", "sinc", "square")},
    **{f: f"sum({f}(x))" for f in ("silu", "gelu", "elu", "selu", "leaky_relu")},
    **{f: f"sum({f}(x))" for f in ("logsigmoid", "hardtanh", "relu6", "softplus")},
    **{f: f"sum({f}(x))" for f in ("sec", "csc", "cot", "cbrt")},
    **{f: f"sum({f}(y))" for f in ("log", "log10", "log2", "log1p", "sqrt")},
    **{f: f"sum({f}(y))" for f in ("rsqrt", "reciprocal", "lgamma", "digamma")},
    "acosh": "sum(acosh(y + 1))",
    "polygamma": "sum(polygamma(1, y))",
    **{f: f"sum({f}(3 * x) * x)" for f in ("floor", "ceil", "trunc", "round")},
    **{f: f"sum({f}(x, y))" for f in ("add", "sub", "mul", "div")},
    "pow": "sum(pow(y, x))",  # a negative base to a fractional power is nan
    **{f: f"sum({f}(x, y))" for f in ("maximum", "minimum", "atan2", "hypot")},
    **{f: f"sum({f}(x, y))" for f in ("xlogy", "fmod", "remainder")},
    "frac": "sum(frac(3 * x))",
    "sign": "sum(sign(x) * x)",
    "heaviside": "sum(heaviside(x, 0.5) * x)",
    "clamp": "sum(clamp(x, -0.6, 0.4))",
    "where": "sum(where(x > 0, x, y))",
    **{f: f"{f}(x)" for f in ("sum", "mean", "amax", "amin", "max", "min", "norm")},
    **{f: f"{f}(x)" for f in ("prod", "logsumexp", "var", "std")},
    **{f: f"sum({f}(x, 0) * y)" for f in ("cumsum", "cumprod")},
    **{f: f"sum({f}(x) * y)" for f in ("softmax", "log_softmax")},
    **{f: f"{f}(A)" for f in ("det", "trace", "logdet", "nuclear_norm")},
    **{f: f"sum({f}(A))" for f in ("inv", "pinv", "tril", "triu", "diag")},
    **{f: f"sum({f}(A))" for f in ("diagonal", "transpose", "flatten")},
    "cholesky": "sum(cholesky(S))",
    "matrix_power": "sum(matrix_power(A, 3))",
    "solve": "sum(solve(A, x[:2]))",
    "dot": "dot(x, y)",
    "inner": "inner(x, y)",
    "outer": "sum(outer(x, y) ** 2)",
    "cross": "sum(cross(x, y))",
    "mm": "sum(mm(A, A))",
    "matmul": "sum(matmul(A, x[:2]))",
    "kron": "sum(kron(A, A) ** 2)",
    "diag_embed": "sum(diag_embed(x) @ y)",
    "permute": "sum(permute(A, 1, 0) @ x[:2])",
    "reshape": "sum(reshape(x, 3, 1) * y)",
    "unsqueeze": "sum(unsqueeze(x, 0) * y)",
    "squeeze": "sum(squeeze(unsqueeze(x, 0)) * y)",
    "broadcast_to": "sum(broadcast_to(x, [2, 3]) * y)",
    "stack": "sum(stack([x, y]) ** 2)",
    "cat": "sum(cat([x, y * x]) ** 2)",
    "flip": "sum(flip(x, 0) * y)",
    "roll": "sum(roll(x, 1) * y)",
    "repeat": "sum(repeat(x, 2) ** 2)",
    "detach": "sum(detach(y) * x)",
    **{f: f"sum({f}(3) * x)" for f in ("ones", "zeros", "arange")},
    "eye": "sum(eye(2) @ x[:2])",
    "linspace": "sum(linspace(0, 1, 3) * x)",
    **{f: f"{f}(x, y)" for f in ("mse_loss", "l1_loss", "smooth_l1_loss")},
    "huber_loss": "huber_loss(x, y)",
    "binary_cross_entropy": "binary_cross_entropy(p, sigmoid(x))",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits(x, p)",
    "cross_entropy": "cross_entropy(x, 2) + cross_entropy(A, [0, 1])",
    "nll_loss": "nll_loss(log_softmax(A, 1), [1, 0])",
    "kl_div": "kl_div(log_softmax(x, 0), p, reduction='sum')",
}
LANGUAGE = sorted(n for n, fn in FUNCTIONS.items() if "expr" in fn.surfaces)


def test_every_language_function_has_a_witness():
    assert set(WITNESSES) == set(LANGUAGE)


@pytest.mark.parametrize("name", LANGUAGE)
def test_the_three_way_check_says_ok_away_from_kinks(name):
    text = WITNESSES[name]
    used = free_names(parse(text))
    r = C.grad(text, at={n: AT[n] for n in used}, tol=Tolerances(simplify=False))
    assert r.check.status == "ok", (text, r.check)
    assert r.closed_form_at_point, text
