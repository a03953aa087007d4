"""THE table of primitives: every operation diffcli knows, declared once.

Each entry gives what the rest of diffcli needs and nothing else knows:

forward   numpy: ``forward(*arrays, **params) -> array``.
vjps      one vector-Jacobian rule per input, ``rule(F, g, ans, *inputs, **params)``;
          a single callable instead takes the input's position first (variadic
          ops such as stack); ``None`` marks an op without a gradient.
sympy     the symbolic twin, ``sympy(sp, *object_arrays, **params)`` over numpy
          object arrays of SymPy expressions; ``None`` when the numpy forward
          already works on object arrays.
torch     PyTorch's grad_fn name, or a function of (inputs, params) giving it.

Vocabulary of the rules (as in PyTorch's derivatives.yaml): ``g`` is the
cotangent of the output, ``ans`` the output, ``x``/``y``/``xs`` the inputs, and
``F`` a namespace holding these same primitives by name.  The engine evaluates
a rule either on numpy arrays (``F`` = the forwards: a fast first-order pass) or
on Tensors (``F`` = recorded ops: the backward pass is itself differentiable),
so one formula serves every order.  A rule may return a gradient of the
broadcast shape; the engine sums it back to the input's shape in one place.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Rule = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Primitive:
    """One operation: numpy forward, per-input VJP rules, SymPy twin, torch name."""

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Rule, ...] | Rule | None
    sympy: Callable[..., Any] | None
    torch: str | Callable[[tuple, dict], str]
    saves_output: bool
    saves_inputs: bool

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None

    def grad_fn_name(self, inputs: tuple, params: dict) -> str:
        return self.torch(inputs, params) if callable(self.torch) else self.torch

    def rule(self, argnum: int) -> Rule:
        """The VJP rule of input ``argnum`` with the uniform signature."""
        if isinstance(self.vjps, tuple):
            return self.vjps[argnum]
        variadic = self.vjps
        return lambda F, g, ans, *xs, **p: variadic(argnum, F, g, ans, *xs, **p)


PRIMITIVES: dict[str, Primitive] = {}


def prim(
    name,
    forward,
    vjps=None,
    *,
    sympy=None,
    torch="",
    saves_output=False,
    saves_inputs=True,
):
    """Declare a primitive in THE table.

    ``saves_output``: the rules read ``ans``.  ``saves_inputs=False``: the rules
    read only the inputs' shapes, so the node survives a backward that frees
    saved values (as PyTorch's SumBackward0 does).
    """
    torch = torch or name.capitalize() + "Backward0"
    PRIMITIVES[name] = Primitive(
        name, forward, vjps, sympy, torch, saves_output, saves_inputs
    )
    return PRIMITIVES[name]


# --- numpy helpers the forwards and rules share ----------------------------


def _is_tensor(x) -> bool:
    return hasattr(x, "grad_fn")


def sum_to(x, shape):
    """Sum a broadcast array back down to ``shape``: THE un-broadcast."""
    shape = tuple(shape)
    xshape = np.shape(x)
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and xshape[i + lead] != 1
    )
    return np.reshape(np.sum(x, axis=axes), shape)


def _dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(d % max(ndim, 1) for d in dims)


def _kept_shape(shape, dim):
    """The shape a reduction's output has with keepdim=True."""
    dims = _dims(dim, len(shape))
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _axis(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def _unreduce(F, g, shape, dim, keepdim):
    """Broadcast a reduction's cotangent back over the reduced input shape."""
    if not keepdim:
        g = F.reshape(g, shape=_kept_shape(shape, dim))
    return F.broadcast_to(g, shape=tuple(shape))


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
        for i in items
    )


def _scatter(g, index, shape):
    g = np.asarray(g)
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _index_put(base, value, index):
    out = np.array(base, dtype=np.result_type(base, value))
    out[index] = value
    return out


def _norm(x, dim=None, keepdim=False, p=2):
    x = np.asarray(x)
    if dim is None and p == 2 and not keepdim:
        flat = x.ravel()
        return np.sqrt(np.dot(flat, flat))
    return np.sum(np.abs(x) ** p, axis=_axis(dim), keepdims=keepdim) ** (1.0 / p)


def _extreme_mask(x, ans, dim=None, keepdim=False):
    """1 where ``x`` attains a max/min reduction, shared evenly among ties."""
    x = np.asarray(x)
    hit = x == np.reshape(ans, _kept_shape(x.shape, dim))
    mask = hit.astype(x.dtype if x.dtype.kind == "f" else np.float64)
    return mask / np.sum(mask, axis=_axis(dim), keepdims=True)


def _first_hit(x, ans, dim, keepdim=False):
    """True at the first element along ``dim`` attaining max/min(dim): the
    index they return, which alone gets the gradient (PyTorch's choice on ties)."""
    x = np.asarray(x)
    hit = x == np.reshape(ans, _kept_shape(x.shape, dim))
    return hit & (np.cumsum(hit, axis=dim) == 1)


def _tie_mask(x, y):
    """maximum/minimum: 1 where x wins, 1/2 on a tie (PyTorch's choice)."""
    return (x > y) + (x == y) * 0.5


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def _clip(x, min=None, max=None):
    return np.clip(x, min, max) if min is not None or max is not None else x


def _stack(*xs, axis=0):
    return np.stack(np.broadcast_arrays(*xs), axis=axis)


def _sp_map(fn: str | Callable) -> Callable:
    """SymPy twin of an elementwise op: ``sympy.<fn>`` mapped over object arrays."""

    def apply(sp, *arrays, **params):
        f = (
            getattr(sp, fn)
            if isinstance(fn, str)
            else (lambda *a, **k: fn(sp, *a, **k))
        )
        return np.vectorize(lambda *a: f(*a, **params), otypes=[object])(*arrays)

    return apply


def _sp_reduce(fn: str) -> Callable:
    """SymPy twin of max/min/sum: ``sympy.Max``/``Min``/``Add`` over the reduced
    axes, one call each (numpy's pairwise ``+`` on SymPy terms is quadratic)."""

    def apply(sp, x, dim=None, keepdim=False):
        x = np.asarray(x, dtype=object)
        dims = _dims(dim, x.ndim)
        kept = [d for d in range(x.ndim) if d not in dims]
        moved = np.moveaxis(x, kept, range(len(kept)))
        head = moved.shape[: len(kept)]
        flat = moved.reshape(head + (-1,))
        out = np.empty(head, dtype=object)
        for i in np.ndindex(head):
            out[i] = getattr(sp, fn)(*flat[i])
        return np.reshape(out, _kept_shape(x.shape, dim)) if keepdim else out

    return apply


def _sp_norm(sp, x, dim=None, keepdim=False, p=2):
    power = _sp_map(lambda sp, v: v**2 if p == 2 else sp.Abs(v) ** p)(sp, x)
    total = _sp_reduce("Add")(sp, power, dim, keepdim)
    return _sp_map(lambda sp, s: s ** (sp.Integer(1) / p))(sp, np.asarray(total))


def _sp_mean(sp, x, dim=None, keepdim=False):
    shape = np.shape(x)
    count = int(np.prod([shape[d] for d in _dims(dim, len(shape))]))
    return _sp_reduce("Add")(sp, x, dim, keepdim) / count


def _sp_piecewise(sp, cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def _sp_relu(sp, v):
    return sp.Piecewise((v, v > 0), (0, True))


def _sp_clamp(sp, v, min=None, max=None):
    pieces = []
    if min is not None:
        pieces.append((min, v < min))
    if max is not None:
        pieces.append((max, v > max))
    return sp.Piecewise(*pieces, (v, True)) if pieces else v


# --- PyTorch's grad_fn names where they depend on the call -----------------


def _by_dim(base: str):
    """PyTorch numbers a reduction's backward by whether a dim was given."""
    return lambda inputs, params: (
        f"{base}Backward{0 if params.get('dim') is None else 1}"
    )


def _extreme_name(base: str):
    """``x.max()`` records MaxBackward1; ``amax(x, dim)`` AmaxBackward0."""
    return lambda inputs, params: (
        f"{base}Backward1" if params.get("dim") is None else f"A{base.lower()}Backward0"
    )


def _index_name(inputs, params):
    index = params["index"]
    items = index if isinstance(index, tuple) else (index,)
    if not _is_basic_index(index):
        return "IndexBackward0"
    return (
        "SelectBackward0"
        if any(isinstance(i, int) for i in items)
        else "SliceBackward0"
    )


def _matmul_name(inputs, params):
    """PyTorch's matmul dispatches to dot/mv/mm; batched cases end in a view."""
    dims = tuple(np.ndim(x.data if _is_tensor(x) else x) for x in inputs)
    return {
        (1, 1): "DotBackward0",
        (2, 1): "MvBackward0",
        (2, 2): "MmBackward0",
        (1, 2): "SqueezeBackward4",
    }.get(dims, "UnsafeViewBackward0")


def _pow_name(inputs, params):
    """Tensor ** number, tensor ** tensor, number ** tensor."""
    if not _is_tensor(inputs[0]):
        return "PowBackward2"
    return "PowBackward1" if _is_tensor(inputs[1]) else "PowBackward0"


def _sub_name(inputs, params):
    return "SubBackward0" if _is_tensor(inputs[0]) else "RsubBackward1"


def _div_name(inputs, params):
    """``2 / x`` is ``x.reciprocal() * 2`` in PyTorch."""
    return "DivBackward0" if _is_tensor(inputs[0]) else "MulBackward0"


# --- rules that need more than one line --------------------------------------


def _pow_base(F, g, ans, x, y):
    if not _is_tensor(y):
        if np.ndim(y) == 0:
            if y == 0:
                return g * 0.0
            if y == 2:
                return g * (2.0 * x)
        elif not np.any(y):
            return g * 0.0
    return g * (y * x ** (y - 1))


def _pow_exponent(F, g, ans, x, y):
    # 0 ** y with y >= 0 has no log; PyTorch sends zero there rather than nan.
    safe = F.where((x == 0) & (y >= 0), 1.0, x)
    return g * (ans * F.log(safe))


def _matmul_x(F, g, ans, x, y):
    xd, yd = np.ndim(x), np.ndim(y)
    if xd == 1 and yd == 1:
        return g * y
    if yd == 1:  # (..., m, k) @ (k,): g is (..., m)
        return F.reshape(g, shape=np.shape(g) + (1,)) * y
    if xd == 1:  # (k,) @ (..., k, n): g is (..., n)
        return F.sum(y * F.reshape(g, shape=_row(g)), dim=-1)
    return F.matmul(g, F.mT(y))


def _matmul_y(F, g, ans, x, y):
    xd, yd = np.ndim(x), np.ndim(y)
    if xd == 1 and yd == 1:
        return g * x
    if xd == 1:
        return F.reshape(x, shape=(-1, 1)) * F.reshape(g, shape=_row(g))
    if yd == 1:
        return F.sum(x * F.reshape(g, shape=np.shape(g) + (1,)), dim=-2)
    return F.matmul(F.mT(x), g)


def _row(g):
    """The shape that turns a trailing vector axis into a row."""
    shape = np.shape(g)
    return shape[:-1] + (1, shape[-1])


def _norm_vjp(F, g, ans, x, dim=None, keepdim=False, p=2):
    shape = np.shape(x)
    # The norm's kink at 0 gets gradient 0, as in PyTorch (not 0/0).
    safe = F.where(ans == 0, 1.0, ans)
    # Scale in the reduced shape first: one pass over x instead of three.
    if p == 2:
        return _unreduce(F, g / safe, shape, dim, keepdim) * x
    if p == 1:
        return _unreduce(F, g, shape, dim, keepdim) * F.sign(x)
    scale = _unreduce(F, g / safe ** (p - 1), shape, dim, keepdim)
    return scale * (F.sign(x) * F.abs(x) ** (p - 1))


def _extreme_vjp(F, g, ans, x, dim=None, keepdim=False):
    mask = F.extreme_mask(x, ans, dim=dim, keepdim=keepdim)
    g = _unreduce(F, g, np.shape(x), dim, keepdim) * mask
    # Like PyTorch, max() fills zeros (+0) where amax(dim) multiplies by the mask.
    return g if dim is not None else F.where(mask > 0, g, 0.0)


def _select_vjp(F, g, ans, x, dim, keepdim=False):
    mask = F.first_hit(x, ans, dim=dim, keepdim=keepdim)
    return F.where(mask, _unreduce(F, g, np.shape(x), dim, keepdim), 0.0)


def _winner_vjp(F, g, x, y):
    """maximum's gradient to x (minimum's with x, y swapped): g where x wins, g/2
    on a tie, and a zero (+0, as PyTorch's masked_fill) where x loses."""
    return F.where(x < y, 0.0, g * F.tie_mask(x, y))


def _mean_vjp(F, g, ans, x, dim=None, keepdim=False):
    shape = np.shape(x)
    count = np.prod([shape[d] for d in _dims(dim, len(shape))])
    return _unreduce(F, g, np.shape(x), dim, keepdim) / count


def _clamp_vjp(F, g, ans, x, min=None, max=None):
    keep = True
    if min is not None:
        keep = x >= min
    if max is not None:
        keep = (x <= max) & keep
    return F.where(keep, g, 0.0)


def _stack_vjp(i, F, g, ans, *xs, axis=0):
    return F.getitem(g, index=(slice(None),) * (axis % np.ndim(g)) + (i,))


def _no_grad(*args, **kwargs):
    raise TypeError("this input takes no gradient")


# --- THE table ----------------------------------------------------------------

# Arithmetic (the engine sums broadcast gradients back to each input's shape).
prim(
    "add",
    operator.add,
    (lambda F, g, ans, x, y: g, lambda F, g, ans, x, y: g),
    saves_inputs=False,
)
prim(
    "sub",
    operator.sub,
    (lambda F, g, ans, x, y: g, lambda F, g, ans, x, y: -g),
    torch=_sub_name,
    saves_inputs=False,
)
prim(
    "mul", operator.mul, (lambda F, g, ans, x, y: g * y, lambda F, g, ans, x, y: g * x)
)
prim(
    "div",
    operator.truediv,
    (lambda F, g, ans, x, y: g / y, lambda F, g, ans, x, y: -g * x / (y * y)),
    torch=_div_name,
)
prim(
    "pow", operator.pow, (_pow_base, _pow_exponent), torch=_pow_name, saves_output=True
)
prim("neg", operator.neg, (lambda F, g, ans, x: -g,), saves_inputs=False)
prim(
    "maximum",
    np.maximum,
    (
        lambda F, g, ans, x, y: _winner_vjp(F, g, x, y),
        lambda F, g, ans, x, y: _winner_vjp(F, g, y, x),
    ),
    sympy=_sp_map("Max"),
)
prim(
    "minimum",
    np.minimum,
    (
        lambda F, g, ans, x, y: _winner_vjp(F, g, y, x),
        lambda F, g, ans, x, y: _winner_vjp(F, g, x, y),
    ),
    sympy=_sp_map("Min"),
)

# Elementwise functions.
prim(
    "exp",
    np.exp,
    (lambda F, g, ans, x: g * ans,),
    sympy=_sp_map("exp"),
    saves_output=True,
)
prim("log", np.log, (lambda F, g, ans, x: g / x,), sympy=_sp_map("log"))
prim("sin", np.sin, (lambda F, g, ans, x: g * F.cos(x),), sympy=_sp_map("sin"))
prim("cos", np.cos, (lambda F, g, ans, x: -g * F.sin(x),), sympy=_sp_map("cos"))
prim(
    "tan",
    np.tan,
    (lambda F, g, ans, x: g * (1 + ans * ans),),
    sympy=_sp_map("tan"),
    saves_output=True,
)
prim(
    "sqrt",
    np.sqrt,
    (lambda F, g, ans, x: g / (2 * ans),),
    sympy=_sp_map("sqrt"),
    saves_output=True,
)
prim("abs", np.abs, (lambda F, g, ans, x: g * F.sign(x),), sympy=_sp_map("Abs"))
prim(
    "tanh",
    np.tanh,
    (lambda F, g, ans, x: g * (1 - ans * ans),),
    sympy=_sp_map("tanh"),
    saves_output=True,
)
prim(
    "sigmoid",
    _sigmoid,
    (lambda F, g, ans, x: g * (ans * (1 - ans)),),
    sympy=_sp_map(lambda sp, v: 1 / (1 + sp.exp(-v))),
    saves_output=True,
)
prim(
    "relu",
    lambda x: np.maximum(x, 0),
    (lambda F, g, ans, x: F.where(x > 0, g, 0.0),),
    sympy=_sp_map(_sp_relu),
)
prim("clamp", _clip, (_clamp_vjp,), sympy=_sp_map(_sp_clamp), torch="ClampBackward1")
prim(
    "where",
    lambda c, a, b: np.where(c, a, b),
    (
        _no_grad,
        lambda F, g, ans, c, a, b: F.where(c, g, 0.0),
        lambda F, g, ans, c, a, b: F.where(c, 0.0, g),
    ),
    sympy=_sp_map(_sp_piecewise),
)
prim(
    "cast",
    lambda x, dtype: np.asarray(x).astype(dtype),
    (lambda F, g, ans, x, dtype: F.cast(g, dtype=x.dtype),),
    sympy=lambda sp, x, dtype: x,
    torch="ToCopyBackward0",
    saves_inputs=False,
)
prim(
    "clone",
    np.copy,
    (lambda F, g, ans, x: g,),
    saves_inputs=False,
)

# Reductions.
prim(
    "sum",
    lambda x, dim=None, keepdim=False: np.sum(x, axis=_axis(dim), keepdims=keepdim),
    (
        lambda F, g, ans, x, dim=None, keepdim=False: _unreduce(
            F, g, np.shape(x), dim, keepdim
        ),
    ),
    sympy=_sp_reduce("Add"),
    torch=_by_dim("Sum"),
    saves_inputs=False,
)
prim(
    "mean",
    lambda x, dim=None, keepdim=False: np.mean(x, axis=_axis(dim), keepdims=keepdim),
    (_mean_vjp,),
    sympy=_sp_mean,
    torch=_by_dim("Mean"),
    saves_inputs=False,
)
prim(
    "amax",
    lambda x, dim=None, keepdim=False: np.max(x, axis=_axis(dim), keepdims=keepdim),
    (_extreme_vjp,),
    sympy=_sp_reduce("Max"),
    torch=_extreme_name("Max"),
    saves_output=True,
)
prim(
    "amin",
    lambda x, dim=None, keepdim=False: np.min(x, axis=_axis(dim), keepdims=keepdim),
    (_extreme_vjp,),
    sympy=_sp_reduce("Min"),
    torch=_extreme_name("Min"),
    saves_output=True,
)
# max(x, dim) / min(x, dim): the values at the returned indices.
prim(
    "max_dim",
    lambda x, dim, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
    (_select_vjp,),
    sympy=_sp_reduce("Max"),
    torch="MaxBackward0",
    saves_output=True,
)
prim(
    "min_dim",
    lambda x, dim, keepdim=False: np.min(x, axis=dim, keepdims=keepdim),
    (_select_vjp,),
    sympy=_sp_reduce("Min"),
    torch="MinBackward0",
    saves_output=True,
)
prim(
    "norm",
    _norm,
    (_norm_vjp,),
    sympy=_sp_norm,
    torch="LinalgVectorNormBackward0",
    saves_output=True,
)

# Linear algebra.
prim("dot", np.dot, (lambda F, g, ans, x, y: g * y, lambda F, g, ans, x, y: g * x))
prim(
    "mm",
    np.matmul,
    (
        lambda F, g, ans, x, y: F.mm(g, F.mT(y)),
        lambda F, g, ans, x, y: F.mm(F.mT(x), g),
    ),
)
prim("matmul", np.matmul, (_matmul_x, _matmul_y), torch=_matmul_name)

# Shapes and indexing.
prim(
    "mT",
    lambda x: np.swapaxes(x, -1, -2),
    (lambda F, g, ans, x: F.mT(g),),
    torch="TransposeBackward0",
    saves_inputs=False,
)
prim(
    "transpose",
    lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
    (lambda F, g, ans, x, dim0, dim1: F.transpose(g, dim0=dim0, dim1=dim1),),
    saves_inputs=False,
)
prim(
    "permute",
    lambda x, dims: np.transpose(x, dims),
    (lambda F, g, ans, x, dims: F.permute(g, dims=tuple(np.argsort(dims))),),
    saves_inputs=False,
)
prim(
    "reshape",
    lambda x, shape: np.reshape(x, shape),
    (lambda F, g, ans, x, shape: F.reshape(g, shape=np.shape(x)),),
    torch="ViewBackward0",
    saves_inputs=False,
)
prim(
    "broadcast_to",
    lambda x, shape: np.broadcast_to(x, shape),
    (lambda F, g, ans, x, shape: F.sum_to(g, shape=np.shape(x)),),
    torch="ExpandBackward0",
    saves_inputs=False,
)
prim(
    "sum_to",
    sum_to,
    (lambda F, g, ans, x, shape: F.broadcast_to(g, shape=np.shape(x)),),
    torch="SumToSizeBackward0",
    saves_inputs=False,
)
prim(
    "getitem",
    lambda x, index: np.asarray(x)[index],
    (lambda F, g, ans, x, index: F.scatter(g, index=index, shape=np.shape(x)),),
    torch=_index_name,
    saves_inputs=False,
)
prim(
    "scatter",
    _scatter,
    (lambda F, g, ans, x, index, shape: F.getitem(g, index=index),),
    torch="IndexBackward0",
    saves_inputs=False,
)
prim(
    "index_put",
    _index_put,
    (
        lambda F, g, ans, base, value, index: F.index_put(g, 0.0, index=index),
        lambda F, g, ans, base, value, index: F.getitem(g, index=index),
    ),
    torch="CopySlices",
    saves_inputs=False,
)
prim("stack", _stack, _stack_vjp, saves_inputs=False)

# No gradient: comparisons and masks (the rules above use them as constants).
for _name, _np, _sp in [
    ("lt", np.less, "Lt"),
    ("le", np.less_equal, "Le"),
    ("gt", np.greater, "Gt"),
    ("ge", np.greater_equal, "Ge"),
    ("eq", np.equal, "Eq"),
    ("ne", np.not_equal, "Ne"),
    ("logical_and", np.logical_and, "And"),
    ("logical_or", np.logical_or, "Or"),
]:
    prim(_name, _np, None, sympy=_sp_map(_sp))
prim("logical_not", np.logical_not, None, sympy=_sp_map("Not"))
prim("sign", np.sign, None, sympy=_sp_map("sign"))
prim("extreme_mask", _extreme_mask, None)
prim("first_hit", _first_hit, None)
prim("tie_mask", _tie_mask, None)
