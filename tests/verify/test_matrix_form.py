"""Matrix-notation closed forms (issue 16): hand-derived identities, each
checked as printed AND by its value at the point against the engine, and by
pasting the printed form back into diffcli."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.engine.tensor import Tensor
from diffcli.expr import parser as P
from diffcli.expr.numeric import evaluate_numeric
from diffcli.verify.verdict import Tolerances, grad

RNG = np.random.default_rng(16)
A = RNG.normal(size=(3, 3))
X = RNG.normal(size=(3, 3)) + 3 * np.eye(3)  # det > 0
x, y, w, b = (RNG.normal(size=3) for _ in range(4))
ONLY_MATRIX = Tolerances(sym_max_elements=0)  # the matrix form alone witnesses


def pasted(form: str, values: dict) -> np.ndarray:
    """The printed form, evaluated by diffcli itself: it can be pasted back."""
    tensors = {n: Tensor(np.asarray(v, dtype=np.float64)) for n, v in values.items()}
    return evaluate_numeric(P.parse(form), tensors, form)._data


def check(text, at, let, expected, hand, tol=ONLY_MATRIX):
    """Printed forms as ``expected``; their values (witness and pasted back)
    as the engine's and as the hand-derived ``hand``."""
    r = grad(text, at=at, let=let, tol=tol)
    assert r.closed_form_matrix == expected
    assert r.check.status == "ok", r.check.reason
    assert r.check.symbolic_max_abs_err is not None  # the matrix form voted
    values = {**at, **let}
    for name, want in hand.items():
        np.testing.assert_allclose(r.gradient[name], want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.closed_form_at_point[name], want, rtol=1e-10)
        np.testing.assert_allclose(pasted(expected[name], values), want, rtol=1e-10)
    return r


def test_quadratic_form():
    check("x @ A @ x", {"x": x}, {"A": A}, {"x": "(A + A.T) @ x"}, {"x": (A + A.T) @ x})


def test_quadratic_form_with_the_per_component_witness_too():
    r = check(
        "x @ A @ x",
        {"x": x},
        {"A": A},
        {"x": "(A + A.T) @ x"},
        {"x": (A + A.T) @ x},
        tol=Tolerances(),
    )
    assert r.closed_form is not None  # both forms, both agree


def test_bilinear_form():
    check(
        "x @ A @ y",
        {"x": x, "y": y, "A": A},
        {},
        {"x": "A @ y", "y": "A.T @ x", "A": "outer(x, y)"},
        {"x": A @ y, "y": A.T @ x, "A": np.outer(x, y)},
    )


def test_least_squares():
    B = RNG.normal(size=(4, 3))
    bb = RNG.normal(size=4)
    check(
        "sum((A @ w - b)**2)",
        {"w": w},
        {"A": B, "b": bb},
        {"w": "2 * A.T @ (A @ w - b)"},
        {"w": 2 * B.T @ (B @ w - bb)},
    )


def test_trace_forms():
    check(
        "trace(A @ X)",
        {"X": X, "A": A},
        {},
        {"A": "X.T", "X": "A.T"},
        {"A": X.T, "X": A.T},
    )
    check(
        "trace(A @ X @ X.T)",
        {"X": X},
        {"A": A},
        {"X": "(A + A.T) @ X"},
        {"X": (A + A.T) @ X},
    )


def test_log_determinant_and_determinant():
    inv_t = np.linalg.inv(X).T
    check("logdet(X)", {"X": X}, {}, {"X": "inv(X).T"}, {"X": inv_t})
    check(
        "det(X)",
        {"X": X},
        {},
        {"X": "det(X) * inv(X).T"},
        {"X": np.linalg.det(X) * inv_t},
    )


def test_inverse():
    inv_t = np.linalg.inv(X).T
    check(
        "sum(inv(X))",
        {"X": X},
        {},
        {"X": "-inv(X).T @ ones(3, 3) @ inv(X).T"},
        {"X": -inv_t @ np.ones((3, 3)) @ inv_t},
    )


def test_softmax_cross_entropy():
    t = np.array([0.2, 0.3, 0.5])
    s = np.exp(x) / np.exp(x).sum()
    check(
        "-sum(t * log_softmax(x))",
        {"x": x},
        {"t": t},
        {"x": "sum(t) * softmax(x) - t"},
        {"x": s * t.sum() - t},
    )


