"""The matrix closed form (``(A + A.T) @ x``), in JSON and on the terminal.

Shown where some name is an array (over scalars it is the per-component form
again); where there is none, its reason is shown instead: never silent.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

UNICODE_WIDTH = 80  # the Unicode rendering is shown only if a line holds it


def _forms(result: Any, latex: bool) -> dict[str, str] | None:
    return result.closed_form_matrix_latex if latex else result.closed_form_matrix


def matrix_json(result: Any, latex: bool = False) -> dict[str, Any]:
    """``closed_form_matrix: {name: str} | null`` (and why it is null)."""
    out: dict[str, Any] = {"closed_form_matrix": _forms(result, latex)}
    if result.closed_form_matrix_unicode and not latex:
        out["closed_form_matrix_unicode"] = result.closed_form_matrix_unicode
    if result.closed_form_matrix is None and result.matrix_reason:
        out["closed_form_matrix_reason"] = result.matrix_reason
    if getattr(result, "matrix_sizes", None) and result.closed_form_matrix:
        out["closed_form_matrix_sizes"] = result.matrix_sizes
    return out


def _has_arrays(result: Any) -> bool:
    """Some name is an array: given one, or taken as one (no value)."""
    values = {**(result.point or {}), **(result.constants or {})}
    taken = getattr(result, "matrix_sizes", None) or {}
    return any(getattr(v, "ndim", 0) for v in values.values()) or any(taken.values())


def matrix_view(result: Any, latex: bool = False) -> list[RenderableType]:
    """A "closed form (matrix)" line per variable, or the reason for none;
    over scalars only where no per-component form stands for it."""
    shown_anyway = result.closed_form is None and result.closed_form_matrix
    if not (_has_arrays(result) or shown_anyway) or (
        result.closed_form_matrix is None and not result.matrix_reason
    ):
        return []
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")  # LaTeX has few spaces to wrap at
    if result.closed_form_matrix is None:
        table.add_row("closed form (matrix)", Text(result.matrix_reason, style="dim"))
    else:
        shown = result.closed_form_matrix_unicode or {}
        forms = _forms(result, latex)
        label = max(len(f"closed form (matrix) d/d{n}") for n in forms) + 2
        for name, form in forms.items():
            table.add_row(f"closed form (matrix) d/d{name}", form)
            pretty = shown.get(name, form)
            # (A + Aᵀ) x under the pasteable form, where it fits on one line
            if not latex and pretty != form and label + len(pretty) <= UNICODE_WIDTH:
                table.add_row("", Text(pretty, style="dim"))
    return [Text(""), table]
