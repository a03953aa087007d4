"""The function reference, made from THE table: what ``diffcli functions``
prints and what README points to.

Each row says how a function is called, what it is, its derivative as SymPy
finds it from the function's own twin (so the row cannot drift from what the
symbolic witness uses), PyTorch's grad_fn name as the engine records it, and
the choice it makes at kinks and domain edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffcli.engine.table import FUNCTIONS
from diffcli.errors import DiffcliError

CATEGORIES = (
    "arithmetic",
    "elementwise",
    "activation",
    "reduction",
    "linear algebra",
    "loss",
    "shape",
    "comparison",
    "autograd",
    "constant",
)
# Arguments to show a derivative at: scalars for elementwise functions,
# a 2-vector for the rest (x[0], x[1] name its entries).
_SCALAR_KINDS = ("arithmetic", "elementwise", "activation")


@dataclass(frozen=True)
class FunctionRow:
    name: str
    call: str
    aliases: tuple[str, ...]
    category: str
    doc: str
    derivatives: tuple[str, ...]
    grad_fn: str | None
    kinks: str
    in_expressions: bool
    in_python: bool
    method: bool


def reference(
    names: list[str] | None = None, derivatives: bool = True
) -> list[FunctionRow]:
    """One row per table function (or per name asked for, aliases too),
    grouped by category in CATEGORIES' order."""
    rows = []
    for fn in _chosen(names):
        rows.append(
            FunctionRow(
                name=fn.name,
                call=str(fn.signature),
                aliases=fn.aliases,
                category=fn.category,
                doc=fn.doc,
                derivatives=_derivatives(fn) if derivatives else (),
                grad_fn=_grad_fn(fn),
                kinks=fn.kinks,
                in_expressions="expr" in fn.surfaces,
                in_python="api" in fn.surfaces,
                method=fn.method,
            )
        )
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(rows, key=lambda r: order.get(r.category, len(order)))


def _chosen(names: list[str] | None) -> list:
    if not names:
        return list(FUNCTIONS.values())
    from diffcli.engine.table import BY_NAME

    chosen = []
    for name in names:
        if name not in BY_NAME:
            import difflib

            close = difflib.get_close_matches(name, BY_NAME, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise DiffcliError(f"unknown function '{name}'{hint}")
        chosen.append(BY_NAME[name])
    return chosen


def _operands(fn) -> list[str] | None:
    """Names for the tensor parameters, or None if the function has others
    that are required (no default to show it at)."""
    names = []
    for p in fn.signature.params:
        if p.kind == "T":
            names.append("xyz"[len(names)] if len(names) < 3 else f"u{len(names)}")
        elif p.required or p.kind == "tensors":
            return None
    return names


def _derivatives(fn) -> tuple[str, ...]:
    """``d/dx f(x) = ...`` from SymPy, for functions of tensors only."""
    names = _operands(fn)
    if not names or "expr" not in fn.surfaces or fn.category == "constant":
        return ()
    if fn.primitive is not None and not fn.primitive.differentiable:
        return ()  # no gradient at all: not zero, none (as PyTorch's masks)
    from diffcli.expr import symbolic as S
    from diffcli.expr.parser import parse
    from diffcli.expr.tidy import to_text

    sp = S.sympy()
    scalar = fn.category in _SCALAR_KINDS
    args = {n: S.symbols_for(n, () if scalar else (2,)) for n in names}
    call = f"{fn.name}({', '.join(names)})"
    try:
        with S.time_limit(2.0):
            out, frozen = S.evaluate_symbolic(parse(call), args, call)
            if np.shape(out) != ():
                return ()
            value = out[()].subs(frozen) if not frozen else out[()]
            parts = []
            for symbols in args.values():
                for sym in symbols.flat:
                    d = sp.simplify(sp.diff(value, sym))
                    parts.append(f"d/d{sym} {call} = {to_text(d)}")
    except (DiffcliError, TypeError, ValueError, ZeroDivisionError):
        return ()
    return tuple(parts)


def _grad_fn(fn) -> str | None:
    """The grad_fn the engine records for a call on float tensors."""
    if "api" not in fn.surfaces:
        return None
    names = _operands(fn)
    if not names:
        return None
    from diffcli.engine.functional import API
    from diffcli.engine.tensor import Tensor

    scalar = fn.category in _SCALAR_KINDS
    args = [
        Tensor(np.full(() if scalar else (2,), 0.5), requires_grad=True) for _ in names
    ]
    try:
        with np.errstate(all="ignore"):  # 0.5 may be outside the domain (acosh)
            out = API[fn.name](*args)
    except (DiffcliError, TypeError, ValueError):  # needs more than tensors
        return None
    return out.grad_fn.name() if getattr(out, "grad_fn", None) else None
