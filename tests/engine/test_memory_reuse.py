"""The first-order pass lends large cotangents to the rule that reads them last,
which writes its result into them, and donates the value of an intermediate
that dies with its only consumer's rule (``reuse.LEND_BYTES``).  Both must be
invisible: the same gradients, bit for bit, as a pass that never reuses memory,
and no array a user can see is ever written.  ``LEND_BYTES = 0`` reuses every
array it may, so small random programs exercise every path."""

from __future__ import annotations

import importlib
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diffcli as dc
from diffcli.engine import autograd as autograd
from diffcli.engine import memory_reuse as reuse
from diffcli.engine.table import PRIMITIVES

NEVER = 2**62


def run(program, arrays, lend_bytes, monkeypatch, capture=False):
    """Gradients of ``program(*leaves).sum()``, and the values of every tensor
    the program kept, before and after the backward pass."""
    monkeypatch.setattr(reuse, "LEND_BYTES", lend_bytes)
    xs = [dc.tensor(a, requires_grad=True) for a in arrays]
    kept: list = []
    out = program(kept, *xs)
    before = [t.detach().numpy().copy() for t in kept]
    if capture:
        grads = dc.autograd.grad(out.sum(), [*xs, *kept], allow_unused=True)
        grads = [None if g is None else g.numpy() for g in grads]
    else:
        out.sum().backward()
        grads = [None if x.grad is None else x.grad.numpy() for x in xs]
    after = [t.detach().numpy() for t in kept]
    return grads, before, after


def assert_alike(lent, plain) -> None:
    """Same gradients bit for bit, and the kept tensors untouched by backward."""
    for a, b in zip(lent[0], plain[0], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    for before, after in zip(lent[1], lent[2], strict=True):
        np.testing.assert_array_equal(before, after)


def keep(kept, t):
    kept.append(t)
    return t


PROGRAMS = {
    # both rules of one node read g; only the second may write it
    "square_by_mul": lambda k, x, y: keep(k, x * 2.0) * keep(k, x * 2.0),
    "same_tensor_twice": lambda k, x, y: (lambda s: s * s)(keep(k, x + y)),
    # add hands the same g to both inputs: neither may own it
    "add_passes_g_twice": lambda k, x, y: (lambda s: (s + s) * y)(keep(k, x * y)),
    "diamond": lambda k, x, y: (lambda a: a * x + a * y)(keep(k, (x * y).exp())),
    # exp's rule multiplies by its own output, which the user holds
    "exp_output_kept": lambda k, x, y: keep(k, (x * 0.5).exp()) * y,
    "pow_kept": lambda k, x, y: keep(k, (x * y) ** 2) * 3.0,
    # an earlier input's gradient is a view of g
    "halves": lambda k, x, y: (lambda s: s[:, :2] * s[:, 2:])(keep(k, x * y)),
    "stack": lambda k, x, y: dc.stack([keep(k, x * y), x * 3.0]) * 2.0,
    "broadcast": lambda k, x, y: keep(k, x[:, :1] * y) * y[:1, :],
    "float32": lambda k, x, y: keep(k, x.float() * y.float()) * 1.5,
    "reduction_inside": lambda k, x, y: keep(k, x * y).sum(0) * x.sum(0),
    # norm may write its gradient into x * y, which no one else holds
    "norm_donated": lambda k, x, y: dc.norm(x * y) * keep(k, y + 1.0),
    "norm_input_kept": lambda k, x, y: dc.norm(keep(k, x * y)) * y,
    "norm_input_used_twice": lambda k, x, y: (lambda s: dc.norm(s) * s)(x * y),
    # exp's rule reads its output: never donated
    "norm_of_exp": lambda k, x, y: dc.norm((x * y).exp(), dim=1),
    "norm_of_square_rows": lambda k, x, y: dc.norm((x - y) ** 2, dim=0, keepdim=True),
}


@pytest.mark.parametrize("capture", [False, True], ids=["backward", "grad"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_lending_changes_nothing_a_user_sees(name, capture, monkeypatch):
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(0.5, 1.5, (3, 4)) for _ in range(2)]
    program = PROGRAMS[name]
    lent = run(program, arrays, 0, monkeypatch, capture)
    plain = run(program, arrays, NEVER, monkeypatch, capture)
    assert_alike(lent, plain)


STEPS = [
    lambda x, y: x * y,
    lambda x, y: x * x,
    lambda x, y: x + y,
    lambda x, y: x - y * 2.0,
    lambda x, y: x / (y * y + 1.0),
    lambda x, y: (x * 0.3).exp(),
    lambda x, y: x**2,
    lambda x, y: x**3,
    lambda x, y: x.sin() * y,
    lambda x, y: dc.where(x > y, x, y * 2.0),
    lambda x, y: dc.maximum(x, y),
    lambda x, y: x.T.T * y,
    lambda x, y: x[::-1] * y,
    lambda x, y: x / (1.0 + dc.norm(x * y)),
    lambda x, y: dc.norm((x * y).sin() ** 2, dim=-1, keepdim=True) * y,
]


@settings(deadline=None, max_examples=60, database=None)
@given(
    program=st.lists(st.integers(0, len(STEPS) - 1), min_size=1, max_size=6),
    rows=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_programs_lend_or_not_alike(program, rows, seed):
    def fn(kept, x, y):
        out = x
        for i in program:
            out = keep(kept, STEPS[i](out, y)) + out
        return out

    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, (rows, 3)) for _ in range(2)]
    # a program may overflow to inf or nan, compared like any other value
    with pytest.MonkeyPatch.context() as monkeypatch, np.errstate(all="ignore"):
        lent = run(fn, arrays, 0, monkeypatch)
        plain = run(fn, arrays, NEVER, monkeypatch)
    assert_alike(lent, plain)


def backward_peak(z) -> int:
    tracemalloc.start()
    try:
        z.backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_norm_of_square_backward_makes_no_array_the_size_of_x():
    """norm's rule writes into the dead value of x**2 (donated), and pow's rule
    into that (lent): x.grad is x**2's old memory (two arrays without either)."""
    a = np.linspace(-1.0, 1.0, 10**6)
    x = dc.tensor(a, requires_grad=True)
    z = dc.norm(x**2)
    assert backward_peak(z) < 0.25 * a.nbytes
    np.testing.assert_allclose(x.grad.numpy(), 2 * a**3 / z.item(), rtol=1e-12)


def another_graph(y):
    """A graph through y that this backward does not walk; its own backward
    reads y's values (the gradient of ``w`` is y)."""
    w = dc.ones(y.shape, requires_grad=True)
    out = (y * w).sum()
    return lambda: (out.backward(), w.grad.numpy())[1]


# Each keeps something that reaches y = 2x or its memory, and reads it back.
HOLDERS = {
    "the tensor": lambda y, z: lambda: y.detach().numpy(),
    "detach()": lambda y, z: (lambda d: lambda: d.numpy())(y.detach()),
    ".data": lambda y, z: (lambda d: lambda: d.numpy())(y.data),
    "a numpy view": lambda y, z: (lambda v: lambda: v)(y.detach().numpy()[:]),
    "its grad_fn": lambda y, z: (lambda fn: lambda: fn._tensor.detach().numpy())(
        z.grad_fn.next_functions[0][0]
    ),
    "another graph": lambda y, z: another_graph(y),
}


@pytest.mark.parametrize("holder", sorted(HOLDERS))
def test_a_value_someone_holds_is_never_donated(holder):
    """Whatever still reaches ``y`` or its memory keeps ``y``'s values, and the
    gradient is the same as when ``y`` dies unseen."""
    a = np.linspace(-1.0, 1.0, 10**5)  # above LEND_BYTES
    x = dc.tensor(a, requires_grad=True)
    y = x + x  # add frees nothing: another graph can still go through it
    z = dc.norm(y)
    read = HOLDERS[holder](y, z)
    del y
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a / np.linalg.norm(a), rtol=1e-12)
    np.testing.assert_array_equal(read(), 2.0 * a)


