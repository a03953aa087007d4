"""THE table, part three: comparisons and masks (no gradient), and the
functions that make constants: detach and the array constructors."""

from __future__ import annotations

import numpy as np

from diffcli.engine import composites as C
from diffcli.engine import rules as R
from diffcli.engine import shapes as S
from diffcli.engine.table.declare import composite, define, primitive

_BOOLEAN = {"category": "comparison", "surfaces": ("api",)}
_COMPARE = {**_BOOLEAN, "shape": S.broadcast}
for _name, _np_fn, _sp, _what in [
    ("lt", np.less, "Lt", "<"),
    ("le", np.less_equal, "Le", "<="),
    ("gt", np.greater, "Gt", ">"),
    ("ge", np.greater_equal, "Ge", ">="),
    ("eq", np.equal, "Eq", "=="),
    ("ne", np.not_equal, "Ne", "!="),
    ("logical_and", np.logical_and, "And", "and"),
    ("logical_or", np.logical_or, "Or", "or"),
]:
    define(
        f"{_name}(input: T, other: T)",
        f"input {_what} other, elementwise",
        _np_fn,
        sympy=_sp,
        **_COMPARE,
    )
define(
    "logical_not(input: T)",
    "not input, elementwise",
    np.logical_not,
    sympy="Not",
    **{**_COMPARE, "shape": S.same},
)
for _name, _np_fn in [("isnan", np.isnan), ("isfinite", np.isfinite)]:
    define(
        f"{_name}(input: T)",
        f"whether each element is {_name[2:]}",
        _np_fn,
        **{**_COMPARE, "shape": S.same},
    )
composite(
    "equal(input: T, other: T)",
    "whether two tensors have the same shape and elements",
    C.equal,
    **_BOOLEAN,
)
composite(
    "allclose(input: T, other: T, rtol: float = 1e-05, atol: float = 1e-08)",
    "whether all elements agree to |input - other| <= atol + rtol * |other|",
    C.allclose,
    **_BOOLEAN,
)
# Masks the rules of max/min use as constants.
primitive("extreme_mask", R._extreme_mask, None)
primitive("first_hit", R._first_hit, None)
primitive("tie_mask", R._tie_mask, None)

# --- constants ---------------------------------------------------------------------
composite(
    "detach(input: T)",
    "the same values as a constant: no gradient flows through",
    lambda F, x: F.detach(x),
    method=False,
    category="autograd",
)
_VALUES = {"category": "constant", "surfaces": ("expr",), "method": False}
composite("ones(*size: int)", "an array of ones", C.ones, **_VALUES)
composite("zeros(*size: int)", "an array of zeros", C.zeros, **_VALUES)
composite("eye(n: int, m: int = None)", "the identity matrix", C.eye, **_VALUES)
composite(
    "arange(start: float, end: float = None, step: float = 1.0)",
    "start, start + step, ... below end (arange(n): 0 to n - 1)",
    C.arange,
    **_VALUES,
)
composite(
    "linspace(start: float, end: float, steps: int)",
    "steps evenly spaced values from start to end",
    C.linspace,
    **_VALUES,
)
