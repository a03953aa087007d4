"""``torch.autograd.function``'s names: custom rules for the engine."""

from diffcli.engine.function import Function, FunctionCtx, once_differentiable

__all__ = ["Function", "FunctionCtx", "once_differentiable"]
