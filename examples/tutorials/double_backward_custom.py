"""PyTorch's "Double Backward with Custom Functions" tutorial, rewritten from
the documented behaviour: custom Functions whose backward is itself
differentiable (saving inputs, outputs or intermediates), one marked
once_differentiable, each checked with gradcheck and gradgradcheck; runs
unchanged with real PyTorch.
"""

import diffcli as torch

torch.set_default_dtype(torch.float64)


class Square(torch.autograd.Function):
    """Saves its input: backward uses it with differentiable operations."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


class Exp(torch.autograd.Function):
    """Saves its output, which is then an input of the backward graph."""

    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return result * grad_out


class Sinh(torch.autograd.Function):
    """Saves intermediates: returned as outputs so that they are in the graph."""

    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += _grad_out_exp * expx
        grad_input -= _grad_out_negexp * expnegx
        return grad_input


def sinh(x):
    return Sinh.apply(x)[0]


class Cube(torch.autograd.Function):
    """A backward that is not differentiable (it keeps its slope as a plain
    attribute, outside any graph): once_differentiable says so."""

    @staticmethod
    def forward(ctx, x):
        ctx.slope = 3 * x.detach() ** 2
        return x**3

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        return grad_out * ctx.slope


x = torch.tensor([0.3, -1.2, 2.0], requires_grad=True, dtype=torch.double)
for name, fn in [("Square", Square.apply), ("Exp", Exp.apply), ("Sinh", sinh)]:
    first = torch.autograd.gradcheck(fn, x)
    second = torch.autograd.gradgradcheck(fn, x)
    print(name, "gradcheck", first, "gradgradcheck", second)

# Second derivatives by hand: d2/dx2 of x**2, exp(x) and sinh(x).
for name, fn in [("Square", Square.apply), ("Exp", Exp.apply), ("Sinh", sinh)]:
    (g,) = torch.autograd.grad(fn(x).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    print(name, "first", g, "second", h, sep="\n")

# A cotangent that requires grad asks for a backward graph: Cube has none.
v = torch.ones(3, requires_grad=True)
(g,) = torch.autograd.grad(Cube.apply(x), x, v, create_graph=True)
print("Cube first", g)
try:
    g.sum().backward()
except RuntimeError as err:
    print("Cube second:", str(err).split(" (")[0])
