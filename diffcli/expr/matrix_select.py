"""Matrix expressions that pick: indexing, comparisons, ``where`` and
maximum/minimum, with their adjoints.

An index is undone by a selection matrix: ``x[1]`` is ``eye(n)[1] @ x``, so
its adjoint is ``g * eye(n)[1]``; ``X[0:2]``'s is ``eye(n)[0:2].T @ g``.  Each
is written in diffcli's own syntax (``eye(3)[1]`` is the basis vector e1),
which the user can paste back.  ``where`` passes the adjoint to the branch
taken; maximum and minimum split it at a tie, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.expr import matrix_expr as X
from diffcli.expr.matrix_expr import M, NoMatrixForm

COMPARISONS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}


# --- index items: int, ("slice", start, stop, step), ("list", ints), None (all) --
def _item(raw: Any, n: int) -> Any:
    if isinstance(raw, slice):
        start, stop, step = raw.indices(n)
        if (start, stop, step) == (0, n, 1):
            return None
        # backwards to the start: x[2::-1], as x[2:-1:-1] would be empty
        return ("slice", start, None if stop < 0 else stop, step)
    if isinstance(raw, list):
        return ("list", tuple(int(i) % n for i in raw))
    if isinstance(raw, int | np.integer):
        return int(raw) % n
    raise NoMatrixForm(f"the index {raw!r} is not supported")


def item_text(item: Any) -> str:
    """``1``, ``0:2``, ``::2``, ``[0, 2]`` or ``:``."""
    if item is None:
        return ":"
    if isinstance(item, int):
        return str(item)
    if item[0] == "list":
        return "[" + ", ".join(map(str, item[1])) + "]"
    _, start, stop, step = item
    text = f"{start}:{'' if stop is None else stop}"
    return text + (f":{step}" if step != 1 else "")


def numpy_item(item: Any) -> Any:
    if item is None:
        return slice(None)
    if isinstance(item, int):
        return item
    if item[0] == "list":
        return list(item[1])
    return slice(*item[1:])


# --- constructors ---------------------------------------------------------------
def getitem(u: M, index: Any) -> M:
    """``u[index]`` for vectors and matrices, by integers, slices or lists."""
    raw = index if isinstance(index, tuple) else (index,)
    if u.ndim not in (1, 2) or len(raw) > u.ndim:
        raise NoMatrixForm("indexing is supported on vectors and matrices only")
    items = tuple(_item(r, n) for r, n in zip(raw, u.shape, strict=False))
    items += (None,) * (u.ndim - len(items))
    lists = [i for i in items if isinstance(i, tuple) and i[0] == "list"]
    if len(lists) > 1:
        raise NoMatrixForm("indexing by two lists at once is not supported")
    if all(i is None for i in items):
        return u
    shape = np.empty(u.shape, dtype=bool)[tuple(map(numpy_item, items))].shape
    return M("getitem", (u,), shape, items)


def select(n: int, item: Any) -> M:
    """``eye(n)[item]``: a basis vector for an integer, else a selection matrix."""
    shape = np.eye(n)[numpy_item(item)].shape
    return M("select", (), shape, (n, item))


def compare(op: str, a: M, b: M) -> M:
    return M(op, (a, b), tuple(np.broadcast_shapes(a.shape, b.shape)))


def where(cond: M, a: M, b: M) -> M:
    if X.is_num(a, 0) and X.is_num(b, 0):
        return X.num(0)
    c, rest = X.split(a)
    if X.is_num(b, 0) and rest is not None and c != 1:  # 2 * where(m, u, 0)
        return X.scale(c, where(cond, rest, b))
    shape = tuple(np.broadcast_shapes(cond.shape, a.shape, b.shape))
    return M("where", (cond, a, b), shape)


def extreme(op: str, a: M, b: M) -> M:
    """maximum or minimum of two arrays, elementwise."""
    return M(op, (a, b), tuple(np.broadcast_shapes(a.shape, b.shape)))


# --- adjoints -------------------------------------------------------------------
def adjoints(node: M, g: M, unbroadcast: Any, full: Any) -> list[tuple[M, M]] | None:
    """The adjoints of this module's nodes (None: not one of them);
    ``unbroadcast`` and ``full`` are the backend's (matrix_backend.py)."""
    op, a = node.op, node.args
    if op in COMPARISONS or op == "select":
        return []
    if op == "getitem":
        return [(a[0], _unindex(a[0], node.data, full(g, node.shape)))]
    if op == "where":
        zero = X.num(0)
        return [
            (a[1], unbroadcast(where(a[0], g, zero), a[1].shape, node.shape)),
            (a[2], unbroadcast(where(a[0], zero, g), a[2].shape, node.shape)),
        ]
    if op in ("maximum", "minimum"):
        wins = "gt" if op == "maximum" else "lt"
        tie = compare("eq", a[0], a[1])
        half = X.div(g, X.num(2))
        out = []
        for p, q in ((a[0], a[1]), (a[1], a[0])):
            share = where(compare(wins, p, q), g, where(tie, half, X.num(0)))
            out.append((p, unbroadcast(share, p.shape, node.shape)))
        return out
    return None


def _unindex(u: M, items: tuple, g: M) -> M:
    """The adjoint of ``u`` under ``u[items]`` (``g`` of the result's shape):
    ``g`` put back where it came from, zeros elsewhere (``R.T @ g @ C`` with
    selection matrices R and C, outer products for an integer)."""
    if len(items) == 1:
        (i,) = items
        e = select(u.shape[0], i)
        return X.mul(g, e) if isinstance(i, int) else X.matmul(X.T(e), g)
    r, c = items
    rows = None if r is None else select(u.shape[0], r)
    cols = None if c is None else select(u.shape[1], c)
    if isinstance(r, int) and isinstance(c, int):
        return X.mul(g, X.outer(rows, cols))
    if isinstance(r, int):  # one row: g is that row (or its selected columns)
        return X.outer(rows, g if cols is None else X.matmul(X.T(cols), g))
    if isinstance(c, int):
        return X.outer(g if rows is None else X.matmul(X.T(rows), g), cols)
    out = g if rows is None else X.matmul(X.T(rows), g)
    return out if cols is None else X.matmul(out, cols)
