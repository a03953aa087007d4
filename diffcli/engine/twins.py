"""SymPy twins of the primitives: the same operation on numpy object arrays of
SymPy expressions.  ``sp`` is the sympy module, passed in so that nothing here
imports it: only symbolic work pays for SymPy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diffcli.engine.rules import _dims, _kept_shape

LONG_SUM = 3  # terms: above, a function of the sum is left unevaluated


def elementwise(fn: str | Callable) -> Callable:
    """SymPy twin of an elementwise op: ``sympy.<fn>`` mapped over object arrays."""

    def apply(sp, *arrays, **params):
        f = (
            getattr(sp, fn)
            if isinstance(fn, str)
            else (lambda *a, **k: fn(sp, *a, **k))
        )
        lazy = isinstance(f, type) and issubclass(f, sp.Function)

        def one(*a):
            # SymPy's eval of a function of a long sum (tanh(X@W+b)) queries
            # assumptions over every term for a sign to pull out: 16 ms a call
            if lazy and isinstance(a[0], sp.Add) and len(a[0].args) > LONG_SUM:
                return f(*a, **params, evaluate=False)
            return f(*a, **params)

        return np.vectorize(one, otypes=[object])(*arrays)

    return apply


def reduce(fn: str) -> Callable:
    """SymPy twin of max/min/sum: ``sympy.Max``/``Min``/``Add`` over the reduced
    axes, one call each (numpy's pairwise ``+`` on SymPy terms is quadratic)."""

    def apply(sp, x, dim=None, keepdim=False):
        x = np.asarray(x, dtype=object)
        dims = _dims(dim, x.ndim)
        kept = [d for d in range(x.ndim) if d not in dims]
        moved = np.moveaxis(x, kept, range(len(kept)))
        head = moved.shape[: len(kept)]
        flat = moved.reshape(head + (-1,))
        out = np.empty(head, dtype=object)
        for i in np.ndindex(head):
            out[i] = getattr(sp, fn)(*flat[i])
        return np.reshape(out, _kept_shape(x.shape, dim)) if keepdim else out

    return apply


def norm(sp, x, dim=None, keepdim=False, p=2):
    power = elementwise(lambda sp, v: v**2 if p == 2 else sp.Abs(v) ** p)(sp, x)
    total = reduce("Add")(sp, power, dim, keepdim)
    return elementwise(lambda sp, s: s ** (sp.Integer(1) / p))(sp, np.asarray(total))


def mean(sp, x, dim=None, keepdim=False):
    shape = np.shape(x)
    count = int(np.prod([shape[d] for d in _dims(dim, len(shape))]))
    return reduce("Add")(sp, x, dim, keepdim) / count


def piecewise(sp, cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def relu(sp, v):
    return sp.Piecewise((v, v > 0), (0, True))


def clamp(sp, v, min=None, max=None):
    pieces = []
    if min is not None:
        pieces.append((min, v < min))
    if max is not None:
        pieces.append((max, v > max))
    return sp.Piecewise(*pieces, (v, True)) if pieces else v


# --- scans and statistics (table/scans.py) --------------------------------------


def logsumexp(sp, x, dim=None, keepdim=False):
    exps = elementwise("exp")(sp, x)
    return elementwise("log")(sp, np.asarray(reduce("Add")(sp, exps, dim, keepdim)))


def softmax(sp, x, dim):
    exps = elementwise("exp")(sp, x)
    return exps / reduce("Add")(sp, exps, dim, True)


def log_softmax(sp, x, dim):
    return x - logsumexp(sp, x, dim, True)


def var(sp, x, dim=None, correction=1, keepdim=False):
    shape = np.shape(x)
    n = int(np.prod([shape[d] for d in _dims(dim, len(shape))]))
    deviation = x - reduce("Add")(sp, x, dim, True) / n
    total = reduce("Add")(sp, deviation * deviation, dim, keepdim)
    return total / (n - sp.nsimplify(correction))


def std(sp, x, dim=None, correction=1, keepdim=False):
    return elementwise("sqrt")(sp, np.asarray(var(sp, x, dim, correction, keepdim)))


def norm_inf(sp, x, dim=None, keepdim=False, p=float("inf")):
    size = elementwise("Abs")(sp, x)
    return reduce("Max" if p > 0 else "Min")(sp, size, dim, keepdim)
