"""``--json`` of large arrays: the writer against memory speed, and whole runs.

A script, not a test: it prints figures and ratios, never asserts on time.

    python benchmarks/bench_json.py              # 1e6 and 1e7 values
    python benchmarks/bench_json.py --sizes 6    # 1e6 only
    python benchmarks/bench_json.py --no-cli     # the writer only

Rows, per size and kind of values (ones; short decimals arange/10; full
precision sin):
  writer     render.json_data.pieces of {"x": array} written to /dev/null, ns a
             value, as a ratio to arr.tobytes() (the array's bytes copied at
             memory speed, timed in the same process) and to the old writer
             (Python's repr per value, as before issue #17).
  cli        the whole `diffcli grad "sum(x)" --at x=ones(10**n) --no-check
             --json > /dev/null` process: wall seconds and peak RSS (ru_maxrss
             of the children, run first while this process is small, since a
             child starts from its parent's RSS).  Target (issue #17): 1e7
             well under 3 s, RSS a small multiple of the 80 MB array.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np
from bench_matrix_form import best  # the fastest of some runs

from diffcli.render.json_data import pieces


def write_json(a: np.ndarray, out) -> None:
    for piece in pieces({"x": a}):
        out.write(piece)


def write_by_repr(a: np.ndarray, out) -> None:
    """The writer before: a repr per value, chunk by chunk."""
    for start in range(0, a.size, 65536):
        out.write(", ".join(map(repr, a[start : start + 65536].tolist())))


def writer_rows(n: int, repeats: int) -> None:
    kinds = {
        "ones": np.ones(n),
        "arange/10": np.arange(n) / 10,
        "sin": np.sin(np.arange(n, dtype=np.float64)),
    }
    with open(os.devnull, "w") as out:
        for name, a in kinds.items():
            floor = best(a.tobytes, repeats)
            ours = best(lambda a=a: write_json(a, out), repeats)
            old = best(lambda a=a: write_by_repr(a, out), max(1, repeats // 2))
            print(
                f"writer  n=1e{len(str(n)) - 1}  {name:10s} "
                f"{ours / n * 1e9:6.1f} ns/value  "
                f"{ours / floor:6.1f}x tobytes  "
                f"{old / ours:5.1f}x faster than repr ({old:.2f} s -> {ours:.2f} s)"
            )


def cli_row(power: int) -> None:
    args = [sys.executable, "-m", "diffcli", "grad", "sum(x)"]
    args += ["--at", f"x=ones(10**{power})", "--no-check", "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    with open(os.devnull, "w") as out:
        subprocess.run(args, stdout=out, check=True)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    note = "" if rss > before else " (not above an earlier child's peak)"
    print(
        f"cli     n=1e{power}  {seconds:5.2f} s  peak RSS {rss / 1024:5.0f} MB"
        f"  ({rss * 1024 / (8 * 10**power):.1f}x the array){note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 7])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true")
    opts = parser.parse_args()
    if not opts.no_cli:
        for power in sorted(opts.sizes):  # ascending: each child's peak is higher
            cli_row(power)
    for power in opts.sizes:
        writer_rows(10**power, opts.repeats)


if __name__ == "__main__":
    main()
