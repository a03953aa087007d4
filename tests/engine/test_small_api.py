"""Formatting, dtypes, devices and nn.functional as PyTorch programs use them."""

from __future__ import annotations

import numpy as np
import pytest
from torch_twin import both

import diffcli as dc
import diffcli.nn.functional as F

pytestmark = pytest.mark.usefixtures("torch_float64")


def test_format_spec_on_tensors(torch_float64):
    def program(lib):
        t = lib.tensor(2.0 / 3.0, requires_grad=True)
        return f"{t:.4f}", f"{t * 2:8.3e}", f"{t}", f"{lib.tensor([1.5])}"

    both(program, torch_float64)
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{dc.tensor([1.0, 2.0]):.2f}"


def test_sizes_and_type_names(torch_float64):
    def program(lib):
        x = lib.zeros(2, 3, 4)
        return (
            x.numel(), x.dim(), x.size(1), x.size(-1), tuple(x.size()),
            x.float().type().split(".")[-1], x.type().split(".")[-1],
            x.long().type().split(".")[-1], x.type("torch.FloatTensor").dtype.itemsize,
        )  # fmt: skip

    both(program, torch_float64)


def test_default_dtype_and_the_float_aliases():
    assert dc.float is dc.float32 and dc.double is dc.float64
    assert dc.get_default_dtype() == dc.float64
    dc.set_default_dtype(dc.float32)
    try:
        assert dc.tensor([1.0, 2.0]).dtype == dc.float32
        assert dc.zeros(2).dtype == dc.ones(1).dtype == dc.randn(2).dtype == dc.float32
        assert dc.arange(0.0, 1.0, 0.5).dtype == dc.float32
        assert dc.tensor([1, 2]).dtype == dc.int64  # ints stay ints
        assert dc.tensor(np.zeros(2)).dtype == dc.float64  # numpy keeps its dtype
        y = dc.tensor(1.0, requires_grad=True) * 3
        y.backward()
    finally:
        dc.set_default_dtype(dc.float64)
    assert dc.tensor([1.0]).dtype == dc.float64
    with pytest.raises(dc.DiffcliError, match="floating-point types"):
        dc.set_default_dtype(dc.int64)


def test_float32_programs_round_like_pytorch(torch_float64):
    def program(lib):
        x = lib.tensor([0.1, 0.2, 0.3], dtype=lib.float32, requires_grad=True)
        y = (lib.exp(x) * x / 3).sum()
        y.backward()
        return y, x.grad, str(y.dtype).split(".")[-1]

    both(program, torch_float64, rtol=4 * 2.0**-23)  # a few float32 ulps


def test_the_cpu_is_the_one_device():
    cpu = dc.device("cpu")
    x = dc.ones(2, device="cpu")
    assert x.device == cpu == "cpu" and repr(cpu) == "device(type='cpu')"
    assert x.to("cpu") is x and x.cpu() is x and not x.is_cuda
    assert x.to(cpu, dc.float32).dtype == dc.float32
    assert x.to(dc.zeros(1, dtype=dc.float32)).dtype == dc.float32
    assert dc.tensor([1.0], device=cpu).device == cpu
    assert dc.cuda.is_available() is False and dc.cuda.device_count() == 0
    dc.set_default_device("cpu")
    for ask in (
        lambda: dc.device("cuda"),
        lambda: dc.zeros(2, device="cuda:0"),
        lambda: x.to("mps"),
        lambda: x.cuda(),
        lambda: dc.set_default_device("cuda"),
    ):
        with pytest.raises(dc.DeviceError, match="diffcli runs on the CPU only"):
            ask()


def test_nn_functional_has_the_tables_activations(torch_float64):
    assert {"relu", "sigmoid", "tanh"} <= set(F.__all__)
    assert all(callable(getattr(F, name)) for name in F.__all__)

    def program(lib):
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        nnf = lib.nn.functional
        y = nnf.relu(x) + nnf.sigmoid(x) * nnf.tanh(x)
        y.sum().backward()
        h = x * 1
        nnf.relu(h, inplace=True)
        return y, x.grad, h

    both(program, torch_float64)


def test_nn_functional_grows_with_the_table(monkeypatch):
    """A new table function of category "activation" or "loss" is offered
    under its name, with PyTorch's ``inplace`` flag."""
    import dataclasses

    from diffcli.engine import functional as api
    from diffcli.engine.signature import Signature
    from diffcli.engine.table import FUNCTIONS
    from diffcli.nn import functional

    new = dataclasses.replace(
        FUNCTIONS["tanh"],
        signature=Signature.parse("softsquash(input: T)"),
        category="activation",
    )
    monkeypatch.setitem(FUNCTIONS, "softsquash", new)
    monkeypatch.setitem(api.API, "softsquash", api.api_function(new))
    assert "softsquash" not in functional.OFFERED
    offered = functional._offered()
    x = dc.tensor([0.5])
    assert offered["softsquash"](x).item() == np.tanh(0.5)
    offered["softsquash"](x, inplace=True)
    assert x.item() == np.tanh(0.5)


def test_argmax_and_argmin_as_torch(torch_float64):
    """dc.argmax/argmin and the methods: int64 indices, first on ties,
    flattened without dim, keepdim only with a dim."""

    def program(lib):
        a = lib.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, -1.0]], requires_grad=True)
        return [
            repr(getattr(lib, f)(a, *args))
            for f in ("argmax", "argmin")
            for args in [(), (0,), (1,), (1, True), (-1, False)]
        ] + [repr(a.argmax(1, keepdim=True)), repr(a.argmin())]

    both(program, torch_float64)


def test_gradcheck_at_pytorch_module_path():
    """``from torch.autograd.gradcheck import gradcheck`` works unchanged, and
    ``autograd.gradcheck`` stays the function."""
    from diffcli.autograd.gradcheck import gradcheck, gradgradcheck

    x = dc.tensor([1.0, 2.0], requires_grad=True)
    assert gradcheck(lambda t: (t**3).sum(), (x,))
    assert gradgradcheck(lambda t: (t**3).sum(), (x,))
    assert dc.autograd.gradcheck is gradcheck and callable(dc.autograd.gradcheck)


def test_numpy_keyword_names_as_torch_accepts_them(torch_float64):
    """torch's Python functions take NumPy's axis= and keepdims= for dim and
    keepdim; so does every table function with those parameters."""

    def program(lib):
        x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        y = (
            lib.sum(x, axis=0)
            + x.mean(axis=0, keepdims=True)
            + lib.amax(x, axis=(0, 1))
        )
        y.sum().backward()
        return y, lib.logsumexp(x, axis=1), x.grad

    both(program, torch_float64)
    with pytest.raises(TypeError, match="no keyword 'axes'"):
        dc.sum(dc.tensor([1.0]), axes=0)


def test_var_and_std_take_pytorchs_older_unbiased_keyword():
    """unbiased=False divides by N, True by N - 1 (mean 7/3, squares 14/3)."""
    x = dc.tensor([1.0, 2.0, 4.0], requires_grad=True)
    assert dc.var(x, unbiased=False).item() == pytest.approx(14 / 9)
    assert x.var(0, unbiased=True).item() == pytest.approx(7 / 3)
    s = x.std(unbiased=False)
    s.backward()
    # d std / dx = (x - mean) / (N std)
    expected = (np.array([1, 2, 4]) - 7 / 3) / (3 * np.sqrt(14 / 9))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
