"""Results as rich renderables: what a person sees on stdout.

Pure functions from the result dataclasses to rich objects; nothing is printed
here and click is not imported, so tests can record the output of any result
and other commands (minimize, check FILE) can reuse the pieces.  Numbers are
shown with %.6g, arrays aligned like PyTorch's (``[ 0,  4,  8, 12]``), nan and
inf always spelled out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from diffcli.render.expect_views import expect_view
from diffcli.render.forms import MANY_FORMS, SHOWN_FORMS, all_short, forms_table
from diffcli.render.matrix_views import matrix_view
from diffcli.render.text import (
    CELL_WIDTH,
    SUMMARY_THRESHOLD,
    array_text,
    assignments_text,
    closed_text,
    expr_text,
    number_text,
    value_text,
)
from diffcli.verify.verdict import (
    GradResult,
    JacobianResult,
    MultiResult,
    Tolerances,
    Verdict,
)
from diffcli.verify.witnesses import element_labels

STATUS = {
    "ok": ("✓", "bold green"),
    "mismatch": ("✗", "bold red"),
    "skipped": ("–", "yellow"),
    "overflow": ("✗", "bold red"),
    "not-differentiable": ("!", "yellow"),
    "non-finite": ("?", "yellow"),
}
INLINE_FORM = 28  # closed forms longer than this get their own table
ROW_WIDTH = 56  # for the number columns of a table row, within 80 columns
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# --- pieces -------------------------------------------------------------------


# what a status says in words, where its name alone would be cryptic
STATUS_WORDS = {
    "overflow": "overflow in the engine",
    "not-differentiable": "not differentiable here",
}


def status_text(status: str) -> Text:
    """A verdict as a coloured mark and word (plain when colour is off)."""
    mark, style = STATUS.get(status, ("?", ""))
    return Text(f"{mark} {STATUS_WORDS.get(status, status)}", style=style)


def header(rows: list[tuple[str, str | None]]) -> Table:
    """Label/value lines (expression, point, value...); empty values left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        if text:
            grid.add_row(label, Text(text))
    return grid


def check_view(verdict: Verdict) -> Group:
    """The verdict line, then its reason and notes (kinks, skipped witnesses)."""
    line = Text.assemble(("check  ", "bold"), status_text(verdict.status))
    errs = []
    if verdict.symbolic_max_abs_err is not None:
        errs.append(f"closed form {number_text(verdict.symbolic_max_abs_err, 3)}")
    if verdict.fd_max_abs_err is not None:
        errs.append(f"finite differences {number_text(verdict.fd_max_abs_err, 3)}")
    if errs and verdict.status != "skipped":
        line.append("   max abs err: " + ", ".join(errs), style="dim")
    lines: list[RenderableType] = [line]
    if verdict.reason:
        lines.append(Padding(Text(verdict.reason), (0, 0, 0, 2)))
    lines += [
        Padding(Text(f"note: {note}", style="dim"), (0, 0, 0, 2))
        for note in verdict.notes
    ]
    return Group(*lines)


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c in columns:
        table.add_column(c, overflow="fold", no_wrap=c in ("variable", "check"))
    return table


