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
A rule returns a new array, ``g`` itself or a view, never another array it was
given, unless the engine hands it one to overwrite: ``F.scratch`` lends it
``g`` (a large cotangent no one else holds; see ``opkit._times``), ``F.spare``
the value of a one-input node's input, read by no one after the rule (see
``opkit._times_input``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.engine.rules import (
    _axis,
    _by_dim,
    _clamp_vjp,
    _clip,
    _div_name,
    _extreme_mask,
    _extreme_name,
    _extreme_vjp,
    _first_hit,
    _index_name,
    _index_put,
    _matmul_name,
    _matmul_x,
    _matmul_y,
    _mean_vjp,
    _no_grad,
    _norm,
    _norm_vjp,
    _pow_base,
    _pow_exponent,
    _pow_name,
    _reads_ans,
    _scatter,
    _select_vjp,
    _sigmoid,
    _sp_clamp,
    _sp_map,
    _sp_mean,
    _sp_norm,
    _sp_piecewise,
    _sp_reduce,
    _sp_relu,
    _stack,
    _stack_vjp,
    _sub_name,
    _tie_mask,
    _times,
    _unreduce,
    _winner_vjp,
    sum_to,
)

Rule = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Primitive:
    """One operation: numpy forward, per-input VJP rules, SymPy twin, torch name."""

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Rule, ...] | Rule | None
    sympy: Callable[..., Any] | None
    torch: str | Callable[[tuple, dict], str]
    saves_inputs: bool
    overwrites_input: bool = False

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None

    def grad_fn_name(self, inputs: tuple, params: dict) -> str:
        return self.torch(inputs, params) if callable(self.torch) else self.torch

    def reads_output(self, argnum: int) -> bool:
        """Whether rule ``argnum`` reads ``ans``, found in its code as PyTorch's
        codegen finds ``result`` in a formula: a node whose rules do not may
        have its value's memory reused by the engine."""
        return not isinstance(self.vjps, tuple) or _reads_ans(self.vjps[argnum])

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
    saves_inputs=True,
    overwrites_input=False,
):
    """Declare a primitive in THE table.

    ``saves_inputs=False``: the rules read only the inputs' shapes, so the node
    survives a backward that frees saved values (as PyTorch's SumBackward0 does).
    ``overwrites_input``: a one-input primitive whose rule may write into its
    input's value when the engine donates it (``F.spare``).
    Rules may always read ``ans``: a result is its own node and keeps its value.
    """
    torch = torch or name.capitalize() + "Backward0"
    PRIMITIVES[name] = Primitive(
        name, forward, vjps, sympy, torch, saves_inputs, overwrites_input
    )
    return PRIMITIVES[name]


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
    "mul",
    operator.mul,
    (lambda F, g, ans, x, y: _times(F, g, y), lambda F, g, ans, x, y: _times(F, g, x)),
)
prim(
    "div",
    operator.truediv,
    (lambda F, g, ans, x, y: g / y, lambda F, g, ans, x, y: -g * x / (y * y)),
    torch=_div_name,
)
prim("pow", operator.pow, (_pow_base, _pow_exponent), torch=_pow_name)
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
    (lambda F, g, ans, x: _times(F, g, ans),),
    sympy=_sp_map("exp"),
)
prim("log", np.log, (lambda F, g, ans, x: g / x,), sympy=_sp_map("log"))
prim("sin", np.sin, (lambda F, g, ans, x: g * F.cos(x),), sympy=_sp_map("sin"))
prim("cos", np.cos, (lambda F, g, ans, x: -g * F.sin(x),), sympy=_sp_map("cos"))
prim(
    "tan",
    np.tan,
    (lambda F, g, ans, x: g * (1 + ans * ans),),
    sympy=_sp_map("tan"),
)
prim(
    "sqrt",
    np.sqrt,
    (lambda F, g, ans, x: g / (2 * ans),),
    sympy=_sp_map("sqrt"),
)
prim("abs", np.abs, (lambda F, g, ans, x: g * F.sign(x),), sympy=_sp_map("Abs"))
prim(
    "tanh",
    np.tanh,
    (lambda F, g, ans, x: g * (1 - ans * ans),),
    sympy=_sp_map("tanh"),
)
prim(
    "sigmoid",
    _sigmoid,
    (lambda F, g, ans, x: g * (ans * (1 - ans)),),
    sympy=_sp_map(lambda sp, v: 1 / (1 + sp.exp(-v))),
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
)
prim(
    "amin",
    lambda x, dim=None, keepdim=False: np.min(x, axis=_axis(dim), keepdims=keepdim),
    (_extreme_vjp,),
    sympy=_sp_reduce("Min"),
    torch=_extreme_name("Min"),
)
# max(x, dim) / min(x, dim): the values at the returned indices.
prim(
    "max_dim",
    lambda x, dim, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
    (_select_vjp,),
    sympy=_sp_reduce("Max"),
    torch="MaxBackward0",
)
prim(
    "min_dim",
    lambda x, dim, keepdim=False: np.min(x, axis=dim, keepdims=keepdim),
    (_select_vjp,),
    sympy=_sp_reduce("Min"),
    torch="MinBackward0",
)
prim(
    "norm",
    _norm,
    (_norm_vjp,),
    sympy=_sp_norm,
    torch="LinalgVectorNormBackward0",
    overwrites_input=True,
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
