"""Every example of the five seed tutorials (/work/shared/seeds), with the
numbers the documents print, and the rewritten scripts in examples/seeds."""

from __future__ import annotations

import math
import re
import runpy
from pathlib import Path

import numpy as np
import pytest

import diffcli as dc
from diffcli.engine.autograd import Variable

SCRIPTS = Path(__file__).resolve().parents[2] / "examples" / "seeds"


def values(t):
    return t.detach().numpy().tolist()


# --- 000: understanding autograd ------------------------------------------------


def test_000_scalar_gradients_and_accumulation():
    x = dc.tensor(1.0, requires_grad=True)
    y = dc.tensor(2.0, requires_grad=True)
    z = x + y**2
    assert [repr(x), repr(y), repr(z)] == [
        "tensor(1., requires_grad=True)",
        "tensor(2., requires_grad=True)",
        "tensor(5., grad_fn=<AddBackward0>)",
    ]
    z.backward(retain_graph=True)
    assert (repr(x.grad), repr(y.grad)) == ("tensor(1.)", "tensor(4.)")
    z.backward()
    assert repr(x.grad) == "tensor(2.)"
    assert y.grad.item() == 8.0


def test_000_norm_of_square():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    z = dc.norm(x**2)
    z.backward()
    assert repr(x.grad) == "tensor([0.4851, 3.8806])"
    np.testing.assert_allclose(values(x.grad), [0.4851, 3.8806], atol=5e-5)
    x1, x2 = 1.0, 2.0
    closed = [2 * v**3 / math.sqrt(x1**4 + x2**4) for v in (x1, x2)]
    np.testing.assert_allclose(values(x.grad), closed, rtol=1e-14)
    assert closed == pytest.approx([0.48507125007266594, 3.8805700005813275])


def test_000_vector_output_with_ones():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y = x**2
    y.backward(dc.ones_like(y))
    assert repr(x.grad) == "tensor([2., 4.])"


def test_000_row_vector_times_matrix():
    x = dc.tensor([[1.0, 2.0]], requires_grad=True)
    y = dc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)
    z = dc.mm(x, y)
    assert values(z) == [[7.0, 10.0]]
    z.backward(dc.ones_like(x))
    assert repr(x.grad) == "tensor([[3., 7.]])"
    assert y.grad is None


# --- 001: autograd mechanics (f(x) = a x^2 + b x + c) ---------------------------

A, B, C = dc.tensor(1.0), dc.tensor(-2.0), dc.tensor(1.0)


def f(x):
    return A * dc.pow(x, 2) + B * x + C


def test_001_scalar_backward():
    x = dc.tensor(0.0, requires_grad=True)
    f(x).backward()
    assert repr(x.grad) == "tensor(-2.)"


def test_001_matrix_backward_with_gradient_and_with_sum():
    x = dc.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
    y = f(x)
    assert repr(x) == "tensor([[0., 0.],\n        [1., 2.]], requires_grad=True)"
    assert repr(y) == "tensor([[1., 1.],\n        [0., 1.]], grad_fn=<AddBackward0>)"
    y.backward(gradient=dc.ones_like(x))
    assert repr(x.grad) == "tensor([[-2., -2.],\n        [ 0.,  2.]])"

    x = dc.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
    z = dc.sum(f(x) * dc.tensor([[1.0, 1.0], [1.0, 1.0]]))
    z.backward()
    assert values(x.grad) == [[-2.0, -2.0], [0.0, 2.0]]


def test_001_grad_with_create_graph_gives_second_derivative():
    x = dc.tensor(0.0, requires_grad=True)
    dy_dx = dc.autograd.grad(f(x), x, create_graph=True)[0]
    assert repr(dy_dx.data) == "tensor(-2.)"
    dy2_dx2 = dc.autograd.grad(dy_dx, x)[0]
    assert repr(dy2_dx2.data) == "tensor(2.)"


def test_001_grad_of_several_inputs_and_outputs():
    x1 = dc.tensor(1.0, requires_grad=True)
    x2 = dc.tensor(2.0, requires_grad=True)
    y1 = x1 * x2
    y2 = x1 + x2
    d1, d2 = dc.autograd.grad(outputs=y1, inputs=[x1, x2], retain_graph=True)
    assert (repr(d1), repr(d2)) == ("tensor(2.)", "tensor(1.)")
    d1, d2 = dc.autograd.grad(outputs=[y1, y2], inputs=[x1, x2])
    assert (repr(d1), repr(d2)) == ("tensor(3.)", "tensor(2.)")


