"""THE table, part two: reductions, linear algebra, shapes and indexing."""

from __future__ import annotations

import numpy as np

from diffcli.engine import composites as C
from diffcli.engine import rules as R
from diffcli.engine import shapes as S
from diffcli.engine import twins as Y
from diffcli.engine import twins_linalg as YL
from diffcli.engine.table.declare import composite, define, primitive

# --- reductions ------------------------------------------------------------------
_REDUCE = {"category": "reduction", "shape": S.reduction}
_DIMS = "dim: dims = None, keepdim: bool = False"
define(
    f"sum(input: T, {_DIMS})",
    "sum of the elements, over dim (all by default)",
    lambda x, dim=None, keepdim=False: np.sum(x, axis=R._axis(dim), keepdims=keepdim),
    (
        lambda F, g, ans, x, dim=None, keepdim=False: R._unreduce(
            F, g, np.shape(x), dim, keepdim
        ),
    ),
    sympy=Y.reduce("Add"),
    torch=R._by_dim("Sum"),
    saves_inputs=False,
    reads_ans=False,
    **_REDUCE,
)
define(
    f"mean(input: T, {_DIMS})",
    "mean of the elements, over dim (all by default)",
    lambda x, dim=None, keepdim=False: np.mean(x, axis=R._axis(dim), keepdims=keepdim),
    (R._mean_vjp,),
    sympy=Y.mean,
    torch=R._by_dim("Mean"),
    saves_inputs=False,
    reads_ans=False,
    body=C.mean,
    **_REDUCE,
)
_TIES = "ties share the gradient evenly (PyTorch's choice)"
for _name, _np_fn, _sp in [("amax", np.max, "Max"), ("amin", np.min, "Min")]:
    define(
        f"{_name}(input: T, {_DIMS})",
        f"{'largest' if _name == 'amax' else 'smallest'} element over dim (all by "
        "default)",
        lambda x, dim=None, keepdim=False, _f=_np_fn: _f(
            x, axis=R._axis(dim), keepdims=keepdim
        ),
        (R._extreme_vjp,),
        sympy=Y.reduce(_sp),
        torch=R._extreme_name(_name[1:].capitalize()),
        body=C.all_dims(_name),
        kinks=_TIES,
        category="reduction",
        shape=S.nonempty_reduction,
    )
    # max(x, dim) / min(x, dim): the values at the returned indices.
    primitive(
        f"{_name[1:]}_dim",
        lambda x, dim, keepdim=False, _f=_np_fn: _f(x, axis=dim, keepdims=keepdim),
        (R._select_vjp,),
        sympy=Y.reduce(_sp),
        torch=f"{_name[1:].capitalize()}Backward0",
        shape=S.nonempty_reduction,
    )
for _name, _index in [("max", np.argmax), ("min", np.argmin)]:
    composite(
        f"{_name}(input: T, dim: int = None, keepdim: bool = False)",
        f"{'largest' if _name == 'max' else 'smallest'} element; along dim, the "
        "values at the first index attaining it",
        C.extreme(_name),
        api=C.extreme_api(_name, _index),
        kinks=f"over all elements {_TIES}; along dim the first index gets it all",
        category="reduction",
    )
define(
    "norm(input: T, p: float | str = 2, dim: dims = None, keepdim: bool = False)",
    "p-norm of the elements over dim (all by default); p may be inf, -inf, "
    "'fro' or 'nuc'",
    R._norm,
    (R._norm_vjp,),
    sympy=Y.norm,
    torch="LinalgVectorNormBackward0",
    overwrites_input=True,
    body=C.norm_any,
    kinks="the gradient at the zero vector is 0 (PyTorch's choice)",
    **_REDUCE,
)

# --- linear algebra ----------------------------------------------------------------
_LINALG = {"category": "linear algebra", "reads_ans": False}
define(
    "dot(input: T, other: T)",
    "inner product of two vectors",
    np.dot,
    (lambda F, g, ans, x, y: g * y, lambda F, g, ans, x, y: g * x),
    shape=S.dot,
    sympy=YL.matmul,
    **_LINALG,
)
define(
    "mm(input: T, mat2: T)",
    "product of two matrices",
    np.matmul,
    (
        lambda F, g, ans, x, y: F.mm(g, F.mT(y)),
        lambda F, g, ans, x, y: F.mm(F.mT(x), g),
    ),
    shape=S.mm,
    sympy=YL.matmul,
    **_LINALG,
)
define(
    "matmul(input: T, other: T)",
    "matrix product as the @ operator: vectors, matrices, batches",
    np.matmul,
    (R._matmul_x, R._matmul_y),
    torch=R._matmul_name,
    shape=S.matmul,
    sympy=YL.matmul,
    **_LINALG,
)

