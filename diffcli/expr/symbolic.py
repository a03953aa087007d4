"""The symbolic interpreter: the same tree (or a recorded graph) in SymPy.

Values are numpy object arrays of SymPy expressions, so the op table's numpy
forwards work on them unchanged; ops with a ``sympy`` twin use it.  An array
variable ``x`` of shape (2,) becomes the real symbols ``x[0]``, ``x[1]``.
SymPy is imported here, lazily: only symbolic work pays for it.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from diffcli.engine.graph_walk import tensor_inputs, topological
from diffcli.engine.table import PRIMITIVES
from diffcli.engine.tensor import Tensor
from diffcli.errors import DiffcliError
from diffcli.expr import parser as P
from diffcli.expr.walk import Interrupt, evaluate


class SymbolicTimeout(Interrupt):
    """SymPy took longer than its budget."""


class SymbolicTooLarge(Interrupt):
    """An array too big to hold as SymPy expressions."""


MAX_CONSTANT_ELEMENTS = 10_000


def sympy():
    import sympy as sp

    return sp


def obj(value: Any) -> np.ndarray:
    """``value`` as an object array (a 0-d one for a single expression)."""
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else _to_sympy_array(value)
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _number(sp, v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return sp.true if v else sp.false
    if isinstance(v, (int, np.integer)) or (float(v).is_integer() and abs(v) < 2**53):
        return sp.Integer(int(v))
    text = repr(float(v))
    return sp.Rational(text) if len(text) < 20 and np.isfinite(v) else sp.Float(v)


def _to_sympy_array(values: np.ndarray) -> np.ndarray:
    if values.size > MAX_CONSTANT_ELEMENTS:
        raise SymbolicTooLarge(
            f"a constant of {values.size} elements is over the symbolic limit of "
            f"{MAX_CONSTANT_ELEMENTS}"
        )
    sp = sympy()
    out = np.empty(values.shape, dtype=object)
    for i in np.ndindex(values.shape):
        out[i] = _number(sp, values[i])
    return out


def symbols_for(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Real symbols named like the user's indexing: ``x``, ``x[0]``, ``A[0, 1]``."""
    sp = sympy()
    out = np.empty(shape, dtype=object)
    for i in np.ndindex(shape):
        label = name if not shape else f"{name}[{', '.join(map(str, i))}]"
        out[i] = sp.Symbol(label, real=True)
    return out


