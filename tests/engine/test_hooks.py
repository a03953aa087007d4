"""Hooks and retained gradients against PyTorch: what each hook sees, in
which order, what a returned tensor replaces."""

from __future__ import annotations

import pytest
from torch_twin import both

import diffcli as dc

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_float64")


def logged(log, tag, value=None):
    """A hook that records what it saw and returns ``value`` (None: no change)."""

    def hook(*args):
        seen = [
            None
            if a is None
            else [None if t is None else t.tolist() for t in a]
            if isinstance(a, tuple)
            else a.tolist()
            for a in args
        ]
        log.append((tag, seen))
        return value(*args) if value else None

    return hook


def test_the_order_and_effect_of_every_kind_of_hook():
    def program(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(logged(log, "tensor", lambda g: g * 10))
        fn = y.grad_fn
        fn.register_prehook(logged(log, "pre"))
        fn.register_hook(logged(log, "post"))
        x.register_hook(logged(log, "leaf", lambda g: g + 1))
        acc = fn.next_functions[0][0]
        acc.register_prehook(logged(log, "acc pre"))
        acc.register_hook(logged(log, "acc post"))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("after", None)))
        (y * y).sum().backward()
        return str(log), x.grad, y.grad, y.retains_grad, x.retains_grad

    log = both(program, torch)[0]
    assert log.startswith("[('tensor', [[6.0, 12.0]]), ('pre', [[[60.0, 120.0]]])")


def test_leaf_hooks_change_what_grad_returns_but_not_dot_grad():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 2)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        y = x * 2
        y.retain_grad()
        lib.autograd.grad(y.sum(), x)
        return g, x.grad, y.grad

    both(program, torch)


def test_a_removed_hook_no_longer_runs():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        handle = x.register_hook(lambda g: g * 0)
        handle.remove()
        (x * 1).sum().backward()
        return x.grad

    both(program, torch)


def test_hooks_registered_before_an_inplace_change_see_the_old_values():
    def program(lib):
        log = []
        a = lib.tensor(1.0, requires_grad=True)
        d = a * 3
        d.register_hook(logged(log, "before"))
        d.mul_(2)
        d.register_hook(logged(log, "after"))
        d.retain_grad()
        d.backward()
        return str(log), d.grad, a.grad

    assert both(program, torch)[0] == "[('after', [1.0]), ('before', [2.0])]"


def test_a_hook_on_a_tensor_without_grad_is_refused():
    both(lambda lib: lib.tensor(1.0).register_hook(lambda g: g), torch)


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")
def test_retained_gradients_accumulate_and_keep_a_graph_with_create_graph():
    def program(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x * x
        y.retain_grad()
        z = y * y
        z.backward(retain_graph=True)
        first = y.grad.clone()
        z.backward(create_graph=True)
        return first, y.grad, x.grad

    both(program, torch)


def test_hooks_cost_nothing_when_none_are_registered(monkeypatch):
    """A tensor's extras go with it, and a graph without any takes only the
    fast step (the general one would raise here)."""
    from diffcli.engine import hooked_step
    from diffcli.engine.hooks import EXTRAS

    x = dc.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g)
    key = id(y)
    assert key in EXTRAS.data
    del y
    assert key not in EXTRAS.data

    def refuse(*args):
        raise AssertionError("the general step ran")

    monkeypatch.setattr(hooked_step, "step", refuse)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
