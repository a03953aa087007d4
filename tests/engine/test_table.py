"""Every differentiable primitive of ``ops.PRIMITIVES``, through the public API,
checked against central differences to first (gradcheck) and second
(gradgradcheck) order over random shapes, broadcasting and reduction dims.

Inputs stay away from kinks and singularities (tests/engine/test_autograd.py covers
PyTorch's choices there): log/sqrt/pow bases are positive, divisors and
abs/relu/sign arguments keep away from zero, and max/min/clamp values never tie.
"""

from __future__ import annotations

import numpy as np
import pytest
from domains import anywhere, check, distinct, grid, leaf, nonzero, positive
from families import merged
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import diffcli as dc
from diffcli.engine.functional import cast
from diffcli.engine.graph_walk import topological
from diffcli.engine.table import PRIMITIVES

SETTINGS = settings(deadline=None, max_examples=20, database=None)

shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)
pairs = mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
triples = mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)
seeds = st.integers(0, 2**32 - 1)


# --- elementwise -------------------------------------------------------------

UNARY = {
    "neg": (dc.neg, anywhere),
    "exp": (dc.exp, anywhere),
    "log": (dc.log, positive),
    "sin": (dc.sin, anywhere),
    "cos": (dc.cos, anywhere),
    "tan": (dc.tan, lambda rng, s: rng.uniform(-1.2, 1.2, s)),
    "sqrt": (dc.sqrt, positive),
    "abs": (dc.abs, nonzero),
    "tanh": (dc.tanh, anywhere),
    "sigmoid": (dc.sigmoid, anywhere),
    "relu": (dc.relu, nonzero),
    "clamp": (lambda x: dc.clamp(x, -0.5, 0.5), grid),
    "clamp_min": (lambda x: dc.clamp(x, min=-0.5), grid),
    "clamp_max": (lambda x: x.clamp(max=0.5), grid),
    "pow_int": (lambda x: x**3, nonzero),
    "pow_neg": (lambda x: x**-2, nonzero),
    "pow_half": (lambda x: x**0.5, positive),
    "pow_zero": (lambda x: x**0, anywhere),
    "rpow": (lambda x: 2.0**x, anywhere),
    "rsub": (lambda x: 1.0 - x, anywhere),
    "rdiv": (lambda x: 1.0 / x, nonzero),
    "clone": (lambda x: x.clone(), anywhere),
}
UNARY.update(merged("UNARY"))


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary(name, shape, seed):
    fn, values = UNARY[name]
    check(fn, values(np.random.default_rng(seed), shape))


def test_cast_to_float32_and_back():
    """float32 rounding needs a larger step; the gradient is cast back."""
    x = leaf(np.random.default_rng(0).uniform(-2, 2, (2, 3)))
    y = cast(x, dc.float32)
    assert y.dtype == dc.float32
    assert y.grad_fn.name() == "ToCopyBackward0"
    assert dc.gradcheck(lambda t: cast(t, dc.float32) * 3, [x], eps=1e-3, atol=1e-3)
    mixed = lambda t: cast(t * t, dc.float32) * t  # float32 * float64 is float64
    assert dc.gradgradcheck(mixed, [x], eps=1e-3, atol=1e-3)
    y.sum().backward()
    assert x.grad.dtype == dc.float64
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


BINARY = {
    "add": (dc.add, anywhere, anywhere),
    "sub": (dc.sub, anywhere, anywhere),
    "mul": (dc.mul, anywhere, anywhere),
    "div": (dc.div, anywhere, nonzero),
    "pow": (dc.pow, positive, anywhere),
    "maximum": (dc.maximum, grid, lambda rng, s: grid(rng, s, offset=0.17)),
    "minimum": (dc.minimum, grid, lambda rng, s: grid(rng, s, offset=0.17)),
    "atan2": (dc.atan2, anywhere, nonzero),
    "operators": (lambda x, y: (x - y) * x / (y * y + 1) + y**2, anywhere, anywhere),
}
BINARY.update(merged("BINARY"))


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=pairs, seed=seeds)
def test_binary_broadcasting(name, shapes, seed):
    fn, left, right = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = shapes.input_shapes
    check(fn, left(rng, a), right(rng, b))


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(("a", "b"), [((3, 1), (4,)), ((), (2, 3)), ((2, 3), ())])
def test_binary_fixed_broadcasts(name, a, b):
    """The issue's examples: (3,1) with (4,), and a scalar with a matrix."""
    fn, left, right = BINARY[name]
    rng = np.random.default_rng(1)
    check(fn, left(rng, a), right(rng, b))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_a_constant(name):
    """Only one side requires grad; the other is a plain number or array."""
    fn, left, right = BINARY[name]
    rng = np.random.default_rng(2)
    const, tensor_const = right(rng, (3,)), dc.tensor(left(rng, (2, 1)))
    check(lambda x: fn(x, const), left(rng, (2, 3)))
    check(lambda y: fn(tensor_const, y), right(rng, (3,)))


