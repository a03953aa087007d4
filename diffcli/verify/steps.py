"""Finite differences at several steps, where one step cannot be trusted.

The default step (1e-6, times |x| above 1) suits most points, but not all:
at y = 1e8 it is 100, wider than a period of sin(y); near a kink or a pole it
straddles it; a large value drowns a small slope in rounding.  For the few
entries where the default differences disagree with the engine (or see a
kink, or are not finite) the witness tries a ladder of steps, each a power of
two so that x + h and x - h are exact, and trusts only estimates that settle:
two neighbouring steps that agree within the tolerance and their rounding.
Where none settle the differences are unreliable there and do not vote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.engine import finite_differences as FD

# The default step times 10**k for these k, largest first; never below
# MIN_ULPS units in the last place of the element (rounding of x + h).
LADDER = (3, 2, 1, 0, -1, -2, -3, -4, -5, -6)
MIN_ULPS = 64
TINY = (-2, -4)  # and |x| times 10**k for these k, where |x| is below the step
MAX_REFINED = 64  # elements refined at most (each costs 2 * len(LADDER) calls)


@dataclass
class Refined:
    """One perturbed element's outputs: the settled estimate (nan where none
    settled), one-sided slopes at that step, and whether they see a kink."""

    estimate: np.ndarray
    settled: np.ndarray  # bool
    left: np.ndarray
    right: np.ndarray
    kink: np.ndarray  # bool: the one-sided slopes stay apart as the step shrinks
    step: np.ndarray


def ladder(x: float) -> list[float]:
    """Steps for an element of value ``x``, largest first, each a power of two;
    for a tiny x (1e-300) also steps below |x|, which alone can see a feature
    at the scale of x (log(x) near its pole)."""
    h0 = FD.step(x)
    floor = MIN_ULPS * np.spacing(abs(float(x))) if np.isfinite(x) else np.inf
    sizes = [h0 * 10.0**k for k in LADDER]
    if 0 < abs(x) < h0:
        sizes += [abs(x) * 10.0**k for k in TINY]
    steps = sorted({2.0 ** round(np.log2(h)) for h in sizes}, reverse=True)
    return [h for h in steps if h >= floor]


def refine(
    f: Callable[[], Any],
    arrays: Sequence[np.ndarray],
    k: int,
    rtol: float,
    atol: float,
) -> Refined:
    """The differences of ``f`` for flat element ``k`` of ``arrays`` (moved in
    place and put back), at each step of the ladder."""
    array, j = _locate(arrays, k)
    view = array.reshape(-1)[j : j + 1]  # a view: moving it moves the array
    rows = []
    for h in ladder(float(view[0])):
        with np.errstate(all="ignore"):
            d = FD.differences(f, [view], eps=h, scaled=False)
        rows.append((h, d.central[0], d.left[0], d.right[0], d.noise[0]))
    shape = np.shape(rows[0][1]) if rows else ()
    nan = lambda: np.full(shape, np.nan)
    no = lambda: np.zeros(shape, dtype=bool)
    out = Refined(nan(), no(), nan(), nan(), no(), nan())
    # Smallest steps first: rounding noise is random, and two noisy estimates
    # agree only when the noise is small.  Larger steps are tried while the
    # disagreement is rounding; once it is not (the function varies within the
    # step), larger steps only vary more, and two of them that agree near 0
    # (sin(y**3) at 1e8) agree by accident.
    # A step lost in the rounding of a large intermediate ((x + 1e10) - 1e10)
    # leaves f unchanged: differences exactly 0 are rounding too, unless every
    # step gives them (a constant).
    open_ = np.ones(shape, dtype=bool)
    flat = np.all([(c == 0) & (lf == 0) & (r == 0) for _, c, lf, r, _ in rows], 0)
    for (h1, c1, l1, r1, n1), (_, c2, l2, r2, n2) in zip(
        rows[::-1], rows[-2::-1], strict=False
    ):
        with np.errstate(all="ignore"):
            tol = atol + rtol * np.abs(c1)
            lost = (l1 == 0) & (r1 == 0) & ~flat
            # one-sided slopes apart by about as much at both steps: a kink;
            # apart by more at the smaller step (as 1/h): a jump, where the
            # central estimate settles on nothing the engine could mean
            gap1, gap2 = np.abs(l1 - r1), np.abs(l2 - r2)
            apart = gap1 > tol + 4 * n1
            kink = apart & (np.abs(gap1 - gap2) <= 0.5 * gap1)
            jump = apart & (gap1 > 3 * gap2)
            settles = (np.abs(c1 - c2) + n1 + n2 <= tol) & open_ & ~lost & ~jump
            open_ &= ~jump & (settles | lost | (np.abs(c1 - c2) <= 4 * (n1 + n2) + tol))
        new = settles & ~out.settled
        for target, value in (
            (out.estimate, c1),
            (out.left, l1),
            (out.right, r1),
            (out.step, h1),
        ):
            np.copyto(target, value, where=new)
        np.copyto(out.kink, kink, where=new)
        out.settled |= settles
    return out


def _locate(arrays: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, int]:
    for array in arrays:
        if k < array.size:
            return array, k
        k -= array.size
    raise IndexError(k)


def recheck(
    fd: Any,
    f: Callable[[], Any],
    arrays: Sequence[np.ndarray],
    engine: np.ndarray,
    where: np.ndarray,
    rtol: float,
    atol: float,
) -> None:
    """Refine ``fd`` (a FiniteDifferences) in place where the default step is
    in doubt: the engine's entry is finite and the differences are not, or
    disagree with it, or see a kink.  ``where[k]`` is (perturbed element,
    output index) of flat entry k.  Settled entries take the settled estimate;
    the others are marked unreliable."""
    fd.unreliable = np.zeros(fd.flat.shape, dtype=bool)
    if fd.kinks is None:  # higher orders: only refined entries can see a kink
        fd.kinks = np.zeros(fd.flat.shape, dtype=bool)
        fd.left, fd.right = fd.flat.copy(), fd.flat.copy()
    with np.errstate(all="ignore"):
        off = ~np.isclose(engine, fd.flat, rtol=rtol, atol=atol)
    doubt = np.isfinite(engine) & (off | ~np.isfinite(fd.flat) | fd.kinks)
    ks = np.flatnonzero(doubt)
    by_element: dict[int, list[int]] = {}
    for k in ks:
        by_element.setdefault(int(where[k][0]), []).append(int(k))
    for j in list(by_element)[:MAX_REFINED]:
        r = refine(f, arrays, j, rtol, atol)
        for k in by_element[j]:
            i = where[k][1]
            if not r.settled[i]:
                fd.unreliable[k] = True
                continue
            fd.flat[k], fd.noise[k] = r.estimate[i], 0.0
            fd.left[k], fd.right[k] = r.left[i], r.right[i]
            fd.kinks[k] = r.kink[i]
    if fd.gradient is not None:  # order 1: the per-variable views see the change
        k = 0
        for name, g in fd.gradient.items():
            fd.gradient[name] = fd.flat[k : k + g.size].reshape(g.shape)
            k += g.size
