"""The backward pass: kinks, higher order, long chains, grad modes, retain_graph,
autograd.grad, error messages, accumulation and in-place changes."""

from __future__ import annotations

import math
import sys
import threading
import time

import numpy as np
import pytest

import diffcli as dc
from diffcli.engine.gradcheck import GradcheckError
from diffcli.engine.primitive import Primitive
from diffcli.engine.tensor import apply


def grad_of(fn, values):
    """Gradient of sum(fn(x)) at ``values``, as a numpy array."""
    x = dc.tensor(values, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


# --- kinks: PyTorch's choices -------------------------------------------------


def test_norm_at_zero_vector_is_zero_not_nan():
    np.testing.assert_array_equal(grad_of(dc.norm, [0.0, 0.0]), [0.0, 0.0])
    np.testing.assert_allclose(
        grad_of(lambda x: dc.norm(x, dim=1), [[0.0, 0.0], [3.0, 4.0]]),
        [[0.0, 0.0], [0.6, 0.8]],
        rtol=1e-15,
        atol=0,
    )


def test_abs_and_relu_at_zero_give_zero():
    np.testing.assert_array_equal(grad_of(dc.abs, [0.0, -2.0, 3.0]), [0.0, -1.0, 1.0])
    np.testing.assert_array_equal(grad_of(dc.relu, [0.0, -2.0, 3.0]), [0.0, 0.0, 1.0])


def test_sqrt_at_zero_is_inf():
    g = grad_of(dc.sqrt, [0.0, 4.0])
    assert g[0] == math.inf
    assert g[1] == 0.25


def test_full_max_min_ties_share_evenly():
    np.testing.assert_array_equal(grad_of(dc.max, [1.0, 3.0, 3.0]), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(grad_of(dc.min, [1.0, 1.0, 3.0]), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(
        grad_of(dc.amax, [[2.0, 2.0], [2.0, 1.0]]), [[1 / 3, 1 / 3], [1 / 3, 0.0]]
    )
    # amax/amin along a dim also share (torch.amax); max(dim) does not (below).
    np.testing.assert_array_equal(
        grad_of(lambda x: dc.amax(x, 1), [[3.0, 3.0], [1.0, 2.0]]),
        [[0.5, 0.5], [0.0, 1.0]],
    )


def test_max_min_along_dim_send_the_gradient_to_the_returned_index():
    x = dc.tensor([[1.0, 3.0], [3.0, 3.0]], requires_grad=True)
    values, indices = dc.max(x, 0)
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(
        grad_of(lambda x: x.min(dim=1, keepdim=True).values, [[2.0, 2.0, 5.0]]),
        [[1.0, 0.0, 0.0]],
    )


def test_maximum_minimum_tie_gives_each_half():
    a = dc.tensor([1.0, 2.0], requires_grad=True)
    b = dc.tensor([1.0, 3.0], requires_grad=True)
    dc.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0])
    a.grad = b.grad = None
    dc.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0])


def test_clamp_at_the_boundary_passes_gradient():
    np.testing.assert_array_equal(
        grad_of(lambda x: dc.clamp(x, 0.0, 1.0), [0.0, 1.0, 0.5, -1.0, 2.0]),
        [1.0, 1.0, 1.0, 0.0, 0.0],
    )
    np.testing.assert_array_equal(
        grad_of(lambda x: x.clamp(min=0.0), [0.0, -1.0]), [1.0, 0.0]
    )


def test_pow_at_zero_base():
    """0**2 has slope 0, x**0 has slope 0 everywhere, and d(0**y)/dy is 0."""
    np.testing.assert_array_equal(grad_of(lambda x: x**2, [0.0]), [0.0])
    np.testing.assert_array_equal(grad_of(lambda x: x**0, [0.0, 2.0]), [0.0, 0.0])
    y = dc.tensor([2.0], requires_grad=True)
    (dc.tensor([0.0]) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0])


# --- higher order ---------------------------------------------------------------


def test_third_derivative_of_sin_exp():
    x0 = 0.7
    x = dc.tensor(x0, requires_grad=True)
    y = dc.sin(x) * dc.exp(x)
    (d1,) = dc.autograd.grad(y, x, create_graph=True)
    (d2,) = dc.autograd.grad(d1, x, create_graph=True)
    (d3,) = dc.autograd.grad(d2, x)
    e, s, c = math.exp(x0), math.sin(x0), math.cos(x0)
    assert d1.item() == pytest.approx(e * (s + c), rel=1e-12)
    assert d2.item() == pytest.approx(2 * e * c, rel=1e-12)
    assert d3.item() == pytest.approx(2 * e * (c - s), rel=1e-12)
    assert not d3.requires_grad


