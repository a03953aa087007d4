"""THE table, linear algebra: det, logdet and slogdet, inv, trace, solve,
outer, inner, diag, diagonal and diag_embed, cross, kron, tril and triu,
matrix_power, cholesky, pinv, and the nuclear norm (norm(A, 'nuc')).

Rules and grad_fn names follow PyTorch (LinalgDetBackward0,
LinalgInvExBackward0, LinalgSolveExBackward0, ...); bodies that are
composites (outer, inner, kron, matrix_power) record what their parts do.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from diffcli.engine import rules_linalg as R
from diffcli.engine import shapes as S
from diffcli.engine import twins_linalg as Y
from diffcli.engine.table.declare import composite, define, primitive
from diffcli.errors import DiffcliError

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
_LINALG = {"category": "linear algebra"}
_SINGULAR = "the matrix is singular"

define(
    "det(input: T)",
    "determinant of a (batch of) square matrices",
    R.checked("det", np.linalg.det, shape=S.determinant),
    (R.det_vjp,),
    sympy=Y.det,
    torch="LinalgDetBackward0",
    shape=S.determinant,
    kinks="at a singular matrix the gradient is still the cofactor matrix "
    "(PyTorch 2.x returns zeros there: pytorch#104675)",
    **_LINALG,
)
primitive(
    "logabsdet",
    R.checked("logdet", R.logabsdet, shape=S.determinant),
    (R.logabsdet_vjp,),
    sympy=Y.logabsdet,
    torch="LinalgSlogdetBackward0",  # shapes: checked by the forward, as logdet
)


def _logdet(F, a):
    logabsdet = F.op("logabsdet", a)  # first: a bad shape is logdet's error
    det = F.detach(F.det(a))
    nan = F.constant(np.full(np.shape(det), np.nan))
    return F.where(F.lt(det, 0), nan, logabsdet)


composite(
    "logdet(input: T)",
    "log(det(input)): nan where det < 0, -inf where det = 0 (PyTorch's values)",
    _logdet,
    **_LINALG,
)


def _slogdet(F, a):
    sign = F.constant(np.sign(np.linalg.det(np.asarray(a))))
    return SlogdetResult(sign, F.op("logabsdet", a))


composite(
    "slogdet(input: T)",
    "(sign, log|det|) of square matrices: log|det| without overflow",
    _slogdet,
    surfaces=("api",),
    **_LINALG,
)
define(
    "inv(input: T)",
    "inverse of a (batch of) square matrices",
    R.checked("inv", np.linalg.inv, _SINGULAR, S.square),
    (R.inv_vjp,),
    sympy=Y.inv,
    torch="LinalgInvExBackward0",
    shape=S.square,
    aliases=("inverse",),
    **_LINALG,
)
define(
    "trace(input: T)",
    "sum of the diagonal of a matrix",
    R.checked("trace", np.trace, shape=S.trace_of),
    (lambda F, g, ans, x: g * np.eye(*np.shape(x)),),
    sympy=Y.trace,
    saves_inputs=False,
    reads_ans=False,
    shape=S.trace_of,
    **_LINALG,
)
define(
    "solve(A: T, B: T)",
    "X with A @ X = B (B a vector or matrices)",
    R.checked("solve", R.solve, _SINGULAR),
    (R.solve_a_vjp, R.solve_b_vjp),
    sympy=Y.solve,
    torch="LinalgSolveExBackward0",
    reads_ans=(True, False),
    shape=S.solved,
    method=False,
    **_LINALG,
)


def _outer(F, x, y):
    if np.ndim(x) != 1 or np.ndim(y) != 1:
        raise DiffcliError(
            f"outer needs two vectors, got shapes {np.shape(x)} and {np.shape(y)}"
        )
    return F.mul(F.reshape(x, -1, 1), y)


composite(
    "outer(input: T, vec2: T)",
    "outer product of two vectors: input[i] * vec2[j]",
    _outer,
    aliases=("ger",),
    **_LINALG,
)


def _inner(F, x, y):
    """Sum over the last dimension of both, as one matrix product."""
    if not np.ndim(x) or not np.ndim(y):
        return F.mul(x, y)
    (n,), (k,) = np.shape(x)[-1:], np.shape(y)[-1:]
    if n != k:
        raise DiffcliError(f"inner: last dimensions differ ({n} and {k})")
    rows = F.mm(F.reshape(x, -1, n), F.transpose(F.reshape(y, -1, n)))
    return F.reshape(rows, *(np.shape(x)[:-1] + np.shape(y)[:-1]))


composite(
    "inner(input: T, other: T)",
    "sum over the last dimension of input * other (the dot product of vectors)",
    _inner,
    **_LINALG,
)
define(
    "diagonal(input: T, offset: int = 0, dim1: int = 0, dim2: int = 1)",
    "the diagonal (offset above it, below if negative) of the dims dim1, dim2",
    R.diagonal,
    (
        lambda F, g, ans, x, offset=0, dim1=0, dim2=1: F.diagonal_scatter(
            g, size=np.shape(x), offset=offset, dim1=dim1, dim2=dim2
        ),
    ),
    saves_inputs=False,
    reads_ans=False,
    shape=S.diagonal_of,
    **_LINALG,
)
primitive(
    "diagonal_scatter",
    R.diagonal_scatter,
    (
        lambda F, g, ans, v, size, offset=0, dim1=0, dim2=1: F.diagonal(
            g, offset=offset, dim1=dim1, dim2=dim2
        ),
    ),
    torch="DiagonalBackwardBackward0",
    saves_inputs=False,
    reads_ans=False,
    shape=S.scattered,
)
define(
    "diag_embed(input: T, offset: int = 0, dim1: int = -2, dim2: int = -1)",
    "matrices with input's last dimension on their diagonal",
    R.diag_embed,
    (
        lambda F, g, ans, v, offset=0, dim1=-2, dim2=-1: F.diagonal(
            g, offset=offset, dim1=dim1, dim2=dim2
        ),
    ),
    saves_inputs=False,
    reads_ans=False,
    torch="DiagEmbedBackward0",
    shape=S.diagonal_embedded,
    **_LINALG,
)


def _diag(F, x, diagonal=0):
    if np.ndim(x) == 1:
        return F.diag_embed(x, diagonal)
    if np.ndim(x) == 2:
        return F.diagonal(x, diagonal)
    raise DiffcliError(f"diag needs a vector or a matrix, got shape {np.shape(x)}")


composite(
    "diag(input: T, diagonal: int = 0)",
    "a vector as a diagonal matrix, or a matrix's diagonal as a vector",
    _diag,
    **_LINALG,
)
define(
    "cross(input: T, other: T, dim: int = -1)",
    "cross product of 3-vectors along dim (torch.linalg.cross)",
    lambda a, b, dim=-1: np.cross(a, b, axis=dim),
    (
        lambda F, g, ans, a, b, dim=-1: F.cross(b, g, dim=dim),
        lambda F, g, ans, a, b, dim=-1: F.cross(g, a, dim=dim),
    ),
    torch="LinalgCrossBackward0",
    reads_ans=False,
    shape=S.crossed,
    **_LINALG,
)


def _kron(F, a, b):
    """a's elements times copies of b: (a0, 1, a1, 1) * (1, b0, 1, b1)."""
    ndim = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (ndim - np.ndim(a)) + np.shape(a)
    sb = (1,) * (ndim - np.ndim(b)) + np.shape(b)
    spread = F.mul(
        F.reshape(a, *(n for k in sa for n in (k, 1))),
        F.reshape(b, *(n for k in sb for n in (1, k))),
    )
    return F.reshape(spread, *(i * j for i, j in zip(sa, sb, strict=True)))