def test_001_sgd_finds_the_minimum():
    x = dc.tensor(0.0, requires_grad=True)
    optimizer = dc.optim.SGD(params=[x], lr=0.01)
    for _ in range(500):
        optimizer.zero_grad()
        y = f(x)
        y.backward()
        optimizer.step()
    assert repr(x.data) == "tensor(1.0000)"
    # x_n = 1 - 0.98**n exactly as the recurrence x <- x - 0.01 (2x - 2).
    assert 1 - x.item() == pytest.approx(0.98**500, rel=1e-9)
    assert 1 - x.item() == pytest.approx(4.1e-5, rel=0.02)
    assert f(x).item() == pytest.approx(1.7e-9, rel=0.02)


def test_001_autograd_toolkit():
    x = dc.ones(2, 2, requires_grad=True)
    assert repr(x) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"
    y = x + 2
    assert repr(y) == "tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)"
    assert y.grad_fn.name() == "AddBackward0"
    z = y * y * 3
    assert repr(z) == (
        "tensor([[27., 27.],\n        [27., 27.]], grad_fn=<MulBackward0>)"
    )
    out = z.mean()
    assert repr(out) == "tensor(27., grad_fn=<MeanBackward0>)"
    out.backward()
    assert repr(x.grad) == "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])"

    a = dc.randn(2, 2)
    a = (a * 3) / (a - 1)
    assert not a.requires_grad
    a.requires_grad_(True)
    assert a.requires_grad
    assert (a * a).sum().grad_fn.name() == "SumBackward0"


def test_001_doubling_loop_backward_with_a_vector():
    x = dc.randn(3, requires_grad=True)
    y = x * 2
    k = 1
    while y.data.norm() < 1000:
        y = y * 2
        k += 1
    v = dc.tensor([0.1, 1.0, 0.0001], dtype=dc.float)
    y.backward(v)
    np.testing.assert_allclose(values(x.grad), 2.0**k * np.array(values(v)))
    assert x.requires_grad and (x**2).requires_grad
    with dc.no_grad():
        assert not (x**2).requires_grad
    y = x.detach()
    assert not y.requires_grad
    assert repr(x.eq(y).all()) == "tensor(True)"


# --- 002 and 004: y = 2 x.x, accumulation, detach, control flow ---------------


def test_002_dot_product_accumulation_and_zero():
    x = dc.arange(4.0, requires_grad=True)
    y = 2 * dc.dot(x, x)
    assert repr(x) == "tensor([0., 1., 2., 3.], requires_grad=True)"
    assert repr(y) == "tensor(28., grad_fn=<MulBackward0>)"
    assert x.grad is None
    y.backward()
    assert repr(x.grad) == "tensor([ 0.,  4.,  8., 12.])"
    assert repr(x.grad == 4 * x) == "tensor([True, True, True, True])"
    y = x.sum()
    assert repr(y) == "tensor(6., grad_fn=<SumBackward0>)"
    y.backward()
    assert repr(x.grad) == "tensor([ 1.,  5.,  9., 13.])"
    x.grad.zero_()
    x.sum().backward()
    assert repr(x.grad) == "tensor([1., 1., 1., 1.])"


def test_002_sum_of_a_vector_output():
    x = dc.arange(4.0, requires_grad=True)
    y = x * x
    y.sum().backward()
    assert repr(y) == "tensor([0., 1., 4., 9.], grad_fn=<MulBackward0>)"
    assert repr(x.grad) == "tensor([0., 2., 4., 6.])"
    assert (x.grad == 2 * x).all().item()


