"""``dc.nn``: only ``functional`` (torch.nn.functional's names for the
table's functions).  No Module layers: they are a training framework, not
differentiation."""

from diffcli.nn import functional

__all__ = ["functional"]
