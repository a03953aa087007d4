"""Matrix forms found wrong, unwritten or clumsy in review (issue 16), each
with its hand-derived value: the printed form pasted back equals it, and the
engine's gradient does too."""

from __future__ import annotations

import numpy as np

from diffcli.verify.verdict import Tolerances, grad
from tests.verify.test_matrix_form import pasted

ONLY_MATRIX = Tolerances(sym_max_elements=0)
A = np.array([[1.0, 2.0], [3.0, 4.0]])
X = np.array([[3.0, 1.0], [1.0, 2.0]])


def forms(text, at, let=None, wrt=None, tol=ONLY_MATRIX):
    r = grad(text, at=at, let=let or {}, wrt=wrt, tol=tol)
    return r, r.closed_form_matrix


def test_a_vector_added_to_every_row_transposes_to_a_column():
    # d/dx z @ (y + A) @ x = (y + A).T @ z = A.T @ z + y * sum(z)
    y, z = np.array([1.0, 5.0]), np.array([2.0, 3.0])
    hand = A.T @ z + y * z.sum()  # [16, 41]
    np.testing.assert_allclose(hand, [16, 41])
    text = "z @ (y + A) @ x"
    r, f = forms(text, {"x": [1, 2]}, {"y": y, "z": z, "A": A})
    assert f == {"x": "(y + A).T @ z"}  # was withheld: (y + A.T) @ z, [28, 38]
    assert r.check.status == "ok"
    np.testing.assert_allclose(r.gradient["x"], hand)
    np.testing.assert_allclose(pasted(f["x"], {"y": y, "z": z, "A": A}), hand)
    # A without a value: no check runs, and the form printed was wrong
    r, f = forms(text, {"x": [1, 2]}, {"y": y, "z": z}, wrt=["x"])
    assert f == {"x": "(y + A).T @ z"}


