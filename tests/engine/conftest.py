"""PyTorch as the oracle for engine tests that ask for it (skipped without it)."""

import pytest


@pytest.fixture(scope="module")
def torch_float64():
    """torch with diffcli's default float dtype for one module, then restored."""
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(before)
