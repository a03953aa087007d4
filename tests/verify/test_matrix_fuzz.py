"""Matrix forms are never wrong: wherever one is found, its value at the point
is the engine's, over many shapes (vectors, columns, rows, non-square
matrices, broadcasting, reductions, matrix functions)."""

import numpy as np
import pytest

from diffcli.expr import parser as P
from diffcli.verify import matrix_form as MF
from diffcli.verify import witnesses as W
from diffcli.verify.question import prepare

RNG = np.random.default_rng(1)
VALUES = {
    "x": RNG.normal(size=3),
    "y": RNG.normal(size=3),
    "A": RNG.normal(size=(3, 3)),
    "B": RNG.normal(size=(3, 4)),
    "C": RNG.normal(size=(4, 3)),
    "D": RNG.normal(size=(2, 3)),
    "X": RNG.normal(size=(3, 3)) + 3 * np.eye(3),
    "v": RNG.normal(size=4),
    "s": np.array(0.7),
    "r": RNG.normal(size=(1, 4)),
    "k": RNG.normal(size=(3, 1)),
    "c": RNG.normal(size=(3, 1)),
    "R": RNG.normal(size=(1, 3)),
}
UNSUPPORTED = {"sum(outer(x, y) * A)"}  # outer's body reshapes
EXPRESSIONS = [
    "sum(A)",
    "sum(A, dim=0) @ x",
    "sum(sum(B, dim=1) * x)",
    "mean(B, dim=0) @ v",
    "sum(B + v)",
    "sum(B * r)",
    "sum(B * k)",
    "sum(B + r * k)",
    "s * x @ A @ x",
    "sum(x / s)",
    "sum(s / x)",
    "x @ x * s",
    "sum(A.T @ A @ x)",
    "trace(A.T @ X)",
    "trace(X @ X)",
    "det(A @ X.T)",
    "logdet(X.T @ X)",
    "sum(inv(X) @ x)",
    "x @ inv(X) @ y",
    "sum(exp(B) @ v)",
    "sum(tanh(C @ x) * v)",
    "sum((B.T @ x)**3)",
    "sum(sqrt(exp(A @ x)))",
    "logsumexp(A @ x)",
    "sum(softmax(A @ x) * y)",
    "-sum(y * log_softmax(A @ x))",
    "sum(sigmoid(B) @ v)",
    "sum(relu(A @ x - y))",
    "sum(sin(A) * cos(X))",
    "x @ (A + A.T) @ y",
    "sum((A - X) ** 2)",
    "sum(x ** 2) / 2 + s ** 2",
    "mean(A @ X)",
    "sum(B.T @ A @ B)",
    "v @ C @ x",
    "sum(C @ A)",
    "sum(outer(x, y) * A)",
    "dot(x, y)",
    "sum(A @ X @ A.T)",
    "trace(inv(A @ A.T + X))",
    "sum(x * (A @ x))",
    "sum(mean(B, dim=1) * x)",
    "sum(sum(A, dim=1, keepdim=True) * B)",
    "sum(log(exp(x) + 1))",
    "s * trace(X) + det(X) * s",
    "x @ A @ x + y @ A @ x",
    "sum(X.T)",
    "sum(x / (A @ y))",
    "sum(B / v)",
    "sum(v / B)",
    "sum((x - 1)**2)",
    "sum(A**2) - trace(A)**2",
    "sum(A @ c)",
    "sum(R @ A @ c)",
    "sum(c @ R)",
    "sum(R @ c)",
    "sum((A @ c) * c)",
    "sum(D @ A @ D.T)",
    "trace(D.T @ D @ A)",
    "sum(D @ x)",
    "x @ D.T @ D @ x",
    "sum(tanh(D @ A) ** 2)",
    "mean(exp(-D) * D)",
    "sum(c * A)",
    "sum(A / c)",
    "sum(R / A)",
    "sum(mean(A, dim=0))",
    "sum(mean(A, dim=-1))",
    "sum(sum(D, dim=-1) ** 2)",
    "sum(A @ A)",
    "sum(inv(A @ A.T + X) @ c)",
    "det(A) * x @ y",
    "logdet(X) * s - trace(X) / s",
    "sum(sigmoid(A @ x) * log(sigmoid(A @ x)))",
    "-x @ A @ x",
    "sum(-(x - y) ** 2)",
    "sum(A @ x / 2 - x * 3)",
    "sum(1 - exp(-x))",
    "sum(x ** -1)",
    "x @ x / (y @ y)",
    "sum(A @ (x + y) * (x - y))",
    # picking: indexing, where, abs, maximum/minimum, the 1-norm, class targets
    "x[0] * y[2]",
    "(A @ x)[1] ** 2",
    "sum(B[1:3] @ v)",
    "sum(B[:, [3, 0, 0]] ** 2)",
    "A[2, 1] * X[0, 0]",
    "sum(A[::2] @ X[:, 1])",
    "sum(C[-1] * v[-1])",
    "sum(A[0, 1:] * x[:2])",
    "sum(B[[2, 0], 1:3])",
    "sum(abs(A @ x - y))",
    "norm(B @ v, 1)",
    "sum(where(A @ x > y, A @ x, y * y))",
    "sum(where(x <= 0, exp(x), 1 + x))",
    "sum(maximum(A @ x, y))",
    "sum(minimum(B, 0) * v)",
    "cross_entropy(A @ x, 2)",
    "cross_entropy(B @ v, 0, reduction='sum')",
    "-log(softmax(C @ x)[3])",
    "sum(y * log(softmax(A @ x)))",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_matrix_form_is_the_engine_at_the_point(text):
    names = sorted(P.free_names(P.parse(text)))
    problem = prepare(text, {n: VALUES[n] for n in names}, {}, None)
    found = MF.derive(problem, None, 1)
    if text in UNSUPPORTED:
        assert found.values is None and found.reason.startswith("no matrix form: ")
        return
    assert found.values is not None, found.reason
    engine = W.engine(problem, None, 1)
    flat = np.concatenate([np.ravel(found.values[n]) for n in problem.wrt])
    np.testing.assert_allclose(flat, engine.flat, rtol=1e-9, atol=1e-11)
