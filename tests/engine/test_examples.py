"""PyTorch's autograd tutorials, rewritten in examples/tutorials with
``import diffcli as torch``: each prints the numbers the tutorial documents,
and the same script run by PyTorch prints the same output (float64 to
1e-9, float32 programs to their rounding)."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
from pathlib import Path

import numpy as np
import pytest

import diffcli as dc

TUTORIALS = Path(__file__).resolve().parents[2] / "examples" / "tutorials"
SCRIPTS = sorted(p.name for p in TUTORIALS.glob("*.py"))
FLOAT32 = {"legendre_custom_function.py": 1e-4}  # 2000 float32 steps
NUMBER = re.compile(r"-?\d+\.\d*(?:e[+-]?\d+)?|-?\d+e[+-]?\d+|-?\d+")

# What the tutorials print, as documented.
DOCUMENTED = {
    "gentle_introduction.py": [
        "a.grad: tensor([36., 81.])",
        "b.grad: tensor([-12.,  -8.])",
        "tensor([True, True])\ntensor([True, True])",
        "Does `a` require gradients?: False\nDoes `b` require gradients?: True",
    ],
    "autograd_basics.py": [
        "Gradient function for z = <AddBackward0>",
        "True\nFalse\nFalse",
        "First call\ntensor([[4., 2., 2., 2., 2.],\n        [2., 4., 2., 2., 2.],",
        "Second call\ntensor([[8., 4., 4., 4., 4.],",
        "Call after zeroing gradients\ntensor([[4., 2., 2., 2., 2.],",
    ],
    "legendre_custom_function.py": [
        "Result: y = -0.0000 + -2.2085 * P3(-0.0000 + 0.2555 x)",
        "LegendrePolynomial3Backward",
    ],
    "double_backward_custom.py": [
        "Square gradcheck True gradgradcheck True",
        "Exp gradcheck True gradgradcheck True",
        "Sinh gradcheck True gradgradcheck True",
        "Cube second: trying to differentiate twice a function that was marked "
        "with @once_differentiable",
    ],
    "hooks_and_jacobians.py": [
        "h.grad: tensor([1.0000, 0.4000, 0.2000])",
        "x.grad: tensor([2.0000, 1.6000, 1.2000])",
        "a.grad after d += d * 2: tensor(9.) version 1",
        "exp then add_: one of the variables needed for gradient computation "
        "has been modified by an inplace operation",
    ],
}


def run(script: str, lib: str) -> str:
    """The script's output, run with diffcli or (rewritten) with PyTorch."""
    path = TUTORIALS / script
    out = io.StringIO()
    before = dc.get_default_dtype()
    try:
        with contextlib.redirect_stdout(out):
            if lib == "diffcli":
                runpy.run_path(str(path), run_name="__main__")
            else:
                source = path.read_text(encoding="utf-8")
                source = source.replace("import diffcli as torch", "import torch")
                source = source.replace("from diffcli.", "from torch.")
                exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
    finally:
        dc.set_default_dtype(before)
    return out.getvalue()


@pytest.mark.parametrize("script", SCRIPTS)
def test_prints_what_the_tutorial_documents(script):
    text = run(script, "diffcli")
    for expected in DOCUMENTED[script]:
        assert expected in text


def test_every_tutorial_is_checked():
    assert SCRIPTS and set(SCRIPTS) == set(DOCUMENTED)


@pytest.mark.parametrize("script", SCRIPTS)
def test_prints_what_pytorch_prints(script, torch_float64):
    torch = torch_float64
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)  # a fresh PyTorch process's default
    try:
        theirs = run(script, "torch")
    finally:
        torch.set_default_dtype(before)
    ours = run(script, "diffcli")
    rtol = FLOAT32.get(script, 1e-9)
    words = lambda text: NUMBER.sub("#", re.sub(r"0x[0-9a-f]+", "0x", text))
    assert words(ours) == words(theirs)
    a = np.array([float(n) for n in NUMBER.findall(ours)])
    b = np.array([float(n) for n in NUMBER.findall(theirs)])
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-4 if rtol > 1e-9 else 1e-12)
