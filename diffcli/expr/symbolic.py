"""The symbolic interpreter: the same tree (or a recorded graph) in SymPy.

Values are numpy object arrays of SymPy expressions, so the op table's numpy
forwards work on them unchanged; ops with a ``sympy`` twin use it.  An array
variable ``x`` of shape (2,) becomes the real symbols ``x[0]``, ``x[1]``.
SymPy is imported here, lazily: only symbolic work pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from diffcli.engine.graph_walk import tensor_inputs, topological
from diffcli.engine.table import PRIMITIVES
from diffcli.engine.tensor import Tensor
from diffcli.expr import parser as P
from diffcli.expr.deadline import SymbolicTimeout as SymbolicTimeout  # re-exported
from diffcli.expr.deadline import can_time_limit as can_time_limit
from diffcli.expr.deadline import time_limit as time_limit
from diffcli.expr.walk import Interrupt, evaluate


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


# Up to this many variable elements the closed forms come from sp.diff and are
# simplified (readable); above, one reverse sweep over the shared subexpressions.
SMALL_GRADIENT = 16


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