def test_one_hidden_layer_mlp():
    Xd = RNG.normal(size=(5, 3))
    W1, b1, W2 = RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=4)
    t = RNG.normal(size=5)
    H = np.tanh(Xd @ W1 + b1)
    r = H @ W2 - t
    D = np.outer(r, W2) * (1 - H**2) * 2 / 5  # d loss / d (X @ W1 + b1)
    hidden = "outer(tanh(X @ W1 + b1) @ W2 - y, W2) * (1 - tanh(X @ W1 + b1)**2)"
    check(
        "mean((tanh(X @ W1 + b1) @ W2 - y)**2)",
        {"W1": W1, "b1": b1, "W2": W2},
        {"X": Xd, "y": t},
        {
            "W1": f"2 / 5 * X.T @ ({hidden})",
            "b1": f"2 / 5 * sum({hidden}, dim=0)",
            "W2": "2 / 5 * tanh(X @ W1 + b1).T @ (tanh(X @ W1 + b1) @ W2 - y)",
        },
        {"W1": Xd.T @ D, "b1": D.sum(axis=0), "W2": 2 / 5 * H.T @ r},
    )


def test_no_matrix_form_is_a_stated_reason_and_the_per_component_forms_stay():
    r = grad("prod(x)", at={"x": x[:2]})
    assert r.closed_form_matrix is None
    assert r.matrix_reason == "no matrix form: prod is not supported"
    assert r.closed_form is not None and r.check.status == "ok"


def _doubled(monkeypatch):
    """A deliberately wrong matrix form: twice the gradient."""
    from diffcli.expr import matrix_backend as MB
    from diffcli.expr import matrix_expr as E

    right = MB.gradient
    monkeypatch.setattr(
        MB,
        "gradient",
        lambda f, wrt, seed=None: {n: E.scale(2, g) for n, g in right(f, wrt).items()},
    )


