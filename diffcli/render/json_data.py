"""Results as plain JSON-able data: the ``--json`` contract, and the text forms
(numbers, closed forms) that the rich renderer shares.

Pure functions, no printing, no rich, no click, no SymPy import unless a closed
form is actually there to be written.

The contract of ``diffcli grad --json`` (one object on stdout)::

    {"expr": str, "point": {name: V}, "constants": {name: V},
     "value": V | null, "gradient": {name: V | null},
     "closed_form": {name: S} | null, "closed_form_at_point": {name: S} | null,
     "check": {"status": "ok" | "mismatch" | "skipped",
               "symbolic_max_abs_err": float | null,
               "fd_max_abs_err": float | null,
               "reason": str | null, "notes": [str]}}

V is a number or nested lists of numbers; the non-finite ones are the strings
"nan", "inf" and "-inf".  S is a str for a scalar variable and nested lists of
str (the variable's shape) for an array variable; at the point, numbers are
written as their shortest round-tripping repr ("-2.0") and partly symbolic
values as expressions.  ``constants`` and ``check.notes`` are extras beyond the
issue's contract.  ``--order 2`` adds ``"hessian": {name: {name: V}}`` (and
``"hessian_closed_form": {name: {name: S}}``); ``--order N`` (N >= 3) adds
``"nth_derivative": V`` (and ``"nth_closed_form": S``).  Several expressions give
``{"outputs": [object, ...], "gradient": {name: V}}`` (the summed gradient).
``diffcli jacobian`` over scalar variables adds ``"matrix": {"columns": [name],
"values": [[V]], "closed_form": [[S]] | null}``: outputs x variables.  With
``--direction`` both add ``"direction"`` (see direction_json).  ``grad`` adds
``"closed_form_matrix": {name: str} | null`` (matrix notation, matrix_views.py).
Per-component closed forms over JSON_FORM_NODES in all are null unless asked
for (``--closed-form``), with ``"closed_form_omitted": str`` saying so.
Errors are ``{"error": str}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from diffcli.render.json_floats import float_array_pieces
from diffcli.render.matrix_views import matrix_json
from diffcli.render.text import exact_text, expr_text, is_number, nested, number_text
from diffcli.verify.verdict import GradResult, JacobianResult, MultiResult, Verdict

__all__ = [  # number_text and exact_text are re-exported for other commands
    "dumps",
    "exact_text",
    "grad_json",
    "graph_json",
    "jacobian_json",
    "jsonable",
    "multi_json",
    "number_text",
    "verdict_json",
]

# --- JSON values -----------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Numbers and arrays as JSON data, non-finite floats as "nan"/"inf"/"-inf"."""
    if value is None or isinstance(value, (str, bool, Floats)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return nested(value, jsonable)
        if value.dtype.kind == "f" and value.size > SMALL_ARRAY:
            return Floats(value)
        return jsonable(value.tolist())
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    v = float(value)
    return v if math.isfinite(v) else exact_text(v)


SMALL_ARRAY = 1000  # larger float arrays are written straight from numpy


class Floats:
    """A large float array in JSON data, kept as it is: ``dumps`` writes it in
    chunks formatted by numpy (json_floats.py: time proportional to its size,
    memory bounded), where a list of Python floats would take ten times the
    memory and a repr per value."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def tolist(self) -> Any:
        return jsonable(self.array.tolist())


def dumps(data: Any, indent: int = 2) -> str:
    """Strict JSON (no NaN literals ever), objects indented, arrays on one line."""
    return "".join(pieces(data, indent))


def pieces(data: Any, indent: int = 2) -> Iterator[str]:
    """``dumps(data)`` in pieces, to be written one after another."""
    return _dump(jsonable(data), indent, 0)


def _dump(data: Any, indent: int, depth: int) -> Iterator[str]:
    if isinstance(data, dict) and data:
        pad = " " * (indent * (depth + 1))
        for i, (k, v) in enumerate(data.items()):
            yield f"{',' if i else '{'}\n{pad}{json.dumps(k)}: "
            yield from _dump(v, indent, depth + 1)
        yield "\n" + " " * (indent * depth) + "}"
    elif isinstance(data, list) and any(isinstance(v, dict) for v in data):
        pad = " " * (indent * (depth + 1))
        for i, v in enumerate(data):
            yield f"{',' if i else '['}\n{pad}"
            yield from _dump(v, indent, depth + 1)
        yield "\n" + " " * (indent * depth) + "]"
    elif isinstance(data, Floats):
        yield from float_array_pieces(data.array)
    elif isinstance(data, list) and any(isinstance(v, Floats | list) for v in data):
        for i, v in enumerate(data):
            yield ", " if i else "["
            yield from _dump(v, indent, depth + 1)
        yield "]" if data else "[]"
    else:
        yield json.dumps(data, allow_nan=False)


# --- results ------------------------------------------------------------------------


def verdict_json(v: Verdict) -> dict[str, Any]:
    return {
        "status": v.status,
        "symbolic_max_abs_err": v.symbolic_max_abs_err,
        "fd_max_abs_err": v.fd_max_abs_err,
        "reason": v.reason,
        "notes": list(v.notes),
    }


def _closed(forms: dict[str, np.ndarray] | None, latex: bool) -> dict | None:
    if forms is None:
        return None
    return {n: nested(f, lambda e: expr_text(e, latex)) for n, f in forms.items()}


def _closed_at(values: dict[str, np.ndarray] | None, latex: bool) -> dict | None:
    if values is None:
        return None
    return {
        n: nested(v, lambda e: exact_text(e) if is_number(e) else expr_text(e, latex))
        for n, v in values.items()
    }


# Per-component closed forms of more nodes than this in all are left out of
# --json unless asked for: an MLP's are megabytes, and writing them out takes
# longer than the command's time budget.
JSON_FORM_NODES = 20_000


def _closed_unless_huge(
    forms: dict[str, np.ndarray] | None, latex: bool, all_forms: bool
) -> tuple[dict | None, str | None]:
    """The closed forms, or None and why they were left out."""
    if forms is None or all_forms:
        return _closed(forms, latex), None
    from diffcli.expr.sweep import tree_sizes

    exprs = [e for f in forms.values() for e in np.ravel(f)]
    total = sum(tree_sizes(exprs))
    if total <= JSON_FORM_NODES:
        return _closed(forms, latex), None
    return None, (
        f"{len(exprs)} closed forms of {total} nodes in all, left out; "
        "include them with --closed-form or --full"
    )


def grad_json(
    result: GradResult, latex: bool = False, all_forms: bool = False
) -> dict[str, Any]:
    """One expression's result under the contract above; ``all_forms``: the
    closed forms however large (else ``closed_form_omitted`` says why not)."""
    forms, omitted = _closed_unless_huge(result.closed_form, latex, all_forms)
    out: dict[str, Any] = {
        "expr": result.expr,
        "point": jsonable(result.point),
        "constants": jsonable(result.constants),
        "value": jsonable(result.value),
        "gradient": jsonable(result.gradient),
        "closed_form": forms,
        "closed_form_at_point": _closed_at(result.closed_form_at_point, latex),
        "check": verdict_json(result.check),
    }
    if omitted:
        out["closed_form_omitted"] = omitted
    out |= direction_json(result, latex)
    out |= expect_json(result.expectations)
    out |= matrix_json(result, latex)
    if result.order == 2:
        out["hessian"] = jsonable(result.hessian)
        forms = result.hessian_closed_form
        if forms is not None:
            out["hessian_closed_form"] = {a: _closed(forms[a], latex) for a in forms}
    elif result.order > 2:
        out["nth_derivative"] = jsonable(result.nth_derivative)
        if result.nth_closed_form is not None:
            out["nth_closed_form"] = _closed({"f": result.nth_closed_form}, latex)["f"]
    return out


def multi_json(
    result: MultiResult, latex: bool = False, all_forms: bool = False
) -> dict[str, Any]:
    """Several outputs, and their gradients summed as ``autograd.grad`` sums them."""
    return {
        "outputs": [grad_json(r, latex, all_forms) for r in result.outputs],
        "gradient": jsonable(result.gradient),
    }


def jacobian_json(result: JacobianResult, latex: bool = False) -> dict[str, Any]:
    """The full Jacobian; each block has shape value.shape + variable.shape."""
    out = {
        "expr": result.expr,
        "point": jsonable(result.point),
        "constants": jsonable(result.constants),
        "value": jsonable(result.value),
        "jacobian": jsonable(result.jacobian),
        "closed_form": _closed(result.closed_form, latex),
        "check": verdict_json(result.check),
    }
    return out | _jacobian_matrix(result, latex) | direction_json(result, latex)


def expect_json(checks: list[Any]) -> dict[str, Any]:
    """--expect: ``{"expect": [{target, formula, status, reason, points, entry,
    at, expected, actual}]}``, or nothing when no formula was given."""
    if not checks:
        return {}
    return {"expect": [jsonable(dict(vars(c))) for c in checks]}


def direction_json(result: Any, latex: bool = False) -> dict[str, Any]:
    """--direction: ``{"direction": {"along": {name: V}, "value": V,
    "closed_form": S | null}}`` (J v), or nothing."""
    d = result.direction
    if d is None:
        return {}
    form = None
    if d.closed_form is not None:
        form = _closed({"v": np.asarray(d.closed_form, dtype=object)}, latex)["v"]
    return {
        "direction": {
            "along": jsonable(d.along),
            "value": jsonable(d.value),
            "closed_form": form,
        }
    }


def _jacobian_matrix(result: JacobianResult, latex: bool) -> dict[str, Any]:
    """Over scalar variables, also one matrix: rows the output's elements (in C
    order), columns the variables."""
    if not result.scalar_variables:
        return {}
    forms = result.matrix(closed=True)
    return {
        "matrix": {
            "columns": list(result.jacobian),
            "values": jsonable(result.matrix()),
            "closed_form": None if forms is None else _closed({"m": forms}, latex)["m"],
        }
    }


def graph_json(graph: Any) -> dict[str, Any]:
    """``diffcli graph --json``: nodes (id, name, kind, shape, value, grad) and
    edges as [input id, node id] pairs; node 0 is the output."""
    return {
        "expr": graph.expr,
        "point": jsonable(graph.point),
        "constants": jsonable(graph.constants),
        "value": jsonable(graph.value),
        "nodes": [
            {
                "id": n.id,
                "name": n.name,
                "kind": n.kind,
                "shape": list(n.shape),
                "value": jsonable(n.value),
                "grad": jsonable(n.grad),
                "inputs": list(n.inputs),
            }
            for n in graph.nodes
        ],
        "edges": [list(e) for e in graph.edges],
    }