@SETTINGS
@given(shapes=triples, seed=seeds)
def test_where_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    c, a, b = shapes.input_shapes
    cond = dc.tensor(rng.random(c) > 0.5)
    check(lambda x, y: dc.where(cond, x, y), anywhere(rng, a), anywhere(rng, b))
    check(lambda x: dc.where(cond, x, 0.0), anywhere(rng, a))


# --- reductions ----------------------------------------------------------------


@st.composite
def reduction_args(draw):
    shape = draw(nonempty_shapes)
    ndim = len(shape)
    dim = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), min_size=1, unique=True).map(tuple),
        )
    )
    return shape, dim, draw(st.booleans())


REDUCTIONS = {
    "sum": (dc.sum, anywhere),
    "mean": (dc.mean, anywhere),
    "amax": (dc.amax, distinct),
    "amin": (dc.amin, distinct),
    "norm": (lambda x, dim, keepdim: dc.norm(x, dim=dim, keepdim=keepdim), nonzero),
    "norm1": (lambda x, dim, keepdim: dc.norm(x, 1, dim, keepdim), nonzero),
    "norm3": (lambda x, dim, keepdim: dc.norm(x, 3, dim, keepdim), nonzero),
}
REDUCTIONS.update(merged("REDUCTIONS"))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(args=reduction_args(), seed=seeds)
def test_reduction(name, args, seed):
    shape, dim, keepdim = args
    fn, values = REDUCTIONS[name]
    check(lambda x: fn(x, dim, keepdim), values(np.random.default_rng(seed), shape))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_full_reduction(name, shape, seed):
    fn, values = REDUCTIONS[name]
    check(lambda x: fn(x, None, False), values(np.random.default_rng(seed), shape))


@pytest.mark.parametrize("fn", [dc.max, dc.min], ids=["max", "min"])
@SETTINGS
@given(args=reduction_args(), seed=seeds)
def test_max_min_along_dim(fn, args, seed):
    shape, dim, keepdim = args
    dim = dim[0] if isinstance(dim, tuple) else (0 if dim is None else dim)
    check(
        lambda x: fn(x, dim, keepdim).values,
        distinct(np.random.default_rng(seed), shape),
    )
    check(lambda x: fn(x), distinct(np.random.default_rng(seed), shape))


# --- linear algebra -------------------------------------------------------------


@SETTINGS
@given(k=st.integers(1, 4), m=st.integers(1, 3), n=st.integers(1, 3), seed=seeds)
def test_dot_and_mm(k, m, n, seed):
    rng = np.random.default_rng(seed)
    check(dc.dot, anywhere(rng, (k,)), anywhere(rng, (k,)))
    check(dc.mm, anywhere(rng, (m, k)), anywhere(rng, (k, n)))
    check(
        lambda a, b: a.mm(b).sum() * a[0].dot(a[-1]),
        anywhere(rng, (k, k)),
        anywhere(rng, (k, n)),
    )


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 2)),
    ((2, 2, 3), (2, 3, 2)),
    ((1, 2, 3), (2, 3, 2)),
    ((3,), (2, 3, 2)),
    ((2, 2, 3), (3,)),
    ((2, 3), (2, 3, 1)),
    ((2, 1, 2, 3), (3, 3, 2)),
]


