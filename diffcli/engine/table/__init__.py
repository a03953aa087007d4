"""THE table: every operation diffcli knows, declared once.

``PRIMITIVES`` (what the engine differentiates) and ``FUNCTIONS`` (what users
call, in Python and in expressions) are filled by the modules below, in
order; declare.py says how a row is written.
"""

from diffcli.engine.table import (  # noqa: F401  (fill)
    activations,
    arrays,
    elementwise,
    layout,
    linalg,
    logic,
    losses,
    scans,
    special,
)
from diffcli.engine.table.declare import BY_NAME, FUNCTIONS, PRIMITIVES

__all__ = ["BY_NAME", "FUNCTIONS", "PRIMITIVES"]
