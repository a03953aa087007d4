"""``dc.linalg``: torch.linalg's paths for the table's linear algebra, so a
program written for ``torch.linalg`` runs unchanged.

Each name is the table's function (same rule, grad_fn name and checks);
``vector_norm``, ``matrix_norm`` and ``norm`` translate torch.linalg's ``ord``
to the table's ``norm``.  Functions the table lacks (svd, eig, ...) are
absent rather than approximated.
"""

from __future__ import annotations

from typing import Any

from diffcli.engine.functional import API, cast
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError

det = API["det"]
inv = API["inv"]
slogdet = API["slogdet"]
solve = API["solve"]
cholesky = API["cholesky"]
pinv = API["pinv"]
cross = API["cross"]
matrix_power = API["matrix_power"]

_MATRIX_ORDS = ("fro", "nuc")


def vector_norm(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """The ord-norm of x's elements over dim (all of them by default)."""
    if dtype is not None:
        x = cast(x, dtype)
    return API["norm"](x, ord, dim, keepdim)


def matrix_norm(
    A: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False
) -> Tensor:
    """The Frobenius or nuclear norm of the matrices over dim (torch's
    default the last two); operator norms (ord 1, 2, inf) are not here."""
    if ord not in _MATRIX_ORDS:
        raise DiffcliError(
            f"linalg.matrix_norm: ord={ord!r} is not available (only 'fro' and 'nuc')"
        )
    return API["norm"](A, ord, tuple(dim), keepdim)


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Tensor:
    """torch.linalg.norm: the 2-norm of all elements without ord; with ord, a
    matrix norm over two dims (a 2-D input or a pair dim) or a vector norm."""
    if ord is None:
        return API["norm"](A, 2, dim, keepdim)
    matrix = (dim is None and A.ndim == 2) or (dim is not None and len(_dims(dim)) == 2)
    if matrix:
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim)
    return vector_norm(A, ord, dim, keepdim)


def _dims(dim: Any) -> tuple:
    return tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)


__all__ = [
    "cholesky",
    "cross",
    "det",
    "inv",
    "matrix_norm",
    "matrix_power",
    "norm",
    "pinv",
    "slogdet",
    "solve",
    "vector_norm",
]