def test_a_row_vector_broadcast_under_where_and_transpose():
    # sum(where(y > 0, A.T, 0)): A.T[i, j] = A[j, i] counts where y[j] > 0,
    # so dA[j, i] = [y[j] > 0]: a column mask (was a row: withheld)
    y = np.array([1.0, -1.0])
    r, f = forms("sum(where(y > 0, A.T, 0))", {"A": A}, {"y": y})
    assert f == {"A": "outer(where(y > 0, 1, 0), ones(2))"}
    hand = np.array([[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(r.gradient["A"], hand)
    np.testing.assert_allclose(pasted(f["A"], {"y": y}), hand)


def test_a_vector_minus_a_matrix_under_a_vector_product():
    # sum(x @ (v - B)) = x @ (v - B) @ ones: d/dx = (v - B) @ ones(3);
    # numpy's broadcasting message was shown as the reason for no form
    v, B = np.array([1.0, 2.0, 3.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    r, f = forms("sum(x @ (v - B))", {"x": [1, 2]}, {"v": v, "B": B})
    assert f == {"x": "(v - B) @ ones(3)"}
    hand = np.array([0.0, -9.0])
    np.testing.assert_allclose(r.gradient["x"], hand)
    np.testing.assert_allclose(pasted(f["x"], {"v": v, "B": B}), hand)


def test_ridge_terms_meet():
    # d/dw |A w - b|^2 + lam w.w = 2 (lam w + A.T (A w - b)); was
    # lam * w + w * lam + 2 * A.T @ (A @ w - b)
    w, b, lam = np.array([1.0, 2.0]), np.array([1.0, 1.0]), 0.5
    r, f = forms(
        "sum((A @ w - b)**2) + lam * w @ w", {"w": w}, {"A": A, "b": b, "lam": lam}
    )
    assert f == {"w": "2 * (lam * w + A.T @ (A @ w - b))"}
    hand = 2 * lam * w + 2 * A.T @ (A @ w - b)  # [69, 98]
    np.testing.assert_allclose(hand, [69, 98])
    np.testing.assert_allclose(r.gradient["w"], hand)
    values = {"A": A, "b": b, "lam": lam, "w": w}
    np.testing.assert_allclose(pasted(f["w"], values), hand)
    r, _ = forms("sum((A @ w - b)**2) + lam * w @ w", {"w": w}, wrt=["w"])
    assert r.closed_form_matrix_unicode == {"w": "2 (lam ⊙ w + Aᵀ (A w - b))"}


def test_the_inverse_of_a_symmetric_matrix_is_not_transposed():
    # d logdet(X X.T) / dX = 2 inv(X X.T) X; was (inv(X @ X.T) + inv(X @ X.T).T) @ X
    r, f = forms("logdet(X @ X.T)", {"X": X})
    assert f == {"X": "2 * inv(X @ X.T) @ X"}
    assert r.closed_form_matrix_unicode == {"X": "2 (X Xᵀ)⁻¹ X"}
    hand = 2 * np.linalg.inv(X @ X.T) @ X  # 2 inv(X).T
    np.testing.assert_allclose(hand, 2 * np.linalg.inv(X).T)
    np.testing.assert_allclose(r.gradient["X"], hand)
    np.testing.assert_allclose(pasted(f["X"], {"X": X}), hand)


def test_a_scalar_comes_out_of_a_matrix_product():
    # d det(A X) / dX = det(A X) A.T inv(A X).T; was A.T @ (det(A @ X) * ...)
    r, f = forms("det(A @ X)", {"X": X}, {"A": A})
    assert f == {"X": "det(A @ X) * A.T @ inv(A @ X).T"}
    assert r.closed_form_matrix_unicode == {"X": "det(A X) Aᵀ (A X)⁻ᵀ"}
    hand = np.linalg.det(A @ X) * A.T @ np.linalg.inv(A @ X).T
    det_ax = np.linalg.det(A) * np.linalg.det(X)
    np.testing.assert_allclose(hand, det_ax * np.linalg.inv(X).T)
    np.testing.assert_allclose(r.gradient["X"], hand)
    np.testing.assert_allclose(pasted(f["X"], {"A": A, "X": X}), hand)


def test_a_column_vector_quadratic_form():
    # x (2 x 1): x.T @ A @ x is 1 x 1, d/dx = (A + A.T) @ x; was
    # A @ x @ ones(1, 1) + A.T @ x @ ones(1, 1)
    x = np.array([[1.0], [2.0]])
    r, f = forms("sum(x.T @ A @ x)", {"x": x}, {"A": A})
    assert f == {"x": "(A + A.T) @ x"}
    hand = np.array([[12.0], [21.0]])
    np.testing.assert_allclose(r.gradient["x"], hand)
    np.testing.assert_allclose(pasted(f["x"], {"A": A, "x": x}), hand)


def test_a_quotient_before_a_product_is_parenthesised_in_unicode():
    # d/ds |B|_1 / exp(s) = -|B|_1 / exp(s)**2 * exp(s): "a / b c" would
    # read as a / (b c)
    B = np.array([[1.0, -2.0], [3.0, 4.0]])
    r, f = forms("norm(B, 1) / exp(s)", {"s": 0.5, "B": B})
    assert f["s"] == "-sum(abs(B)) / exp(s)**2 * exp(s)"
    assert r.closed_form_matrix_unicode["s"] == "-(sum(abs(B)) / exp(s)²) exp(s)"
    np.testing.assert_allclose(r.gradient["s"], -10 * np.exp(-0.5))
    np.testing.assert_allclose(pasted(f["s"], {"s": 0.5, "B": B}), -10 * np.exp(-0.5))


def test_a_relu_mask_times_a_vector_is_elementwise_in_unicode():
    Xd, W, b, v = np.eye(2), np.array([1.0, -2.0]), np.array([0.5, 0.5]), A[0]
    r, f = forms("sum(relu(X @ W + b) * v)", {"W": W}, {"X": Xd, "b": b, "v": v})
    assert f == {"W": "X.T @ where(X @ W + b > 0, v, 0)"}
    assert r.closed_form_matrix_unicode == {"W": "Xᵀ ([X W + b > 0] ⊙ v)"}
    np.testing.assert_allclose(r.gradient["W"], [1.0, 0.0])


def test_a_row_sum_and_its_spread_copy_meet():
    # f = sum_ij s_j A_ij with s = sum(A, dim=0): df/dA_ij = 2 s_j; was
    # sum(A, dim=0, keepdim=True) + sum(A, dim=0, keepdim=True) * ones(2, 2)
    r, f = forms("sum(sum(A, dim=0, keepdim=True) * A)", {"A": A})
    assert f == {"A": "2 * sum(A, dim=0, keepdim=True) * ones(2, 2)"}
    hand = np.array([[8.0, 12.0], [8.0, 12.0]])
    np.testing.assert_allclose(r.gradient["A"], hand)
    np.testing.assert_allclose(pasted(f["A"], {"A": A}), hand)


def test_a_sum_over_every_dim_is_the_sum():
    # sum(A, dim=(0, 1)) is sum(A): d/dA sum(A)**2 = 2 sum(A) ones; was
    # (sum(A) + sum(A, dim=[0, 1])) * ones(2, 2)
    r, f = forms("sum(sum(A, dim=(0, 1)) * A)", {"A": A})
    assert f == {"A": "2 * sum(A) * ones(2, 2)"}
    np.testing.assert_allclose(r.gradient["A"], np.full((2, 2), 20.0))
    np.testing.assert_allclose(pasted(f["A"], {"A": A}), np.full((2, 2), 20.0))


def test_a_sum_keeps_its_shape_when_the_term_that_gave_it_cancels():
    # 0 * R + x: R is 1 x 3, x of 3, so the sum is 1 x 3 and relu's mask too;
    # d/dx sums it over the row: [x > 0].  Was sum(where(x > 0, 1, 0), dim=0),
    # a number (2): a false mismatch where the matrix form stands in (over
    # the per-component forms' size limit), withheld beside them
    x = np.array([1.0, -2.0, 3.0])
    r, f = forms("sum(relu(0 * R + x))", {"R": [[1, 2, 3]], "x": x})
    assert r.check.status == "ok", r.check.reason
    assert f == {
        "R": "zeros(1, 3)",
        "x": "sum(where(x * ones(1, 3) > 0, 1, 0), dim=0)",
    }
    np.testing.assert_allclose(r.gradient["x"], [1.0, 0.0, 1.0])
    np.testing.assert_allclose(pasted(f["x"], {"x": x}), [1.0, 0.0, 1.0])


def test_an_inner_product_reads_x_transposed_x_and_twos_cancel():
    # d/dx sqrt(x.x) sum(x) = sqrt(x.x) 1 + sum(x) x / sqrt(x.x); was
    # sqrt(x @ x) + 2 * sum(x) / (2 * sqrt(x @ x)) * x, Unicode √(x x)
    x = np.array([3.0, 4.0])
    r, f = forms("sum(sqrt(x @ x) * x)", {"x": x})
    assert f == {"x": "sqrt(x @ x) + sum(x) / sqrt(x @ x) * x"}
    assert r.closed_form_matrix_unicode == {"x": "√(xᵀ x) + (sum(x) / √(xᵀ x)) x"}
    assert r.closed_form_matrix_latex == {
        "x": r"\sqrt{x^{\top} x} + \frac{\operatorname{sum}\left(x\right)}"
        r"{\sqrt{x^{\top} x}} x"
    }
    hand = 5 + 7 * x / 5  # [9.2, 10.6]
    np.testing.assert_allclose(r.gradient["x"], hand)
    np.testing.assert_allclose(pasted(f["x"], {"x": x}), hand)


def test_a_quotient_before_a_hadamard_product_is_parenthesised_in_unicode():
    x = np.array([1.0, 2.0])
    r, f = forms("sum(x / (2 * exp(x)))", {"x": x})
    assert f == {"x": "1 / 2 * (1 / exp(x) - x / exp(x)**2 * exp(x))"}
    assert r.closed_form_matrix_unicode == {
        "x": "1/2 (1 / exp(x) - (x / exp(x)²) ⊙ exp(x))"
    }
    hand = (1 - x) * np.exp(-x) / 2
    np.testing.assert_allclose(r.gradient["x"], hand)
    np.testing.assert_allclose(pasted(f["x"], {"x": x}), hand)


def test_label_smoothing_reads_as_its_target():
    # CE with smoothing 0.1 over 3 classes: target 0.9 e_1 + 0.1 / 3, so the
    # gradient is softmax(x) - 9/10 e_1 - 1/30; was -9 / 10 * eye(3)[1] -
    # 3333333333333333 / 100000000000000000 - sum(...) * softmax(x)
    x = np.array([1.0, 2.0, 3.0])
    r, f = forms("cross_entropy(x, 1, label_smoothing=0.1)", {"x": x})
    assert f == {"x": "softmax(x) - 9 / 10 * eye(3)[1] - 1 / 30"}
    hand = np.exp(x) / np.exp(x).sum() - np.array([0, 0.9, 0]) - 0.1 / 3
    np.testing.assert_allclose(r.gradient["x"], hand, atol=1e-15)
    np.testing.assert_allclose(pasted(f["x"], {"x": x}), hand, atol=1e-15)


def test_a_relu_layer_with_biases_and_a_row_sum_loss():
    # L = mean_i sum_j (relu(X W1 + b1) W2 + b2 - Y)_ij^2 over 3 samples;
    # R = relu(X W1 + b1) W2 + b2 - Y, D = 2/3 [H > 0] ⊙ (R W2.T):
    # dW1 = X.T D, db1 = D summed over rows, dW2 = 2/3 H.T R, db2 = 2/3 sum_0 R.
    # Was 2 / 3 * (outer(ones(3), ones(1)) * R) inside, and 2/3 inside where
    Xd = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    Y = np.array([[1.0], [2.0], [3.0]])
    at = {
        "W1": np.array([[1.0, 2.0], [3.0, -4.0]]),
        "b1": np.array([0.1, 0.2]),
        "W2": np.array([[1.0], [2.0]]),
        "b2": np.array([0.5]),
    }
    text = "mean(sum((relu(X @ W1 + b1) @ W2 + b2 - Y)**2, dim=1))"
    r, f = forms(text, at, {"X": Xd, "Y": Y})
    inner = "where(X @ W1 + b1 > 0, (relu(X @ W1 + b1) @ W2 + b2 - Y) @ W2.T, 0)"
    assert f == {
        "W1": f"2 / 3 * X.T @ {inner}",
        "b1": f"2 / 3 * sum({inner}, dim=0)",
        "W2": "2 / 3 * relu(X @ W1 + b1).T @ (relu(X @ W1 + b1) @ W2 + b2 - Y)",
        "b2": "2 / 3 * sum(relu(X @ W1 + b1) @ W2 + b2 - Y, dim=0)",
    }
    Z = Xd @ at["W1"] + at["b1"]
    H = np.maximum(Z, 0)
    R = H @ at["W2"] + at["b2"] - Y
    D = 2 / 3 * (Z > 0) * (R @ at["W2"].T)
    hand = {"W1": Xd.T @ D, "b1": D.sum(0), "W2": 2 / 3 * H.T @ R}
    hand["b2"] = 2 / 3 * R.sum(0)
    values = {**at, "X": Xd, "Y": Y}
    for name, want in hand.items():
        np.testing.assert_allclose(r.gradient[name], want)
        np.testing.assert_allclose(pasted(f[name], values), want)


def test_a_shared_left_factor_is_not_taken_out_of_a_vector_and_a_matrix():
    # A @ x + A @ X: A @ x (a vector) is added to every row, which
    # A @ (x + X) is not: it was the form, and d/dA printed
    # outer(sum(Y, dim=0), x + X) (withheld: engine 5, form 6)
    x, Xm = np.array([1.0, 2.0]), np.array([[1.0, 0.0], [2.0, 1.0]])
    Y = np.array([[1.0, 2.0], [3.0, 5.0]])
    r, f = forms("sum((A @ x + A @ X) * Y)", {"A": A}, {"x": x, "X": Xm, "Y": Y})
    assert f == {"A": "outer(sum(Y, dim=0), x) + Y @ X.T"}
    hand = np.outer(Y.sum(0), x) + Y @ Xm.T  # [[5, 12], [10, 25]]
    np.testing.assert_allclose(hand, [[5, 12], [10, 25]])
    np.testing.assert_allclose(r.gradient["A"], hand)
    np.testing.assert_allclose(pasted(f["A"], {"x": x, "X": Xm, "Y": Y}), hand)


def test_a_slice_backwards_to_the_start():
    # x[::-1] is x[2::-1]; it was printed x[2:-1:-1], which is empty
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    r, f = forms("x[::-1] @ y", {"x": x}, {"y": y})
    assert f == {"x": "eye(3)[2::-1].T @ y"}
    np.testing.assert_allclose(r.gradient["x"], y[::-1])
    np.testing.assert_allclose(pasted(f["x"], {"y": y}), [4.0, 2.0, 1.0])
    r, f = forms("sum(A[::-1, 1])", {"A": A})
    assert f == {"A": "outer(eye(2)[1::-1].T @ ones(2), eye(2)[1])"}
    np.testing.assert_allclose(pasted(f["A"], {}), [[0.0, 1.0], [0.0, 1.0]])


def test_a_scalar_comes_out_of_outer_and_transpose():
    # d/dX [s tr(X X) + x.(s X) x] = 2 s X.T + s x x.T; was
    # outer(x, s * x) + 2 * s * X.T, then (s * outer(x, x)).T + 2 * s * X.T
    s, x = 2.0, np.array([1.0, 2.0])
    r, f = forms("trace(X @ X) * s + x @ (s * X) @ x", {"s": s, "X": X}, {"x": x})
    assert f["X"] == "s * (outer(x, x) + 2 * X.T)"  # a shared scalar out too
    assert r.closed_form_matrix_unicode["X"] == "s (x xᵀ + 2 Xᵀ)"
    hand = 2 * s * X.T + s * np.outer(x, x)  # [[14, 8], [8, 16]]
    np.testing.assert_allclose(hand, [[14, 8], [8, 16]])
    np.testing.assert_allclose(r.gradient["X"], hand)
    np.testing.assert_allclose(pasted(f["X"], {"s": s, "x": x, "X": X}), hand)


def test_latex_names_with_underscores():
    # W_out in LaTeX was W_out: a subscript o followed by "ut"
    x = np.array([1.0, 2.0])
    let = {"W_out": A, "b_": np.ones(2), "w_a_b": x}
    text = "x_hat @ W_out @ x_hat + sum(b_ @ x_hat) + sum(w_a_b * x_hat)"
    r, f = forms(text, {"x_hat": x}, let)
    assert f == {"x_hat": "w_a_b + (W_out + W_out.T) @ x_hat + b_"}
    assert r.closed_form_matrix_latex == {
        "x_hat": r"w_{a\_b} + \left(W_{out} + W_{out}^{\top}\right) x_{hat} + b\_"
    }
    hand = x + (A + A.T) @ x + 1  # [14, 24]
    np.testing.assert_allclose(hand, [14, 24])
    np.testing.assert_allclose(r.gradient["x_hat"], hand)
    np.testing.assert_allclose(pasted(f["x_hat"], {**let, "x_hat": x}), hand)


def test_a_factor_divided_out_again_cancels():
    # d/dw sum(log(sigmoid(X w))) = X.T (1 - sigmoid(X w)); was
    # X.T @ (sigmoid(X @ w) * (1 - sigmoid(X @ w)) / sigmoid(X @ w))
    Xd, w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([0.1, -0.2])
    r, f = forms("sum(log(sigmoid(X @ w)))", {"w": w}, {"X": Xd})
    assert f == {"w": "X.T @ (1 - sigmoid(X @ w))"}
    hand = Xd.T @ (1 - 1 / (1 + np.exp(-Xd @ w)))
    np.testing.assert_allclose(r.gradient["w"], hand)
    np.testing.assert_allclose(pasted(f["w"], {"X": Xd, "w": w}), hand)


def test_a_column_times_a_row_sums_to_numbers():
    # sum(c * R) = sum(c) sum(R): d/dc = sum(R) ones, d/dR = sum(c) ones; was
    # sum(R * ones(2, 3), dim=1, keepdim=True) and its twin
    c, R = np.array([[1.0], [2.0]]), np.array([[1.0, 2.0, 3.0]])
    r, f = forms("sum(c * R)", {"c": c, "R": R})
    assert f == {"c": "sum(R) * ones(2, 1)", "R": "sum(c) * ones(1, 3)"}
    np.testing.assert_allclose(r.gradient["c"], [[6.0], [6.0]])
    np.testing.assert_allclose(pasted(f["c"], {"R": R}), [[6.0], [6.0]])
    np.testing.assert_allclose(pasted(f["R"], {"c": c}), [[3.0, 3.0, 3.0]])
    # sum(c.T * c) = sum(c)**2: was sum(c * ones(2, 2), dim=0, keepdim=True).T
    # + sum(c.T * ones(2, 2), dim=1, keepdim=True)
    r, f = forms("sum(c.T * c)", {"c": c})
    assert f == {"c": "2 * sum(c) * ones(2, 1)"}
    np.testing.assert_allclose(r.gradient["c"], [[6.0], [6.0]])
    # a vector times a column, averaged: 1/4 sum(c) ones(2)
    r, f = forms("mean(x * c)", {"x": np.array([1.0, 2.0]), "c": c})
    assert f == {"x": "1 / 4 * sum(c) * ones(2)", "c": "1 / 4 * sum(x) * ones(2, 1)"}
    np.testing.assert_allclose(pasted(f["x"], {"c": c}), [0.75, 0.75])
    np.testing.assert_allclose(r.gradient["c"], [[0.75], [0.75]])


def test_a_negative_coefficient_turns_a_difference_around():
    # d/dx |y - A x|^2 = 2 A.T (A x - y); was -2 * A.T @ (y - A @ x)
    x, y = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    r, f = forms("sum((y - A @ x) ** 2)", {"x": x}, {"A": A, "y": y})
    assert f == {"x": "2 * A.T @ (A @ x - y)"}
    hand = 2 * A.T @ (A @ x - y)  # [68, 96]
    np.testing.assert_allclose(hand, [68, 96])
    np.testing.assert_allclose(r.gradient["x"], hand)
    np.testing.assert_allclose(pasted(f["x"], {"A": A, "x": x, "y": y}), hand)
    r, f = forms("sum(-(x - y) ** 2)", {"x": x}, {"y": y})
    assert f == {"x": "2 * (y - x)"}
    np.testing.assert_allclose(r.gradient["x"], [0.0, -2.0])


def test_a_weighted_least_squares_chain_of_products():
    # d/dw r.T D r, r = X w - y: X.T (D + D.T) r; the Unicode form had
    # Xᵀ ((D + Dᵀ) (X w - y)), parenthesised as the text form is not
    Xd = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    w, y, D = np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), np.diag([1.0, 2, 3])
    text = "(X @ w - y) @ D @ (X @ w - y)"
    r, f = forms(text, {"w": w}, {"X": Xd, "y": y, "D": D})
    assert f == {"w": "X.T @ (D + D.T) @ (X @ w - y)"}
    assert r.closed_form_matrix_unicode == {"w": "Xᵀ (D + Dᵀ) (X w - y)"}
    hand = Xd.T @ (2 * D) @ (Xd @ w - y)  # r = [0, 1, 1]: [4, 16]
    np.testing.assert_allclose(hand, [4, 16])
    np.testing.assert_allclose(r.gradient["w"], hand)
    np.testing.assert_allclose(pasted(f["w"], {"X": Xd, "y": y, "D": D, "w": w}), hand)


def test_softmax_sums_to_one_and_a_basis_vector_picks():
    # d/dx sum(p log p), p = softmax(x): p ⊙ (log p - sum(p log p)); was
    # softmax(x) + softmax(x) * (...) - sum(softmax(x)) * softmax(x)
    x = np.array([1.0, 2.0, 3.0])
    p = np.exp(x) / np.exp(x).sum()
    r, f = forms("sum(softmax(x) * log_softmax(x))", {"x": x})
    form = "softmax(x) * (log_softmax(x) - sum(log_softmax(x) * softmax(x)))"
    assert f == {"x": form}
    hand = p * (np.log(p) - np.sum(p * np.log(p)))
    np.testing.assert_allclose(r.gradient["x"], hand, atol=1e-15)
    np.testing.assert_allclose(pasted(f["x"], {"x": x}), hand, atol=1e-15)
    # d p_0 / dx = p_0 (e_0 - p); was sum(eye(3)[0] * softmax(x)) for p_0
    r, f = forms("softmax(x)[0]", {"x": x})
    assert f == {"x": "softmax(x) * (eye(3)[0] - softmax(x)[0])"}
    hand = p * (np.eye(3)[0] - p[0])
    np.testing.assert_allclose(r.gradient["x"], hand, atol=1e-15)
    np.testing.assert_allclose(pasted(f["x"], {"x": x}), hand, atol=1e-15)


def test_a_scalar_shared_by_every_term_is_taken_out():
    # d det(X X) / dX = det(X X) (X.T (X X)^-T + (X X)^-T X.T); was
    # det(X @ X) * X.T @ inv(X @ X).T + det(X @ X) * inv(X @ X).T @ X.T
    r, f = forms("det(X @ X)", {"X": X})
    assert f == {"X": "det(X @ X) * (X.T @ inv(X @ X).T + inv(X @ X).T @ X.T)"}
    hand = 2 * np.linalg.det(X) ** 2 * np.linalg.inv(X).T  # 2 det(X)^2 X^-T
    np.testing.assert_allclose(r.gradient["X"], hand)
    np.testing.assert_allclose(pasted(f["X"], {"X": X}), hand)


def test_a_class_target_given_by_name_says_why_in_diffcli_words():
    # was "float() argument must be a string or a real number, not 'M'"
    Am = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    r, f = forms("cross_entropy(A @ x, t)", {"x": [1, 2]}, {"A": Am, "t": 1})
    assert f is None
    assert r.matrix_reason == "no matrix form: 't' used as a number is not supported"
    assert r.check.status == "ok"  # finite differences still witness
    p = np.exp(Am @ [1, 2]) / np.exp(Am @ [1, 2]).sum()
    np.testing.assert_allclose(r.gradient["x"], Am.T @ (p - [0, 1, 0]))
