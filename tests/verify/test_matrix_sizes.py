"""Matrix forms over names given no value (issue 16): shapes from the values
given or symbolic sizes.  Each printed form is hand-derived, then checked by
giving every name a random value and comparing the printed form (pasted back
into diffcli) with the engine's gradient there."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.engine.tensor import Tensor
from diffcli.expr import matrix_sizes as Z
from diffcli.expr import parser as P
from diffcli.expr.numeric import evaluate_numeric
from diffcli.verify.verdict import grad

RNG = np.random.default_rng(1616)


def pasted(form: str, values: dict) -> np.ndarray:
    tensors = {n: Tensor(np.asarray(v, dtype=np.float64)) for n, v in values.items()}
    return evaluate_numeric(P.parse(form), tensors, form)._data


def concrete(sizes: dict, n: int = 4) -> dict:
    """A random value for each value-less name, its symbolic sizes made ``n``;
    square matrices well away from singular (det, inv, logdet)."""
    out = {}
    for name, shape in sizes.items():
        dims = tuple(d if isinstance(d, int) else n for d in shape)
        v = RNG.normal(size=dims)
        if len(dims) == 2 and dims[0] == dims[1]:
            v = v @ v.T + dims[0] * np.eye(dims[0])  # det > 0
        out[name] = v
    return out


def symbolic(text, at, wrt, form, sizes):
    """The printed form and the shapes taken; the check honestly skipped;
    then the form against the engine with every name given a value."""
    r = grad(text, at=at, wrt=wrt)
    assert r.closed_form_matrix == form
    assert r.matrix_sizes == sizes
    assert r.check.status == "skipped"
    assert "no value: the result is symbolic" in r.check.reason
    values = {**{n: np.asarray(v, dtype=float) for n, v in at.items()}}
    values |= concrete(sizes)
    full = grad(text, at=values, wrt=wrt)
    assert full.check.status == "ok"
    for name, printed in form.items():
        want = full.gradient[name]
        np.testing.assert_allclose(pasted(printed, values), want, rtol=1e-10)
    return r


def test_quadratic_form_takes_A_square_from_x():
    r = symbolic("x@A@x", {"x": [1, 2]}, ["x"], {"x": "(A + A.T) @ x"}, {"A": [2, 2]})
    assert r.closed_form_matrix_unicode == {"x": "(A + Aᵀ) x"}
    assert r.closed_form_matrix_latex == {"x": r"\left(A + A^{\top}\right) x"}
    assert r.check.notes == [
        "no per-component closed form without values; "
        "the matrix form takes A as a 2 x 2 matrix"
    ]


def test_quadratic_form_with_no_value_at_all_has_symbolic_sizes():
    sizes = {"A": ["n", "n"], "x": ["n"]}
    r = symbolic("x@A@x", {}, ["x"], {"x": "(A + A.T) @ x"}, sizes)
    assert "A as an n x n matrix, x as a vector of n" in r.check.notes[0]


def test_least_squares_rows_are_a_symbolic_size():
    # d/dw |A w - b|^2 = 2 A^T (A w - b); A has 3 columns (w), n rows
    symbolic(
        "sum((A@w-b)**2)",
        {"w": [1, 2, 3]},
        ["w"],
        {"w": "2 * A.T @ (A @ w - b)"},
        {"A": ["n", 3], "b": ["n"]},
    )


def test_trace_of_a_product():
    # d/dX tr(A X) = A^T
    symbolic("trace(A@X)", {"X": [[1, 2], [3, 4]]}, ["X"], {"X": "A.T"}, {"A": [2, 2]})


def test_det_and_logdet_of_a_value_less_variable():
    # d det(X) = det(X) X^-T;  d logdet(X) = X^-T
    symbolic("det(X)", {}, ["X"], {"X": "det(X) * inv(X).T"}, {"X": ["n", "n"]})
    symbolic("logdet(X)", {}, ["X"], {"X": "inv(X).T"}, {"X": ["n", "n"]})


def test_dot_takes_two_vectors():
    # d/dx (A x) . b = A^T b
    form, sizes = {"x": "A.T @ b"}, {"A": ["n", 2], "b": ["n"]}
    symbolic("dot(A@x, b)", {"x": [1, 2]}, ["x"], form, sizes)


def test_relu_mask_keeps_its_zero():
    # d/dx sum(relu(A x)) = A^T [A x > 0]
    form = {"x": "A.T @ where(A @ x > 0, 1, 0)"}
    symbolic("sum(relu(A@x))", {"x": [1, -2]}, ["x"], form, {"A": ["n", 2]})


def test_mean_divides_by_the_symbolic_size():
    # d/dw mean(A w) = A^T 1 / n
    r = grad("mean(A@w)", at={"w": [1, 2, 3]}, wrt=["w"])
    assert r.closed_form_matrix == {"w": "1 / n * A.T @ ones(n)"}
    assert r.closed_form_matrix_unicode == {"w": "1/n Aᵀ 𝟏ₙ"}
    values = {"w": np.array([1.0, 2, 3]), "A": RNG.normal(size=(4, 3))}
    want = grad("mean(A@w)", at=values, wrt=["w"]).gradient["w"]
    got = pasted("1 / 4 * A.T @ ones(4)", values)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_seed_gives_the_output_its_shape():
    r = grad("A@w", at={"w": [1, 2, 3]}, wrt=["w"], seed="ones")
    assert r.matrix_sizes == {"A": ["n", 3]}
    assert r.closed_form_matrix == {"w": "A.T @ ones(n)"}
    r = grad("A@w", at={"w": [1, 2, 3]}, wrt=["w"], seed="[1, 1]")
    assert r.matrix_sizes == {"A": [2, 3]}
    assert r.closed_form_matrix == {"w": "A.T @ ones(2)"}


def test_scalar_names_stay_scalars_as_in_the_per_component_forms():
    r = grad("sum(a*x**2)", at={"x": [1, 2]}, wrt=["x"])
    assert r.closed_form_matrix == {"x": "2 * a * x"}
    assert r.matrix_sizes == {"a": []}
    assert [str(c) for c in r.closed_form["x"]] == ["2*a*x[0]", "2*a*x[1]"]
    assert r.check.notes == []  # the per-component forms are there


def test_what_sizes_cannot_cover_says_why():
    r = grad("sum(A[1:] @ w)", at={"w": [1, 2, 3]}, wrt=["w"])  # n - 1 rows
    assert r.closed_form_matrix is None
    assert r.matrix_reason == (
        "no matrix form: indexing with a value-less name is not supported"
    )


def test_shapes_that_fit_no_ranks_say_so():
    with pytest.raises(Z.NoMatrixForm, match="do not fit any ranks of A"):
        Z.infer(P.parse("x@A@y"), {"x": (2,), "y": (3,)}, ["A"], (5,))


def test_a_number_made_of_symbolic_sizes_is_refused_not_printed():
    label = {1009: "n"}
    assert Z.name_sizes("ones(1009) / 1009", label) == "ones(n) / n"
    assert Z.name_sizes("where(u > 0, 1, 0)", label) == "where(u > 0, 1, 0)"
    with pytest.raises(Z.NoMatrixForm, match="made of sizes nobody gave"):
        Z.name_sizes("2018 * x", label)


def test_stand_ins_avoid_numbers_of_the_expression():
    shapes, label = Z.stand_ins({"A": ("?0", 3)}, {3, 2018}, {"n", "A"})
    (p,) = label
    assert 2018 % p and shapes == {"A": (p, 3)} and label[p] == "m"


def test_a_count_of_symbolic_sizes_is_refused_not_printed_as_digits():
    # mean over n x 2 elements: 1 / (2 n), a number made of a stand-in
    r = grad("mean(A@W)", at={"W": [[1, 2], [3, 4], [5, 6]]}, wrt=["W"])
    assert r.closed_form_matrix is None
    assert r.matrix_reason == "no matrix form: its numbers depend on sizes nobody gave"


def test_a_number_of_the_user_equal_to_a_stand_in_is_not_renamed():
    # 1000 + 9 is 1009, the first stand-in: the form is written again with others
    r = grad("sum(A@w)*1000 + sum(A@w)*9", at={"w": [1, 2, 3]}, wrt=["w"])
    assert r.closed_form_matrix == {"w": "1009 * A.T @ ones(n)"}


def test_maximum_and_where_over_value_less_names():
    # d/dx sum(max(A x, y)) = A^T ([A x > y] + [A x = y] / 2), PyTorch's tie
    form = {"x": "A.T @ where(A @ x > y, 1, where(A @ x == y, 1 / 2, 0))"}
    sizes = {"A": ["n", 2], "y": ["n"]}
    symbolic("sum(maximum(A @ x, y))", {"x": [1, 2]}, ["x"], form, sizes)
    form = {"x": "A.T @ where(A @ x > y, 1, 0)"}
    symbolic("sum(where(A @ x > y, A @ x, y))", {"x": [1, 2]}, ["x"], form, sizes)
    # was: "where with a value-less name is not supported"
    A, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([2.0, 1.0, 3.0])
    # A x = [1, 2, 3]: above y in row 1, tied in row 2
    np.testing.assert_allclose(
        pasted(form["x"], {"A": A, "y": y, "x": [1, 2]}),
        [0.0, 1.0],
    )


def test_cross_entropy_of_a_value_less_layer():
    # d/dx CE(A x + b, 1) = A^T (softmax(A x + b) - e_1); A's rows from b
    form = {"x": "A.T @ (softmax(A @ x + b) - eye(3)[1])"}
    at = {"x": [1, 2], "b": [0.1, 0.2, 0.3]}
    symbolic("cross_entropy(A @ x + b, 1)", at, ["x"], form, {"A": [3, 2]})


def test_a_sum_over_dim_0_of_a_scalar_is_the_scalar():
    # torch.sum(c, dim=0) of a 0-d c is c: d/dx c x.x = 2 c x (was numpy's
    # "axis 0 is out of bounds for array of dimension 0" as the reason)
    r = grad("sum(c, dim=0) * x @ x", at={"x": [1, 2]}, wrt=["x"])
    assert r.closed_form_matrix == {"x": "2 * c * x"}
    r = grad("sum(c, dim=0) * x @ x", at={"x": [1, 2]}, let={"c": 3})
    assert r.closed_form_matrix == {"x": "2 * c * x"}
    np.testing.assert_allclose(r.gradient["x"], [6, 12])


def test_a_reduction_over_dim_1_makes_a_matrix():
    # sum(B, dim=1) needs B of two dims: B is 3 x n, d/dx = B's row sums
    # (was "dim 1 is out of range for a 0-D value": B taken as a scalar)
    form, sizes = {"x": "sum(B, dim=1)"}, {"B": [3, "n"]}
    symbolic("sum(sum(B, dim=1) * x)", {"x": [1, 2, 3]}, ["x"], form, sizes)
    B = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(pasted(form["x"], {"B": B}), [3.0, 7.0, 11.0])


def test_a_bilinear_form_without_values_reads_as_the_cookbook_writes_it():
    # x @ A @ y: x, y vectors, A a matrix (was: x an m x n matrix, A a vector,
    # d/dx outer(y, A)); d/dx = A y, d/dy = A.T x
    sizes = {"A": ["n", "m"], "x": ["n"], "y": ["m"]}
    form = {"x": "A @ y", "y": "A.T @ x"}
    symbolic("x @ A @ y", {}, ["x", "y"], form, sizes)
    A, x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0]), np.ones(2)
    np.testing.assert_allclose(pasted(form["x"], {"A": A, "y": y}), [3.0, 7.0])
    np.testing.assert_allclose(pasted(form["y"], {"A": A, "x": x}), [-2.0, -2.0])


def test_indexing_a_value_less_name_by_integers_and_whole_slices():
    # d/dw A[0] . w = A[0]; d/dw A[:, 1] . w = A[:, 1] (was: indexing with a
    # value-less name is not supported)
    symbolic("sum(A[0] * w)", {"w": [1, 2, 3]}, ["w"], {"w": "A[0]"}, {"A": ["n", 3]})
    symbolic("A[:, 1] @ w", {"w": [1, 2, 3]}, ["w"], {"w": "A[:, 1]"}, {"A": [3, "n"]})
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(pasted("A[0]", {"A": A}), [0.0, 1.0, 2.0])


def test_an_integer_index_on_a_size_nobody_gave():
    # r[:, 2] with r's rows unknown: was "the sizes of r: '<' not supported
    # between instances of 'int' and 'str'"
    form, sizes = {"x": "r[:, 2]"}, {"r": [2, "n"]}
    symbolic("sum(r[:, 2] * x)", {"x": [1, 2]}, ["x"], form, sizes)
