"""Central finite differences against the engine: PyTorch's ``gradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from diffcli.engine.autograd import enable_grad, grad, no_grad
from diffcli.engine.finite_differences import differences
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError


class GradcheckError(DiffcliError):
    """The engine's Jacobian and the finite-difference one disagree."""


def _outputs(fn: Callable, inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def numerical_jacobian(fn: Callable, inputs: Sequence[Tensor], eps: float = 1e-6):
    """d(flattened outputs)/d(each input), one column per input element, by
    central differences with PyTorch's fixed step ``eps``."""
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    arrays = [x._array() for x in wrt]  # moved in place: fn reads the leaves

    def flat_outputs() -> np.ndarray:
        return np.concatenate([o._data.ravel() for o in _outputs(fn, inputs)])

    with no_grad():
        rows = differences(flat_outputs, arrays, eps, scaled=False).central
    jacobians, start = [], 0
    for a in arrays:
        block = rows[start : start + a.size].T
        jacobians.append(np.ascontiguousarray(block, dtype=np.float64))
        start += a.size
    return jacobians


def analytical_jacobian(fn: Callable, inputs: Sequence[Tensor]):
    """The engine's Jacobians, one vector-Jacobian product per output element."""
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outputs = _outputs(fn, inputs)
    total = sum(o.numel() for o in outputs)
    jacobians = [np.zeros((total, x.numel())) for x in wrt]
    row = 0
    for k, out in enumerate(outputs):
        for i in range(out.numel()):
            seeds = [np.zeros(o.shape) for o in outputs]
            seeds[k].reshape(-1)[i] = 1.0
            live = [
                (o, s) for o, s in zip(outputs, seeds, strict=True) if o.requires_grad
            ]
            if live:
                grads = grad(
                    [o for o, _ in live],
                    wrt,
                    [s for _, s in live],
                    retain_graph=True,
                    allow_unused=True,
                )
                for jac, g in zip(jacobians, grads, strict=True):
                    if g is not None:
                        jac[row] = g._data.ravel()
            row += 1
    return jacobians


def gradcheck(
    fn: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **accepted: Any,
) -> bool:
    """True when the engine's gradients match central differences, else raise
    naming the first (output, input) pair that differs, as PyTorch does.

    PyTorch's other options (``fast_mode``, ``check_undefined_grad``, ...) are
    accepted; the full Jacobians are always compared.
    """
    _accept(accepted)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise GradcheckError(
                "gradcheck needs float64 inputs for accurate differences"
            )
    numeric = numerical_jacobian(fn, inputs, eps)
    analytic = analytical_jacobian(fn, inputs)
    sizes = [o.numel() for o in _outputs(fn, inputs)]
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        start = 0
        for k, size in enumerate(sizes):
            rows = slice(start, start + size)
            start += size
            if np.allclose(a[rows], n[rows], rtol=rtol, atol=atol, equal_nan=True):
                continue
            if not raise_exception:
                return False
            raise GradcheckError(
                f"Jacobian mismatch for output {k} with respect to input {i},\n"
                f"numerical:{Tensor._wrap(n[rows])}\nanalytical:{Tensor._wrap(a[rows])}"
            )
    return True


_OPTIONS = {
    "nondet_tol",
    "check_undefined_grad",
    "check_grad_dtypes",
    "check_batched_grad",
    "check_batched_forward_grad",
    "check_forward_ad",
    "check_backward_ad",
    "fast_mode",
    "masked",
    "grad_outputs",
    "gen_non_contig_grad_outputs",
}


def _accept(options: dict) -> None:
    unknown = set(options) - _OPTIONS
    if unknown:
        raise TypeError(
            f"gradcheck() got an unexpected keyword argument '{min(unknown)}'"
        )


def gradgradcheck(
    fn: Callable,
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **accepted: Any,
) -> bool:
    """gradcheck of the backward pass itself (second order, via create_graph),
    with random cotangents unless ``grad_outputs`` are given."""
    _accept(accepted)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        seeds = [Tensor(rng.standard_normal(o.shape)) for o in outs]
    else:
        given = (grad_outputs,) if isinstance(grad_outputs, Tensor) else grad_outputs
        seeds = [Tensor(g.detach()) for g in given]

    def first_order(*xs):
        # The numerical Jacobian runs this under no_grad; the backward needs a graph.
        with enable_grad():
            ys = _outputs(fn, xs)
            live = [(y, s) for y, s in zip(ys, seeds, strict=True) if y.requires_grad]
            xs_wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            grads = grad(
                [y for y, _ in live],
                xs_wrt,
                [s for _, s in live],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(
            g if g is not None else x * 0 for g, x in zip(grads, xs_wrt, strict=True)
        )

    return gradcheck(
        first_order,
        inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