class SymbolicBackend:
    """Variables are symbol arrays (or constants); ``detach`` freezes a value."""

    def __init__(
        self,
        variables: Mapping[str, np.ndarray],
        free: bool = True,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        self.sp = sympy()
        self.variables = dict(variables)
        self.free = free
        self.constants = constants  # pi and e as given (held_constants), or exact
        self.frozen: dict[Any, Any] = {}  # placeholder symbol -> detached expression

    def number(self, value: float) -> np.ndarray:
        return obj(_number(self.sp, value))

    def constant(self, name: str) -> np.ndarray:
        if self.constants is not None:
            return obj(self.constants[name])
        return obj(self.sp.pi if name == "pi" else self.sp.E)

    def variable(self, name: str) -> np.ndarray:
        if name not in self.variables:
            if not self.free:
                raise KeyError(name)
            self.variables[name] = symbols_for(name, ())
        return self.variables[name]

    def array(self, values: np.ndarray) -> np.ndarray:
        return _to_sympy_array(values)

    def op(self, name: str, *args: Any, **params: Any) -> np.ndarray:
        return run_primitive(self.sp, name, args, params)

    def detach(self, value: np.ndarray) -> np.ndarray:
        out = np.empty(value.shape, dtype=object)
        for i in np.ndindex(value.shape):
            placeholder = self.sp.Dummy("detached", real=True)
            # resolved now, so a detach of a detach puts back plain values
            self.frozen[placeholder] = self.sp.sympify(value[i]).xreplace(self.frozen)
            out[i] = placeholder
        return out

    def shape(self, value: np.ndarray) -> tuple[int, ...]:
        return np.shape(value)


def run_primitive(sp, name: str, args: Sequence[Any], params: Mapping[str, Any]):
    prim = PRIMITIVES[name]
    args = [obj(a) if isinstance(a, np.ndarray) or not _plain(a) else a for a in args]
    out = (
        prim.sympy(sp, *args, **params) if prim.sympy else prim.forward(*args, **params)
    )
    return obj(out)


def _plain(a: Any) -> bool:
    return isinstance(a, (int, float, bool, np.number))


def evaluate_symbolic(
    tree: P.Expr,
    variables: Mapping[str, np.ndarray],
    source: str = "",
    constants: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, dict]:
    """The tree's value as SymPy; also the detached placeholders to put back."""
    backend = SymbolicBackend(variables, constants=constants)
    return evaluate(tree, backend, source), backend.frozen


def held_constants() -> dict[str, Any]:
    """pi and e as symbols, for closed forms evaluated where the engine
    computes: with float64's pi, so that sin(pi) is 1.2e-16 there as in the
    engine, not SymPy's exact 0 (the engine's input is float64's pi)."""
    sp = sympy()
    return {"pi": sp.Dummy("pi", positive=True), "e": sp.Dummy("e", positive=True)}


HELD_VALUES = {"pi": np.pi, "e": np.e}


def replay(output: Tensor, leaves: Mapping[Tensor, np.ndarray]) -> np.ndarray:
    """The recorded graph behind ``output`` re-run in SymPy (``--func``).

    Leaves not in ``leaves`` are constants; control flow is whatever the
    recording took.
    """
    sp = sympy()
    values: dict[int, np.ndarray] = {id(t): v for t, v in leaves.items()}

    def inputs(t: Tensor) -> list[Tensor]:
        return [] if id(t) in values else tensor_inputs(t)

    order = [t for t in topological([output], inputs) if id(t) not in values]
    for t in order:  # constants first: one too large to convert fails fast
        if t._prim is None or not isinstance(t._inputs, tuple):
            values[id(t)] = _to_sympy_array(t._data)
    for t in order:
        if id(t) in values:
            continue
        args = [values[id(x)] if isinstance(x, Tensor) else x for x in t._inputs]
        values[id(t)] = run_primitive(sp, t._prim.name, args, t._params)
    return values[id(output)]


def can_time_limit() -> bool:
    """Whether ``time_limit`` can interrupt here (SIGALRM: main thread only)."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )


# After the deadline the alarm repeats this often until the block is left: the
# deadline waits where it may not strike (below), and SymPy may swallow it.
RETRY_SECONDS = 0.05

# Frames the deadline never interrupts: a finalizer's exception is dropped by
# Python, and a context manager cut short leaves its state half set or undone.
_UNINTERRUPTIBLE = frozenset({"__del__", "__enter__", "__exit__"})
# weakref callbacks (finalize(), a WeakSet's _remove): Python ignores what
# they raise, with an "Exception ignored" report
WEAKREF_MODULES = frozenset({"weakref", "_weakrefset"})


def time_limit(
    seconds: float | None, error: type[Exception] = SymbolicTimeout
) -> contextlib.AbstractContextManager[None]:
    """Interrupt SymPy after ``seconds`` (main thread only; elsewhere no limit).

    The exception surfaces inside the block only, never after it has ended: a
    deadline that strikes in a finalizer, a gc callback or a context manager's
    enter or exit waits for the next retry.  Nests: inside an enclosing limit
    that ends sooner this one does nothing (the enclosing one stays in
    charge); otherwise the enclosing limit is put back afterwards with the
    time it has left.
    """
    return _Deadline(seconds, error)


class _Deadline:
    """time_limit's context manager: a class, so that the alarm handler knows
    the block's frame and can tell whether an exception raised where the
    alarm struck would reach it."""

    def __init__(self, seconds: float | None, error: type[Exception]) -> None:
        self.seconds, self.error = seconds, error
        self.block: Any = None  # the frame running the with-block, while armed

    def __enter__(self) -> None:
        if not self.seconds or not can_time_limit():
            return
        self.outer_left, self.outer_every = signal.getitimer(signal.ITIMER_REAL)
        if self.outer_left and self.outer_left <= self.seconds:
            return
        self.block = sys._getframe(1)
        self.previous = signal.signal(signal.SIGALRM, self._expire)
        self.start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.seconds, RETRY_SECONDS)

    def __exit__(self, *exc: object) -> None:
        if self.block is None:
            return
        self.block = None
        signal.setitimer(signal.ITIMER_REAL, 0)
        # signal.signal() first runs an alarm still pending: disarmed, a no-op
        signal.signal(signal.SIGALRM, self.previous)
        if self.outer_left:
            left = self.outer_left - (time.monotonic() - self.start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), self.outer_every)

    def _expire(self, signum: int, frame: Any) -> None:
        if self.block is None:
            return
        if self._reaches_block(frame):
            raise self.error(f"SymPy took longer than {self.seconds:g} s")
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS, RETRY_SECONDS)

    def _reaches_block(self, frame: Any) -> bool:
        """Whether an exception raised in ``frame`` propagates to the block."""
        callbacks = {
            getattr(getattr(c, "__func__", c), "__code__", None) for c in gc.callbacks
        }
        while frame is not None and frame is not self.block:
            code = frame.f_code
            if (
                code.co_name in _UNINTERRUPTIBLE
                or code in callbacks
                or frame.f_globals.get("__name__") in WEAKREF_MODULES
            ):
                return False
            frame = frame.f_back
        return frame is not None


# Up to this many variable elements the closed forms come from sp.diff and are
# simplified (readable); above, one reverse sweep over the shared subexpressions.
SMALL_GRADIENT = 16
SIMPLIFY_MAX_OPS = 60  # per entry
SIMPLIFY_TOTAL_OPS = 120  # over all entries: simplify is the slow part
SIMPLIFY_SECONDS = 0.5  # per tidy: what is not simplified by then stays as is


class _SimplifyBudget(DiffcliError):
    """tidy's own time budget ran out (never escapes tidy)."""


def gradient(f: Any, wrt: np.ndarray, frozen: Mapping) -> np.ndarray:
    """d f / d each symbol of ``wrt`` (an array of that shape), detach undone."""
    sp = sympy()
    targets = list(wrt.ravel())
    if len(targets) <= SMALL_GRADIENT:
        flat = [sp.diff(f, s) for s in targets]
    else:
        flat = shared_gradient(sp, sp.sympify(f), targets)
    out = np.empty(wrt.shape, dtype=object)
    for i, d in zip(np.ndindex(wrt.shape), flat, strict=True):
        d = settle(d)
        out[i] = d.xreplace(frozen) if frozen else d
    return out


def diff(f: Any, s: Any) -> Any:
    """``sp.diff``, settled: the derivative with no Derivative left in it."""
    return settle(sympy().diff(f, s))


def settle(d: Any) -> Any:
    """Unevaluated derivatives of sign (SymPy leaves them when it cannot tell
    that the argument is real: sign(log(x))) as 2 DiracDelta(u) u', their value
    wherever the function is real, so that they can be evaluated and printed."""
    sp = sympy()
    if not isinstance(d, sp.Basic) or not d.has(sp.Derivative):
        return d

    def of_sign(e: Any) -> bool:
        return (
            isinstance(e, sp.Derivative)
            and isinstance(e.expr, sp.sign)
            and len(e.variables) == 1
        )

    def value(e: Any) -> Any:
        u = e.expr.args[0]
        return 2 * sp.DiracDelta(u) * diff(u, e.variables[0])

    return d.replace(of_sign, value)


def _elementary(sp) -> tuple[type, ...]:
    """Functions of one argument whose ``fdiff`` is their derivative."""
    return (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.tanh, sp.Abs)


def shared_gradient(sp, f: Any, targets: Sequence[Any]) -> list[Any]:
    """All of d f / d target in one reverse sweep over f's distinct subexpressions.

    ``sp.diff`` per target walks all of ``f`` each time (quadratic for
    ``norm(x**2)``); here each distinct node is visited once and its adjoint
    shared.  The chain rule uses SymPy's own derivatives of each node (never the
    engine's rules); nodes other than Add, Mul, Pow and the elementary
    functions (Piecewise, Max, ...) are differentiated whole with ``sp.diff``.
    """
    from diffcli.expr.sweep import reverse_sweep

    return reverse_sweep(sp, f, targets, diff, _elementary(sp))


def tidy_all(
    arrays: Mapping[str, np.ndarray],
    simplify: bool = True,
    at: Mapping[Any, float] | None = None,
    on_entry: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """``tidy`` over several arrays at once: one size limit, one time budget."""
    names = list(arrays)
    flat = np.concatenate([np.ravel(arrays[n]) for n in names]) if names else []
    flat = np.asarray(flat, dtype=object)
    done, out, k = tidy(flat, simplify=simplify, at=at, on_entry=on_entry), {}, 0
    for n in names:
        size = np.size(arrays[n])
        out[n] = done[k : k + size].reshape(np.shape(arrays[n]))
        k += size
    return out


TRIVIAL_OPS = 2


def tidy(
    exprs: np.ndarray,
    budget_ops: int = SIMPLIFY_MAX_OPS,
    simplify: bool = True,
    at: Mapping[Any, float] | None = None,
    on_entry: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Simplify small closed forms; SymPy's simplify is slow, so only a few.

    A simplification must never change the function (SymPy rewrites periodic
    conditions of a Piecewise, or cancels a 0/0): each simplified entry is
    compared numerically with the derived one at ``at`` (symbol -> value) and at
    a few random points, and where they differ the derived one stays.

    ``simplify=False`` (``Tolerances.simplify``) skips it: the forms are only
    for people to read, and batch checks, which never show them, spend most of
    their time here otherwise.

    Sizes are checked before any op count: counting is itself a walk of every
    entry, which for large arrays costs more than the derivative did.  Even a
    small expression can keep simplify busy for many seconds, so it runs under
    ``SIMPLIFY_SECONDS`` (and not at all where no time limit can be set);
    entries it has not reached by then are left as derived.  ``on_entry(k, n)``
    is told before the k-th of n entries is simplified (for a progress line).
    """
    sp = sympy()
    out = np.array(exprs, dtype=object, copy=True)
    if not simplify or exprs.size > SMALL_GRADIENT or not can_time_limit():
        return out
    counts = [
        sp.count_ops(e) if isinstance(e, sp.Basic) else budget_ops + 1
        for e in exprs.ravel()
    ]
    if sum(counts) > SIMPLIFY_TOTAL_OPS:
        return out
    try:
        with time_limit(SIMPLIFY_SECONDS, _SimplifyBudget):
            for k, (i, count) in enumerate(
                zip(np.ndindex(exprs.shape), counts, strict=True)
            ):
                # One or two operations are as simple as it gets, and the first
                # simplify call of a process costs an import of sympy.physics.
                if TRIVIAL_OPS < count <= budget_ops:
                    if on_entry:
                        on_entry(k + 1, exprs.size)
                    out[i] = sp.simplify(exprs[i])
    except _SimplifyBudget:
        pass
    return same_function(exprs, out, at or {})


SAMPLES = 8  # random points a simplification is checked at, besides the point


def same_function(
    before: np.ndarray, after: np.ndarray, at: Mapping[Any, float]
) -> np.ndarray:
    """``after`` where each entry equals ``before``'s as a function (numerically,
    at ``at`` and at SAMPLES seeded random points), ``before``'s elsewhere."""
    sp = sympy()
    changed = [i for i in np.ndindex(before.shape) if after[i] is not before[i]]
    out = np.array(after, dtype=object, copy=True)
    if not changed:
        return out
    olds = [sp.sympify(before[i]) for i in changed]
    news = [sp.sympify(after[i]) for i in changed]
    symbols = sorted(set().union(*(e.free_symbols for e in olds + news)), key=str)
    rng = np.random.default_rng(0)
    points = [[at.get(s, rng.uniform(-3, 3)) for s in symbols]]
    points += [rng.uniform(-3, 3, len(symbols)) for _ in range(SAMPLES // 2)]
    points += [rng.uniform(-30, 30, len(symbols)) for _ in range(SAMPLES // 2)]
    try:
        fn = evaluator(symbols, olds + news)
        with np.errstate(all="ignore"):
            values = np.array([fn(*p) for p in points], dtype=complex)
    except Exception:  # unprintable or failing: keep what was derived
        values = None
    for j, i in enumerate(changed):
        if values is None:
            out[i] = before[i]
            continue
        a, b = values[:, j], values[:, len(changed) + j]
        with np.errstate(all="ignore"):
            same = np.isclose(a, b, rtol=1e-7, atol=1e-12, equal_nan=True) | (a == b)
        if not same.all():
            out[i] = before[i]
    return out


def evaluator(symbols: Sequence[Any], exprs: Sequence[Any]):
    """A fast numeric function of ``symbols`` for ``exprs`` (lambdify with cse).

    The common subexpressions are found first, then the symbols get plain
    Python names: lambdify would otherwise rename each ``x[i]`` with a pass
    over every expression (quadratic in the element count).  ``Heaviside`` (the
    derivative of Max/Min) is numpy's: SymPy's printer would expand it, and the
    Max inside it, into nested selects that are slow to build and fail to run.
    """
    sp = sympy()
    from sympy.simplify.cse_main import cse

    from diffcli.engine import special_math

    temps = sp.numbered_symbols("_t")
    # zoo (1/0) has no numpy spelling: as a number it is not finite, like nan
    exprs = [sp.sympify(e).xreplace({sp.zoo: sp.nan}) for e in exprs]
    pairs, reduced = cse(exprs, symbols=temps)
    names = {s: sp.Symbol(f"_a{k}") for k, s in enumerate(symbols)}
    pairs = [(t, e.xreplace(names)) for t, e in pairs]
    reduced = [e.xreplace(names) for e in reduced]
    return sp.lambdify(
        list(names.values()),
        reduced,
        # The module itself, not "numpy": the string makes SymPy run
        # ``from numpy import *``, which loads numpy.f2py and friends (~0.15 s).
        modules=[
            {"Heaviside": _heaviside, "DiracDelta": _dirac, **special_math.LAMBDIFY},
            np,
        ],
        cse=lambda _: (pairs, reduced),
    )


def _heaviside(x: Any, at_zero: Any = 0.5) -> Any:
    return np.heaviside(x, at_zero)


def _dirac(x: Any, k: Any = 0) -> Any:
    """DiracDelta (the derivative of a step): 0 off the step, undefined on it."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x == 0, np.nan, 0.0)


LONG_FRACTION = 10**6  # a numerator or denominator beyond: shown as a decimal


def readable_numbers(expr: Any) -> Any:
    """``expr`` with fractions of float values (816367648554073/400000000000000,
    a --let value made exact) shown as the float they came from (2.0409...):
    the same number, without a wall of digits.  Short fractions stay."""
    sp = sympy()
    if not isinstance(expr, sp.Basic):
        return expr
    long = {
        r: sp.Float(repr(float(r)), 17)
        for r in expr.atoms(sp.Rational)
        if max(abs(r.p), r.q) > LONG_FRACTION
    }
    return expr.xreplace(long) if long else expr


def to_text(expr: Any, latex: bool = False) -> str:
    sp = sympy()
    expr = readable_numbers(expr)
    if latex:
        names = {s: _latex_name(s.name) for s in getattr(expr, "free_symbols", ())}
        return sp.latex(expr, symbol_names=names)
    return str(expr)


def _latex_name(name: str) -> str:
    if "[" not in name:
        return name
    base, _, rest = name.partition("[")
    return f"{base}_{{{rest.rstrip(']').replace(' ', '')}}}"