@pytest.mark.parametrize(("a", "b"), MATMUL_SHAPES)
def test_matmul(a, b):
    rng = np.random.default_rng(3)
    check(dc.matmul, anywhere(rng, a), anywhere(rng, b))
    check(lambda x, y: x @ y, anywhere(rng, a), anywhere(rng, b))


# --- shapes ----------------------------------------------------------------------


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 3), min_size=2, max_size=4).map(tuple), data=st.data()
)
def test_transposes(shape, data):
    ndim = len(shape)
    x = anywhere(np.random.default_rng(0), shape)
    d0 = data.draw(st.integers(-ndim, ndim - 1))
    d1 = data.draw(st.integers(-ndim, ndim - 1))
    perm = data.draw(st.permutations(range(ndim)))
    check(lambda t: t.mT, x)
    check(lambda t: dc.transpose(t, d0, d1), x)
    check(lambda t: dc.permute(t, perm), x)
    inverse = tuple(int(i) for i in np.argsort(perm))
    check(lambda t: t.permute(*perm).permute(*inverse) * t.T.T, x)


@SETTINGS
@given(shape=shapes, data=st.data())
def test_reshape(shape, data):
    x = anywhere(np.random.default_rng(0), shape)
    target = data.draw(
        st.sampled_from(
            [(-1,), tuple(reversed(shape)), (1, *shape, 1), (int(np.prod(shape)), 1)]
        )
    )
    check(lambda t: dc.reshape(t, target), x)
    check(lambda t: t.view(*target) * t.reshape(target), x)
    check(lambda t: t.flatten().unsqueeze(0).squeeze(0), x)


@SETTINGS
@given(shapes=pairs, seed=seeds)
def test_broadcast_to(shapes, seed):
    small, _ = shapes.input_shapes
    target = shapes.result_shape
    x = anywhere(np.random.default_rng(seed), small)
    check(lambda t: dc.broadcast_to(t, target) * 2, x)
    check(lambda t: t.expand(*target), x)


# --- indexing ----------------------------------------------------------------------

GETITEM = [
    ((3, 4), 1),
    ((3, 4), -1),
    ((3, 4), (1, 2)),
    ((3, 4), slice(1, None)),
    ((3, 4), slice(None, None, -1)),
    ((3, 4), (slice(None), 1)),
    ((3, 4), (Ellipsis, 0)),
    ((3, 4), (None, slice(1, 3))),
    ((2, 3, 4), (1, slice(None), slice(0, 4, 2))),
    ((4,), [0, 0, 2]),
    ((4,), [3, 1, 3, 3]),
    ((3, 4), ([0, 2, 0], [1, 1, 1])),
    ((3, 4), ([1, 1], slice(1, None))),
    ((3, 4), np.array([[0, 1], [1, 0]])),
    ((3, 4), (slice(None), [2, 2, 0])),
    ((3, 4), "mask"),
]


def _index(shape, index):
    if isinstance(index, str):  # a boolean mask, fixed so the output shape is too
        return np.arange(np.prod(shape)).reshape(shape) % 3 == 1
    return index


@pytest.mark.parametrize(("shape", "index"), GETITEM, ids=str)
def test_getitem(shape, index):
    index = _index(shape, index)
    rng = np.random.default_rng(4)
    check(lambda t: t[index], anywhere(rng, shape))
    check(lambda t: t[index] * t[index], anywhere(rng, shape))
    check(
        lambda t: t[dc.tensor(index)] if isinstance(index, np.ndarray) else t[index],
        anywhere(rng, shape),
    )


SETITEM = [
    (1, (4,)),
    (1, ()),
    ((slice(None), 2), (3,)),
    ((slice(1, None), slice(None, 2)), (2, 2)),
    ((slice(1, None), slice(None, 2)), (1, 2)),
    ([0, 2], (2, 4)),
    (([0, 2, 1], [1, 3, 0]), (3,)),
    ("mask", (4,)),
]


@pytest.mark.parametrize(("index", "value_shape"), SETITEM, ids=str)
def test_setitem_index_put(index, value_shape):
    """x[i] = v records index_put; both the overwritten base and v get gradients."""
    index = _index((3, 4), index)
    rng = np.random.default_rng(5)

    def fn(base, value):
        out = base * 1.0
        out[index] = value * 2.0
        return out * base

    check(fn, anywhere(rng, (3, 4)), anywhere(rng, value_shape))


