"""Central finite differences: the one implementation behind ``gradcheck`` and
the verify layer's finite-difference witness.

``f`` is differenced with respect to every element of some arrays, which are
moved in place (C order, array by array) and put back, so callers pass a
closure over the very arrays ``f`` reads: leaves of a graph for gradcheck, a
point of an expression for the witness.  ``f`` may return an array of any
shape; a higher derivative is the differences of a lower one (the witness
differences the engine's gradient for a Hessian), so one first-order
difference covers every order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EPS = 1e-6  # PyTorch gradcheck's step
ROUNDING = 32 * np.finfo(np.float64).eps  # evaluation error, generously


@dataclass
class Differences:
    """Row k is about element k: ``central[k]`` estimates d f / d element k."""

    central: np.ndarray  # (f(x + h) - f(x - h)) / 2h
    left: np.ndarray  # (f(x) - f(x - h)) / h
    right: np.ndarray  # (f(x + h) - f(x)) / h
    # Rounding noise of each central difference: |f| eps / h.  Below it the
    # differences cannot tell values apart (a large value, a tiny slope).
    noise: np.ndarray
    value: np.ndarray  # f at the unmoved arrays


def step(x: float, eps: float = EPS, scaled: bool = True) -> float:
    """The step for an element of value ``x``: ``eps``, times ``|x|`` if that
    is larger than 1 and ``scaled`` (so that ``x + h`` still differs from x)."""
    return eps * max(1.0, abs(float(x))) if scaled else eps


def differences(
    f: Callable[[], Any],
    arrays: Sequence[np.ndarray],
    eps: float = EPS,
    scaled: bool = True,
) -> Differences:
    """Central (and one-sided) differences of ``f()`` for each element of
    ``arrays``, each moved by ``step(element, eps, scaled)`` and put back."""
    f0 = np.asarray(f())
    central, left, right, noise = [], [], [], []
    for array in arrays:
        flat = array.flat  # C order, writes through even a non-contiguous array
        for j in range(array.size):
            orig = flat[j]
            h = step(orig, eps, scaled)
            flat[j] = orig + h
            fp = np.asarray(f())
            flat[j] = orig - h
            fm = np.asarray(f())
            flat[j] = orig
            central.append((fp - fm) / (2 * h))
            left.append((f0 - fm) / h)
            right.append((fp - f0) / h)
            size = np.maximum(np.maximum(np.abs(fp), np.abs(fm)), np.abs(f0))
            noise.append(ROUNDING * size / h)
    shape = (len(central), *f0.shape)
    rows = lambda values: np.array(values).reshape(shape)
    return Differences(rows(central), rows(left), rows(right), rows(noise), f0)
