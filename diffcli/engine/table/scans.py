"""THE table, scans and statistical reductions: prod, cumsum, cumprod,
logsumexp, softmax, log_softmax, var and std, each with ``dim`` as PyTorch.

logsumexp, softmax and log_softmax take the maximum out first, so
logsumexp([1000, 1001, 1002]) is 1002.41 and its gradient the softmax.
"""

from __future__ import annotations

import numpy as np

from diffcli.engine import rules_scans as R
from diffcli.engine import shapes as S
from diffcli.engine import twins as Y
from diffcli.engine.table.declare import define, primitive
from diffcli.errors import DiffcliError

_REDUCE = {"category": "reduction", "shape": S.reduction}
_SCAN = {"category": "reduction", "shape": S.same_along}


def _by_dim(base: str):
    """PyTorch numbers prod's backward by whether a dim was given."""
    return lambda inputs, params: (
        f"{base}Backward{0 if params.get('dim') is None else 1}"
    )


define(
    "prod(input: T, dim: int = None, keepdim: bool = False)",
    "product of the elements, over dim (all by default)",
    lambda x, dim=None, keepdim=False: np.prod(x, axis=dim, keepdims=keepdim),
    (R.prod_vjp,),
    sympy=Y.reduce("Mul"),
    torch=_by_dim("Prod"),
    kinks="exact at zeros too: the gradient is the product of the others",
    **_REDUCE,
)
define(
    "cumsum(input: T, dim: int)",
    "running sums along dim",
    lambda x, dim: np.cumsum(x, axis=dim),
    (lambda F, g, ans, x, dim: R.revcumsum(F, g, dim),),
    saves_inputs=False,
    reads_ans=False,
    **_SCAN,
)
define(
    "cumprod(input: T, dim: int)",
    "running products along dim",
    lambda x, dim: np.cumprod(x, axis=dim),
    (lambda F, g, ans, x, dim: R.cumprod_vjp(F, g, x, dim, ans),),
    kinks="exact at zeros too (no division by them)",
    **_SCAN,
)
define(
    "logsumexp(input: T, dim: dims = None, keepdim: bool = False)",
    "log(sum(exp(input))) over dim (all by default), without overflow",
    R.logsumexp,
    (R.logsumexp_vjp,),
    sympy=Y.logsumexp,
    **_REDUCE,
)


def _softmax_dim(name: str):
    """softmax(x) without dim: over all of a vector; a matrix must say which."""

    def body(F, x, dim=None):
        if dim is None:
            if np.ndim(x) > 1:
                raise DiffcliError(
                    f"{name}() needs dim for a {np.ndim(x)}-D input, e.g. "
                    f"{name}(x, dim=-1)"
                )
            dim = 0
        if not np.ndim(x) and dim in (0, -1):
            dim = None  # a scalar is one class, as PyTorch's dim=0 there
        return F.op(name, x, dim=dim)

    return body


define(
    "softmax(input: T, dim: int = None)",
    "exp(input) / sum(exp(input)) along dim: positive, summing to 1",
    R.softmax,
    (R.softmax_vjp,),
    sympy=Y.softmax,
    body=_softmax_dim("softmax"),
    **_SCAN,
)
define(
    "log_softmax(input: T, dim: int = None)",
    "input - logsumexp(input) along dim: log-probabilities, stable",
    R.log_softmax,
    (R.log_softmax_vjp,),
    sympy=Y.log_softmax,
    torch="LogSoftmaxBackward0",
    body=_softmax_dim("log_softmax"),
    **_SCAN,
)


_STAT = (
    "dim: dims = None, *, correction: float = 1, keepdim: bool = False, "
    "unbiased: bool = None"
)


def _statistic(name: str):
    """PyTorch's older spelling: unbiased=False is correction=0."""

    def body(F, x, dim=None, correction=1, keepdim=False, unbiased=None):
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return F.op(name, x, dim=dim, correction=correction, keepdim=keepdim)

    return body


for _name, _what, _rule in [
    ("var", "variance", R.var_vjp),
    ("std", "standard deviation", R.std_vjp),
]:
    define(
        f"{_name}(input: T, {_STAT})",
        f"{_what} over dim (all by default), dividing by N - correction "
        "(1 by default: the unbiased estimate)",
        getattr(R, _name),
        (_rule,),
        sympy=getattr(Y, _name),
        reads_ans=_name == "std",
        body=_statistic(_name),
        kinks="inf or nan where N <= correction"
        + ("; the gradient is 0 where std is 0" if _name == "std" else ""),
        **_REDUCE,
    )


def _norm_inf(x, dim=None, keepdim=False, p=np.inf):
    top = np.amax if p > 0 else np.amin
    return top(np.abs(x), axis=R._axis(dim), keepdims=keepdim)


# norm(x, inf) and norm(x, -inf) (composites.norm_any)
primitive(
    "norm_inf",
    _norm_inf,
    (R.norm_inf_vjp,),
    sympy=Y.norm_inf,
    torch="LinalgVectorNormBackward0",
    shape=S.nonempty_reduction,
)
