"""How close the witnesses must be, and how much work each may do: part of
the question asked, shared by the verdict and every witness."""

from __future__ import annotations

import math
from dataclasses import dataclass

from diffcli.errors import ExprError


@dataclass(frozen=True)
class Tolerances:
    """PyTorch gradcheck's for finite differences; tight for the closed form."""

    rtol: float = 1e-3
    atol: float = 1e-5
    sym_rtol: float = 1e-9
    sym_atol: float = 1e-12
    sym_max_elements: int = 512
    sym_timeout: float = 10.0
    fd_max_elements: int = 2000
    simplify: bool = True  # tidy the closed forms for display; batch never shows them

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "sym_rtol", "sym_atol"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ExprError(f"{name} must be a finite number >= 0, got {value}")
