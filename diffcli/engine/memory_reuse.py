"""Which arrays the first-order backward pass may overwrite.

A rule normally returns a new array.  Two kinds of large array die unread in
the numpy pass, and a rule may write its result into them instead (numpy
reuses its temporaries the same way): a cotangent that no one else holds,
*lent* to the last rule that reads it, and the value of an intermediate whose
only consumer is being differentiated and that nothing else holds, *donated*
to that consumer's rule.  The engine hands such an array to the rule as a
``Reusable``; the rule stays plain math (``g * y``) and numpy, through
``Reusable.__array_ufunc__``, writes the result where it fits.  Each saves an
array the size of the input: ``norm(x**2)``'s backward makes no new one.

Who else holds an array is told by reference counts, after the consumer has
let go of its input: from then on nothing new can reach the value, so neither
another thread nor a Ctrl-C can see it half written.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

import numpy as np

from diffcli.engine.tensor import NO_INPUT, Tensor

# Arrays at least this big are reused (numpy's own threshold for reusing
# temporaries): below it, the saved allocation costs less than the bookkeeping.
LEND_BYTES = 256 * 1024


# Elementwise ufuncs whose result may be written over an input of its shape and
# dtype (numpy itself handles an output that overlaps an input).
_IN_PLACE = frozenset({np.add, np.subtract, np.multiply, np.true_divide, np.negative})


class Reusable(np.ndarray):
    """An array the running rule may overwrite: arithmetic on it writes the
    result into it when the result has its shape and dtype.  Rules read ``g``
    (and a donated input) once, so nothing reads the old values afterwards;
    ``plain`` turns whatever a rule returns back into an ordinary array."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        arrays = [x.view(np.ndarray) if isinstance(x, Reusable) else x for x in inputs]
        if out is not None:
            out = tuple(
                o.view(np.ndarray) if isinstance(o, Reusable) else o for o in out
            )
            return getattr(ufunc, method)(*arrays, out=out, **kwargs)
        if method == "__call__" and ufunc in _IN_PLACE and not kwargs:
            for x, a in zip(inputs, arrays, strict=True):
                if isinstance(x, Reusable) and _fits(a, arrays):
                    ufunc(*arrays, out=a)
                    return x
        return getattr(ufunc, method)(*arrays, **kwargs)


def _bare(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, Reusable) else x


def _fits(target: np.ndarray, arrays: list) -> bool:
    return (
        target.flags.writeable
        and np.result_type(*arrays) == target.dtype
        and np.broadcast_shapes(*(np.shape(a) for a in arrays)) == target.shape
    )


def reusable(a: np.ndarray) -> Reusable:
    return a.view(Reusable)


def plain(result: Any, reused: Reusable, original: np.ndarray) -> Any:
    """A rule's result as an ordinary array: the reused array itself is the
    original it viewed, any other view of it a plain view."""
    if result is reused:
        return original
    return result.view(np.ndarray) if isinstance(result, Reusable) else result


def last_wanting(inputs: tuple) -> int:
    """Position of the last input that wants a gradient (-1 if none does):
    the rule that may overwrite a lent cotangent."""
    for i in range(len(inputs) - 1, -1, -1):
        x = inputs[i]
        if type(x) is Tensor and x._requires_grad:
            return i
    return -1


def fresh(gi: np.ndarray, ans: Any, values: list) -> bool:
    """A rule's result that no one else holds: an array of its own, not one of
    the node's values (rules return new arrays, ``g`` itself, or views)."""
    return (
        gi.base is None
        and gi.flags.writeable
        and gi is not ans
        and all(gi is not v for v in values)
    )


def add_into(grads: dict, lent: set, x: Tensor, gi: Any) -> None:
    """A second cotangent for ``x``: summed in place when the first is lent."""
    acc = grads[x]
    if x in lent and np.result_type(acc, gi) == acc.dtype:
        np.add(acc, gi, out=acc)
        return
    grads[x] = acc = acc + gi
    if type(acc) is np.ndarray and acc.nbytes >= LEND_BYTES:
        lent.add(x)


def donor(node: Tensor, pending: dict) -> bool:
    """Whether ``node``'s only input may be donated to its rule, by what the
    pass itself knows: a large array of an intermediate that ``node`` alone
    consumes, whose own rules never read it (``Primitive.reads_output``), and
    a rule that takes it (``Primitive.overwrites_input``).  The engine then
    unlinks ``node`` and asks ``unshared`` about everyone else."""
    x = node._in0
    if (
        type(x) is not Tensor
        or node._in1 is not NO_INPUT
        or not node._prim.overwrites_input
        or pending.get(x) != 1
        or not node._prim.saves_inputs
    ):
        return False
    data = x._data
    if (
        type(data) is not np.ndarray
        or data.nbytes < LEND_BYTES
        or data.base is not None
        or not data.flags.writeable
    ):
        return False
    inputs = x._inputs
    return type(inputs) is tuple and not any(
        type(v) is Tensor and v._requires_grad and x._prim.reads_output(i)
        for i, v in enumerate(inputs)
    )


def unshared(inputs: tuple) -> bool:
    """Whether, its consumer unlinked, ``inputs[0]`` is held only by ``inputs``
    and the pass's ``pending`` key, and its array only by it.  Any name, view,
    ``.data``, other graph, weak reference or other thread's pass counts."""
    x = inputs[0]
    data = x._data
    # Counted against a probe held by one slot and counted the same way, so
    # what the interpreter's own stack adds cancels out.
    probe = _PROBE.item
    once = _refs(probe)
    return (
        _refs(x) == once + 1
        and _refs(data) == once
        and not weakref.getweakrefcount(x)
        and not weakref.getweakrefcount(data)
    )


def _refs(obj: object) -> int:
    return sys.getrefcount(obj)


class _Slot:
    __slots__ = ("item",)


_PROBE = _Slot()
_PROBE.item = object()
# Reference counts tell who holds an object only where the GIL makes them
# exact: not on PyPy, not on free-threaded builds.
COUNTS_REFS = (
    hasattr(sys, "getrefcount") and getattr(sys, "_is_gil_enabled", lambda: True)()
)