def test_a_wrong_matrix_form_alone_is_a_mismatch(monkeypatch):
    _doubled(monkeypatch)
    r = grad("x @ A @ x", at={"x": x}, let={"A": A}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix == {"x": "2 * (A + A.T) @ x"}
    assert r.check.status == "mismatch"
    assert r.check.reason.startswith("the closed form disagrees at x[0]")
    assert any("the matrix closed form stands in" in n for n in r.check.notes)


def test_a_wrong_matrix_form_beside_the_per_component_ones_is_withheld(monkeypatch):
    _doubled(monkeypatch)
    r = grad("x @ A @ x", at={"x": x}, let={"A": A})
    assert r.check.status == "ok"  # the per-component forms and differences agree
    assert r.closed_form_matrix is None
    assert r.matrix_reason.startswith(
        "no matrix form: the one found disagrees with the engine at x[0]"
    )
    assert r.matrix_reason in r.check.notes


def test_over_the_per_component_limit_the_matrix_form_still_checks():
    big = RNG.normal(size=(30, 20))  # 600 variable elements, over 512
    ww, bb = RNG.normal(size=20), RNG.normal(size=30)
    r = grad("sum((A @ w - b)**2)", at={"A": big, "w": ww}, let={"b": bb})
    assert r.closed_form_matrix == {
        "A": "2 * outer(A @ w - b, w)",
        "w": "2 * A.T @ (A @ w - b)",
    }
    assert r.check.status == "ok"
    assert r.check.symbolic_max_abs_err < 1e-9
    assert any("the matrix closed form stands in" in n for n in r.check.notes)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("sum(sigmoid(x))", "sigmoid(x) * (1 - sigmoid(x))"),
        ("sum(relu(A @ x))", "A.T @ where(A @ x > 0, 1, 0)"),
        ("logsumexp(x)", "softmax(x)"),
        ("sum(exp(x) / 2)", "1 / 2 * exp(x)"),
        ("sum(x)", "ones(3)"),
        ("sum((2 * x**2 - x) * ones(3))", "4 * x - 1"),
        (
            "sum(sigmoid(x) * log(sigmoid(x)))",  # u / u is 1, ones + u is 1 + u
            "(1 + log(sigmoid(x))) * (sigmoid(x) * (1 - sigmoid(x)))",
        ),
        ("sum(exp(x) / x)", "exp(x) / x - exp(x) / x**2"),
        ("sum(x / (A @ x))", "1 / (A @ x) - A.T @ (x / (A @ x)**2)"),
        ("sum(log(x**2 + 1))", "2 * x / (x**2 + 1)"),
        ("sum(sin(x) * cos(x))", "cos(x)**2 - sin(x)**2"),
    ],
)
def test_elementwise_functions(text, form):
    r = grad(text, at={"x": x}, let={"A": A}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix == {"x": form}
    assert r.check.status == "ok"
    np.testing.assert_allclose(pasted(form, {"x": x, "A": A}), r.gradient["x"])


def test_latex():
    r = grad("x @ A @ x", at={"x": x}, let={"A": A}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix_latex == {"x": r"\left(A + A^{\top}\right) x"}
    r = grad("det(X)", at={"X": X}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix_latex == {"X": r"\det\left(X\right) X^{-\top}"}
    r = grad("sum((A @ w - b)**2)", at={"w": w}, let={"A": A, "b": b}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix_latex == {"w": r"2 A^{\top} \left(A w - b\right)"}


def test_a_deep_nest_has_no_matrix_form_and_says_why():
    r = grad("sin(" * 199 + "x" + ")" * 199, at={"x": 1.0})
    assert r.check.status == "ok"
    assert r.matrix_reason == "no matrix form: the expression is nested too deeply"


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("sum(B + v)", {"B": "ones(3, 4)", "v": "3 * ones(4)"}),  # a bias: 3 rows
        ("sum(sum(B, dim=1) * x)", {"B": "outer(x, ones(4))", "x": "sum(B, dim=1)"}),
        ("sum(B / v)", {"B": "ones(3, 4) / v", "v": "-sum(B / v**2, dim=0)"}),
        ("sum(x / s)", {"s": "-sum(x / s**2)", "x": "ones(3) / s"}),
        ("sum(B * k)", {"B": "k * ones(3, 4)", "k": "sum(B, dim=1, keepdim=True)"}),
    ],
)
def test_broadcasting_and_reductions(text, forms):
    values = {
        "B": RNG.normal(size=(3, 4)),
        "v": RNG.normal(size=4) + 3,
        "x": x,
        "s": np.array(1.5),
        "k": RNG.normal(size=(3, 1)),
    }
    at = {n: values[n] for n in forms}
    r = grad(text, at=at, tol=ONLY_MATRIX)
    assert r.closed_form_matrix == forms
    assert r.check.status == "ok", r.check.reason
    for name, form in forms.items():
        np.testing.assert_allclose(pasted(form, at), r.gradient[name], rtol=1e-12)


def test_unicode():
    r = grad("det(X)", at={"X": X}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix_unicode == {"X": "det(X) X⁻ᵀ"}
    r = grad("sum(sigmoid(W1) @ v)", at={"W1": A, "v": x}, tol=ONLY_MATRIX)
    assert r.closed_form_matrix_unicode == {
        "W1": "𝟏₃ vᵀ ⊙ (σ(W₁) ⊙ (1 - σ(W₁)))",
        "v": "σ(W₁)ᵀ 𝟏₃",
    }


def test_a_matrix_form_that_takes_too_long_is_a_stated_reason(monkeypatch):
    import time

    from diffcli.expr import matrix_backend as MB

    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(MB, "gradient", slow)
    r = grad("x @ A @ x", at={"x": x}, let={"A": A}, tol=Tolerances(sym_timeout=0.2))
    assert r.closed_form_matrix is None
    assert r.matrix_reason == "no matrix form: it took longer than 0.2 s"
    assert r.check.status == "ok"


def test_euclidean_norm_of_a_residual():
    r_ = A @ w - b
    check(
        "norm(A @ w - b)",
        {"w": w},
        {"A": A, "b": b},
        {"w": "A.T @ ((A @ w - b) / norm(A @ w - b))"},
        {"w": A.T @ r_ / np.linalg.norm(r_)},
    )


def test_norm_of_squares_as_seed_000_derives_it():
    # d/dx sqrt(sum x**4) = 2 x**3 / norm(x**2)
    q = np.array([1.0, 2.0])
    check(
        "norm(x**2)",
        {"x": q},
        {},
        {"x": "2 * x**2 / norm(x**2) * x"},
        {"x": 2 * q**3 / np.linalg.norm(q**2)},
    )


def test_other_norms_have_no_matrix_form_and_say_why():
    r = grad("norm(x, p=3)", at={"x": x})
    assert r.closed_form_matrix is None
    assert r.matrix_reason == (
        "no matrix form: norm is supported as the 1- or 2-norm of all elements"
    )
