"""``dc.autograd.functional`` against ``torch.autograd.functional``."""

from __future__ import annotations

import numpy as np
import pytest
from torch_twin import both

import diffcli as dc
import diffcli.autograd.functional as AF

pytestmark = pytest.mark.usefixtures("torch_float64")


def f_vec(lib):
    return lambda x: lib.stack([x[0] * x[1], lib.sin(x[0]), x[1] ** 3])


def f_two(lib):
    return lambda x, y: (x * y).sum() + (x**2).sum() * y[0]


def f_scalar(lib):
    return lambda x: (x.exp() * x).sum()


X = [0.7, -1.3]
Y = [2.0, 0.5]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, F, cg: F.jacobian(f_vec(lib), lib.tensor(X), create_graph=cg),
        lambda lib, F, cg: F.jacobian(
            f_two(lib), (lib.tensor(X), lib.tensor(Y)), create_graph=cg
        ),
        lambda lib, F, cg: F.jacobian(
            lambda x: (x * 2, x.sum()), lib.tensor(X), vectorize=True
        ),
        lambda lib, F, cg: F.hessian(f_scalar(lib), lib.tensor(X), create_graph=cg),
        lambda lib, F, cg: F.hessian(f_two(lib), (lib.tensor(X), lib.tensor(Y))),
        lambda lib, F, cg: F.vjp(
            f_vec(lib), lib.tensor(X), lib.tensor([1.0, 2.0, 3.0]), create_graph=cg
        ),
        lambda lib, F, cg: F.jvp(
            f_vec(lib), lib.tensor(X), lib.tensor([1.0, -1.0]), create_graph=cg
        ),
        lambda lib, F, cg: F.jvp(lambda x: x**3, lib.tensor(2.0)),
        lambda lib, F, cg: F.hvp(
            f_scalar(lib), lib.tensor(X), lib.tensor([0.5, 2.0]), create_graph=cg
        ),
        lambda lib, F, cg: F.vhp(
            f_two(lib),
            (lib.tensor(X), lib.tensor(Y)),
            (lib.tensor([1.0, 0.0]), lib.tensor([0.0, 1.0])),
        ),
    ],
    ids=[
        "jacobian",
        "jacobian_tuple",
        "jacobian_vectorize",
        "hessian",
        "hessian_tuple",
        "vjp",
        "jvp",
        "jvp_scalar",
        "hvp",
        "vhp_tuple",
    ],
)
def test_same_values_and_structure_as_pytorch(call, create_graph, torch_float64):
    torch = torch_float64
    both(lambda lib: call(lib, lib.autograd.functional, create_graph), torch)


def test_jvp_is_the_jacobian_times_v():
    x, v = dc.tensor(X), dc.tensor([0.25, -3.0])
    _, jv = AF.jvp(f_vec(dc), x, v)
    jac = AF.jacobian(f_vec(dc), x)
    np.testing.assert_allclose(jv.numpy(), jac.numpy() @ v.numpy(), rtol=1e-14)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, F: F.jacobian(
            lambda x, y: x * 2, (lib.ones(2), lib.ones(2)), strict=True
        ),
        lambda lib, F: F.vjp(lambda x: x * 2, lib.ones(2)),
        lambda lib, F: F.jvp(lambda x: x * 2, lib.ones(2), lib.ones(3)),
        lambda lib, F: F.hessian(lambda x: x * 2, lib.ones(2)),
        lambda lib, F: F.jacobian(lambda x: x, [1.0]),
    ],
    ids=["strict", "v_needed", "v_shape", "hessian_scalar", "not_a_tensor"],
)
def test_errors_match_pytorch(call, torch_float64):
    torch = torch_float64
    ours = theirs = None
    for lib in (dc, torch):
        with pytest.raises((RuntimeError, TypeError)) as err:
            call(lib, lib.autograd.functional)
        if lib is dc:
            ours = str(err.value)
        else:
            theirs = str(err.value)
    assert ours.split(" ")[:4] == theirs.split(" ")[:4]


def test_functional_is_importable_at_pytorchs_paths():
    from diffcli.autograd import functional
    from diffcli.autograd.functional import hvp

    assert functional is dc.autograd.functional is AF and hvp is AF.hvp
    assert "double-backward" in AF.jvp.__doc__
