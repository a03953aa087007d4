"""SGD and Adam: textbook updates written out in numpy, and torch.optim itself,
on a small quadratic for a few steps."""

from __future__ import annotations

import numpy as np
import pytest

import diffcli as dc

P0 = np.array([0.5, -1.5, 2.0])
W = np.array([1.0, 3.0, 0.5])
T = np.array([1.0, 0.0, -1.0])
STEPS = 6


def loss(p):
    """sum(w * (p - t)^2): gradient 2 w (p - t)."""
    return (dc.tensor(W) * (p - dc.tensor(T)) ** 2).sum()


def grad(p):
    return 2 * W * (p - T)


def run(make_optimizer, steps=STEPS):
    p = dc.tensor(P0.copy(), requires_grad=True)
    opt = make_optimizer([p])
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
        history.append(p.detach().numpy().copy())
    return np.array(history)


# --- textbook updates in numpy ---------------------------------------------------


def sgd_by_hand(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, history = P0.copy(), None, []
    for _ in range(STEPS):
        d = grad(p) + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        history.append(p)
    return np.array(history)


def adam_by_hand(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    (b1, b2), p = betas, P0.copy()
    m = v = vmax = np.zeros_like(p)
    history = []
    for t in range(1, STEPS + 1):
        g = grad(p) + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return np.array(history)


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.1, weight_decay=0.3),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True),
]
ADAM_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.8, 0.99)),
    dict(lr=0.1, weight_decay=0.2),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.3, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1, amsgrad=True),
]


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=str)
def test_sgd_matches_the_textbook(config):
    got = run(lambda params: dc.optim.SGD(params, **config))
    np.testing.assert_allclose(got, sgd_by_hand(**config), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=str)
def test_adam_matches_the_textbook(config):
    got = run(lambda params: dc.optim.Adam(params, **config))
    np.testing.assert_allclose(got, adam_by_hand(**config), rtol=1e-12, atol=1e-14)


def test_amsgrad_differs_when_the_second_moment_falls():
    """The quadratic's gradients shrink, so v falls and AMSGrad's max matters."""
    plain = adam_by_hand(0.3, betas=(0.5, 0.9), amsgrad=False)
    ams = adam_by_hand(0.3, betas=(0.5, 0.9), amsgrad=True)
    assert not np.allclose(plain, ams)


# --- against torch.optim --------------------------------------------------------


def run_torch(torch, make_optimizer, steps=STEPS):
    p = torch.tensor(P0.copy(), dtype=torch.float64, requires_grad=True)
    w, t = torch.tensor(W), torch.tensor(T)
    opt = make_optimizer([p])
    history = []
    for _ in range(steps):
        opt.zero_grad()
        (w * (p - t) ** 2).sum().backward()
        opt.step()
        history.append(p.detach().numpy().copy())
    return np.array(history)


@pytest.mark.parametrize(
    ("name", "config"),
    [("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS],
    ids=str,
)
def test_against_torch_optim(name, config):
    torch = pytest.importorskip("torch")
    ours = run(lambda params: getattr(dc.optim, name)(params, **config), steps=20)
    theirs = run_torch(
        torch, lambda params: getattr(torch.optim, name)(params, **config), steps=20
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_param_groups_against_torch():
    torch = pytest.importorskip("torch")

    def train(lib, tensor):
        a = tensor(np.array([1.0, -2.0]), requires_grad=True)
        b = tensor(np.array([[0.5], [3.0]]), requires_grad=True)
        opt = lib.optim.SGD(
            [{"params": [a]}, {"params": [b], "lr": 0.01, "momentum": 0.5}],
            lr=0.1,
            momentum=0.9,
        )
        for _ in range(5):
            opt.zero_grad()
            ((a * a).sum() + (b**4).sum() + (a * b.reshape(2)).sum()).backward()
            opt.step()
        return [a.detach().numpy().copy(), b.detach().numpy().copy()]

    ours = train(dc, dc.tensor)
    theirs = train(torch, lambda v, **kw: torch.tensor(v, **kw))
    for x, y in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-13)


# --- bookkeeping -----------------------------------------------------------------


def test_zero_grad_set_to_none_or_zero():
    p = dc.tensor([1.0], requires_grad=True)
    opt = dc.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0]
    opt.zero_grad()
    assert p.grad is None


def test_parameters_without_grad_are_skipped_and_state_is_per_parameter():
    a = dc.tensor([1.0], requires_grad=True)
    b = dc.tensor([1.0], requires_grad=True)
    opt = dc.optim.Adam([a, b], lr=0.1)
    (a * 3).sum().backward()
    opt.step()
    assert b.tolist() == [1.0]
    assert a.item() == pytest.approx(0.9)  # Adam's first step moves by lr
    assert opt.state[a]["step"] == 1 and b not in opt.state


def test_step_updates_in_place():
    p = dc.tensor([1.0, 2.0], requires_grad=True)
    view = p.data
    (p * p).sum().backward()
    dc.optim.SGD([p], lr=0.5).step()
    assert p.tolist() == [0.0, 0.0] and view.tolist() == [0.0, 0.0]
    assert p.is_leaf and p.requires_grad


def test_optimizer_argument_errors():
    p = dc.tensor([1.0], requires_grad=True)
    with pytest.raises(dc.DiffcliError, match="empty"):
        dc.optim.SGD([], lr=0.1)
    with pytest.raises(dc.DiffcliError, match="leaf"):
        dc.optim.SGD([p * 2], lr=0.1)
    with pytest.raises(dc.DiffcliError):
        dc.optim.SGD([p], lr=-1.0)
    with pytest.raises(dc.DiffcliError, match="Nesterov"):
        dc.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(dc.DiffcliError, match="Nesterov"):
        dc.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(dc.DiffcliError, match="betas"):
        dc.optim.Adam([p], betas=(1.0, 0.999))
    with pytest.raises(dc.DiffcliError):
        dc.optim.Adam([p], eps=-1.0)


def test_adam_minimizes_a_quadratic():
    got = run(lambda params: dc.optim.Adam(params, lr=0.1), steps=300)
    np.testing.assert_allclose(got[-1], T, atol=1e-3)
