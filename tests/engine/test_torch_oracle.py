"""PyTorch as the oracle: random expressions and shapes, evaluated by diffcli
(float64) and by torch (float64), must agree in values, gradients, grad_fn names
and repr() (torch's ", dtype=torch.float64" removed, diffcli's default dtype)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import diffcli as dc

torch = pytest.importorskip("torch")

SETTINGS = settings(deadline=None, max_examples=25, database=None)
pairs = mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
seeds = st.integers(0, 2**32 - 1)


@pytest.fixture(autouse=True, scope="module")
def torch_float64():
    """torch with diffcli's default dtype, so float64 reprs wrap the same way
    (a dtype suffix would push grad_fn to a new line); restored afterwards."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def torch_repr(t):
    return (
        repr(t)
        .replace(", dtype=torch.float64", "")
        .replace("dtype=torch.", "dtype=diffcli.")
        .replace("torch::autograd::", "")
    )


def name(t):
    return None if t.grad_fn is None else t.grad_fn.name().split("::")[-1]


def same(ours, theirs, *, names=True, rtol=1e-12, signed_zeros=True):
    """Values, repr and grad_fn name of a diffcli and a torch tensor agree
    (``signed_zeros=False``: a -0. where torch has 0. is the same)."""
    assert ours.shape == tuple(theirs.shape)
    values = ours.detach().numpy()
    np.testing.assert_allclose(values, theirs.detach().numpy(), rtol=rtol, atol=1e-13)
    if np.array_equal(values, theirs.detach().numpy()):
        if signed_zeros:
            assert repr(ours) == torch_repr(theirs)
        else:
            unsigned = theirs.detach().numpy() + 0.0
            assert repr(dc.tensor(values + 0.0)) == torch_repr(torch.tensor(unsigned))
    else:  # rounding noise (-2.8e-17 where torch has 0) can switch the format
        assert repr(dc.tensor(values)) == torch_repr(torch.tensor(values))
    if names:
        assert name(ours) == name(theirs)


def leaves(arrays):
    return (
        [dc.tensor(a, requires_grad=True) for a in arrays],
        [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays],
    )


def compare(fn, arrays, *, names=True, seed=0, rtol=1e-12, signed_zeros=True):
    """Run ``fn(lib, *leaves)`` in both libraries; compare the output, then the
    gradients of sum(out * cotangent)."""
    ours_in, theirs_in = leaves(arrays)
    ours, theirs = fn(dc, *ours_in), fn(torch, *theirs_in)
    same(ours, theirs, names=names, rtol=rtol)
    cot = np.random.default_rng(seed).standard_normal(ours.shape)
    ours.backward(dc.tensor(cot))
    theirs.backward(torch.tensor(cot))
    for a, b in zip(ours_in, theirs_in, strict=True):
        if b.grad is None:
            assert a.grad is None or not a.grad.numpy().any()
        else:
            same(a.grad, b.grad, rtol=rtol, signed_zeros=signed_zeros)


# --- random elementwise programs ----------------------------------------------

# Each step maps (lib, current, other leaf) to a new tensor; domains are guarded
# with ops that both libraries record identically.
STEPS = {
    "add": lambda m, x, y: x + y,
    "radd": lambda m, x, y: 2.5 + x,
    "sub": lambda m, x, y: x - y,
    "rsub": lambda m, x, y: 1.0 - x,
    "mul": lambda m, x, y: x * y,
    "scale": lambda m, x, y: x * 0.5,
    "div": lambda m, x, y: x / (y.abs() + 0.5),
    "rdiv": lambda m, x, y: 1.0 / (x * x + 1.0),
    "pow": lambda m, x, y: x**2,
    "pow3": lambda m, x, y: x**3,
    "powt": lambda m, x, y: (x.abs() + 0.5) ** y.clamp(-2.0, 2.0),
    "rpow": lambda m, x, y: 2.0 ** x.clamp(-3.0, 3.0),
    "neg": lambda m, x, y: -x,
    "exp": lambda m, x, y: m.exp(x.clamp(max=3.0)),
    "log": lambda m, x, y: m.log(x.abs() + 0.5),
    "sqrt": lambda m, x, y: m.sqrt(x * x + 0.1),
    "sin": lambda m, x, y: m.sin(x),
    "cos": lambda m, x, y: m.cos(x),
    "tan": lambda m, x, y: m.tan(x.clamp(-1.0, 1.0)),
    "tanh": lambda m, x, y: m.tanh(x),
    "sigmoid": lambda m, x, y: m.sigmoid(x),
    "relu": lambda m, x, y: m.relu(x),
    "abs": lambda m, x, y: x.abs(),
    "clamp": lambda m, x, y: m.clamp(x, -0.7, 0.9),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "minimum": lambda m, x, y: m.minimum(x, y),
    "where": lambda m, x, y: m.where(x > y, x, y * 2.0),
    "clone": lambda m, x, y: x.clone(),
}