def test_fourth_derivative_of_polynomial_and_vector_hessian():
    x = dc.tensor(2.0, requires_grad=True)
    d = x**4
    for expected in (32.0, 48.0, 48.0, 24.0):
        (d,) = dc.autograd.grad(d, x, create_graph=True)
        assert d.item() == expected
    # Hessian of sum(x_i^2 x_j) rows via repeated grad of a vector output.
    v = dc.tensor([1.0, 2.0], requires_grad=True)
    f = (v * v).sum() * v.sum()
    (g,) = dc.autograd.grad(f, v, create_graph=True)
    rows = [dc.autograd.grad(g[i], v, retain_graph=True)[0].numpy() for i in range(2)]
    # f = (a^2+b^2)(a+b): H = [[6a+2b, 2a+2b], [2a+2b, 2a+6b]]
    np.testing.assert_allclose(rows, [[10.0, 6.0], [6.0, 14.0]])


def test_backward_create_graph_makes_grad_differentiable():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_array_equal(g.detach().numpy(), [3.0, 12.0])
    x.grad = None
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 12.0])


def test_create_graph_grad_does_not_alias_the_seed_or_other_leaves():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y = dc.tensor([3.0, 4.0], requires_grad=True)
    v = dc.ones(2)
    (x + y).backward(v, create_graph=True)
    x.grad.zero_()
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def _custom(name, forward, rule):
    """A primitive outside the table, for testing the checkers."""
    return Primitive(
        name=name,
        forward=forward,
        vjps=(rule,),
        sympy=None,
        torch="CustomBackward0",
        saves_inputs=True,
    )


def test_gradgradcheck_catches_a_rule_that_is_right_only_to_first_order():
    """A rule computed off the graph (plain numpy) passes gradcheck only."""

    def detached_cos(F, g, ans, x):
        return g * np.cos(x._data if isinstance(x, dc.Tensor) else x)

    bad = _custom("bad_sin", np.sin, detached_cos)
    x = dc.tensor([0.3, 1.1], requires_grad=True)
    assert dc.gradcheck(lambda t: apply(bad, t), [x])
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        dc.gradgradcheck(lambda t: apply(bad, t), [x])
    assert not dc.gradgradcheck(lambda t: apply(bad, t), [x], raise_exception=False)


def test_gradcheck_perturbs_non_contiguous_inputs():
    """A Fortran-ordered leaf (dc.tensor keeps numpy's layout) is perturbed in
    place, element by element, in the same C order as the analytical rows."""
    x = dc.tensor(np.arange(1.0, 7.0).reshape(2, 3).T, requires_grad=True)
    assert not x._data.flags.c_contiguous
    assert dc.gradcheck(lambda t: t * t[:, :1], [x])
    assert dc.gradgradcheck(lambda t: t**3, [x])


def test_gradcheck_catches_a_wrong_first_order_rule():
    wrong = _custom("bad_exp", np.exp, lambda F, g, ans, x: g * 2 * ans)
    x = dc.tensor([0.5], requires_grad=True)
    with pytest.raises(GradcheckError):
        dc.gradcheck(lambda t: apply(wrong, t), [x])


# --- long graphs --------------------------------------------------------------------


def test_long_chain_has_no_recursion_limit():
    """300,000 recorded operations backpropagate iteratively (1e6 also works but
    takes several seconds), and the chain is freed without a crash."""
    n = 150_000
    x = dc.tensor(1.5, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(n):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0
    assert time.perf_counter() - start < 30
    del y


def test_diamond_graph_waits_for_every_consumer():
    x = dc.tensor(3.0, requires_grad=True)
    a = x * x  # 2x
    b = a * x + a  # 3x^2 + 2x
    c = b * a  # (x^3 + x^2) x^2 = x^5 + x^4
    c.backward()
    assert x.grad.item() == 5 * 3**4 + 4 * 3**3


def test_backward_of_several_roots():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 3, (x * x).sum()
    dc.autograd.backward([y1, y2], [dc.tensor([1.0, 10.0]), None])
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2, 30 + 4])


def test_the_same_root_twice_counts_twice():
    """As in PyTorch: each occurrence sends its seed (a root walked twice once
    left its inputs waiting for a consumer that never came)."""
    x = dc.tensor(3.0, requires_grad=True)
    y = (x * 2) * 1.0
    dc.autograd.backward([y, y])
    assert x.grad.item() == 4.0
    z = (x * 2) * 1.0
    (g,) = dc.autograd.grad([z, z], [x])
    assert g.item() == 4.0


