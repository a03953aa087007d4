"""Test rows of table/layout.py: gradcheck cases, twin cases and expressions
(see families.py)."""

from __future__ import annotations

from domains import anywhere

import diffcli as dc

UNARY = {
    "cat_flat": (lambda x: dc.cat([x.reshape(-1), x.reshape(-1) ** 2]), anywhere),
    "flip_all": (lambda x: dc.flip(x, tuple(range(x.ndim))) * x, anywhere),
    "roll_flat": (lambda x: dc.roll(x, 2) * x, anywhere),
    "repeat": (lambda x: x.repeat(2, *[1] * x.ndim) ** 2, anywhere),
}
BINARY: dict = {}
REDUCTIONS: dict = {}
FIXED = {
    "cat_dim": (
        lambda a, b: dc.cat([a, b * a[:, :1], a], dim=1),
        [(anywhere, (2, 3)), (anywhere, (2, 2))],
        {},
    ),
    "concatenate_negative_dim": (
        lambda a, b: dc.concatenate([a, b], -3) ** 2,
        [(anywhere, (1, 2, 3)), (anywhere, (2, 2, 3))],
        {},
    ),
    "flip_dims": (lambda a: dc.flip(a, [0, 2]) * a, [(anywhere, (2, 3, 2))], {}),
    "roll_dims": (
        lambda a: dc.roll(a, (1, -2), (0, 2)) * a,
        [(anywhere, (2, 3, 4))],
        {},
    ),
    "repeat_leading": (lambda a: a.repeat(2, 1, 3) * 1.5, [(anywhere, (2, 2))], {}),
    "squeeze_unsqueeze": (
        lambda a: a.squeeze(0).unsqueeze(-1) * a.squeeze((0, 2)).unsqueeze(1) ** 2,
        [(anywhere, (1, 3, 1))],
        {},
    ),
}


def real(rng, shape):
    return rng.uniform(-2, 2, shape)


TWINS = {
    "cat": [([(real, (2, 3)), (real, (2, 1))], {"axis": 1})],
    "flip": [([(real, (2, 3, 2))], {"dims": (0, 2)}), ([(real, (3,))], {"dims": 0})],
    "roll": [
        ([(real, (2, 3))], {"shifts": 2, "dims": None}),
        ([(real, (2, 3))], {"shifts": (1, -1), "dims": (0, 1)}),
    ],
    "repeat": [([(real, (2, 3))], {"sizes": (2, 1, 2)})],
    "squeeze": [([(real, (1, 3, 1))], {"dim": None}), ([(real, (1, 3))], {"dim": 0})],
    "unsqueeze": [([(real, (2, 3))], {"dim": -1})],
}
VARIABLES: dict = {}
EXPRESSIONS = {
    "cat": ("{f}([A, A * 2], 1)", "{f}([x, y, p])", "{f}([A, ones(1, 3)])"),
    "flip": ("{f}(A, 0)", "{f}(C, [0, 2])"),
    "roll": ("{f}(A, 1)", "{f}(A, [1, -1], [0, 1])", "{f}(x, -1, 0)"),
    "repeat": ("{f}(A, 2, 1)", "{f}(x, 2, 2)"),
}