def test_002_vector_backward_raises():
    x = dc.arange(4.0, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (x * x).backward()
    assert isinstance(info.value, dc.DiffcliError)
    assert str(info.value).startswith(
        "grad can be implicitly created only for scalar outputs"
    )


def test_002_detach_makes_a_constant():
    x = dc.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    assert repr(u) == "tensor([0., 1., 4., 9.])"
    assert repr(x.grad) == "tensor([0., 1., 4., 9.])"
    assert (x.grad == u).all().item()
    x.grad.zero_()
    y.sum().backward(retain_graph=True)  # 002 stops here; 004 goes on with y
    assert repr(x.grad) == "tensor([0., 2., 4., 6.])"
    x.grad.zero_()
    z = y * x
    z.sum().backward()
    assert repr(x.grad) == "tensor([ 0.,  3., 12., 27.])"


def control_flow(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


@pytest.mark.parametrize("seed", range(8))
def test_002_control_flow_gradient_is_d_over_a(seed):
    dc.manual_seed(seed)
    a = dc.randn(size=(), requires_grad=True)
    d = control_flow(a)
    d.backward()
    k = round(math.log2(abs(d.item() / a.item()) / (1 if a.item() > 0 else 100)))
    expected = 2.0**k if a.item() > 0 else 100 * 2.0**k
    assert a.grad.item() == expected  # products of powers of two are exact
    assert abs(d.item()) >= 1000 or a.item() < 0
    assert a.grad.item() == pytest.approx((d / a).item(), rel=1e-15)
    if a.item() > 0:
        assert (a.grad == d / a).item()


@pytest.mark.parametrize("a0", [1191.2576 / 1024, -0.3, -1e-3, 2000.0, -5000.0])
def test_002_control_flow_both_branches(a0):
    """The document's a = 1.1633 gives d = 1191.2576 and a.grad = 1024; negative a
    takes the 100 * b branch.  (d / a equals the gradient up to the rounding of
    100 * b, so exact equality can fail for negative a, as in PyTorch.)"""
    a = dc.tensor(a0, requires_grad=True)
    d = control_flow(a)
    d.backward()
    if a0 == 1191.2576 / 1024:
        assert repr(a) == "tensor(1.1633, requires_grad=True)"
        assert repr(d) == "tensor(1191.2576, grad_fn=<MulBackward0>)"
        assert repr(a.grad) == "tensor(1024.)"
    if a0 > 0:
        assert (a.grad == d / a).item()
        assert d.grad_fn.name() == "MulBackward0"
    else:
        assert (a.grad.item() / 100).is_integer()
        assert math.log2(a.grad.item() / 100).is_integer()
    assert a.grad.item() == pytest.approx((d / a).item(), rel=1e-15)


def test_004_requires_grad_after_creation():
    x = dc.arange(4.0)
    assert repr(x) == "tensor([0., 1., 2., 3.])"
    x.requires_grad_(True)
    assert repr(x) == "tensor([0., 1., 2., 3.], requires_grad=True)"
    y = 2 * dc.dot(x, x)
    assert repr(y) == "tensor(28., grad_fn=<MulBackward0>)"
    y.backward()
    assert values(x.grad) == [0.0, 4.0, 8.0, 12.0]


# --- 003: gradient computation ---------------------------------------------------


def test_003_ways_to_make_a_tensor_that_requires_grad():
    assert dc.randn(2, 2, requires_grad=True).requires_grad
    x = Variable(dc.Tensor([2, 3]), requires_grad=True)
    assert x.requires_grad and x.dtype == dc.float64
    assert dc.tensor([2, 3], requires_grad=True, dtype=dc.float64).requires_grad
    x = dc.from_numpy(np.array([1, 2, 3], dtype=np.float64))
    x.requires_grad = True
    assert repr(x) == "tensor([1., 2., 3.], requires_grad=True)"
    assert dc.Tensor([2, 3]).dtype == dc.float64  # torch: float32, its default
    assert dc.tensor([2, 3]).dtype == dc.int64


def test_003_only_floats_require_grad():
    with pytest.raises(RuntimeError) as info:
        dc.tensor([2, 3], requires_grad=True)
    assert isinstance(info.value, dc.DiffcliError)
    assert "only Tensors of floating point dtype can require gradients" in str(
        info.value
    )


def test_003_requires_grad_propagation():
    x, y = Variable(dc.randn(2, 2)), Variable(dc.randn(2, 2))
    z = Variable(dc.randn(2, 2), requires_grad=True)
    a = x + y
    b = a + z
    assert (x.requires_grad, y.requires_grad, z.requires_grad) == (False, False, True)
    assert (a.requires_grad, b.requires_grad) == (False, True)

    x, z = Variable(dc.randn(2, 2)), Variable(dc.randn(2, 2))
    y = Variable(dc.randn(2, 2), requires_grad=True)
    a = x + y
    b = a + z
    assert (x.requires_grad, y.requires_grad, z.requires_grad) == (False, True, False)
    assert (a.requires_grad, b.requires_grad) == (True, True)


def test_003_mean_of_squares():
    a = Variable(dc.FloatTensor([2, 3]), requires_grad=True)
    b = a + 3
    c = b * b * 3
    out = c.mean()
    out.backward(retain_graph=True)
    assert values(a.grad) == [15.0, 18.0]
    assert a.grad.dtype == dc.float32
    out.backward()  # retained, so a second pass works and accumulates
    assert values(a.grad) == [30.0, 36.0]
    with pytest.raises(dc.DiffcliError, match="retain_graph=True"):
        out.backward()


def test_003_vector_built_element_by_element():
    m = Variable(dc.FloatTensor([2, 3]), requires_grad=True)
    n = Variable(dc.zeros(2))
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    n.backward(gradient=dc.Tensor([1, 1]), retain_graph=True)
    assert values(m.grad) == [4.0, 27.0]
    with pytest.raises(dc.DiffcliError, match="only for scalar outputs"):
        n.backward()
    with pytest.raises(dc.DiffcliError, match="Mismatch in shape"):
        n.backward(gradient=dc.Tensor([1, 1, 1]))


def test_003_default_gradient_equals_explicit_one():
    a = dc.tensor([2.0, 3.0], requires_grad=True)
    ((a + 3) ** 2).mean().backward(gradient=dc.tensor(1.0))
    assert values(a.grad) == [5.0, 6.0]


# --- the rewritten scripts print the documents' lines ----------------------------


def run_script(name, capsys, seed=None):
    if seed is not None:
        dc.manual_seed(seed)
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    return capsys.readouterr().out.splitlines()


def test_script_seed0(capsys):
    assert run_script("seed0_understanding_autograd.py", capsys) == [
        "tensor(1., requires_grad=True)",
        "tensor(2., requires_grad=True)",
        "tensor(5., grad_fn=<AddBackward0>)",
        "tensor(1.)",
        "tensor(4.)",
        "tensor(2.)",
        "tensor([0.4851, 3.8806])",
        "[0.48507125007266594, 3.8805700005813275]",
        "tensor([2., 4.])",
        "tensor([[3., 7.]])",
    ]


def test_script_seed1(capsys):
    out = run_script("seed1_autograd_mechanics.py", capsys)
    text = "\n".join(out)
    assert out[0] == "tensor(-2.)"
    assert (
        "y:\ntensor([[1., 1.],\n        [0., 1.]], grad_fn=<AddBackward0>)\n"
        "x_grad:\ntensor([[-2., -2.],\n        [ 0.,  2.]])\n"
        "x_grad:\ntensor([[-2., -2.],\n        [ 0.,  2.]])\n"
        "tensor(-2.)\ntensor(2.)\ntensor(2.) tensor(1.)\ntensor(3.) tensor(2.)\n"
    ) in text
    assert re.search(
        r"^y = tensor\(1\.68\d\de-09\); x = tensor\(1\.0000\)$", text, re.M
    )
    assert "out: tensor(27., grad_fn=<MeanBackward0>)" in out
    assert "x.grad: tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])" in text
    for name in ("AddBackward0", "MulBackward0", "MeanBackward0"):
        assert re.search(rf"grad_fn:? <{name} object at 0x[0-9a-f]+>", text)
    assert "b.grad_fn SumBackward0" in out
    assert out[-6:] == ["True", "True", "False", "True", "False", "tensor(True)"]
    assert re.fullmatch(r"tensor\(\[\S+, \S+, \S+\]\)", out[-7])  # v * 2**k


def test_script_seed2(capsys):
    out = run_script("seed2_control_flow.py", capsys)
    assert out[:13] == [
        "x:  tensor([0., 1., 2., 3.], requires_grad=True)",
        "y:  tensor(28., grad_fn=<MulBackward0>)",
        "x.grad:  None",
        "x.grad:  tensor([ 0.,  4.,  8., 12.])",
        "x.grad == 4 * x:  tensor([True, True, True, True])",
        "x.grad:  tensor([ 1.,  5.,  9., 13.])",
        "x.grad:  tensor([1., 1., 1., 1.])",
        "y:  tensor([0., 1., 4., 9.], grad_fn=<MulBackward0>)",
        "x.grad == 2 * x:  tensor([True, True, True, True])",
        "RuntimeError: grad can be implicitly created only for scalar outputs",
        "x.grad == u:  tensor([True, True, True, True])",
        "x.grad == 2 * x:  tensor([True, True, True, True])",
        "x.grad:  tensor([ 0.,  3., 12., 27.])",
    ]
    assert re.fullmatch(r"d:  tensor\(-?\d+\.\d{4}, grad_fn=<MulBackward0>\)", out[14])
    assert out[-1] == "a.grad == d / a:  tensor(True)"


def test_script_seed3(capsys):
    out = run_script("seed3_gradient_computation.py", capsys)
    assert out[0] == "tensor([1., 2., 3.], requires_grad=True)"
    assert out[1] == "int64"
    assert out[2] == (
        "RuntimeError: only Tensors of floating point dtype can require gradients"
    )
    assert out[3:7] == [
        "False False True",
        "False True",
        "False True False",
        "True True",
    ]
    # FloatTensor is float32, not diffcli's default, so its repr names the dtype.
    assert out[7].startswith("tensor([15., 18.]")
    assert out[8].startswith("tensor([ 4., 27.]")
    assert (
        out[9] == "RuntimeError: grad can be implicitly created only for scalar outputs"
    )


def test_script_seed4(capsys):
    out = run_script("seed4_automatic_differentiation.py", capsys, seed=0)
    assert out == [
        "tensor([0., 1., 2., 3.])",
        "tensor([0., 1., 2., 3.], requires_grad=True)",
        "tensor(28., grad_fn=<MulBackward0>)",
        "None",
        "tensor([ 0.,  4.,  8., 12.])",
        "tensor([ 1.,  5.,  9., 13.])",
        "tensor([1., 1., 1., 1.])",
        "tensor([0., 2., 4., 6.])",
        "tensor([0., 1., 4., 9.])",
        "tensor([ 0.,  3., 12., 27.])",
        "tensor(True)",
    ]