composite(
    "kron(input: T, other: T)",
    "Kronecker product: each element of input times a copy of other",
    _kron,
    **_LINALG,
)
for _name, _np_fn in [("tril", np.tril), ("triu", np.triu)]:
    define(
        f"{_name}(input: T, diagonal: int = 0)",
        f"the {'lower' if _name == 'tril' else 'upper'} triangle (from the "
        "diagonal-th diagonal), zeros elsewhere",
        lambda x, diagonal=0, _f=_np_fn: _f(x, diagonal),
        (
            lambda F, g, ans, x, diagonal=0, _n=_name: getattr(F, _n)(
                g, diagonal=diagonal
            ),
        ),
        saves_inputs=False,
        reads_ans=False,
        shape=S.same_matrices,
        **_LINALG,
    )


def _matrix_power(F, a, n):
    """Repeated squaring; n = 0 gives identities, n < 0 powers of inv(a)."""
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise DiffcliError(f"matrix_power needs square matrices, got shape {shape}")
    if n == 0:
        return F.constant(np.broadcast_to(np.eye(shape[-1]), shape).copy())
    base, n = (F.inv(a), -n) if n < 0 else (a, n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else F.matmul(result, base)
        n >>= 1
        if n:
            base = F.matmul(base, base)
    return result


composite(
    "matrix_power(input: T, n: int)",
    "input @ input @ ... (n factors); inv(input) powers for n < 0",
    _matrix_power,
    **_LINALG,
)


def _cholesky(F, a, upper=False):
    lower = F.op("cholesky", a)
    return F.transpose(lower) if upper else lower


define(
    "cholesky(input: T, *, upper: bool = False)",
    "L with L @ L.mT = input (lower triangular) for a symmetric positive-"
    "definite input; upper=True gives L.mT",
    R.checked("cholesky", R.cholesky, "the input is not positive-definite", S.square),
    (R.cholesky_vjp,),
    sympy=Y.cholesky,
    torch="LinalgCholeskyExBackward0",
    shape=S.square,
    body=_cholesky,
    kinks="factors the symmetric part (input + input.mT) / 2, so the gradient "
    "is symmetric, as PyTorch's (which reads the lower triangle)",
    **_LINALG,
)
define(
    "pinv(input: T)",
    "Moore-Penrose pseudo-inverse",
    R.checked("pinv", np.linalg.pinv, "the SVD did not converge", S.matrices),
    (R.pinv_vjp,),
    sympy=Y.pinv,
    torch="LinalgPinvBackward0",
    shape=S.matrices,
    kinks="the gradient is defined where the rank does not change",
    **_LINALG,
)

# --- the nuclear norm: the trace of the square root of the smaller Gram matrix --
primitive(
    "sqrtm_psd",
    R.sqrtm_psd,
    (R.sqrtm_psd_vjp,),
    sympy=Y.sqrtm_psd,
    torch="SqrtmPsdBackward0",
    shape=S.square,
)


def _nuclear_norm(F, a, dim=None, keepdim=False):
    """Sum of singular values = trace(sqrt(A A^T)), over dim's two dims
    (the last two by default)."""
    ndim = np.ndim(a)
    dims = (ndim - 2, ndim - 1) if dim is None else tuple(np.atleast_1d(dim))
    if ndim < 2 or len(dims) != 2:
        raise DiffcliError("nuclear norm needs a matrix and two dims")
    d1, d2 = (d % ndim for d in dims)
    rest = [d for d in range(ndim) if d not in (d1, d2)]
    moved = F.permute(a, *rest, d1, d2)
    m, n = np.shape(moved)[-2:]
    if m <= n:
        gram = F.matmul(moved, F.transpose(moved))
    else:
        gram = F.matmul(F.transpose(moved), moved)
    root = F.op("sqrtm_psd", gram)
    total = F.sum(F.diagonal(root, 0, -2, -1), -1)
    if keepdim:
        kept = list(np.shape(a))
        kept[d1] = kept[d2] = 1
        total = F.reshape(total, *kept)
    return total


composite(
    "nuclear_norm(input: T, dim: dims = None, keepdim: bool = False)",
    "sum of the singular values of a matrix (norm(input, 'nuc'))",
    _nuclear_norm,
    kinks="the gradient is defined where the rank is full",
    **_LINALG,
)