@SETTINGS
@given(shape=shapes, n=st.integers(1, 3), data=st.data(), seed=seeds)
def test_stack(shape, n, data, seed):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check(lambda *xs: dc.stack(xs, dim=dim), *[anywhere(rng, shape) for _ in range(n)])
    check(lambda a: dc.stack([a, a * a], dim=dim), anywhere(rng, shape))


def test_tensor_of_tracked_scalars_stacks():
    """dc.tensor([m[0]**2, m[1]**3]) keeps the graph (via stack)."""
    check(lambda m: dc.tensor([m[0] ** 2, m[1] ** 3]), [2.0, 3.0])


# --- functions of given shapes: matrices, class targets -------------------------
FIXED = merged("FIXED")


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed(name):
    """Several draws each; ``tol`` where a function amplifies rounding."""
    fn, inputs, tol = FIXED[name]
    for seed in range(3):
        rng = np.random.default_rng(seed)
        check(fn, *[values(rng, shape) for values, shape in inputs], **tol)


# --- coverage: every differentiable primitive is exercised above ----------------


def _collect(t, names):
    names.update(n._prim.name for n in topological([t]) if n._prim is not None)


def coverage_examples(rng) -> list:
    """One example of each case above, as (fn, input arrays): together they use
    every primitive that has VJP rules (also in their backward graphs)."""
    examples = [(fn, [values(rng, (2, 3))]) for fn, values in UNARY.values()]
    examples += [(fn, [a(rng, (2, 1)), b(rng, (3,))]) for fn, a, b in BINARY.values()]
    examples += [
        (lambda x, fn=fn: fn(x, 1, False), [v(rng, (2, 3))])
        for fn, v in REDUCTIONS.values()
    ]
    cond = dc.tensor([True, False, True])
    examples += [
        (lambda x: dc.where(cond, x, 0.0), [anywhere(rng, (2, 3))]),
        (lambda x: cast(x, dc.float32), [anywhere(rng, (2,))]),
        (dc.dot, [anywhere(rng, (3,)), anywhere(rng, (3,))]),
        (dc.mm, [anywhere(rng, (2, 3)), anywhere(rng, (3, 2))]),
        (dc.matmul, [anywhere(rng, (2, 2, 3)), anywhere(rng, (3, 2))]),
        (
            lambda x: x.mT + dc.transpose(x, 0, 1) + dc.permute(x, 1, 0),
            [anywhere(rng, (2, 2))],
        ),
        (
            lambda x: dc.reshape(x, (-1,)) + dc.broadcast_to(x[0, 0], (4,)),
            [anywhere(rng, (2, 2))],
        ),
        (lambda x: x[[0, 0]], [anywhere(rng, (2, 2))]),
        (lambda x, y: dc.stack([x, y]), [anywhere(rng, (2,)), anywhere(rng, (2,))]),
        (lambda x: fn_setitem(x), [anywhere(rng, (2, 2))]),
        (lambda x: dc.max(x, 0).values, [distinct(rng, (2, 2))]),
        (lambda x: x.min(dim=1, keepdim=True).values, [distinct(rng, (2, 2))]),
    ]
    examples += [
        (fn, [values(rng, shape) for values, shape in inputs])
        for fn, inputs, _ in FIXED.values()
    ]
    return examples


def test_every_differentiable_primitive_is_covered():
    """The examples and their differentiable backward graphs use every
    primitive that has VJP rules."""
    names = set()
    for fn, arrays in coverage_examples(np.random.default_rng(6)):
        xs = [leaf(a) for a in arrays]
        out = fn(*xs)
        _collect(out, names)
        square = (out * out).sum()  # keeps x in every first-order rule
        grads = dc.autograd.grad(square, xs, create_graph=True, allow_unused=True)
        for g in grads:
            if g is not None:
                _collect(g, names)
    wanted = {name for name, p in PRIMITIVES.items() if p.differentiable}
    assert wanted <= names, f"not covered: {sorted(wanted - names)}"


def fn_setitem(x):
    out = x * 1.0
    out[0] = x[1] * 3
    return out