def gradient_table(
    result: GradResult, latex: bool = False, full: bool = False
) -> Table:
    """Per variable: closed form, its value at the point, the engine, and the
    variable's verdict as the core gave it (``GradResult.variable_checks``).

    Closed forms too long for a cell are left out here (see closed_form_table);
    so is the closed form's value beside large arrays (the verdict compares it,
    ``--full`` and ``--json`` show it), so that a row fits 80 columns.
    """
    forms = _inline_forms(result, latex)
    at_point = result.closed_form_at_point is not None and bool(result.point)
    size = sum(np.size(g) for g in result.gradient.values() if g is not None)
    at_point = at_point and (full or size <= MANY_FORMS)
    numeric = any(g is not None for g in result.gradient.values())
    cols = ["variable"]
    cols += ["closed form"] * (forms is not None) + ["at point"] * at_point
    table = _table(*cols, *["engine"] * numeric, "check")
    width = max(CELL_WIDTH, ROW_WIDTH // max(1, at_point + numeric) - 3)
    for name in result.wrt:
        row = [name]
        if forms is not None:
            row.append(forms[name])
        if at_point:
            row.append(
                value_text(result.closed_form_at_point[name], latex, width=width)
            )
        if numeric:
            row.append(value_text(result.gradient.get(name), width=width))
        status = result.variable_checks.get(name, result.check.status)
        table.add_row(*row, status_text(status))
    return table


def _inline_forms(result: GradResult, latex: bool) -> dict[str, str] | None:
    if result.closed_form is None:
        return None
    exprs = [e for f in result.closed_form.values() for e in np.ravel(f)]
    if not all_short(exprs, INLINE_FORM):  # before writing any out
        return None
    forms = {n: closed_text(f, latex) for n, f in result.closed_form.items()}
    short = all("\n" not in f and len(f) <= INLINE_FORM for f in forms.values())
    return forms if short else None


def closed_form_table(
    result: GradResult, latex: bool = False, full: bool = False
) -> Table | Text | None:
    """Long closed forms, one element per row, when they don't fit the table;
    many of them summarised (render/forms.py) unless ``full``."""
    if result.closed_form is None or _inline_forms(result, latex) is not None:
        return None
    rows = [
        (label, e)
        for name in result.wrt
        for label, e in zip(
            element_labels(name, result.closed_form[name].shape),
            result.closed_form[name].ravel(),
            strict=True,
        )
    ]
    # beside a matrix form, a few entries of the per-component ones add
    # nothing but their printing time
    shown = 0 if result.closed_form_matrix is not None else SHOWN_FORMS
    return forms_table(rows, latex, full, shown)


def _d(order: int, names: list[str]) -> str:
    sup = str(order).translate(_SUPERSCRIPT)
    if len(set(names)) == 1:
        return f"d{sup}f/d{names[0]}{sup}"
    return f"d{sup}f/" + " ".join(f"d{n}" for n in names)


def higher_table(result: GradResult, latex: bool = False) -> Table | None:
    """The Hessian blocks (order 2) or the N-th derivative (order N): closed
    forms, and the engine's numbers when there is a point."""
    if result.order < 2:
        return None
    numeric = result.hessian is not None or result.nth_derivative is not None
    table = _table("derivative", "closed form", *["engine"] * numeric, "check")
    forms = result.hessian_closed_form
    rows = []
    if result.order == 2:
        for a in result.wrt:
            for b in result.wrt:
                form = closed_text(forms[a][b], latex) if forms else "—"
                engine = result.hessian[a][b] if numeric else None
                rows.append((_d(2, [a, b]), form, engine))
    else:
        nth = result.nth_closed_form
        form = closed_text(nth, latex) if nth is not None else "—"
        rows.append((_d(result.order, result.wrt[:1]), form, result.nth_derivative))
    status = status_text(result.check.status)
    for label, form, engine in rows:
        table.add_row(label, form, *[value_text(engine)] * numeric, status)
    return table


# --- whole results ------------------------------------------------------------


def grad_view(
    result: GradResult,
    latex: bool = False,
    tol: Tolerances | None = None,
    show_point: bool = True,
    full: bool = False,
    all_forms: bool = False,
) -> Group:
    """``diffcli grad``: the problem, the value, the gradient table, the verdict.

    ``tol`` is unused (the verdicts come judged); it stays while callers pass it.
    """
    seed = None
    if result.seed is not None:
        seed = "ones" if isinstance(result.seed, str) else value_text(result.seed)
    value = result.value if result.value is not None else result.symbolic_value
    rows = [("expression", result.expr)]
    if show_point:
        rows += [
            ("at", assignments_text(result.point)),
            ("let", assignments_text(result.constants)),
        ]
    rows += [
        ("seed", seed),
        ("value", None if value is None else value_text(value, latex)),
    ]
    title = "vector-Jacobian product" if seed else "gradient"
    parts: list[RenderableType] = [header(rows), Text(""), Text(title, style="bold")]
    parts.append(gradient_table(result, latex, full))
    parts += matrix_view(result, latex)
    forms = closed_form_table(result, latex, full or all_forms)
    if isinstance(forms, Text):  # a summary line, titled
        parts += [Text(""), forms]
    elif forms is not None:
        parts += [Text(""), Text("closed form", style="bold"), forms]
    higher = higher_table(result, latex)
    if higher is not None:
        label = (
            "Hessian" if result.order == 2 else f"derivative of order {result.order}"
        )
        parts += [Text(""), Text(label, style="bold"), higher]
    parts += direction_view(result, latex)
    parts += expect_view(result.expectations)
    parts += [Text(""), check_view(result.check)]
    return Group(*parts)


def direction_view(result: Any, latex: bool = False) -> list[RenderableType]:
    """--direction: J v, with its closed form, under the gradient or Jacobian."""
    d = result.direction
    if d is None:
        return []
    scalar = np.ndim(d.value) == 0
    title = "directional derivative" if scalar else "Jacobian-vector product"
    rows = [("along", assignments_text(d.along))]
    if d.closed_form is not None:
        rows.append(("closed form", closed_text(d.closed_form, latex)))
    rows.append(("engine", value_text(d.value)))
    return [Text(""), Text(title, style="bold"), header(rows)]


def multi_view(
    result: MultiResult, latex: bool = False, tol: Tolerances | None = None
) -> Group:
    """Several outputs: each one's gradient, then their sum (autograd.grad's)."""
    first = result.outputs[0]
    parts: list[RenderableType] = [
        header(
            [
                ("at", assignments_text(first.point)),
                ("let", assignments_text(first.constants)),
            ]
        )
    ]
    for k, r in enumerate(result.outputs, 1):
        parts += [
            Rule(f"output {k}", align="left", style="dim"),
            grad_view(r, latex, tol, False),
        ]
    total = _table("variable", "summed gradient")
    for name, g in result.gradient.items():
        total.add_row(name, value_text(g))
    parts += [
        Rule("all outputs", align="left", style="dim"),
        total,
        Text(""),
        check_view(result.check),
    ]
    return Group(*parts)


def jacobian_view(result: JacobianResult, latex: bool = False) -> Group:
    """One table per variable: rows are output elements, columns variable elements."""
    rows = [
        ("expression", result.expr),
        ("at", assignments_text(result.point)),
        ("let", assignments_text(result.constants)),
        ("value", value_text(result.value)),
    ]
    parts: list[RenderableType] = [header(rows)]
    outs = element_labels("f", result.value.shape)
    if result.scalar_variables:  # one matrix: outputs x variables
        names = list(result.jacobian)
        flat = result.matrix()
        parts += [Text(""), Text("Jacobian", style="bold")]
        parts.append(_matrix(outs, names, flat, number_text))
        forms = result.matrix(closed=True)
        if forms is not None and forms.size <= SUMMARY_THRESHOLD:
            parts += [Text(""), Text("closed form", style="bold")]
            parts.append(_matrix(outs, names, forms, lambda e: expr_text(e, latex)))
        parts += direction_view(result, latex)
        return Group(*parts, Text(""), check_view(result.check))
    for name, block in result.jacobian.items():
        cols = element_labels(name, block.shape[result.value.ndim :])
        parts += [Text(""), Text(f"Jacobian d f / d {name}", style="bold")]
        parts.append(
            _matrix(outs, cols, block.reshape(len(outs), len(cols)), number_text)
        )
        forms = (result.closed_form or {}).get(name)
        if forms is not None and forms.size <= SUMMARY_THRESHOLD:
            parts += [Text(""), Text(f"closed form d f / d {name}", style="bold")]
            flat = forms.reshape(len(outs), len(cols))
            parts.append(_matrix(outs, cols, flat, lambda e: expr_text(e, latex)))
    parts += direction_view(result, latex)
    parts += [Text(""), check_view(result.check)]
    return Group(*parts)


def _matrix(
    rows: list[str], cols: list[str], values: np.ndarray, leaf
) -> RenderableType:
    if len(cols) > 8:  # too wide for a table: one aligned array per output element
        table = _table("", "row")
        for label, row in zip(rows, values, strict=True):
            table.add_row(label, array_text(row, leaf))
        return table
    table = _table("", *cols)
    for c in table.columns[1:]:
        c.justify = "right"
    for label, row in zip(rows, values, strict=True):
        table.add_row(label, *(leaf(v) for v in row))
    return table


def graph_view(graph: Any) -> Tree:
    """The recorded graph from the output down; shared nodes drawn once."""
    nodes = graph.nodes
    drawn: set[int] = set()

    def label(n) -> Text:
        style = {"op": "bold cyan", "leaf": "bold green", "constant": "dim"}[n.kind]
        text = Text.assemble((n.name, style), f"  #{n.id}")
        if n.kind != "op":
            text.append(
                f"  ({'leaf, requires grad' if n.kind == 'leaf' else 'constant'})"
            )
        text.append(f"  shape {n.shape}")
        sep = "  " if n.value.ndim == 0 else "\n"  # arrays: one line each
        text.append(f"{sep}value {value_text(n.value, inline=True)}")
        if n.grad is not None:
            text.append(f"{sep}grad {value_text(n.grad, inline=True)}")
        return text

    def add(tree: Tree, n) -> None:
        if n.kind == "op" and n.id in drawn:
            tree.add(Text.assemble((n.name, "cyan"), f"  #{n.id}  (shown above)"))
            return
        drawn.add(n.id)
        branch = tree.add(label(n))
        for i in n.inputs:
            add(branch, nodes[i])

    root = nodes[0]
    tree = Tree(label(root), guide_style="dim")
    drawn.add(root.id)
    for i in root.inputs:
        add(tree, nodes[i])
    return tree
