"""The newer families of THE table keep their test rows in ``rows_*``
modules (gradcheck rows, twin cases, expressions): test_table.py and
test_twins.py take them from here, so that one family is one file of rows."""

from __future__ import annotations

import rows_activations
import rows_layout
import rows_linalg
import rows_losses
import rows_scans
import rows_special

FAMILIES = [
    rows_special,
    rows_activations,
    rows_layout,
    rows_scans,
    rows_linalg,
    rows_losses,
]


def merged(table: str) -> dict:
    """One of the row tables (UNARY, TWINS, ...) of every family, merged."""
    out: dict = {}
    for rows in FAMILIES:
        out.update(getattr(rows, table))
    return out