FINALS = {
    "sum": lambda m, x, dim, keep: x.sum(),
    "sum_dim": lambda m, x, dim, keep: x.sum(dim, keepdim=keep),
    "mean": lambda m, x, dim, keep: x.mean(),
    "mean_dim": lambda m, x, dim, keep: x.mean(dim, keepdim=keep),
    "max": lambda m, x, dim, keep: x.max(),
    "min": lambda m, x, dim, keep: x.min(),
    "max_dim": lambda m, x, dim, keep: x.max(dim, keepdim=keep)[0],
    "min_dim": lambda m, x, dim, keep: x.min(dim, keepdim=keep).values,
    "amax": lambda m, x, dim, keep: m.amax(x, dim, keepdim=keep),
    "amin": lambda m, x, dim, keep: m.amin(x, dim, keepdim=keep),
    "norm": lambda m, x, dim, keep: m.norm(x),
    "norm_dim": lambda m, x, dim, keep: m.norm(x, dim=dim, keepdim=keep),
    "identity": lambda m, x, dim, keep: x,
}


@settings(deadline=None, max_examples=60, database=None)
@given(
    shapes=pairs,
    seed=seeds,
    program=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=6),
    final=st.sampled_from(sorted(FINALS)),
    keep=st.booleans(),
    pick=st.integers(0, 5),
)
def test_random_programs(shapes, seed, program, final, keep, pick):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, s) for s in shapes.input_shapes]

    def fn(m, x, y):
        out = x
        for step in program:
            out = STEPS[step](m, out, y)
            assert out.grad_fn is not None
        # A dim of the result (negative half the time); none for a 0-d result,
        # where diffcli, unlike torch, does not accept dim=0.
        dim = pick % out.ndim - (pick % 2) * out.ndim if out.ndim else None
        name = final.removesuffix("_dim") if dim is None else final
        return FINALS[name](m, out, dim, keep)

    compare(fn, arrays, seed=seed)


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_step_once(step):
    rng = np.random.default_rng(7)
    compare(lambda m, x, y: STEPS[step](m, x, y), [rng.uniform(-2, 2, (2, 3))] * 2)
    compare(
        lambda m, x, y: STEPS[step](m, x, y),
        [rng.uniform(-2, 2, (3, 1)), rng.uniform(-2, 2, (4,))],
    )


# --- shapes, reductions, linear algebra, indexing ------------------------------

CASES = {
    "dot": ([(3,), (3,)], lambda m, a, b: m.dot(a, b)),
    "mm": ([(2, 3), (3, 4)], lambda m, a, b: m.mm(a, b)),
    "mv": ([(2, 3), (3,)], lambda m, a, b: a @ b),
    "vm": ([(3,), (3, 2)], lambda m, a, b: m.matmul(a, b)),
    "bmm": ([(2, 2, 3), (2, 3, 2)], lambda m, a, b: a @ b),
    "bmv": ([(2, 2, 3), (3,)], lambda m, a, b: a @ b),
    "vbm": ([(3,), (4, 3, 2)], lambda m, a, b: a @ b),
    "bcast_bmm": ([(2, 1, 2, 3), (3, 3, 2)], lambda m, a, b: a @ b),
    "batched_matrix": ([(4, 2, 3), (3, 2)], lambda m, a, b: a @ b),
    "mT": ([(2, 3, 4)], lambda m, a: a.mT),
    "T": ([(3, 4)], lambda m, a: a.T),
    "transpose": ([(2, 3, 4)], lambda m, a: a.transpose(0, 2)),
    "permute": ([(2, 3, 4)], lambda m, a: a.permute(2, 0, 1)),
    "reshape": ([(2, 3)], lambda m, a: a.reshape(3, 2)),
    "view": ([(2, 3)], lambda m, a: a.view(-1)),
    "expand": ([(3, 1)], lambda m, a: a.expand(2, 3, 4)),
    "broadcast_to": ([(3,)], lambda m, a: m.broadcast_to(a, (2, 3))),
    "select": ([(3, 4)], lambda m, a: a[1]),
    "select_col": ([(3, 4)], lambda m, a: a[:, -1]),
    "slice": ([(3, 4)], lambda m, a: a[1:]),
    "slice_step": ([(3, 4)], lambda m, a: a[:, ::2]),
    "index_dup": ([(4,)], lambda m, a: a[[0, 0, 3, 0]]),
    "index_pairs": ([(3, 4)], lambda m, a: a[[0, 2, 0], [1, 1, 1]]),
    "index_mask": ([(3, 4)], lambda m, a: a[a > 0]),
    "stack": ([(2, 3), (2, 3)], lambda m, a, b: m.stack([a, b * b], dim=1)),
    "stack_neg": ([(2, 3), (2, 3)], lambda m, a, b: m.stack([a, b], dim=-1)),
    "sum_dims": ([(2, 3, 4)], lambda m, a: a.sum((0, 2))),
    "mean_keep": ([(2, 3, 4)], lambda m, a: a.mean(1, keepdim=True)),
    "amax_dims": ([(2, 3, 4)], lambda m, a: m.amax(a, (0, 2))),
    "norm_p1": ([(2, 3)], lambda m, a: m.norm(a, p=1)),
    "norm_p3_dim": ([(2, 3)], lambda m, a: m.norm(a, p=3, dim=1)),
    "float32": ([(2, 3)], lambda m, a: (a * 2).float()),
    "to_float32": ([(2, 3)], lambda m, a: a.to(m.float32) * 3),
    "setitem": ([(3,), (3,)], lambda m, a, b: setitem(m, a, b)),
    "inplace": ([(3,), (3,)], lambda m, a, b: inplace(m, a, b)),
    "tensor_of_tensors": ([(2,)], lambda m, a: m.stack([a[0] ** 2, a[1] ** 3])),
}


