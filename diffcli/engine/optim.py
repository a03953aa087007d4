"""Optimizers with PyTorch's update formulas, updating parameters in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError


class Optimizer:
    """Parameter groups, ``zero_grad`` and per-parameter state, as in PyTorch."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise DiffcliError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = [
            {**defaults, **g, "params": list(g["params"])} for g in groups
        ]
        for group in self.param_groups:
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.is_leaf:
                    raise DiffcliError("optimizers can only optimize leaf Tensors")
        self.state: dict[Tensor, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    grad = p.grad._data
                    if group["weight_decay"]:
                        grad = grad + group["weight_decay"] * p._data
                    state = self.state.setdefault(p, {})
                    if _blockwise(p._data, grad):
                        self._by_blocks(p._data, grad, state, group)
                    else:
                        p._data -= self._update(grad, p._data, state, group)
                    p._bump()

    def _update(self, grad, param, state, group) -> np.ndarray:
        raise NotImplementedError

    def _by_blocks(self, param: np.ndarray, grad: np.ndarray, state, group) -> None:
        """``param -= _update(...)`` a block of elements at a time, the state's
        arrays updated block by block too.  Every update here is elementwise,
        so the numbers are the same, without temporaries as large as the
        parameter (each 80 MB at 1e7 values; Adam made five)."""
        p, g = param.reshape(-1), grad.reshape(-1)
        had = {k: v.reshape(-1) for k, v in state.items() if _same_size(v, p)}
        whole = dict(had)  # and the arrays the first step makes
        part: dict[str, Any] = {}
        for start in range(0, p.size, BLOCK):
            block = slice(start, start + BLOCK)
            part = {**state, **{k: v[block] for k, v in had.items()}}
            p[block] -= self._update(g[block], p[block], part, group)
            for k, v in part.items():
                if isinstance(v, np.ndarray) and v.ndim == 1 and k not in state:
                    whole.setdefault(k, np.empty(p.size, v.dtype))
                if k in whole:
                    whole[k][block] = v
        state.update(part)  # the scalars (Adam's step) as the last block left them
        state.update({k: v.reshape(param.shape) for k, v in whole.items()})


BLOCK = 1 << 16  # elements updated at a time by Optimizer._by_blocks


def _same_size(value: Any, flat: np.ndarray) -> bool:
    return isinstance(value, np.ndarray) and value.size == flat.size


def _blockwise(param: np.ndarray, grad: Any) -> bool:
    """Whether an update can go block by block: large, same shape, both flat
    in memory, the parameter writeable."""
    return (
        param.size > BLOCK
        and isinstance(grad, np.ndarray)
        and grad.shape == param.shape
        and param.flags.c_contiguous
        and param.flags.writeable
        and grad.flags.c_contiguous
    )


class SGD(Optimizer):
    """p -= lr * d, with d the gradient or its (Nesterov) momentum buffer."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise DiffcliError("SGD: lr, momentum and weight_decay must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise DiffcliError(
                "Nesterov momentum requires a momentum and zero dampening"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
            ),
        )

    def _update(self, grad, param, state, group):
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = np.array(grad, copy=True)
            else:
                buf = momentum * buf + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buf
            grad = grad + momentum * buf if group["nesterov"] else buf
        return group["lr"] * grad


class Adam(Optimizer):
    """Adam with bias correction (and optionally AMSGrad), as torch.optim.Adam."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
    ) -> None:
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise DiffcliError(f"Adam: betas must be in [0, 1), got {betas}")
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise DiffcliError("Adam: lr, eps and weight_decay must be >= 0")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
            ),
        )

    def _update(self, grad, param, state, group):
        beta1, beta2 = group["betas"]
        step = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * grad
        v = state["exp_avg_sq"] = (
            beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * grad * grad
        )
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = np.maximum(
                state.get("max_exp_avg_sq", 0.0), v
            )
        denom = np.sqrt(v) / np.sqrt(1 - beta2**step) + group["eps"]
        return group["lr"] / (1 - beta1**step) * m / denom
