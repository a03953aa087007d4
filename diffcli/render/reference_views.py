"""``diffcli functions``: the function reference for people and for scripts."""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.console import Group
from rich.text import Text

from diffcli.expr.reference import FunctionRow


def reference_view(rows: list[FunctionRow]) -> Any:
    """Each function as a short block under its category's heading."""
    parts: list[Any] = []
    category = None
    for row in rows:
        if row.category != category:
            category = row.category
            if parts:
                parts.append(Text(""))
            parts.append(Text(category, style="bold underline"))
        parts.append(Text(row.call, style="bold"))
        parts.append(Text(f"    {row.doc}"))
        parts.extend(Text(f"    {d}") for d in row.derivatives)
        details = [f"grad_fn {row.grad_fn}"] if row.grad_fn else []
        if row.aliases:
            details.append(f"also {', '.join(row.aliases)}")
        details.append("in " + ", ".join(w for w, on in _surfaces(row) if on))
        parts.append(Text("    " + " · ".join(details), style="dim"))
        if row.kinks:
            parts.append(Text(f"    at kinks: {row.kinks}", style="italic"))
    return Group(*parts)


def _surfaces(row: FunctionRow) -> list[tuple[str, bool]]:
    return [
        ("expressions", row.in_expressions),
        ("dc.*", row.in_python),
        ("methods", row.method and row.in_python),
    ]


def reference_json(rows: list[FunctionRow]) -> dict:
    return {"functions": [dataclasses.asdict(r) for r in rows]}