def setitem(m, a, b):
    n = m.zeros(3, dtype=m.float64)
    n[0] = a[0] ** 2
    n[1:] = b[1:] * a[1:]
    return n


def inplace(m, a, b):
    y = a * 1.0
    y *= b
    y += 1.0
    y /= 2.0
    return y


@pytest.mark.parametrize("case", sorted(CASES))
def test_case(case):
    shapes, fn = CASES[case]
    rng = np.random.default_rng(8)
    compare(fn, [rng.uniform(-2, 2, s) for s in shapes])


# --- kinks: PyTorch's choices at non-differentiable points ---------------------

KINKS = {
    "norm_zero": ([0.0, 0.0], lambda m, x: m.norm(x)),
    "norm_zero_row": ([[0.0, 0.0], [3.0, 4.0]], lambda m, x: m.norm(x, dim=1)),
    "abs_zero": ([0.0, -1.0, 2.0], lambda m, x: x.abs()),
    "relu_zero": ([0.0, -1.0, 2.0], lambda m, x: m.relu(x)),
    "sqrt_zero": ([0.0, 4.0], lambda m, x: m.sqrt(x)),
    "max_ties": ([1.0, 3.0, 3.0], lambda m, x: x.max()),
    "min_ties": ([1.0, 1.0, 3.0], lambda m, x: x.min()),
    "amax_ties": ([[3.0, 3.0], [1.0, 2.0]], lambda m, x: m.amax(x, 1)),
    "max_dim_ties": ([[1.0, 3.0], [3.0, 3.0]], lambda m, x: x.max(0).values),
    "min_dim_ties": ([[2.0, 2.0, 5.0]], lambda m, x: x.min(1, keepdim=True)[0]),
    "maximum_tie": ([1.0, 2.0], lambda m, x: m.maximum(x, m.ones(2) * 2)),
    "minimum_tie": ([1.0, 2.0], lambda m, x: m.minimum(x, m.ones(2))),
    "clamp_bounds": ([0.0, 1.0, 0.5, 2.0], lambda m, x: m.clamp(x, 0.0, 1.0)),
    "pow_zero_base": ([0.0, 1.0], lambda m, x: x**2 + x**0.5 * 0),
    "zero_to_tensor": ([0.0, 2.0], lambda m, x: m.zeros(2, dtype=m.float64) ** x),
}


@pytest.mark.parametrize("case", sorted(KINKS))
def test_kink(case):
    values, fn = KINKS[case]
    ours_in, theirs_in = leaves([np.array(values)])
    ours, theirs = fn(dc, *ours_in), fn(torch, *theirs_in)
    same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(
        ours_in[0].grad.numpy(), theirs_in[0].grad.numpy(), rtol=1e-15, atol=0
    )
    assert repr(ours_in[0].grad) == torch_repr(theirs_in[0].grad)


# --- higher order ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.sin(x) * m.exp(x),
        lambda m, x: m.tanh(x) ** 3 / (x * x + 1),
        lambda m, x: m.sigmoid(x).sum() * m.norm(x),
        lambda m, x: m.log(x * x + 1).mean() * m.sqrt(x * x + 1),
    ],
)
def test_third_order(fn):
    a = np.array([0.3, -0.8, 1.4])
    results = []
    for m in (dc, torch):
        x = m.tensor(a, requires_grad=True)
        out = fn(m, x).sum()
        grads = []
        for _ in range(3):
            (out,) = m.autograd.grad(out, x, create_graph=True)
            grads.append(out.detach().numpy().copy())
            out = out.sum()
        results.append(grads)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-13)


# --- reprs ------------------------------------------------------------------------

REPRS = [
    "tensor(1.)",
    "tensor([1.5, -2.])",
    "tensor([[1e-5, 1.], [3., 4.]])",
    "tensor([1e10, 1.])",
    "tensor([123456.789])",
    "tensor([float('nan'), float('inf'), -1.])",
    "arange(1500.)",
    "tensor([1, 2])",
    "tensor([True, False])",
    "zeros(2, 0)",
    "tensor([2., 3.], requires_grad=True)",
    "ones(2, 2, requires_grad=True) * 3",
    "tensor([0.1, -0.25], dtype=DT) * 2",
]


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(expr):
    ours = eval("dc." + expr.replace("DT", "dc.float32"))
    theirs = eval("torch." + expr.replace("DT", "torch.float32"))
    assert repr(ours) == torch_repr(theirs)
