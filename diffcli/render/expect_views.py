"""--expect: the user's own formulas, each proved, refuted or agreeing."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from diffcli.verify.expect import ExpectCheck

MARKS = {
    "proved": ("✓ proved", "green"),
    "agrees": ("~ agrees", "yellow"),
    "refuted": ("✗ refuted", "red"),
    "undecided": ("? undecided", "yellow"),
}


def expect_view(checks: list[ExpectCheck]) -> list[RenderableType]:
    """A table of the user's formulas under the gradient, or nothing."""
    if not checks:
        return []
    table = Table(box=None, show_header=True, pad_edge=False, header_style="bold")
    for column in ("derivative", "your formula", "verdict"):
        table.add_column(column)
    notes: list[RenderableType] = []
    for c in checks:
        mark, style = MARKS[c.status]
        table.add_row(c.target, c.formula, Text(mark, style=style))
        notes.append(Text(f"  {c.describe()}"))
    return [Text(""), Text("your derivation (--expect)", style="bold"), table, *notes]
