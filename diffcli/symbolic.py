"""The symbolic interpreter: the same tree (or a recorded graph) in SymPy.

Values are numpy object arrays of SymPy expressions, so the op table's numpy
forwards work on them unchanged; ops with a ``sympy`` twin use it.  An array
variable ``x`` of shape (2,) becomes the real symbols ``x[0]``, ``x[1]``.
SymPy is imported here, lazily: only symbolic work pays for it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from diffcli import parse as P
from diffcli.errors import DiffcliError
from diffcli.interpret import evaluate
from diffcli.ops import PRIMITIVES
from diffcli.tensor import Tensor


class SymbolicTimeout(DiffcliError):
    """SymPy took longer than its budget."""


class SymbolicTooLarge(DiffcliError):
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

    def __init__(self, variables: Mapping[str, np.ndarray], free: bool = True) -> None:
        self.sp = sympy()
        self.variables = dict(variables)
        self.free = free
        self.frozen: dict[Any, Any] = {}  # placeholder symbol -> detached expression

    def number(self, value: float) -> np.ndarray:
        return obj(_number(self.sp, value))

    def constant(self, name: str) -> np.ndarray:
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
            self.frozen[placeholder] = value[i]
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
    tree: P.Expr, variables: Mapping[str, np.ndarray], source: str = ""
) -> tuple[np.ndarray, dict]:
    """The tree's value as SymPy; also the detached placeholders to put back."""
    backend = SymbolicBackend(variables)
    return evaluate(tree, backend, source), backend.frozen


def replay(output: Tensor, leaves: Mapping[Tensor, np.ndarray]) -> np.ndarray:
    """The recorded graph behind ``output`` re-run in SymPy (``--func``).

    Leaves not in ``leaves`` are constants; control flow is whatever the
    recording took.
    """
    sp = sympy()
    values: dict[int, np.ndarray] = {id(t): v for t, v in leaves.items()}
    order, stack, seen = [], [(output, False)], set()
    while stack:
        t, expanded = stack.pop()
        if id(t) in values or (id(t) in seen and not expanded):
            continue
        if t._prim is None or not isinstance(t._inputs, tuple):
            values[id(t)] = _to_sympy_array(t._data)
            continue
        if expanded:
            order.append(t)
            values[id(t)] = None  # type: ignore[assignment]
            continue
        seen.add(id(t))
        stack.append((t, True))
        stack.extend((x, False) for x in t._inputs if isinstance(x, Tensor))
    for t in order:
        args = [values[id(x)] if isinstance(x, Tensor) else x for x in t._inputs]
        values[id(t)] = run_primitive(sp, t._prim.name, args, t._params)
    return values[id(output)]


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt SymPy after ``seconds`` (main thread only; elsewhere no limit)."""
    usable = (
        seconds
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise SymbolicTimeout(f"SymPy took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def gradient(f: Any, wrt: np.ndarray, frozen: Mapping) -> np.ndarray:
    """d f / d each symbol of ``wrt`` (an array of that shape), detach undone."""
    sp = sympy()
    out = np.empty(wrt.shape, dtype=object)
    for i in np.ndindex(wrt.shape):
        d = sp.diff(f, wrt[i])
        out[i] = d.xreplace(frozen) if frozen else d
    return out


def tidy(exprs: np.ndarray, budget_ops: int = 60) -> np.ndarray:
    """Simplify the small closed forms (SymPy's simplify is slow on big ones)."""
    sp = sympy()
    out = np.empty(exprs.shape, dtype=object)
    for i in np.ndindex(exprs.shape):
        e = exprs[i]
        small = isinstance(e, sp.Basic) and sp.count_ops(e) <= budget_ops
        out[i] = sp.simplify(e) if small and exprs.size <= 16 else e
    return out


def evaluator(symbols: Sequence[Any], exprs: Sequence[Any]):
    """A fast numeric function of ``symbols`` for ``exprs`` (lambdify with cse)."""
    sp = sympy()
    return sp.lambdify(list(symbols), list(exprs), modules="numpy", cse=True)


def to_text(expr: Any, latex: bool = False) -> str:
    sp = sympy()
    if latex:
        names = {s: _latex_name(s.name) for s in getattr(expr, "free_symbols", ())}
        return sp.latex(expr, symbol_names=names)
    return str(expr)


def _latex_name(name: str) -> str:
    if "[" not in name:
        return name
    base, _, rest = name.partition("[")
    return f"{base}_{{{rest.rstrip(']').replace(' ', '')}}}"
