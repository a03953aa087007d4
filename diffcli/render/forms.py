"""Closed forms of many entries, summarised: how many, the shortest few, and
how to see them all.

An MLP's gradient has dozens of entries, each tens of thousands of characters
written out; printing them is most of the run and buries the answer.  Entries
are ranked by their size as trees (counted without writing them out) and only
the ones shown are turned into text.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from diffcli.engine.limits import over_budget
from diffcli.render.text import expr_text

SHOWN_FORMS = 3  # the shortest this many, by default
MANY_FORMS = 8  # above this many entries the forms are summarised
FORM_CHARS = 240  # a shown form longer than this is cut with "..."
SHOWN_NODES = 1500  # larger forms are only counted, by default
HINT = "see all with --closed-form or --full"


def sizes(exprs: list[Any]) -> list[int]:
    """Each closed form's node count as a tree (shared nodes counted each time)."""
    from diffcli.expr.sweep import tree_sizes

    return tree_sizes(exprs)


def _quick_text(e: Any, latex: bool) -> str:
    """The form's text with its terms in the order built: SymPy's printer
    otherwise sorts every sum, most of the time of a large form."""
    if latex or not hasattr(e, "free_symbols"):
        return expr_text(e, latex)
    from sympy.printing.str import sstr

    from diffcli.expr.tidy import readable_numbers

    return sstr(readable_numbers(e), order="none")


def _cut(text: str, full: bool) -> str:
    if full or len(text) <= FORM_CHARS:
        return text
    return text[:FORM_CHARS] + f"... ({len(text)} characters)"


def forms_table(
    rows: list[tuple[str, Any]],
    latex: bool = False,
    full: bool = False,
    shown: int = SHOWN_FORMS,
) -> Table | Text:
    """One element per row; beyond MANY_FORMS only the shortest few, and a
    line saying how many there are and how to see them all (only that line,
    titled, when none is short enough to show or ``shown`` is 0)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("element", no_wrap=True)
    table.add_column("closed form", overflow="fold")
    if full or len(rows) <= MANY_FORMS:
        for k, (label, e) in enumerate(rows):
            late = over_budget()  # writing out huge forms is bounded work too
            if late:
                table.add_row("...", f"{len(rows) - k} more not written: {late}")
                break
            table.add_row(label, _cut(expr_text(e, latex), full))
        return table
    size = sizes([e for _, e in rows])
    shortest = sorted(range(len(rows)), key=lambda k: (size[k], k))[:shown]
    # a form of thousands of nodes is no use cut short, and slow to write out
    shortest = [k for k in shortest if size[k] <= SHOWN_NODES]
    low, high = min(size), max(size)
    spread = f"{low}" if low == high else f"{low} to {high}"
    if not shortest:  # one line, not a table of nothing
        return Text.assemble(
            ("closed form", "bold"),
            f"  {len(rows)} forms of {spread.replace(' to ', '-')} nodes: {HINT}",
        )
    for k in sorted(shortest):
        label, e = rows[k]
        table.add_row(label, _cut(_quick_text(e, latex), False))
    table.add_row(
        "...",
        f"{len(rows)} closed forms of {spread} nodes each; "
        f"the shortest {len(shortest)} shown ({HINT})",
    )
    return table


def all_short(exprs: list[Any], limit: int) -> bool:
    """Whether every form may be short enough to inline (a cheap bound: a
    form's text is at least as long as its node count)."""
    return len(exprs) <= MANY_FORMS and max(sizes(exprs), default=0) <= limit
