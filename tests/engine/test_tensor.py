"""Tensor: construction and dtypes, reprs, graph bookkeeping (requires_grad,
leaves, grad_fn), detach/.data memory sharing, conversions and methods."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import diffcli as dc
from diffcli.engine.autograd import Variable

# --- construction and dtypes --------------------------------------------------


def test_dtype_inference_follows_pytorch_with_float64_default():
    assert dc.tensor([2, 3]).dtype == dc.int64
    assert dc.tensor([2.0, 3]).dtype == dc.float64
    assert dc.tensor([True]).dtype == dc.bool_
    assert dc.tensor(np.array([1.0], dtype=np.float32)).dtype == dc.float32
    assert dc.Tensor([2, 3]).dtype == dc.float64  # the legacy constructor
    assert dc.FloatTensor([2, 3]).dtype == dc.float32
    assert dc.DoubleTensor([2, 3]).dtype == dc.float64
    assert dc.arange(4).dtype == dc.int64
    assert dc.arange(4.0).dtype == dc.float64
    assert dc.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert dc.tensor([1, 2], dtype=dc.float32).dtype == dc.float32


def test_constructors():
    assert dc.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert dc.ones((2,)).tolist() == [1.0, 1.0]
    assert dc.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert dc.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert dc.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    x = dc.tensor([[1.0, 2.0]])
    assert dc.zeros_like(x).shape == (1, 2) and dc.ones_like(x).sum().item() == 2
    assert dc.ones(2, requires_grad=True).requires_grad
    assert dc.randn(size=()).shape == ()
    assert dc.rand(3, 2).shape == (3, 2)


def test_manual_seed_makes_random_tensors_repeatable():
    dc.manual_seed(3)
    a = dc.randn(4)
    dc.manual_seed(3)
    assert dc.equal(a, dc.randn(4))


def test_from_numpy_shares_memory_and_keeps_dtype():
    arr = np.array([1, 2, 3], dtype=np.float64)
    x = dc.from_numpy(arr)
    x.requires_grad = True
    arr[0] = 10.0
    assert x.tolist() == [10.0, 2.0, 3.0]
    assert dc.from_numpy(np.arange(3, dtype=np.int32)).dtype == dc.int32
    with pytest.raises(dc.DiffcliError):
        dc.from_numpy([1, 2])


def test_tensor_copies_its_data():
    arr = np.ones(2)
    x = dc.tensor(arr)
    arr[0] = 5
    assert x.tolist() == [1.0, 1.0]


def test_variable_is_a_plain_tensor():
    v = Variable(dc.Tensor([2, 3]), requires_grad=True)
    assert isinstance(v, dc.Tensor) and v.requires_grad and v.is_leaf
    assert not Variable(dc.zeros(2)).requires_grad


# --- reprs (PyTorch's, with float64 as the default dtype) --------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: dc.tensor(1.0, requires_grad=True), "tensor(1., requires_grad=True)"),
        (
            lambda: dc.tensor([1.0, 2.0], requires_grad=True) * 2,
            "tensor([2., 4.], grad_fn=<MulBackward0>)",
        ),
        (lambda: dc.arange(4.0), "tensor([0., 1., 2., 3.])"),
        (lambda: dc.tensor([0.0, 4.0, 8.0, 12.0]), "tensor([ 0.,  4.,  8., 12.])"),
        (lambda: dc.tensor([2, 3]), "tensor([2, 3])"),
        (lambda: dc.tensor([True, True]), "tensor([True, True])"),
        (lambda: dc.tensor([0.48507125, 3.88057]), "tensor([0.4851, 3.8806])"),
        (
            lambda: dc.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True),
            "tensor([[0., 0.],\n        [1., 2.]], requires_grad=True)",
        ),
        (
            lambda: dc.FloatTensor([15, 18]),
            "tensor([15., 18.], dtype=diffcli.float32)",
        ),
        (
            lambda: dc.ones(2, dtype=dc.float32, requires_grad=True).sum(),
            "tensor(2., dtype=diffcli.float32, grad_fn=<SumBackward0>)",
        ),
        (
            lambda: dc.tensor([102.4, 1024.0, 0.1024]),
            "tensor([1.0240e+02, 1.0240e+03, 1.0240e-01])",
        ),
    ],
)
def test_repr(make, expected):
    t = make()
    assert repr(t) == expected
    assert str(t) == expected


def test_grad_fn_repr_and_next_functions():
    x = dc.tensor([1.0], requires_grad=True)
    y = x * 2 + 1
    assert repr(y.grad_fn).startswith("<AddBackward0 object at 0x")
    (mul, _), (none, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and none is None
    assert mul == y._inputs[0].grad_fn
    assert x.grad_fn is None


# --- graph bookkeeping ----------------------------------------------------------


def test_requires_grad_propagation_and_leaves():
    x = dc.randn(2, 2)
    z = dc.randn(2, 2, requires_grad=True)
    a = x + x
    b = a + z
    assert (x.requires_grad, a.requires_grad, b.requires_grad) == (False, False, True)
    assert a.is_leaf and not b.is_leaf and z.is_leaf
    assert a.grad_fn is None and b.grad_fn.name() == "AddBackward0"
    b.sum().backward()
    assert z.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert b.grad is None  # non-leaves keep no .grad
    assert x.grad is None


def test_requires_grad_setter_and_method():
    a = dc.randn(2, 2)
    a = (a * 3) / (a - 1)
    assert not a.requires_grad
    assert a.requires_grad_(True) is a
    assert (a * a).sum().grad_fn.name() == "SumBackward0"
    a.requires_grad = False
    assert not (a * a).requires_grad


def test_detach_shares_memory_and_leaves_the_graph():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    u = y.detach()
    assert not u.requires_grad and u.is_leaf and u.grad_fn is None
    assert np.shares_memory(u.numpy(), y._data)
    assert y.requires_grad  # y itself is untouched
    assert x.eq(x.detach()).all().item()


def test_data_shares_memory_and_is_not_tracked():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad
    d[0] = 5.0  # no leaf error: .data is outside the graph
    assert x.tolist() == [5.0, 2.0]
    x.data.fill_(3.0)
    assert x.tolist() == [3.0, 3.0]
    x.data.zero_()
    assert x.tolist() == [0.0, 0.0]
    x.data = dc.tensor([7.0, 8.0])
    assert x.tolist() == [7.0, 8.0] and x.requires_grad


def test_grad_zero_is_in_place():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    x.grad.zero_()
    assert g is x.grad and g.tolist() == [0.0, 0.0]
    (x * x).sum().backward()
    assert g.tolist() == [2.0, 4.0]


def test_detach_in_place():
    x = dc.tensor([1.0], requires_grad=True)
    y = x * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad


def test_clone_copies_and_keeps_the_graph():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    assert not np.shares_memory(c._data, x._data)
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    plain = dc.tensor([1.0]).clone()
    assert plain.grad_fn is None and not plain.requires_grad


def test_numpy_refuses_a_tensor_that_requires_grad():
    x = dc.tensor([1.0], requires_grad=True)
    with pytest.raises(dc.DiffcliError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


# --- conversions and small methods -------------------------------------------------


def test_scalar_conversions():
    t = dc.tensor(2.5)
    assert t.item() == 2.5 and float(t) == 2.5 and int(t) == 2
    assert bool(dc.tensor([1.0]))
    with pytest.raises(dc.DiffcliError, match="ambiguous"):
        bool(dc.tensor([1.0, 2.0]))
    with pytest.raises(dc.DiffcliError, match="2 elements"):
        dc.tensor([1.0, 2.0]).item()
    with pytest.raises(dc.DiffcliError):
        len(dc.tensor(1.0))
    assert [1, 2, 3][dc.tensor(1)] == 2


def test_shape_properties():
    t = dc.zeros(2, 3)
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and len(t) == 2


def test_iteration_and_indexing_keep_the_graph():
    x = dc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = sum(v * v for v in x)
    total.backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    assert x[1].grad_fn.name() == "SelectBackward0"
    assert x[1:].grad_fn.name() == "SliceBackward0"
    assert x[[0, 0]].grad_fn.name() == "IndexBackward0"
    assert x[dc.tensor([True, False, True])].tolist() == [1.0, 3.0]


def test_shape_methods():
    x = dc.arange(6.0).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2) and x.t().shape == (3, 2)
    assert x.view(3, 2).shape == (3, 2) and x.flatten().shape == (6,)
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(0).squeeze().shape == (2, 3)
    assert x[0:1].squeeze(0).shape == (3,)
    assert x[0:1].expand(4, -1).shape == (4, 3)
    assert x[0].expand_as(x).tolist() == [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    assert x.permute(1, 0).tolist() == x.T.tolist()
    assert x.transpose(0, 1).tolist() == x.T.tolist()


def test_reductions_and_comparisons():
    x = dc.tensor([[1.0, 5.0], [4.0, 2.0]])
    assert x.sum().item() == 12.0 and x.mean().item() == 3.0
    assert x.sum(0).tolist() == [5.0, 7.0]
    assert x.mean(1, keepdim=True).shape == (2, 1)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 4.0] and indices.tolist() == [1, 0]
    assert x.min(dim=0).indices.tolist() == [0, 1]
    assert x.max().item() == 5.0 and x.amin().item() == 1.0
    assert dc.max(x, dc.tensor(3.0)).tolist() == [[3.0, 5.0], [4.0, 3.0]]
    assert x.argmax().item() == 1 and x.argmin(dim=1).tolist() == [0, 1]
    assert (x > 2).tolist() == [[False, True], [True, False]]
    assert ((x > 2) & (x < 5)).tolist() == [[False, False], [True, False]]
    assert (~(x > 2)).any().item()
    assert x.equal(x.clone()) and not x.equal(x + 1)
    assert x.allclose(x + 1e-9)
    with pytest.raises(dc.DiffcliError, match="floating point"):
        dc.arange(3).mean()


def test_dtype_conversions_keep_the_graph():
    x = dc.tensor([1.5, 2.5], requires_grad=True)
    f = x.float()
    assert f.dtype == dc.float32 and f.grad_fn.name() == "ToCopyBackward0"
    assert x.double() is x and x.to(dc.float64) is x
    assert x.long().tolist() == [1, 2] and not x.long().requires_grad
    (f * 2).sum().backward()
    assert x.grad.dtype == dc.float64 and x.grad.tolist() == [2.0, 2.0]


def test_inplace_ops_without_a_graph_write_in_place():
    x = dc.tensor([1.0, 2.0])
    view = x.data
    x += 1
    x.mul_(2)
    x.sub_(dc.tensor([1.0, 1.0]))
    x /= 5
    assert x.tolist() == [0.6, 1.0]
    assert view.tolist() == [0.6, 1.0]


def test_setitem_without_a_graph():
    n = dc.zeros(2)
    n[0] = 3.0
    n[1] = dc.tensor(4.0)
    assert n.tolist() == [3.0, 4.0] and n.grad_fn is None
    b = dc.ones(2).expand(2, 2)
    b[0, 0] = 5.0  # a broadcast view is read-only: it gets its own copy
    assert b.tolist() == [[5.0, 1.0], [1.0, 1.0]]


def test_element_by_element_vector_output():
    """Seed 003: n[0] = m[0]**2; n[1] = m[1]**3 records CopySlices."""
    m = dc.tensor([2.0, 3.0], requires_grad=True)
    n = dc.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    assert repr(n) == "tensor([ 4., 27.], grad_fn=<CopySlices>)"
    n.backward(gradient=dc.tensor([1.0, 1.0]))
    assert m.grad.tolist() == [4.0, 27.0]


def test_tensor_of_tensors():
    m = dc.tensor([2.0, 3.0], requires_grad=True)
    n = dc.tensor([m[0] ** 2, m[1] ** 3])
    assert n.grad_fn.name() == "StackBackward0"
    n.sum().backward()
    assert m.grad.tolist() == [4.0, 27.0]
    assert dc.Tensor([dc.tensor(1.0), dc.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_a_0d_result_shares_its_values_like_any_tensor():
    """0-d results are kept as numpy scalars for speed; .data, detach() and
    numpy() still hand out arrays that write through, as in PyTorch."""
    x = dc.tensor(3.0, requires_grad=True)
    z = x * 2
    z.data.fill_(7.0)
    assert z.item() == 7.0
    d = (x * 2).detach()
    d += 1
    assert d.item() == 7.0
    with dc.no_grad():
        y = x * 2
    view = y.numpy()
    assert type(view) is np.ndarray
    view[...] = 9.0
    assert y.item() == 9.0
    assert np.asarray(y, dtype=np.float32).dtype == np.float32
    w = x * 2
    w[...] = 5.0  # an in-place write on a recorded result
    assert w.item() == 5.0


@pytest.mark.parametrize(
    "view",
    [lambda y: y.reshape(1), lambda y: y[None], lambda y: y.expand(3)],
    ids=["reshape", "index", "expand"],
)
def test_views_of_a_0d_result_share_its_memory(view):
    y = dc.tensor(2.0) * 1.0
    v = view(y)
    y.fill_(5.0)
    np.testing.assert_array_equal(v.numpy(), 5.0)
    if v.numel() == 1:  # an expanded view is read-only, as torch's refuses writes
        v[0] = 42.0
        assert y.item() == 42.0


def test_gradcheck_perturbs_a_0d_leaf_made_by_an_operation():
    x = (dc.tensor(2.0) * 1.0).requires_grad_()
    assert dc.gradcheck(lambda x: x * x, [x])


def test_array_with_a_dtype_is_a_copy_and_int_results_wrap_silently():
    t = dc.tensor([1.0, 2.0])
    b = np.array(t, dtype=np.float64)
    b[1] = 7.0
    assert t.tolist() == [1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ((dc.tensor(2**62) * 1) * 4).item() == 0  # as torch's int64
