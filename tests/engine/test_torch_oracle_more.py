"""PyTorch as the oracle for the newer families of THE table: values,
gradients and grad_fn names on random inputs, then at kinks, poles and
domain edges, where both must make the same choice (inf, nan, 0)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_torch_oracle import compare, leaves, name, torch_float64  # noqa: F401

import diffcli as dc

torch = pytest.importorskip("torch")
NN = torch.nn.functional


def unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def real(rng, shape):
    return rng.uniform(-3, 3, shape)


def positive(rng, shape):
    return rng.uniform(0.1, 4, shape)


def offgrid(rng, shape):  # away from the integers and halves: rounding
    return rng.integers(-8, 8, shape) * 0.5 + rng.uniform(0.05, 0.45, shape)


def negative(rng, shape):  # between the poles of the gamma family
    return -rng.integers(0, 4, shape) - rng.uniform(0.1, 0.9, shape)


def nn(m):
    """Where the library keeps its activations and losses."""
    return m if m is dc else NN


# name: (fn(m, *xs), values of each input)
ELEMENTWISE = {
    **{
        n: (lambda m, x, n=n: getattr(m, n)(x), unit)
        for n in ("asin", "acos", "atanh", "erfinv")
    },
    **{
        n: (lambda m, x, n=n: getattr(m, n)(x), real)
        for n in ("atan", "sinh", "cosh", "asinh", "expm1", "exp2", "erf", "erfc")
    },
    **{
        n: (lambda m, x, n=n: getattr(m, n)(x), positive)
        for n in ("log10", "log2", "log1p", "rsqrt", "reciprocal", "lgamma")
    },
    "acosh": (lambda m, x: m.acosh(x + 1), positive),
    "digamma": (lambda m, x: m.digamma(x), positive),
    "lgamma_negative": (lambda m, x: m.lgamma(x), negative),
    "digamma_negative": (lambda m, x: m.digamma(x), negative),
    "polygamma1": (lambda m, x: m.polygamma(1, x), positive),
    "polygamma3_negative": (lambda m, x: m.polygamma(3, x), negative),
    "square": (lambda m, x: m.square(x), real),
    "sec": (lambda m, x: m.sec(x) if m is dc else 1 / m.cos(x), real),
    "cot": (lambda m, x: m.cot(x) if m is dc else 1 / m.tan(x), real),
    "sinc": (lambda m, x: m.sinc(x), real),
    "xlogy": (lambda m, x, y: m.xlogy(x, y), real, positive),
    "hypot": (lambda m, x, y: m.hypot(x, y), real, real),
    "fmod": (lambda m, x, y: m.fmod(x, y), real, positive),
    "remainder": (lambda m, x, y: m.remainder(x, y), real, positive),
    "fmod_scalar": (lambda m, x: m.fmod(x, 0.7), real),
    **{
        n: (lambda m, x, n=n: getattr(m, n)(x), offgrid)
        for n in ("floor", "ceil", "trunc", "round", "frac")
    },
    "round_decimals": (lambda m, x: m.round(x, decimals=1), offgrid),
}
ACTIVATIONS = {
    "softplus": lambda m, x: nn(m).softplus(x * 8),
    "softplus_beta": lambda m, x: nn(m).softplus(x, beta=2.0, threshold=3.0),
    "silu": lambda m, x: nn(m).silu(x),
    "gelu": lambda m, x: nn(m).gelu(x),
    "gelu_tanh": lambda m, x: nn(m).gelu(x, approximate="tanh"),
    "elu": lambda m, x: nn(m).elu(x, 0.7),
    "selu": lambda m, x: nn(m).selu(x),
    "leaky_relu": lambda m, x: nn(m).leaky_relu(x, 0.2),
    "logsigmoid": lambda m, x: nn(m).logsigmoid(x * 20),
    "hardtanh": lambda m, x: nn(m).hardtanh(x, -1.5, 2.0),
    "relu6": lambda m, x: nn(m).relu6(x * 3),
}
ELEMENTWISE.update({name: (fn, real) for name, fn in ACTIVATIONS.items()})


# PyTorch's trigamma (polygamma(1, x), digamma's gradient) is good to 5e-10
# (ours to 1e-15, checked against the closed forms in test_special_math.py).
LOOSE = {"digamma", "digamma_negative", "polygamma1"}


@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
def test_elementwise(case):
    fn, *values = ELEMENTWISE[case]
    rng = np.random.default_rng(11)
    rtol = 1e-9 if case in LOOSE else 1e-12
    for shape in [(2, 3), (4,)]:
        compare(fn, [v(rng, shape) for v in values], seed=shape[0], rtol=rtol)


# --- edges: poles, domain boundaries, kinks --------------------------------------

EDGES = {
    "asin": (lambda m, x: m.asin(x), [1.0, -1.0, 0.0, 1.5]),
    "acos": (lambda m, x: m.acos(x), [1.0, -1.0, 0.0]),
    "acosh": (lambda m, x: m.acosh(x), [1.0, 2.0, 0.5]),
    "atanh": (lambda m, x: m.atanh(x), [1.0, -1.0, 0.0, 2.0]),
    "log1p": (lambda m, x: m.log1p(x), [-1.0, 0.0, -2.0]),
    "log2": (lambda m, x: m.log2(x), [0.0, 4.0, -1.0]),
    "rsqrt": (lambda m, x: m.rsqrt(x), [0.0, 4.0]),
    "reciprocal": (lambda m, x: m.reciprocal(x), [0.0, -0.0, 4.0]),
    "erfinv": (lambda m, x: m.erfinv(x), [1.0, -1.0, 0.0, 1.5]),
    "lgamma": (lambda m, x: m.lgamma(x), [0.0, -1.0, 1.0, 2.0]),
    "digamma": (lambda m, x: m.digamma(x), [0.0, 1.0, -2.5], {"rtol": 1e-9}),
    "polygamma": (lambda m, x: m.polygamma(2, x), [0.0, -1.0, 1.0]),
    "sinc": (lambda m, x: m.sinc(x), [0.0, 1.0, -2.0, 0.5]),
    "round_halves": (lambda m, x: m.round(x), [0.5, 1.5, 2.5, -0.5, -1.5]),
    "frac": (lambda m, x: m.frac(x), [-1.5, 1.5, 2.0]),
    "floor": (lambda m, x: m.floor(x), [1.0, -1.0, 0.0]),
    "sign": (lambda m, x: m.sign(x), [0.0, -0.0, 2.0, -3.0]),
    "xlogy_zero": (
        lambda m, x: m.xlogy(x * 0, m.tensor([0.0, -1.0, 2.0])) + m.xlogy(x, x),
        [0.0, 1.0, 2.0],
    ),
    "hypot_origin": (lambda m, x: m.hypot(x, x * 0), [0.0, 3.0]),
    "softplus_threshold": (
        lambda m, x: nn(m).softplus(x, beta=2.0, threshold=3.0),
        [1.5, 1.4999, 1.5001, -800.0],
    ),
    "elu_zero": (lambda m, x: nn(m).elu(x, 0.5) + nn(m).selu(x), [0.0, -1.0]),
    "leaky_relu_zero": (lambda m, x: nn(m).leaky_relu(x), [0.0, -0.0]),
    "hardtanh_bounds": (lambda m, x: nn(m).hardtanh(x), [-1.0, 1.0, 0.0, 2.0]),
    "relu6_kinks": (lambda m, x: nn(m).relu6(x), [0.0, 6.0, 3.0]),
    "logsigmoid_far": (lambda m, x: nn(m).logsigmoid(x), [-1000.0, 1000.0, 0.0]),
    "silu_far": (lambda m, x: nn(m).silu(x) + nn(m).gelu(x), [-1000.0, 1000.0]),
    "logsumexp_far": (lambda m, x: m.logsumexp(x, 0), [1000.0, 1001.0, 1002.0]),
    "logsumexp_minus_inf": (lambda m, x: m.logsumexp(x * 0 - np.inf, 0), [1.0, 2.0]),
    "softmax_minus_inf": (
        lambda m, x: m.softmax(x - m.tensor([np.inf, 0]), 0),
        [1.0, 2.0],
    ),
    "std_constant": (lambda m, x: m.std(x), [2.0, 2.0, 2.0]),
    "var_one_element": (lambda m, x: m.var(x), [2.0]),
    "norm_inf_ties": (lambda m, x: m.norm(x, float("inf")), [3.0, -3.0, 1.0]),
    "norm_minus_inf_zero": (lambda m, x: m.norm(x, -float("inf")), [0.0, -3.0, 0.0]),
    "det_singular": (
        lambda m, x: m.det(m.stack([x, x * 2, x * x + 1])),
        [1.0, -2.0, 0.5],
        {"rtol": 1e-14, "atol": 1e-15},  # cofactors of a singular matrix: rounding
    ),
    "logdet_negative": (lambda m, x: m.logdet(m.diag(x)), [-1.0, 2.0, 3.0]),
    "logdet_zero": (lambda m, x: m.logdet(m.diag(x)), [0.0, 2.0, 3.0]),
    "bce_at_0_and_1": (
        lambda m, x: nn(m).binary_cross_entropy(x, m.tensor([1.0, 0.0, 0.5, 1.0])),
        [0.0, 1.0, 0.5, 1.0],
    ),
    "bce_logits_far": (
        lambda m, x: nn(m).binary_cross_entropy_with_logits(x, x * 0 + 0.3),
        [-1000.0, 1000.0, 0.0],
    ),
    "l1_smooth_huber_kinks": (
        lambda m, x: (
            nn(m).l1_loss(x, x * 0)
            + nn(m).smooth_l1_loss(x, x * 0, beta=0.5)
            + nn(m).huber_loss(x, x * 0, delta=0.5)
        ),
        [0.0, 0.5, -0.5, 1.0],
    ),
    "kl_div_zero_target": (
        lambda m, x: nn(m).kl_div(x, m.tensor([0.0, 0.5, 0.5]), reduction="sum"),
        [-1.0, -0.5, -2.0],
    ),
}


@pytest.mark.parametrize("case", sorted(EDGES))
def test_edge(case):
    fn, values, *tolerance = EDGES[case]
    tol = {"rtol": 1e-14, "atol": 0, **(tolerance[0] if tolerance else {})}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's var of one element
        ours_in, theirs_in = leaves([np.array(values)])
        ours, theirs = fn(dc, *ours_in), fn(torch, *theirs_in)
        np.testing.assert_allclose(
            ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-14, atol=0
        )
        assert name(ours) == name(theirs)
        ours.sum().backward()
        theirs.sum().backward()
    np.testing.assert_allclose(
        ours_in[0].grad.numpy(), theirs_in[0].grad.numpy(), **tol
    )


# --- layout, reductions, linear algebra, losses: fixed shapes ----------------------

SHAPED = {
    "cat": ([(2, 3), (2, 2)], lambda m, a, b: m.cat([a, b * 2, a], dim=1)),
    "concatenate": ([(2, 3), (1, 3)], lambda m, a, b: m.concatenate([a, b])),
    "flip": ([(2, 3, 2)], lambda m, a: m.flip(a, [0, 2])),
    "squeeze": ([(1, 2, 1, 3)], lambda m, a: a.squeeze() * 2),
    "squeeze_dim": ([(1, 2, 1, 3)], lambda m, a: m.squeeze(a, -2)),
    "squeeze_dims": ([(1, 2, 1, 3)], lambda m, a: a.squeeze((0, 1, 2))),
    "unsqueeze": ([(2, 3)], lambda m, a: m.unsqueeze(a, -1)),
    "roll": ([(2, 3)], lambda m, a: m.roll(a, 2)),
    "roll_dims": ([(2, 3, 4)], lambda m, a: m.roll(a, (1, -2), (0, 2))),
    "repeat": ([(2, 3)], lambda m, a: a.repeat(2, 1, 3)),
    "prod": ([(2, 3)], lambda m, a: m.prod(a)),
    "prod_dim": ([(2, 3, 2)], lambda m, a: m.prod(a, 1, keepdim=True)),
    "prod_zeros": ([(3, 4)], lambda m, a: m.prod(zeroed(m, a), 1)),
    "prod_zeros_all": ([(3, 4)], lambda m, a: m.prod(zeroed(m, a))),
    "cumsum": ([(2, 3)], lambda m, a: m.cumsum(a, 1)),
    "cumprod": ([(3, 4)], lambda m, a: m.cumprod(a, -1)),
    "cumprod_zeros": ([(3, 4)], lambda m, a: m.cumprod(zeroed(m, a), 1)),
    "logsumexp": ([(2, 3)], lambda m, a: m.logsumexp(a, 1)),
    "logsumexp_dims": ([(2, 3, 2)], lambda m, a: m.logsumexp(a * 400, (0, 2), True)),
    "softmax": ([(2, 3)], lambda m, a: m.softmax(a * 300, 1)),
    "log_softmax": ([(2, 3)], lambda m, a: m.log_softmax(a, 0)),
    "nn_softmax": ([(2, 3)], lambda m, a: nn(m).softmax(a, dim=-1)),
    "var": ([(2, 3)], lambda m, a: m.var(a)),
    "var_dims": (
        [(2, 3, 2)],
        lambda m, a: m.var(a, (0, 2), correction=0, keepdim=True),
    ),
    "std": ([(2, 3)], lambda m, a: a.std(1)),
    "std_correction": ([(4, 3)], lambda m, a: m.std(a, 0, correction=2)),
    "norm_inf": ([(2, 3)], lambda m, a: m.norm(a, float("inf"))),
    "norm_minus_inf_dim": ([(2, 3)], lambda m, a: m.norm(a, -float("inf"), 1)),
    "norm_fro": ([(2, 3)], lambda m, a: m.norm(a, "fro")),
}


LINALG = {
    "det": ([(2, 3, 3)], lambda m, a: m.det(a)),
    "det_singular": ([(3,), (3,)], lambda m, u, v: m.det(m.outer(u, v))),
    "logdet": ([(3, 3)], lambda m, a: m.logdet(a @ a.mT + m.eye(3))),
    "slogdet": ([(3, 3)], lambda m, a: m.slogdet(a)[1]),
    "inv": ([(2, 3, 3)], lambda m, a: m.inverse(a + 3 * m.eye(3))),
    "trace": ([(2, 3)], lambda m, a: m.trace(a)),
    "solve": ([(3, 3), (3,)], lambda m, a, b: la(m).solve(a + 3 * m.eye(3), b)),
    "solve_matrix": ([(2, 3, 3), (3, 2)], lambda m, a, b: la(m).solve(a, b)),
    "outer": ([(3,), (2,)], lambda m, a, b: m.outer(a, b)),
    "inner": ([(2, 3), (4, 3)], lambda m, a, b: m.inner(a, b)),
    "diag_vector": ([(3,)], lambda m, a: m.diag(a, -1)),
    "diagonal": ([(3, 2, 4)], lambda m, a: m.diagonal(a, 1, 0, 2)),
    "diag_embed": ([(2, 3)], lambda m, a: m.diag_embed(a, 1, 0, 2)),
    "cross": ([(2, 3), (2, 3)], lambda m, a, b: la(m).cross(a, b)),
    "tril": ([(2, 3, 4)], lambda m, a: m.tril(a, 1)),
    "triu": ([(3, 3)], lambda m, a: m.triu(a, -1)),
    "matrix_power": ([(3, 3)], lambda m, a: m.matrix_power(a, 3)),
    "matrix_power_negative": (
        [(3, 3)],
        lambda m, a: m.matrix_power(a + 3 * m.eye(3), -2),
    ),
    "cholesky": ([(2, 3, 3)], lambda m, a: la(m).cholesky(a @ a.mT + m.eye(3))),
    "pinv": ([(2, 3)], lambda m, a: la(m).pinv(a)),
    "pinv_tall": ([(4, 3)], lambda m, a: la(m).pinv(a)),
    "norm_nuc": ([(2, 3)], lambda m, a: m.norm(a, "nuc")),
    "norm_nuc_tall": ([(4, 3)], lambda m, a: m.norm(a, p="nuc")),
}
SHAPED.update(LINALG)


def classes(m, values):
    return m.tensor(values) if m is dc else torch.tensor(values)


LOSSES = {
    **{
        f"{name}_{r}": (
            [(3, 4), (3, 4)],
            lambda m, x, t, name=name, r=r: getattr(nn(m), name)(x, t, reduction=r),
        )
        for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")
        for r in ("mean", "sum", "none")
    },
    "smooth_l1_beta": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).smooth_l1_loss(x, t, beta=0.3),
    ),
    "huber_delta": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).huber_loss(x, t, delta=0.3),
    ),
    "bce": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).binary_cross_entropy(m.sigmoid(x), m.sigmoid(t)),
    ),
    "bce_weight_none": (
        [(3, 4), (3, 4), (4,)],
        lambda m, x, t, w: nn(m).binary_cross_entropy(
            m.sigmoid(x), m.sigmoid(t), w.detach(), reduction="none"
        ),
    ),
    "bce_logits": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).binary_cross_entropy_with_logits(x * 9, m.sigmoid(t)),
    ),
    "bce_logits_pos_weight": (
        [(3, 4), (3, 4), (4,)],
        lambda m, x, t, w: nn(m).binary_cross_entropy_with_logits(
            x, m.sigmoid(t), pos_weight=w.detach().abs(), reduction="sum"
        ),
    ),
    "cross_entropy": (
        [(3, 4)],
        lambda m, x: nn(m).cross_entropy(x, classes(m, [0, 3, 1])),
    ),
    "cross_entropy_weight": (
        [(3, 4), (4,)],
        lambda m, x, w: nn(m).cross_entropy(
            x, classes(m, [0, 3, 1]), w.detach().abs(), reduction="none"
        ),
    ),
    "cross_entropy_ignore": (
        [(3, 4)],
        lambda m, x: nn(m).cross_entropy(x, classes(m, [0, -100, 1]), reduction="sum"),
    ),
    **{
        f"cross_entropy_smoothing_{r}": (
            [(3, 4), (4,)],
            lambda m, x, w, r=r: nn(m).cross_entropy(
                x,
                classes(m, [0, -100, 3]),
                w.detach().abs(),
                reduction=r,
                label_smoothing=0.2,
            ),
        )
        for r in ("mean", "sum", "none")
    },
    "cross_entropy_smoothing_2d": (
        [(2, 3, 2)],
        lambda m, x: nn(m).cross_entropy(
            x, classes(m, [[0, 2], [1, 1]]), label_smoothing=0.3
        ),
    ),
    "cross_entropy_probabilities_smoothing": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).cross_entropy(
            x, m.softmax(t, 1), label_smoothing=0.1, reduction="sum"
        ),
    ),
    "nll_loss": ([(3, 4)], lambda m, x: nn(m).nll_loss(x, classes(m, [2, 2, 0]))),
    "kl_div_batchmean": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).kl_div(x, m.softmax(t, 1), reduction="batchmean"),
    ),
    "kl_div_log_target": (
        [(3, 4), (3, 4)],
        lambda m, x, t: nn(m).kl_div(x, t, reduction="sum", log_target=True),
    ),
}
SHAPED.update(LOSSES)


def la(m):
    """Where the library keeps solve, cholesky, pinv and cross."""
    return m if m is dc else torch.linalg


def zeroed(m, a):
    """a with zeros at fixed places: one in row 0, two in row 1, none in row 2."""
    mask = np.ones((3, 4))
    mask[0, 1] = mask[1, 0] = mask[1, 2] = 0
    return a * m.tensor(mask)


# Products through zeros: the same gradients, but which zeros come out as -0.
# depends on the order of the multiplications.
UNSIGNED_ZEROS = {"prod_zeros", "prod_zeros_all", "cumprod_zeros"}


@pytest.mark.parametrize("case", sorted(SHAPED))
def test_shaped(case):
    shapes, fn = SHAPED[case]
    rng = np.random.default_rng(12)
    arrays = [rng.uniform(-2, 2, s) for s in shapes]
    rtol = 1e-10 if case in LINALG else 1e-12  # LAPACK's other order of sums
    compare(fn, arrays, signed_zeros=case not in UNSIGNED_ZEROS, rtol=rtol)


def test_det_at_a_singular_matrix_is_the_adjugate_where_torch_gives_zero():
    """d det(A) / dA is the cofactor matrix, also where det(A) = 0.  torch
    2.x returns zeros at diag(0, -3, -0.5) (pytorch/pytorch#104675): here
    diffcli keeps the true derivative rather than PyTorch's value."""
    a = dc.tensor(np.diag([0.0, -3.0, -0.5]), requires_grad=True)
    dc.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), np.diag([1.5, 0.0, 0.0]), rtol=1e-15)
    t = torch.tensor(np.diag([0.0, -3.0, -0.5]), requires_grad=True)
    torch.det(t).backward()
    assert not t.grad.numpy().any()  # torch's value, for the record
