"""Seeded random command lines for the fuzz test (and for counting outcomes).

Random expressions over diffcli's language (scalar and vector variables, kinks,
detach, non-finite points, lists, a leading '-'), each under a random command:
``grad`` at a point (orders 1 to 3, seeds, directions, --wrt, an unused name),
``grad`` symbolic, ``jacobian`` and ``minimize``.  Deterministic for a given
seed, so a failure replays exactly.
"""

from __future__ import annotations

import random

SCALARS = ("x", "y")
VECTOR = "v"
UNARY = (
    "sin({})",
    "cos({})",
    "tan({})",
    "exp({})",
    "log({})",
    "sqrt({})",
    "abs({})",
    "tanh({})",
    "sigmoid({})",
    "relu({})",
    "sign({})",
    "-{}",
    "({})**2",
    "({})**3",
    "({})**0.5",
    "clamp({}, min=0)",
    "clamp({}, -1, 1)",
    "detach({})",
    "atan2({}, 1)",
)
BINARY = (
    "({}) + ({})",
    "({}) - ({})",
    "({}) * ({})",
    "({}) / ({})",
    "({}) ** ({})",
    "maximum({}, {})",
    "minimum({}, {})",
    "atan2({}, {})",
    "where(({}) > 0, {}, 1)",
    "where(({}) < 1, {}, 0)",
)
REDUCE = (
    "sum({})",
    "mean({})",
    "norm({})",
    "max({})",
    "amin({})",
    "sum({}, keepdim=True)",
    "[{}]",
    "{}[0]",
)
NUMBERS = ("0", "1", "2", "0.5", "-1", "3", "pi", "1e3")
VALUES = ("0", "1", "-1", "0.5", "2", "7", "-3", "1e8", "1e-300", "1000", "pi")
VECTORS = ("[1,2]", "[0,0]", "[1000,1001]", "[-1,0.5]", "[3,-4]")


def expression(rng: random.Random, depth: int, vector: bool) -> str:
    """A random expression; with ``vector``, some leaves are the vector v.
    Unary minus is written bare (-x), so some expressions start with '-'."""
    if depth == 0 or rng.random() < 0.25:
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(SCALARS)
        if vector and roll < 0.7:
            return VECTOR
        return rng.choice(NUMBERS)
    if vector and rng.random() < 0.15:
        return rng.choice(REDUCE).format(expression(rng, depth - 1, vector))
    if rng.random() < 0.5:
        return rng.choice(UNARY).format(expression(rng, depth - 1, vector))
    form = rng.choice(BINARY)
    args = [expression(rng, depth - 1, vector) for _ in range(form.count("{}"))]
    return form.format(*args)


def command(rng: random.Random) -> list[str]:
    """One random command line (without the program name)."""
    vector = rng.random() < 0.3
    text = expression(rng, rng.randint(1, 4), vector)
    while not _names(text) and rng.random() < 0.9:  # a few constants stay
        text = expression(rng, rng.randint(1, 4), vector)
    names = [n for n in (*SCALARS, VECTOR) if n in _names(text)]
    at = [f"{n}={rng.choice(VECTORS if n == VECTOR else VALUES)}" for n in names]
    roll = rng.random()
    if roll < 0.08:
        return ["grad", text]  # symbolic
    if roll < 0.16:
        return ["jacobian", text, *_at(at)]
    if roll < 0.22:
        return ["minimize", text, *_at(at), "--steps", "20", "--no-solve"]
    args = ["grad", text, *_at(at)]
    order = rng.choice((1, 1, 1, 2, 3))
    if order > 1:
        args += ["--order", str(order)]
    roll = rng.random()
    if roll < 0.1:
        args += ["--seed", "ones"]
    elif roll < 0.15 and names:
        args += ["--direction", f"{names[0]}=1"]
    elif roll < 0.2 and names:
        args += ["--wrt", names[-1]]
    if rng.random() < 0.05:
        args += ["--no-check"]
    if rng.random() < 0.03:
        args += ["--at", "q=1"]  # a name the expression does not use
    return args


def _at(at: list[str]) -> list[str]:
    return ["--at", ",".join(at)] if at else []


def _names(text: str) -> set[str]:
    import re

    return set(re.findall(r"\b[a-z]\b", text))


def commands(seed: int, count: int) -> list[list[str]]:
    """``count`` command lines, the same ones for the same seed."""
    rng = random.Random(seed)
    return [command(rng) for _ in range(count)]