# --- shapes and indexing -----------------------------------------------------------
_SHAPE = {"category": "shape"}
_VIEW = {"saves_inputs": False, "reads_ans": False}
primitive(
    "mT",
    lambda x: np.swapaxes(x, -1, -2),
    (lambda F, g, ans, x: F.mT(g),),
    torch="TransposeBackward0",
    shape=S.swap_last,
    **_VIEW,
)
primitive(
    "transpose",
    lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
    (lambda F, g, ans, x, dim0, dim1: F.transpose(g, dim0=dim0, dim1=dim1),),
    shape=S.transpose,
    **_VIEW,
)
composite(
    "transpose(input: T, dim0: int = None, dim1: int = None)",
    "dims dim0 and dim1 swapped; with no dims, the last two (a matrix transpose)",
    C.transpose,
    **_SHAPE,
)
composite(
    "t(input: T)",
    "transpose of a matrix (a vector stays as it is)",
    C.t,
    surfaces=("api",),  # in expressions, t stays free for a variable (time)
    **_SHAPE,
)
define(
    "permute(input: T, *dims: int)",
    "the dimensions reordered",
    lambda x, dims: np.transpose(x, dims),
    (lambda F, g, ans, x, dims: F.permute(g, dims=tuple(np.argsort(dims))),),
    body=C.permute,
    **_VIEW,
    **_SHAPE,
)
define(
    "reshape(input: T, *shape: int)",
    "the same elements in a new shape (one size may be -1)",
    lambda x, shape: np.reshape(x, shape),
    (lambda F, g, ans, x, shape: F.reshape(g, shape=np.shape(x)),),
    torch="ViewBackward0",
    body=C.reshape,
    aliases=("view",),
    **_VIEW,
    **_SHAPE,
)
composite("flatten(input: T)", "the elements as a vector", C.flatten, **_SHAPE)
_BACK_TO_INPUT = (lambda F, g, ans, x, **_: F.reshape(g, shape=np.shape(x)),)
define(
    "unsqueeze(input: T, dim: int)",
    "a new axis of size 1",
    lambda x, dim: np.expand_dims(x, dim),
    _BACK_TO_INPUT,
    torch="UnsqueezeBackward0",
    body=lambda F, x, dim: F.op("unsqueeze", x, dim=dim),
    **_VIEW,
    **_SHAPE,
)
define(
    "squeeze(input: T, dim: dims = None)",
    "axes of size 1 removed (of dim, if given; others stay, as in PyTorch)",
    lambda x, dim=None: np.reshape(x, C.squeezed(np.shape(x), dim)),
    _BACK_TO_INPUT,
    # PyTorch's overloads: squeeze(), squeeze(dim), squeeze(dims)
    torch=lambda inputs, params: (
        "SqueezeBackward"
        + (
            "0"
            if params.get("dim") is None
            else "1"
            if np.ndim(params["dim"]) == 0
            else "2"
        )
    ),
    body=lambda F, x, dim=None: F.op("squeeze", x, dim=dim),
    **_VIEW,
    **_SHAPE,
)
define(
    "broadcast_to(input: T, shape: dims)",
    "input repeated (without copying) to a larger shape",
    lambda x, shape: np.broadcast_to(x, shape),
    (lambda F, g, ans, x, shape: F.sum_to(g, shape=np.shape(x)),),
    torch="ExpandBackward0",
    body=C.broadcast_to,
    method=False,
    **_VIEW,
    **_SHAPE,
)
composite(
    "expand(input: T, *size: int)",
    "broadcast_to, -1 keeping a size",
    C.expand,
    surfaces=("api",),
    **_SHAPE,
)
primitive(
    "sum_to",
    R.sum_to,
    (lambda F, g, ans, x, shape: F.broadcast_to(g, shape=np.shape(x)),),
    torch="SumToSizeBackward0",
    **_VIEW,
)
primitive(
    "getitem",
    lambda x, index: np.asarray(x)[index],
    (lambda F, g, ans, x, index: F.scatter(g, index=index, shape=np.shape(x)),),
    torch=R._index_name,
    **_VIEW,
)
primitive(
    "scatter",
    R._scatter,
    (lambda F, g, ans, x, index, shape: F.getitem(g, index=index),),
    torch="IndexBackward0",
    **_VIEW,
)
primitive(
    "index_put",
    R._index_put,
    (
        lambda F, g, ans, base, value, index: F.index_put(g, 0.0, index=index),
        lambda F, g, ans, base, value, index: F.getitem(g, index=index),
    ),
    torch="CopySlices",
    **_VIEW,
)
primitive("stack", R._stack, R._stack_vjp, saves_inputs=False)
composite(
    "stack(tensors: tensors, dim: int = 0)",
    "values of one shape joined along a new axis",
    C.stack,
    method=False,
    **_SHAPE,
)
primitive(
    "cast",
    lambda x, dtype: np.asarray(x).astype(dtype),
    (lambda F, g, ans, x, dtype: F.cast(g, dtype=x.dtype),),
    sympy=lambda sp, x, dtype: x,
    torch="ToCopyBackward0",
    **_VIEW,
)
define(
    "clone(input: T)",
    "a copy in new memory; gradients flow back to input",
    np.copy,
    (lambda F, g, ans, x: g,),
    shape=S.same,
    surfaces=("api",),
    **_VIEW,
    **_SHAPE,
)
