"""Input values for gradcheck rows: each keeps away from the kinks and
singularities of the functions it feeds, and ``check`` runs gradcheck and
gradgradcheck there."""

from __future__ import annotations

import numpy as np

import diffcli as dc


def anywhere(rng, shape):
    return rng.uniform(-2, 2, shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2, shape)


def nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2, shape)


def grid(rng, shape, offset=0.05):
    """Points of a 0.25 grid plus ``offset``: two grids with different offsets
    never come within 0.1 of each other, and none hits the clamp bounds +-0.5."""
    return rng.integers(-8, 8, shape) * 0.25 + offset + rng.uniform(0, 0.02, shape)


def distinct(rng, shape):
    """All values at least 0.2 apart, so max/min reductions have no ties."""
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * 0.25 - n / 8 + rng.uniform(0, 0.05)).reshape(shape)


def leaf(values):
    return dc.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def check(fn, *arrays, **tol):
    """gradcheck and gradgradcheck of ``fn`` at leaves holding ``arrays``."""
    inputs = [leaf(a) for a in arrays]
    assert dc.gradcheck(fn, inputs, **tol)
    assert dc.gradgradcheck(fn, inputs, **tol)