# --- grad modes -----------------------------------------------------------------------


def test_no_grad_and_enable_grad_as_context_managers():
    x = dc.ones(2, requires_grad=True)
    assert dc.is_grad_enabled()
    with dc.no_grad():
        assert not dc.is_grad_enabled()
        y = x * 2
        with dc.enable_grad():
            z = x * 2
        w = x * 2
    assert dc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn.name() == "MulBackward0"
    assert not w.requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError), dc.no_grad():
        raise ValueError
    assert dc.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = dc.ones(2, requires_grad=True)

    @dc.no_grad()
    def off(t):
        return t * 2

    @dc.no_grad
    def bare(t):
        return t * 2

    @dc.enable_grad()
    def on(t):
        return t * 2

    @dc.enable_grad
    def bare_on(t):
        return t * 2

    assert not off(x).requires_grad and not bare(x).requires_grad
    with dc.no_grad():
        assert on(x).requires_grad and bare_on(x).requires_grad
        assert not off(x).requires_grad
    assert on(x).requires_grad
    assert off.__name__ == "off"


def test_set_grad_enabled():
    x = dc.ones(1, requires_grad=True)
    with dc.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    with dc.set_grad_enabled(True):
        assert (x * 1).requires_grad


def test_set_grad_enabled_acts_at_once_as_a_function():
    """As in PyTorch: a call switches the mode; a with-block restores it."""
    try:
        dc.set_grad_enabled(False)
        assert not dc.is_grad_enabled()
        with dc.set_grad_enabled(True):
            assert dc.is_grad_enabled()
        assert not dc.is_grad_enabled()
    finally:
        dc.set_grad_enabled(True)
    assert dc.is_grad_enabled()

    @dc.set_grad_enabled(False)
    def frozen():
        return dc.is_grad_enabled()

    assert dc.is_grad_enabled() and frozen() is False and dc.is_grad_enabled()


def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_grad_mode_is_per_thread():
    """As in PyTorch: no_grad in one thread leaves other threads recording, and
    a new thread starts recording."""
    x = dc.ones(2, requires_grad=True)
    with dc.no_grad():
        assert in_thread(lambda: (x * 2).requires_grad)
        assert not (x * 2).requires_grad
    with dc.no_grad():
        assert in_thread(lambda: (dc.no_grad()(lambda: x * 2))().requires_grad) is False
        assert in_thread(dc.is_grad_enabled)


