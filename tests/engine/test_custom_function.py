"""Custom rules (``autograd.Function``) against PyTorch: the same program,
the same numbers, names and errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_twin import both

import diffcli as dc
from diffcli.autograd import Function
from diffcli.autograd.function import once_differentiable

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_float64")


def functions(lib):
    """The same custom Functions, written against either library."""

    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.grad_mode = lib.is_grad_enabled()
            ctx.needs = ctx.needs_input_grad
            result = x.exp() * k
            ctx.save_for_backward(result)
            ctx.k = k
            return result

        @staticmethod
        def backward(ctx, g):
            (result,) = ctx.saved_tensors
            return g * result, None

    class Cube(lib.autograd.Function):  # the newer style, twice differentiable
        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    class SumProd(lib.autograd.Function):  # two outputs, None for one input
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a + b, a * b

        @staticmethod
        def backward(ctx, gs, gp):
            _, b = ctx.saved_tensors
            return gs + gp * b, None

    class ArgMax(lib.autograd.Function):  # a non-differentiable output
        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(x, i)
            return x.max(), i

        @staticmethod
        def backward(ctx, gv, gi):
            x, i = ctx.saved_tensors
            out = lib.zeros_like(x)
            out[i] = gv
            return out

    return MyExp, Cube, SumProd, ArgMax


def test_forward_backward_names_and_edges_match_pytorch():
    def program(lib):
        MyExp, *_ = functions(lib)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = MyExp.apply(x, 2.0)
        fn = y.grad_fn
        ((acc, _),) = fn.next_functions
        y.sum().backward()
        return (
            y, x.grad, fn.name(), type(fn).__name__, repr(y)[:30],
            acc.name(), acc.variable is x, y.grad_fn is fn,
        )  # fmt: skip

    both(program, torch)


def test_forward_runs_without_recording_and_sees_needs_input_grad():
    for lib in (dc, torch):
        MyExp, *_ = functions(lib)
        x = lib.tensor([1.0], requires_grad=True)
        y = MyExp.apply(x, 3.0)
        assert y.grad_fn.grad_mode is False
        assert y.grad_fn.needs == (True, False)
        z = MyExp.apply(lib.tensor([1.0]), 3.0)
        assert z.grad_fn is None and not z.requires_grad


def test_setup_context_style_is_differentiable_twice():
    def program(lib):
        _, Cube, *_ = functions(lib)
        x = lib.tensor(1.5, requires_grad=True)
        (g,) = lib.autograd.grad(Cube.apply(x), x, create_graph=True)
        (h,) = lib.autograd.grad(g, x)
        return g, h, g.grad_fn.name()

    ours = both(program, torch)
    assert ours[0][1] == 3 * 1.5**2 and ours[1][1] == 6 * 1.5


def test_two_outputs_share_one_node_and_none_means_no_gradient():
    def program(lib):
        *_, SumProd, _ = functions(lib)
        a = lib.tensor(1.0, requires_grad=True)
        b = lib.tensor(2.0, requires_grad=True)
        s, p = SumProd.apply(a, b)
        same = s.grad_fn == p.grad_fn
        (s + 10 * p).backward()
        return s, p, same, a.grad, b.grad, s.grad_fn.name()

    ours = both(program, torch)
    assert ours[3][1] == 1 + 10 * 2 and ours[4] is None


def test_an_unused_output_gets_zeros_and_marked_outputs_no_grad():
    def program(lib):
        *_, SumProd, ArgMax = functions(lib)
        a = lib.tensor(1.0, requires_grad=True)
        s, _ = SumProd.apply(a, lib.tensor(3.0, requires_grad=True))
        s.backward()
        x = lib.tensor([1.0, 5.0, 2.0], requires_grad=True)
        v, i = ArgMax.apply(x)
        (v * 2).backward()
        return a.grad, v, i, i.requires_grad, x.grad

    both(program, torch)


def test_once_differentiable_refuses_a_second_derivative():
    def program(lib, once):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @once
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = lib.tensor(3.0, requires_grad=True)
        g0 = lib.tensor(1.0, requires_grad=True)
        (g,) = lib.autograd.grad(Square.apply(x), x, g0, create_graph=True)
        assert g.grad_fn.name() == "torch::autograd::Error" and g.item() == 6.0
        g.backward()

    from torch.autograd.function import once_differentiable as torch_once

    ours = program_outcome(lambda: program(dc, once_differentiable))
    theirs = program_outcome(lambda: program(torch, torch_once))
    assert ours == theirs == ("error", "trying to differentiate twice a function")


def program_outcome(run):
    try:
        return run()
    except RuntimeError as err:
        return ("error", str(err)[:40])


@pytest.mark.parametrize(
    "backward",
    [
        lambda lib, ctx, g: g,  # one gradient for two inputs
        lambda lib, ctx, g: (g, g),  # a gradient for a number
        lambda lib, ctx, g: (lib.ones(3), None),  # a shape that cannot fit
    ],
    ids=["count", "number", "shape"],
)
def test_wrong_backwards_raise_pytorchs_errors(backward):
    def program(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

        Bad.backward = staticmethod(lambda ctx, g: backward(lib, ctx, g))
        Bad.apply(lib.tensor([1.0, 2.0], requires_grad=True), 2.0).sum().backward()

    assert both(program, torch)[0] == "error"


def test_a_gradient_of_a_broadcast_shape_is_summed_back():
    def program(lib):
        class Spread(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return lib.ones(3, 2) * g

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        Spread.apply(x).sum().backward()
        return x.grad

    assert both(program, torch)[1].tolist() == [3.0, 3.0]


def test_saved_tensors_are_freed_and_checked_for_inplace_changes():
    def freed(lib):
        _, Cube, *_ = functions(lib)
        y = Cube.apply(lib.tensor(2.0, requires_grad=True))
        y.backward()
        return y.grad_fn.saved_tensors

    def changed(lib):
        MyExp, *_ = functions(lib)
        x = lib.tensor([1.0], requires_grad=True)
        y = MyExp.apply(x, 1.0)
        with lib.no_grad():
            y.mul_(2)
        y.sum().backward()

    assert both(freed, torch)[1].startswith("Trying to backward through the graph")
    assert both(changed, torch)[1].startswith("one of the variables needed")


def test_retain_graph_runs_the_users_backward_again():
    def program(lib):
        MyExp, *_ = functions(lib)
        x = lib.tensor([0.5], requires_grad=True)
        y = MyExp.apply(x, 1.0).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    both(program, torch)


def test_gradcheck_accepts_a_right_backward_and_catches_a_wrong_one():
    MyExp, Cube, *_ = functions(dc)

    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x**3

        @staticmethod
        def backward(ctx, g):
            return 2 * g  # the derivative of x**3 is not 2

    x = dc.tensor([0.3, 1.2], requires_grad=True)
    assert dc.autograd.gradcheck(lambda t: MyExp.apply(t, 2.0), (x,))
    assert dc.autograd.gradgradcheck(Cube.apply, (x,))
    with pytest.raises(dc.DiffcliError) as err:
        dc.autograd.gradcheck(Wrong.apply, (x,), fast_mode=True, nondet_tol=0.0)
    assert str(err.value).startswith(
        "Jacobian mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[0.2700, 0.0000],\n        [0.0000, 4.3200]])\n"
        "analytical:tensor([[2., 0.],\n        [0., 2.]])"
    )
    assert not dc.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(TypeError, match="unexpected keyword argument 'fast'"):
        dc.autograd.gradcheck(Wrong.apply, (x,), fast=True)


def test_calling_an_instance_says_how_to_use_apply():
    _, Cube, *_ = functions(dc)
    with pytest.raises(dc.DiffcliError, match=r"Cube.apply"):
        Cube()


def test_inline_records_the_forwards_own_operations():
    from diffcli.engine.function import inline

    MyExp, *_ = functions(dc)
    x = dc.tensor([1.0, 2.0], requires_grad=True)
    with inline():
        y = MyExp.apply(x, 2.0)
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-15)


def test_mark_dirty_makes_the_changed_input_the_node():
    def program(lib):
        class InplaceRelu(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.clamp_(min=0)
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * (y > 0)

        a = lib.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        h = a * 2
        earlier = h * 5  # keeps the node h was
        out = InplaceRelu.apply(h)
        same = out is h
        (out.sum() + earlier.sum()).backward()
        h2 = a * 2
        saved_by_mul = h2 * h2
        InplaceRelu.apply(h2)
        try:
            saved_by_mul.sum().backward()
            refused = False
        except RuntimeError:
            refused = True
        return same, h, h._version, a.grad, refused

    assert both(program, torch)[3][1].tolist() == [10.0, 12.0, 12.0]
