"""Run one program with diffcli and with PyTorch and compare what it saw.

A program is ``program(lib)`` for ``lib`` in (diffcli, torch): it returns
tensors, numbers, strings and tuples of them, or raises.  Tensors compare by
values, shape, requires_grad and grad_fn name; errors by their class (both
RuntimeError) and the start of their message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import diffcli as dc


def plain(value: Any) -> Any:
    """What a program's result says, in a form both libraries share."""
    if hasattr(value, "grad_fn") and hasattr(value, "detach"):
        fn = value.grad_fn
        name = None if fn is None else fn.name()
        return ("tensor", value.detach().numpy().copy(), value.requires_grad, name)
    if isinstance(value, tuple | list):
        return tuple(plain(v) for v in value)
    if type(value).__name__ == "AccumulateGrad":
        return ("AccumulateGrad", value.name())
    if hasattr(value, "next_functions"):
        return ("node", value.name())
    return value


def outcome(program: Callable[[Any], Any], lib: Any) -> Any:
    try:
        return plain(program(lib))
    except RuntimeError as err:
        return ("error", str(err).split(":")[0])


def assert_same(ours: Any, theirs: Any, rtol: float = 1e-12, path: str = "") -> None:
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert isinstance(ours, tuple) and ours[0] == "tensor", (path, ours, theirs)
        _, a, a_req, a_name = ours
        _, b, b_req, b_name = theirs
        assert a.shape == b.shape, (path, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14, err_msg=path)
        assert (a_req, a_name) == (b_req, b_name), path
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), (
            path,
            ours,
            theirs,
        )
        for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, rtol, f"{path}[{k}]")
    elif isinstance(theirs, float):
        assert ours == np.float64(theirs) or np.isclose(ours, theirs, rtol=rtol), path
    else:
        assert ours == theirs, (path, ours, theirs)


def both(program: Callable[[Any], Any], torch: Any, rtol: float = 1e-12) -> Any:
    """Run ``program`` in both libraries, assert they agree, return diffcli's."""
    ours, theirs = outcome(program, dc), outcome(program, torch)
    assert_same(ours, theirs, rtol)
    return ours
