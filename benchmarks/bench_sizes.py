"""Realistic sizes: the default three-way check's whole-process time as the
problem grows, against ``--no-check`` and the import floor, in one run.

    python benchmarks/bench_sizes.py [--runs 3] [--quick]

Problems (issue "Realistic sizes"): a one-hidden-layer MLP loss
``mean((tanh(X@W1+b1)@W2-y)**2)`` with 20 samples of 5 features and hidden
widths 8, 32, 128 (W1, b1, W2 as variables), least squares
``sum((A@w-b)**2)`` with A of 30 rows and 10 to 1000 columns, and a 10x10
``jacobian "tanh(A@x)"``.  Each command runs as its own process, the variants
of one problem taking turns round by round; the table shows median wall
seconds, the ratio of the checked run to ``--no-check`` and to the import
floor (``python -c "import numpy, sympy"``), the output's line count, and
how the checked time grows per gradient entry (the exponent between
consecutive sizes: 1 is linear), and which witness (engine, finite
differences, closed form) takes longest, timed once in this process.  It never
asserts on time.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import subprocess
import sys
import time

import numpy as np

PY = sys.executable


def values(seed: int, shape: tuple[int, ...]) -> str:
    """Deterministic values of ``shape`` as a short expression (a literal of a
    30x1000 matrix would be over the OS's limit for one argument)."""
    n = int(np.prod(shape))
    dims = ", ".join(map(str, shape))
    return f"reshape(sin(arange({n}) * {0.7 + seed / 10} + {seed}), {dims})"


def mlp(width: int) -> tuple[list[str], int]:
    args = [
        "grad",
        "mean((tanh(X@W1+b1)@W2-y)**2)",
        "--at",
        f"W1={values(0, (5, width))}",
        "--at",
        f"b1={values(1, (width,))}",
        "--at",
        f"W2={values(2, (width,))}",
        "--let",
        f"X={values(3, (20, 5))}",
        "--let",
        f"y={values(4, (20,))}",
    ]
    return args, 5 * width + 2 * width


def least_squares(columns: int) -> tuple[list[str], int]:
    args = [
        "grad",
        "sum((A@w-b)**2)",
        "--at",
        f"w={values(5, (columns,))}",
        "--let",
        f"A={values(6, (30, columns))}",
        "--let",
        f"b={values(7, (30,))}",
    ]
    return args, columns


def jacobian(n: int) -> tuple[list[str], int]:
    args = [
        "jacobian",
        "tanh(A@x)",
        "--at",
        f"x={values(8, (n,))}",
        "--let",
        f"A={values(9, (n, n))}",
    ]
    return args, n * n


def run(cmd: list[str]) -> tuple[float, int, int]:
    """(wall seconds, exit code, lines printed) of one process."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, done.stdout.count("\n")


def median_runs(cmd: list[str], runs: int) -> tuple[float, int, int]:
    samples = [run(cmd) for _ in range(runs)]
    return (
        statistics.median(s[0] for s in samples),
        samples[-1][1],
        samples[-1][2],
    )


def witness_seconds(args: list[str]) -> dict[str, float]:
    """In this process, once: seconds of each witness (engine, finite
    differences, closed form) on a ``grad`` problem, to say which dominates."""
    from diffcli.cli import common
    from diffcli.verify import held
    from diffcli.verify import witnesses as W
    from diffcli.verify.closed_form import closed_form
    from diffcli.verify.question import prepare
    from diffcli.verify.verdict import Tolerances

    at = [a for flag, a in itertools.pairwise(args) if flag == "--at"]
    let = [a for flag, a in itertools.pairwise(args) if flag == "--let"]
    problem = prepare(
        args[1], common.parse_assignments(at), common.parse_assignments(let), None
    )
    tol, out = Tolerances(), {}
    start = time.perf_counter()
    engine = W.engine(problem, None, 1)
    out["engine"] = time.perf_counter() - start
    start = time.perf_counter()
    held.finite_differences(problem, engine, 1, tol)
    out["finite differences"] = time.perf_counter() - start
    start = time.perf_counter()
    sym = closed_form(problem, engine.seed, 1, tol, engine)
    out["closed form" if sym.ok else f"closed form (skipped: {sym.reason})"] = (
        time.perf_counter() - start
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the smallest sizes")
    opts = parser.parse_args()
    problems = [("mlp", mlp, [8, 32, 128]), ("lsq", least_squares, [10, 100, 1000])]
    problems.append(("jacobian", jacobian, [10]))
    if opts.quick:
        problems = [(name, make, sizes[:1]) for name, make, sizes in problems]
    floor = median_runs([PY, "-c", "import numpy, sympy"], opts.runs)[0]
    print(f"import floor (numpy + sympy): {floor:.2f} s\n")
    head = f"{'problem':<14}{'entries':>8}{'checked':>9}{'no-check':>9}"
    print(
        head + f"{'/no-check':>10}{'/floor':>8}{'exit':>5}{'lines':>6}{'growth':>7}"
        "  dominant witness (in process, once)"
    )
    for name, make, sizes in problems:
        previous = None
        for size in sizes:
            args, entries = make(size)
            cmd = [PY, "-m", "diffcli", *args]
            checked, code, lines = median_runs(cmd, opts.runs)
            bare = median_runs([*cmd, "--no-check"], opts.runs)[0]
            growth = ""
            if previous is not None:
                rate = math.log(checked / previous[1])
                growth = f"{rate / math.log(entries / previous[0]):.2f}"
            previous = (entries, checked)
            dominant = ""
            if args[0] == "grad":
                parts = witness_seconds(args)
                top = max(parts, key=parts.get)
                dominant = f"  {top} {parts[top]:.2f}s of {sum(parts.values()):.2f}s"
            print(
                f"{name + ' ' + str(size):<14}{entries:>8}{checked:>8.2f}s{bare:>8.2f}s"
                f"{checked / bare:>9.1f}x{checked / floor:>7.1f}x{code:>5}{lines:>6}"
                f"{growth:>7}{dominant}"
            )


if __name__ == "__main__":
    main()