def test_a_retained_graph_keeps_its_values():
    a = np.linspace(-1.0, 1.0, 10**5)
    x = dc.tensor(a, requires_grad=True)
    z = dc.norm(x * 3.0)
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * a / np.linalg.norm(a), rtol=1e-12)


def interrupting(module, name, after_call: bool):
    """``module.name`` that raises KeyboardInterrupt once, before or after
    doing its work (a Ctrl-C landing there)."""
    real, fired = getattr(module, name), []

    def fn(*args):
        if fired:
            return real(*args)
        fired.append(True)
        if after_call:
            real(*args)
        raise KeyboardInterrupt

    return fn


@pytest.mark.parametrize(
    "where",
    [
        "autograd._free",
        "memory_reuse.donor",
        "memory_reuse.unshared",
        "autograd._overwriting",
    ],
)
@pytest.mark.parametrize("after_call", [False, True], ids=["before", "after"])
def test_an_interrupted_donation_never_leaves_a_wrong_value(
    where, after_call, monkeypatch
):
    """Wherever a Ctrl-C lands in a donating step, backward again gives the
    right gradient or says the graph was freed: never a wrong number from a
    half-written value."""
    place, name = where.split(".")
    module = importlib.import_module(f"diffcli.engine.{place}")
    a = np.linspace(-1.0, 1.0, 10**5)
    x = dc.tensor(a, requires_grad=True)
    z = dc.norm(x * 3.0)
    monkeypatch.setattr(module, name, interrupting(module, name, after_call))
    with pytest.raises(KeyboardInterrupt):
        z.backward()
    monkeypatch.undo()
    x.grad = None
    try:
        z.backward()
    except dc.DiffcliError as err:
        assert "backward through the graph a second time" in str(err)
        return
    np.testing.assert_allclose(x.grad.numpy(), 3 * a / np.linalg.norm(a), rtol=1e-12)


