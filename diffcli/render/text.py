"""Numbers, arrays and closed forms as text: shared by the rich renderer and
the JSON output so that both spell values the same way.

Numbers for people are %.6g; for machines the shortest round-tripping repr;
nan and inf are always spelled out.  Arrays are aligned nested brackets like
PyTorch's (``[ 0,  4,  8, 12]``).  SymPy is imported only to print a closed
form that is actually there.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

EDGE_ITEMS = 3
SUMMARY_THRESHOLD = 64  # arrays larger than this show their edges and "..."
CELL_WIDTH = 24  # vectors longer than this fill several lines
HEADER_WIDTH = 60
_ELLIPSIS = "..."
_UNABRIDGED = [False]  # --full: no "..." in any array


@contextlib.contextmanager
def unabridged() -> Iterator[None]:
    """Every element of every array (``--full``), for the output inside."""
    _UNABRIDGED.append(True)
    try:
        yield
    finally:
        _UNABRIDGED.pop()


def abridged() -> bool:
    """Whether large arrays show only their edges (not under ``--full``)."""
    return not _UNABRIDGED[-1]


# --- numbers and expressions --------------------------------------------------


def _nonfinite(v: float) -> str | None:
    """nan and inf spelled out (the same for people and machines), else None."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def number_text(value: Any, digits: int = 6) -> str:
    """A number for people: %g with ``digits`` significant digits, nan/inf shown."""
    v = float(value)
    return _nonfinite(v) or f"{v:.{digits}g}"


def exact_text(value: Any) -> str:
    """A number for machines: the shortest repr that reads back to the same float."""
    v = float(value)
    return _nonfinite(v) or repr(v)


def expr_text(expr: Any, latex: bool = False) -> str:
    """A closed form (a SymPy expression, or a plain number) as text or LaTeX."""
    if isinstance(expr, (float, np.floating)):
        return exact_text(expr)
    if isinstance(expr, (int, np.integer)) and not latex:
        return str(expr)
    from diffcli.expr.tidy import to_text

    return to_text(expr, latex=latex)


def nested(array: Any, leaf) -> Any:
    """``leaf`` applied to every element, nested like the array (0-d: a leaf)."""
    a = np.asarray(array, dtype=object) if not isinstance(array, np.ndarray) else array
    if a.ndim == 0:
        return leaf(a[()])
    return [nested(sub, leaf) for sub in a]


# --- text of arrays ------------------------------------------------------------


def array_text(
    value: Any,
    leaf: Callable[[Any], str] = number_text,
    *,
    inline: bool = False,
    pad: bool = True,
    width: int = 36,
) -> str:
    """An array as aligned nested brackets, one row per line unless ``inline``.

    A 1-d row longer than ``width`` is laid out one element per line (long
    closed forms); arrays over SUMMARY_THRESHOLD elements show only their edges.
    """
    a = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
    if a.ndim == 0:
        return leaf(a[()])
    cells = _cells(a, leaf, a.size > SUMMARY_THRESHOLD and abridged())
    size = max((len(s) for s in _leaves(cells)), default=0)
    if pad:
        cells = _map(cells, lambda s: s.rjust(size))
    return _join(cells, 0, a.ndim, inline, width)


def _cells(a: Any, leaf, summarize: bool) -> Any:
    if not isinstance(a, np.ndarray):  # an element of an object array
        return leaf(a)
    if a.ndim == 0:
        return leaf(a[()])
    n = len(a)
    picks = (
        [*range(EDGE_ITEMS), None, *range(n - EDGE_ITEMS, n)]
        if summarize and n > 2 * EDGE_ITEMS
        else range(n)
    )
    return [_ELLIPSIS if i is None else _cells(a[i], leaf, summarize) for i in picks]


def _leaves(cells: Any) -> Iterable[str]:
    if isinstance(cells, str):
        if cells is not _ELLIPSIS:
            yield cells
        return
    for c in cells:
        yield from _leaves(c)


def _map(cells: Any, fn) -> Any:
    if isinstance(cells, str):
        return cells if cells is _ELLIPSIS else fn(cells)
    return [_map(c, fn) for c in cells]


def _join(cells: Any, depth: int, ndim: int, inline: bool, width: int) -> str:
    if isinstance(cells, str):
        return cells
    parts = [_join(c, depth + 1, ndim - 1, inline, width) for c in cells]
    if ndim > 1 and not inline:
        sep = "," + "\n" * (ndim - 1) + " " * (depth + 1)
        return "[" + sep.join(parts) + "]"
    if inline or sum(len(p) + 2 for p in parts) + depth <= width:
        return "[" + ", ".join(parts) + "]"
    lines, line = [], " " * depth + "["  # fill lines up to ``width``, numpy-style
    for k, part in enumerate(parts):
        piece = part + ("," if k < len(parts) - 1 else "]")
        if k and len(line) + 1 + len(piece) > width:
            lines.append(line)
            line = " " * (depth + 1) + piece
        else:
            line += (" " if k else "") + piece
    lines.append(line)
    return "\n".join(lines)[depth:]


def closed_text(forms: Any, latex: bool = False) -> str:
    """Closed forms (an object array of SymPy expressions) as text or LaTeX."""
    return array_text(forms, lambda e: expr_text(e, latex), pad=False)


def value_text(
    value: Any, latex: bool = False, inline: bool = False, width: int = 0
) -> str:
    """Numbers as numbers, partly symbolic values (no point given) as expressions."""
    if value is None:
        return "—"
    a = value if isinstance(value, np.ndarray) else np.asarray(value)
    if a.dtype != object:
        return array_text(a, inline=inline, width=width or CELL_WIDTH)
    return array_text(
        a,
        lambda e: number_text(e) if is_number(e) else expr_text(e, latex),
        inline=inline,
        pad=False,
    )


def is_number(e: Any) -> bool:
    """A plain number (not a SymPy expression)."""
    return isinstance(e, (int, float, np.number)) and not isinstance(e, bool)


def assignments_text(values: dict[str, np.ndarray]) -> str:
    """``x = 1, y = [1, 2]``; one per line when any is a matrix."""
    parts = [f"{n} = {value_text(v, width=HEADER_WIDTH)}" for n, v in values.items()]
    multi = any("\n" in p for p in parts) or sum(map(len, parts)) > 60
    if multi:
        parts = [
            p.replace("\n", "\n" + " " * (len(n) + 3))
            for p, n in zip(parts, values, strict=True)
        ]
    return ("\n" if multi else ", ").join(parts)
