"""The graph as PyTorch shows it: grad_fn names, next_functions with
AccumulateGrad nodes for leaves and None for constants, operands in
PyTorch's order for reflected operators, and the ``_saved_*`` values."""

from __future__ import annotations

import pytest
from torch_twin import both

import diffcli as dc

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_float64")


def edges(fn):
    """next_functions as names, and for AccumulateGrad the leaf's value."""
    out = []
    for node, nr in fn.next_functions:
        if node is None:
            out.append(None)
        elif node.name().endswith("AccumulateGrad"):
            out.append((node.name(), node.variable.tolist(), nr))
        else:
            out.append((node.name(), nr))
    return tuple(out)


PROGRAMS = {
    "2*b": lambda lib, a, b: 2 * b,
    "b*2": lambda lib, a, b: b * 2,
    "2+b": lambda lib, a, b: 2 + b,
    "2-b": lambda lib, a, b: 2 - b,
    "b-2": lambda lib, a, b: b - 2,
    "b/2": lambda lib, a, b: b / 2,
    "2/b": lambda lib, a, b: 2 / b,
    "xlogy": lambda lib, a, b: lib.xlogy(a, b),
    "xlogy_scalar_self": lambda lib, a, b: lib.xlogy(2.0, b),
    "xlogy_scalar_other": lambda lib, a, b: lib.xlogy(b, 3.0),
    "3.5/b_float32": lambda lib, a, b: 3.5 / b.float(),
    "2**b": lambda lib, a, b: 2**b,
    "b**2": lambda lib, a, b: b**2,
    "b**a": lambda lib, a, b: b**a,
    "a*b": lambda lib, a, b: a * b,
    "const*b": lambda lib, a, b: lib.tensor([2.0, 2.0]) * b,
    "-b": lambda lib, a, b: -b,
    "exp": lambda lib, a, b: b.exp(),
    "sum": lambda lib, a, b: b.sum(),
    "sum_dim": lambda lib, a, b: b.sum(0),
    "mean": lambda lib, a, b: b.mean(),
    "chain": lambda lib, a, b: (a * b + 1).sin().sum(),
    "stack": lambda lib, a, b: lib.stack([a, b * 1, lib.ones(2)]),
    "getitem": lambda lib, a, b: b[1],
    "matmul": lambda lib, a, b: a @ b,
    "clamp": lambda lib, a, b: lib.clamp(b, 0.0, 1.0),
    "where": lambda lib, a, b: lib.where(a > b, a, b),
    "relu": lambda lib, a, b: lib.relu(b),
    "mixed": lambda lib, a, b: a * lib.tensor(3.0) + b,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_names_and_edges_match_pytorch(name):
    def program(lib):
        a = lib.tensor([0.5, -1.0], requires_grad=True)
        b = lib.tensor([2.0, 0.25], requires_grad=True)
        y = PROGRAMS[name](lib, a, b)
        fn = y.grad_fn
        deeper = [edges(n) for n, _ in fn.next_functions if n is not None]
        return fn.name(), edges(fn), tuple(deeper), y

    both(program, torch)


@pytest.mark.parametrize(
    "make, attr",
    [
        (lambda lib, x, w: x * w, "_saved_self"),
        (lambda lib, x, w: x * w, "_saved_other"),
        (lambda lib, x, w: x * 2.5, "_saved_other"),
        (lambda lib, x, w: x * 2.5, "_saved_self"),
        (lambda lib, x, w: x.exp(), "_saved_result"),
        (lambda lib, x, w: x.sin(), "_saved_self"),
        (lambda lib, x, w: x**3, "_saved_self"),
        (lambda lib, x, w: x**3, "_saved_exponent"),
        (lambda lib, x, w: x / w, "_saved_other"),
        (lambda lib, x, w: x + w, "_saved_alpha"),
        (lambda lib, x, w: x.sum(), "_saved_self_sym_sizes"),
    ],
)
def test_saved_values_match_pytorch(make, attr):
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0])
        return getattr(make(lib, x, w).grad_fn, attr)

    both(program, torch)


def test_saved_values_are_gone_after_a_backward_that_frees_them():
    def program(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x * x
        y.backward()
        return y.grad_fn._saved_self

    assert both(program, torch)[1].startswith("Trying to backward through the graph")


def test_accumulate_grad_is_the_leafs_node():
    x = dc.tensor([1.0], requires_grad=True)
    y = x * 2
    (acc, nr), (none, _) = y.grad_fn.next_functions
    assert acc.variable is x and nr == 0 and none is None
    assert acc == (x * 3).grad_fn.next_functions[0][0]
    assert acc.name() == "torch::autograd::AccumulateGrad"
    assert acc.next_functions == () and repr(acc).startswith("<AccumulateGrad object")
    assert x.grad_fn is None and x.is_leaf


def test_copyslices_has_pytorchs_qualified_name_and_short_repr():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y[1] = x[0] * 10
        y.sum().backward()
        return y.grad_fn.name(), repr(y), x.grad

    assert both(program, torch)[0] == "torch::autograd::CopySlices"
