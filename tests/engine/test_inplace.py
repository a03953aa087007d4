"""In-place changes with PyTorch's semantics: a changed tensor's earlier
consumers keep the edge they recorded, and the "modified by an inplace
operation" error fires exactly where PyTorch's does."""

from __future__ import annotations

import pytest
from torch_twin import both

import diffcli as dc

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_float64")


def test_a_non_leaf_updated_from_itself():
    def program(lib):
        a = lib.tensor(1.0, requires_grad=True)
        d = a * 3
        d += d * 2
        d.backward()
        return a.grad, d, d._version, d.grad_fn.next_functions

    ours = both(program, torch)
    assert ours[0][1] == 9.0


def test_an_assignment_computed_from_the_target():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y[0] = y[1] * 2
        y.sum().backward()
        return x.grad, y.grad_fn.name(), repr(y)

    assert both(program, torch)[0][1].tolist() == [0.0, 3.0, 1.0]


UNARY = ["exp", "log", "sin", "cos", "tan", "sqrt", "abs", "tanh", "sigmoid", "relu"]
UNARY += ["neg", "clone", "sum", "mean", "amax", "amin", "norm", "t", "flatten"]
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2"]
BINARY += ["dot", "mm", "matmul"]


def changed(name: str, where: str, binary: bool):
    """Record ``name``, then change its input, other input or output in place."""

    def program(lib):
        a = lib.tensor([[0.5, 1.5], [2.0, 0.7]], requires_grad=True)
        b = lib.tensor([[1.2, 0.4], [0.3, 2.0]], requires_grad=True)
        f = getattr(lib, name)
        x, z = (a[0], b[0]) if name == "dot" else (a, b)
        h = (z if where == "other" else x) * 1
        args = (x, h) if where == "other" else (h, z) if binary else (h,)
        y = f(*args)
        if where == "output":
            y += 1
        else:
            h += 1
        y.sum().backward()
        return a.grad, b.grad

    return program


@pytest.mark.parametrize("where", ["input", "output"])
@pytest.mark.parametrize("name", UNARY)
def test_error_where_pytorchs_fires_unary(name, where):
    both(changed(name, where, False), torch)


@pytest.mark.parametrize("where", ["input", "other", "output"])
@pytest.mark.parametrize("name", BINARY)
def test_error_where_pytorchs_fires_binary(name, where):
    both(changed(name, where, True), torch)


@pytest.mark.parametrize(
    "change",
    [
        lambda lib, d: d.mul_(d),  # the operand PyTorch saves is changed by the op
        lambda lib, d: d.mul_(2),
        lambda lib, d: d.add_(d),
        lambda lib, d: d.exp_(),
        lambda lib, d: d.sin_(),
        lambda lib, d: d.clamp_(min=1.0),
        lambda lib, d: d.pow_(2),
    ],
    ids=["d*=d", "d*=2", "d+=d", "exp_", "sin_", "clamp_", "pow_"],
)
def test_inplace_methods_on_a_non_leaf(change):
    def program(lib):
        a = lib.tensor(1.5, requires_grad=True)
        d = a * 3
        change(lib, d)
        d.backward()
        return a.grad, d, d._version

    both(program, torch)


def test_zero_and_fill_on_a_non_leaf_stop_the_gradient():
    """(PyTorch names the nodes ZeroBackward0 and FillBackward0; diffcli
    records them as CopySlices, with the same gradients.)"""

    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y, w = a * 3, a * 5
        z = y * 1
        y.zero_()
        w.fill_(2.0)
        (y + z + w).sum().backward()
        return a.grad, y.detach(), w.detach(), y.requires_grad

    assert both(program, torch)[0][1].tolist() == [3.0, 3.0]


def test_changes_without_recording_are_seen_too():
    def program(lib, body):
        a = lib.tensor(1.5, requires_grad=True)
        h = a * 1
        y = body(lib, h)
        y.backward()
        return a.grad

    def consumer_saved(lib, h):
        y = h * h
        with lib.no_grad():
            h += 1
        return y

    def output_saved(lib, h):
        y = h.exp()
        with lib.no_grad():
            y += 1
        return y

    def data_is_not_a_change(lib, h):
        y = h * h
        h.data += 1
        return y

    for body in (consumer_saved, output_saved, data_is_not_a_change):
        both(lambda lib, body=body: program(lib, body), torch)


def test_optimizer_step_then_stale_backward():
    def program(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        loss = (w * w).sum()
        loss.backward(retain_graph=True)
        lib.optim.SGD([w], lr=0.1).step()
        loss.backward()

    assert both(program, torch)[0] == "error"


def test_version_counts_every_change():
    def program(lib):
        x = lib.zeros(2)
        versions = [x._version]
        x += 1
        x[0] = 3.0
        x.mul_(2)
        versions.append(x._version)
        return versions, (x * 1)._version

    both(program, torch)


def test_a_leaf_that_requires_grad_is_refused():
    leaf = "a leaf Variable that requires grad is being used in an in-place operation."
    for lib in (dc, torch):
        with pytest.raises(RuntimeError, match=leaf):
            lib.ones(2, requires_grad=True).add_(1)
        with pytest.raises(RuntimeError, match=leaf):
            lib.ones(2, requires_grad=True)[...] = 1.0
