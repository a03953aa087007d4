"""Every primitive's SymPy twin agrees with its numpy forward, and every function
of the expression language gives the same value in both interpreters.

A primitive is run through ``run_primitive`` twice: on arrays of real symbols
(the value substituted afterwards, at several random points) and on arrays of
SymPy numbers.  Adding a primitive or a language function to THE table without
a row here fails the coverage tests: one table entry, one test row.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import sympy as sp
from families import merged

import diffcli as dc
from diffcli.engine.table import FUNCTIONS, PRIMITIVES
from diffcli.expr import parser as P
from diffcli.expr.numeric import evaluate_numeric
from diffcli.expr.symbolic import (
    evaluate_symbolic,
    replay,
    run_primitive,
    symbols_for,
)

# Primitives with no meaning on SymPy values, and why.  Each is non-differentiable
# (so never recorded, so never replayed) and is no language function's primitive
# (so the expression language never runs it): no symbolic path reaches it.
EXCLUDED = {
    "isnan": "api-only test of a float's bit pattern; numpy's ufunc rejects objects",
    "isfinite": "api-only test of a float's bit pattern; numpy's ufunc rejects objects",
    "extreme_mask": "a constant inside max/min's rules, on numbers only",
    "first_hit": "a constant inside max/min's rules, on numbers only",
    "tie_mask": "a constant inside maximum/minimum's rules, on numbers only",
}


# --- inputs inside each domain ---------------------------------------------------


def real(rng, shape):
    return rng.uniform(-2, 2, shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2, shape)


def small(rng, shape):  # tan away from its poles
    return rng.uniform(-1.2, 1.2, shape)


def grid(rng, shape):  # ties and zeros: comparisons, sign, maximum
    return rng.integers(-2, 3, shape).astype(np.float64)


def dyadic(rng, shape):  # exact in float32
    return rng.integers(-16, 17, shape) / 8


def truth(rng, shape):  # a condition: the value is ``real > 0``
    return real(rng, shape)


def case(*inputs, **params):
    return list(inputs), params


V, M, C3 = (3,), (2, 3), (2, 3, 2)
_REDUCE = [
    case((real, M)),
    case((real, M), dim=1),
    case((real, C3), dim=(0, 2), keepdim=True),
    case((real, ()), dim=None),
]
_ARITH = [case((real, (2, 1)), (real, V)), case((real, ()), (real, M))]
CASES: dict[str, list] = {
    "sum": _REDUCE,
    "mean": _REDUCE,
    "amax": _REDUCE,
    "amin": _REDUCE,
    "max_dim": [case((real, M), dim=1), case((real, C3), dim=0, keepdim=True)],
    "min_dim": [case((real, M), dim=1), case((real, C3), dim=-1, keepdim=True)],
    "norm": [
        case((real, M)),
        case((real, M), p=3, dim=1, keepdim=True),
        case((real, C3), p=1, dim=(0, 1)),
        case((real, V), p=1.5),
    ],
    "dot": [case((real, V), (real, V))],
    "mm": [case((real, M), (real, (3, 2)))],
    "matmul": [
        case((real, V), (real, V)),
        case((real, M), (real, V)),
        case((real, V), (real, (3, 2))),
        case((real, C3), (real, (2, 2))),
    ],
    "mT": [case((real, M)), case((real, C3))],
    "transpose": [case((real, C3), dim0=0, dim1=2)],
    "permute": [case((real, C3), dims=(2, 0, 1))],
    "reshape": [case((real, M), shape=(3, -1))],
    "broadcast_to": [case((real, (3, 1)), shape=(2, 3, 4))],
    "sum_to": [case((real, (2, 3, 4)), shape=(3, 1))],
    "getitem": [
        case((real, M), index=1),
        case((real, M), index=(slice(None), 2)),
        case((real, V), index=[0, 2, 0]),
        case((real, C3), index=(slice(0, 2), None, -1)),
    ],
    "scatter": [
        case((real, (2,)), index=(slice(None), 1), shape=M),
        case((real, V), index=[0, 2, 0], shape=V),
        case((real, ()), index=1, shape=V),
    ],
    "index_put": [
        case((real, V), (real, (2,)), index=[0, 2]),
        case((real, M), (real, ()), index=(1, 0)),
        case((real, V), (real, ()), index=slice(1, None)),
    ],
    "stack": [case((real, V), (real, V), (real, V), axis=1)],
    "cast": [case((dyadic, M), dtype=np.float32)],
    "add": _ARITH,
    "sub": _ARITH,
    "mul": _ARITH,
    "div": [case((real, (2, 1)), (positive, V)), case((real, ()), (positive, M))],
    "pow": [case((positive, (2, 1)), (real, V)), case((positive, M), (grid, ()))],
    "maximum": [case((grid, (2, 1)), (grid, V))],
    "minimum": [case((grid, (2, 1)), (grid, V))],
    "atan2": [case((real, (2, 1)), (real, V))],
    "tan": [case((small, M))],
    **{
        name: [case((real, M))]
        for name in ("neg", "exp", "sin", "cos", "abs", "tanh", "sigmoid", "relu")
    },
    **{name: [case((positive, M))] for name in ("log", "sqrt", "clone")},
    "sign": [case((grid, M))],
    "clamp": [
        case((real, M), min=-0.5, max=0.5),
        case((real, M), min=-0.5),
        case((real, M), max=0.5),
    ],
    "where": [case((truth, (2, 1)), (real, V), (real, ()))],
    **{
        name: [case((grid, (2, 1)), (grid, V))]
        for name in ("lt", "le", "gt", "ge", "eq", "ne")
    },
    "logical_and": [case((truth, (2, 1)), (truth, V))],
    "logical_or": [case((truth, (2, 1)), (truth, V))],
    "logical_not": [case((truth, M))],
}
CASES.update(merged("TWINS"))  # each family's rows live beside its gradcheck rows
ROWS = [(name, k) for name in sorted(CASES) for k in range(len(CASES[name]))]


def test_every_primitive_has_a_row_or_a_reason():
    assert not set(CASES) & set(EXCLUDED)
    missing = set(PRIMITIVES) - set(CASES) - set(EXCLUDED)
    assert not missing, f"add a row to CASES for {sorted(missing)}"
    assert set(CASES) | set(EXCLUDED) == set(PRIMITIVES)


@pytest.mark.parametrize("name", sorted(EXCLUDED))
def test_excluded_primitives_are_out_of_symbolic_reach(name):
    assert not PRIMITIVES[name].differentiable
    assert all(
        f.primitive is not PRIMITIVES[name]
        for f in FUNCTIONS.values()
        if "expr" in f.surfaces
    )


def _seed(text: str) -> int:
    return zlib.crc32(text.encode())


def _sample(rng, inputs):
    return [kind(rng, shape) for kind, shape in inputs]


def _numeric(inputs, values):
    return [
        v > 0 if kind is truth else v
        for (kind, _), v in zip(inputs, values, strict=True)
    ]


def _at(symbols: list, values: list) -> dict:
    """Symbol arrays -> the exact rationals of the matching float arrays."""
    return {
        s: sp.Rational(float(v))
        for syms, vals in zip(symbols, values, strict=True)
        for s, v in zip(syms.ravel(), np.ravel(vals), strict=True)
    }


def _value(e, subs=None):
    """A SymPy result as a Python bool or float (it must be fully evaluated)."""
    e = sp.sympify(e)
    if subs:
        e = e.xreplace(subs)
    if isinstance(e, sp.logic.boolalg.Boolean):
        assert e in (sp.true, sp.false), f"not decided: {e}"
        return bool(e)
    return float(e.evalf(30))


def _compare(got: np.ndarray, expected, subs=None):
    expected = np.asarray(expected)
    assert got.shape == expected.shape
    values = np.array([_value(e, subs) for e in got.ravel()]).reshape(got.shape)
    if expected.dtype == bool:
        np.testing.assert_array_equal(values, expected)
    else:
        np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "k"), ROWS)
def test_twin_on_symbols_matches_forward(name, k):
    """Symbolic output built once, then evaluated at three random points."""
    inputs, params = CASES[name][k]
    prim = PRIMITIVES[name]
    symbols = [symbols_for(f"a{i}", shape) for i, (_, shape) in enumerate(inputs)]
    args = [
        np.vectorize(lambda e: e > 0, otypes=[object])(s) if kind is truth else s
        for (kind, _), s in zip(inputs, symbols, strict=True)
    ]
    out = run_primitive(sp, name, args, params)
    rng = np.random.default_rng(_seed(f"{name}{k}"))
    for _ in range(3):
        values = _sample(rng, inputs)
        expected = prim.forward(*_numeric(inputs, values), **params)
        _compare(out, expected, _at(symbols, values))


@pytest.mark.parametrize(("name", "k"), ROWS)
def test_twin_on_numbers_matches_forward(name, k):
    """Constants of an expression reach the twins as SymPy numbers."""
    inputs, params = CASES[name][k]
    rng = np.random.default_rng(_seed(f"{name}{k}numbers"))
    numeric = _numeric(inputs, _sample(rng, inputs))
    out = run_primitive(sp, name, [np.asarray(v) for v in numeric], params)
    _compare(out, PRIMITIVES[name].forward(*numeric, **params))


# --- the expression language: both interpreters, one value ------------------------

VARIABLES = {
    "x": (small, V),
    "y": (real, V),
    "p": (positive, V),
    "s": (real, ()),
    "A": (real, M),
    "B": (real, (3, 2)),
    "P": (positive, M),
    "C": (real, C3),
    "D": (real, (1, 3, 1)),
}
# Texts calling each language function as ``{f}``: once by name, once by each alias.
EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "sum": ("{f}(C)", "{f}(A, 1)", "{f}(C, [0, 2], keepdim=True)"),
    "mean": ("{f}(A)", "{f}(C, dim=-1)"),
    "amax": ("{f}(A)", "{f}(C, [0, 2])"),
    "amin": ("{f}(A)", "{f}(C, 1, keepdim=True)"),
    "max": ("{f}(A)", "{f}(A, 1)", "{f}(C, 0, keepdim=True)"),
    "min": ("{f}(A)", "{f}(A, 0)"),
    "norm": ("{f}(A)", "{f}(C, 3, 1)", "{f}(y, 1)", "{f}(A, p=1.5, dim=0)"),
    "dot": ("{f}(x, y)",),
    "mm": ("{f}(A, B)",),
    "matmul": ("{f}(A, x)", "{f}(y, B)", "{f}(C, A)"),
    "transpose": ("{f}(A)", "{f}(C, 0, 2)", "{f}(s)"),
    "permute": ("{f}(C, 2, 0, 1)",),
    "reshape": ("{f}(A, 3, 2)", "{f}(C, -1, 3)"),
    "flatten": ("{f}(C)",),
    "unsqueeze": ("{f}(x, 0)", "{f}(A, -1)"),
    "squeeze": ("{f}(D)", "{f}(D, 0)"),
    "broadcast_to": ("{f}(x, [2, 3])",),
    "stack": ("{f}([x, y, p], 1)", "{f}([s, s])"),
    "add": ("{f}(A, x)",),
    "sub": ("{f}(A, x)", "{f}(2, s)"),
    "mul": ("{f}(A, x)",),
    "div": ("{f}(A, p)",),
    "pow": ("{f}(P, x)", "{f}(x, 3)", "{f}(2, y)"),
    "maximum": ("{f}(A, x)", "{f}(x, 0)"),
    "minimum": ("{f}(A, x)",),
    "atan2": ("{f}(x, y)", "{f}(A, -p)"),
    "tan": ("{f}(x)",),
    **dict.fromkeys(
        ("neg", "exp", "sin", "cos", "abs", "tanh", "sigmoid", "relu"), ("{f}(A)",)
    ),
    **dict.fromkeys(("log", "sqrt"), ("{f}(P)",)),
    "sign": ("{f}(A)", "{f}(x - x)"),
    "clamp": ("{f}(A, -0.5, 0.5)", "{f}(A, max=0.3)", "{f}(A, min=0)"),
    "where": ("{f}(x > y, x, y)", "{f}(A <= 0, 0, A)"),
    "detach": ("{f}(x) * x", "{f}(A) @ B"),
    "ones": ("{f}(2, 3) * x", "{f}(3)"),
    "zeros": ("{f}(3) + x",),
    "eye": ("{f}(3) @ x", "{f}(2, 3)"),
    "arange": ("{f}(3) * x", "{f}(1, 2, 0.25)", "{f}(3, 0, -1.5)"),
    "linspace": ("{f}(0, 1, 3) * x", "{f}(-1, 1, 5)"),
}
VARIABLES.update(merged("VARIABLES"))
EXPRESSIONS.update(merged("EXPRESSIONS"))
LANGUAGE = {name for name, fn in FUNCTIONS.items() if "expr" in fn.surfaces}
CALLS = [
    (spelled, k)
    for spelled in sorted(P.FUNCTIONS)
    for k in range(len(EXPRESSIONS.get(P.FUNCTIONS[spelled].name, ())))
]


def test_every_language_function_has_an_expression():
    missing = LANGUAGE - set(EXPRESSIONS)
    assert not missing, f"add a row to EXPRESSIONS for {sorted(missing)}"
    assert set(EXPRESSIONS) == LANGUAGE


@pytest.mark.parametrize(("spelled", "k"), CALLS)
def test_both_interpreters_agree(spelled, k):
    """``spelled`` is a function's name or alias: each spelling is tried."""
    text = EXPRESSIONS[P.FUNCTIONS[spelled].name][k].format(f=spelled)
    tree = P.parse(text)
    rng = np.random.default_rng(_seed(text))
    values = {n: kind(rng, shape) for n, (kind, shape) in VARIABLES.items()}
    numeric = evaluate_numeric(tree, {n: dc.tensor(v) for n, v in values.items()})
    symbols = {n: symbols_for(n, shape) for n, (_, shape) in VARIABLES.items()}
    value, frozen = evaluate_symbolic(tree, symbols, text)
    subs = _at(list(symbols.values()), list(values.values()))
    undetached = np.vectorize(lambda e: sp.sympify(e).xreplace(frozen), otypes=[object])
    _compare(undetached(value), numeric.numpy(), subs)


def test_replay_puts_a_scalar_into_one_cell():
    """``out[1] = s * 3`` with a 0-d ``s``: the replayed cell holds the expression,
    not a 0-d array (which SymPy's Max refused as "not comparable")."""
    x = dc.tensor([1.0, -2.0, 0.5], requires_grad=True)
    s = dc.tensor(0.25, requires_grad=True)
    out = x * 1.0
    out[1] = s * 3
    xs, ss = symbols_for("x", (3,)), symbols_for("s", ())
    got = replay(dc.amax(out), {x: xs, s: ss})
    subs = {xs[0]: 1, xs[1]: -2, xs[2]: sp.Rational(1, 2), ss[()]: sp.Rational(1, 4)}
    assert float(sp.sympify(got[()]).xreplace(subs)) == 1.0
    assert not any(isinstance(e, np.ndarray) for e in replay(out, {x: xs, s: ss}))