def test_a_weak_reference_is_a_holder_too():
    """A weak reference can hand the value out while backward runs (a gc
    callback, another thread): its value is not donated."""
    a = np.linspace(-1.0, 1.0, 10**5)
    x = dc.tensor(a, requires_grad=True)
    y = x * 3.0
    ref = weakref.ref(y)
    z = dc.norm(y)
    del y
    assert backward_peak(z) >= a.nbytes  # a new gradient array: y kept
    assert ref() is None  # and y died with the graph as usual
    x.grad = None
    z = dc.norm(x * 3.0)
    assert backward_peak(z) < 0.25 * a.nbytes  # without one, donated


def test_rules_that_read_their_output_say_so_in_the_table():
    P = PRIMITIVES
    assert P["exp"].reads_output(0) and P["sqrt"].reads_output(0)
    assert P["norm"].reads_output(0) and P["tanh"].reads_output(0)
    assert not P["pow"].reads_output(0) and P["pow"].reads_output(1)
    assert not P["mul"].reads_output(0) and not P["sin"].reads_output(0)
    assert P["where"].reads_output(0)  # the mask rule: declared as reading
    assert P["stack"].reads_output(0)  # one rule for every input: the default


def test_a_reusable_g_is_written_only_when_the_result_fits_it():
    from diffcli.engine.memory_reuse import Reusable, reusable

    g = np.ones((2, 3), dtype=np.float32)
    rg = reusable(g)
    wider = rg * np.full(3, 2.0)  # float64: a new, ordinary array
    assert wider.dtype == np.float64 and type(wider) is np.ndarray
    bigger = rg * np.full((4, 2, 3), np.float32(2))
    assert bigger.shape == (4, 2, 3) and type(bigger) is np.ndarray
    assert type(np.sum(rg)) is not Reusable and type(rg > 0) is np.ndarray
    np.testing.assert_array_equal(g, 1.0)
    same = -(rg * np.float32(3.0)) + 1  # each step written into g
    assert same is rg and g[0, 0] == -2.0
    ordinary = g * 2.0
    assert ordinary is not g and type(ordinary) is np.ndarray
    frozen = np.broadcast_to(np.ones(3, np.float32), (2, 3)).view(Reusable)
    assert type(frozen * 2) is np.ndarray  # read-only: never written


def check_every_first_order_rule(monkeypatch, check) -> None:
    """Run ``check(gi, prim, i, g, ans, values, params, shape)`` on the result
    of the first-order rule of every differentiable primitive, those of the
    backward graphs included (a double backward runs them)."""
    from test_table import coverage_examples

    real, used = autograd.input_grad, set()

    def spy(prim, i, F, g, ans, values, params, shape):
        gi = real(prim, i, F, g, ans, values, params, shape)
        if F is not autograd._TENSOR:
            check(gi, prim, i, g, ans, values, params, shape)
            used.add(prim.name)
        return gi

    monkeypatch.setattr(autograd, "input_grad", spy)
    for fn, arrays in coverage_examples(np.random.default_rng(6)):
        xs = [dc.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*xs)
        grads = dc.autograd.grad((out * out).sum(), xs, create_graph=True)
        sum((g * g).sum() for g in grads).backward()
    wanted = {name for name, p in PRIMITIVES.items() if p.differentiable}
    assert wanted <= used, sorted(wanted - used)


def test_no_rule_hands_back_an_array_it_was_given(monkeypatch):
    """Lending trusts the rules' contract (table/declare.py): a rule returns a
    new array, ``g`` or a view of it, never memory of its node's inputs, output
    or params."""

    def check(gi, prim, i, g, ans, values, params, shape):
        given = [ans, *values, *params.values()]
        assert not any(
            isinstance(v, np.ndarray) and np.may_share_memory(gi, v) for v in given
        ), prim.name

    check_every_first_order_rule(monkeypatch, check)


def test_every_rule_reads_g_once_so_it_may_overwrite_it(monkeypatch):
    """The engine may hand a rule ``g`` (and a donated input) as an array it may
    overwrite: that is only right if the rule never reads the old values after
    arithmetic on them.  Every first-order rule, given a Reusable copy of ``g``
    (and of its input, where the primitive takes donations), gives the same
    values as given ordinary arrays."""
    from diffcli.engine.memory_reuse import plain, reusable

    real = autograd.input_grad

    def check(gi, prim, i, g, ans, values, params, shape):
        rg = reusable(np.array(g))
        given = list(values)
        if prim.overwrites_input:
            given[0] = reusable(np.array(values[0]))
        again = plain(
            real(prim, i, autograd._NUMPY, rg, ans, given, params, shape),
            rg,
            np.asarray(rg),
        )
        # In place, a product keeps g's memory layout, so a sum over it may
        # add in another order (last bits); reading g twice is off by a term.
        np.testing.assert_allclose(
            np.asarray(again), np.asarray(gi), rtol=1e-13, atol=0, err_msg=prim.name
        )
        assert type(np.asarray(again)) is np.ndarray

    check_every_first_order_rule(monkeypatch, check)