def test_concurrent_backwards_and_decorated_calls_keep_recording():
    """Each backward (and each call of a no_grad function) switches recording
    off for its own thread only, and puts it back."""

    @dc.no_grad
    def frozen(x):
        time.sleep(0)  # let the other thread in
        return x * 2

    barrier, failures = threading.Barrier(2), []

    def work():
        barrier.wait()
        for _ in range(200):
            x = dc.ones(10**4, requires_grad=True)  # numpy lets the other run
            y = (x * x).sum()
            if y.grad_fn is None or frozen(x).requires_grad:
                failures.append("recording was off" if y.grad_fn is None else "on")
                return
            y.backward()

    threads = [threading.Thread(target=work) for _ in range(2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the threads finely
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == [] and dc.is_grad_enabled()


# --- retain_graph, accumulation ------------------------------------------------------


def test_retain_graph_accumulates_then_frees():
    x = dc.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    assert x.grad.item() == 8.0
    y.backward()
    assert x.grad.item() == 12.0
    with pytest.raises(dc.DiffcliError, match="retain_graph=True") as info:
        y.backward()
    assert "second time" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert y.grad_fn.name() == "MulBackward0"  # the name survives the free


def test_nodes_without_saved_values_can_backward_twice():
    """Like PyTorch: AddBackward0 and SumBackward0 save nothing, so nothing frees."""
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_grad_does_not_touch_dot_grad():
    x = dc.tensor(3.0, requires_grad=True)
    (g,) = dc.autograd.grad(x * x, x)
    assert g.item() == 6.0
    assert x.grad is None


def test_grad_allow_unused():
    x = dc.tensor(1.0, requires_grad=True)
    y = dc.tensor(2.0, requires_grad=True)
    z = x * 3
    with pytest.raises(dc.DiffcliError, match="allow_unused=True"):
        dc.autograd.grad(z, [x, y], retain_graph=True)
    gx, gy = dc.autograd.grad(z, [x, y], allow_unused=True)
    assert gx.item() == 3.0 and gy is None


def test_grad_with_respect_to_an_intermediate():
    x = dc.tensor(2.0, requires_grad=True)
    h = x * x
    y = h * 3 + h
    gh, gx = dc.autograd.grad(y, [h, x])
    assert gh.item() == 4.0
    assert gx.item() == 16.0


def test_grad_outputs_and_several_outputs():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    (g,) = dc.autograd.grad([x * 2, x * x], x, [dc.tensor([1.0, 0.0]), dc.ones(2)])
    np.testing.assert_array_equal(g.numpy(), [4.0, 4.0])


# --- errors ---------------------------------------------------------------------------


def test_non_scalar_backward_needs_a_gradient():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (x * x).backward()
    assert isinstance(info.value, dc.DiffcliError)
    assert "grad can be implicitly created only for scalar outputs" in str(info.value)


def test_gradient_shape_mismatch_message():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(dc.DiffcliError) as info:
        (x * x).backward(dc.ones(3))
    assert str(info.value) == (
        "Mismatch in shape: grad_output[0] has a shape of (3,) and output[0] "
        "has a shape of (2,)"
    )
    with pytest.raises(dc.DiffcliError, match="Mismatch in shape"):
        (x.sum() * 1).backward(dc.ones(1))


def test_backward_without_a_graph_raises():
    with pytest.raises(dc.DiffcliError, match="does not require grad"):
        dc.tensor(1.0).backward()
    x = dc.tensor(1.0, requires_grad=True)
    with dc.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="does not have a grad_fn"):
        y.backward()
    with pytest.raises(dc.DiffcliError, match="does not require grad"):
        dc.autograd.grad(x * 2, dc.tensor(1.0))


def test_int_tensors_refuse_requires_grad():
    with pytest.raises(dc.DiffcliError, match="floating point"):
        dc.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        dc.arange(3).requires_grad_()
    t = dc.tensor([True])
    with pytest.raises(dc.DiffcliError):
        t.requires_grad = True
    assert dc.tensor([1, 2], requires_grad=True, dtype=dc.float64).requires_grad


def test_requires_grad_false_on_a_non_leaf_raises():
    y = dc.ones(1, requires_grad=True) * 2
    with pytest.raises(dc.DiffcliError, match="leaf"):
        y.requires_grad_(False)
    assert y.requires_grad_() is y


# --- in-place changes -----------------------------------------------------------------


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = dc.ones(2, requires_grad=True)
    with pytest.raises(dc.DiffcliError, match="leaf Variable"):
        x[0] = 3.0
    with pytest.raises(dc.DiffcliError, match="in-place"):
        x += 1
    with dc.no_grad():
        x[0] = 3.0
        x -= 1
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 0.0])
    assert x.requires_grad and x.is_leaf


def test_setitem_records_copyslices():
    x = dc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[1] = x[0] * 10
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [11.0, 0.0, 1.0])


def test_inplace_ops_on_non_leaves_record():
    """y op= x makes y the op's node, as PyTorch names it."""
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y *= x
    assert y.grad_fn.name() == "MulBackward0"
    y += 1
    assert y.grad_fn.name() == "AddBackward0"
    y /= 2
    y -= x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])  # d(x^2/2 - x)
    n = dc.zeros(2)
    n += x
    assert n.grad_fn.name() == "AddBackward0"
    n.mul_(x)
    np.testing.assert_array_equal(n.detach().numpy(), [1.0, 4.0])


def test_inplace_op_cannot_change_the_shape():
    y = dc.ones(2, requires_grad=True) * 1
    with pytest.raises(dc.DiffcliError, match="doesn't match the broadcast shape"):
        y += dc.ones(3, 2)


def test_changing_a_tensor_in_place_after_use_raises_at_backward():
    """The node recorded before the change would use stale values or a stale edge;
    PyTorch's version counters raise here, and so does diffcli."""
    x = dc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1
    y = h * h
    h[0] = 5.0
    with pytest.raises(dc.DiffcliError, match="modified by an inplace operation"):
        y.sum().backward()
    # A constant the node saved, changed afterwards.
    c = dc.tensor([1.0, 1.0, 1.0])
    z = x * c
    c[0] = 7.0
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()
    # Nodes recorded after the change are fine.
    w = x * c
    w.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 1.0, 1.0])


def test_changing_a_leaf_an_adder_used_is_harmless():
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    c = dc.zeros(2)
    y = x + c
    c[0] = 1.0  # AddBackward0 saves nothing
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_optimizer_step_then_stale_backward_raises():
    w = dc.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    dc.optim.SGD([w], lr=0.1).step()
    with pytest.raises(dc.DiffcliError, match="inplace"):
        loss.backward()
