"""How long the three-way check of norm(x**2) takes as x grows.

    python benchmarks/bench_check.py                 # n = 2 8 32 128, 5 repeats
    python benchmarks/bench_check.py --sizes 2 8 32 128 512 --repeats 3
    python benchmarks/bench_check.py --json          # rows as JSON on stdout

For each n, ``check.grad("norm(x**2)", at={"x": x})`` runs the engine, the
SymPy closed form (derived, then lambdified with cse) and central finite
differences.  Times are ``time.perf_counter`` around one call, after a warm-up
call, with ``gc.collect()`` outside the clock; the table shows medians.

Columns:

* ``check`` -- the whole check.grad, warm (the same expression again in the
  process: SymPy's cache helps).  The target is n=8 under 0.3 s.
* ``symbolic`` -- the closed-form witness alone (``closed_form``), warm.
* ``fresh`` -- the whole check.grad with SymPy's cache cleared before each run:
  what a new expression costs, e.g. the first check in a CLI process.
* ``growth`` -- the exponent k in time ~ n**k between a size and the one before
  it, log(t2 / t1) / log(n2 / n1): 1 is linear, 2 quadratic.

Small arrays (up to 16 elements, 120 operations in all) get SymPy's simplify
for readable closed forms, so n=2 can cost more than n=8; larger ones get one
reverse sweep over the shared subexpressions, which keeps growth near linear.

x is a fixed point in [0.5, 1.5] (finite differences are well conditioned
there).  A script, not a test: it never asserts and always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import statistics
import sys
import time

import numpy as np

from diffcli.verify import verdict as C
from diffcli.verify.closed_form import closed_form
from diffcli.verify.question import prepare

EXPR = "norm(x**2)"
TARGET_N, TARGET_SECONDS = 8, 0.3


def timed(fn, repeats: int, before=None) -> tuple[float, list[float]]:
    samples = []
    for _ in range(repeats):
        if before:
            before()
        gc.collect()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def clear_sympy_cache() -> None:
    from sympy.core.cache import clear_cache

    clear_cache()


def measure(n: int, repeats: int) -> dict:
    x = np.linspace(0.5, 1.5, n)
    at = {"x": x}
    problem = prepare(EXPR, at)
    tol = C.Tolerances()
    result = C.grad(EXPR, at=at)  # warm-up, and the verdict
    check, check_all = timed(lambda: C.grad(EXPR, at=at), repeats)
    symbolic, symbolic_all = timed(lambda: closed_form(problem, None, 1, tol), repeats)
    fresh, fresh_all = timed(lambda: C.grad(EXPR, at=at), repeats, clear_sympy_cache)
    return {
        "n": n,
        "check_s": check,
        "symbolic_s": symbolic,
        "fresh_s": fresh,
        "verdict": result.check.status,
        "closed_form": result.closed_form is not None,
        "samples": {"check": check_all, "symbolic": symbolic_all, "fresh": fresh_all},
    }


def growth(rows: list[dict], key: str) -> list[float | None]:
    out: list[float | None] = [None]
    for a, b in itertools.pairwise(rows):
        ratio = b[key] / a[key] if a[key] > 0 else math.nan
        out.append(math.log(ratio) / math.log(b["n"] / a["n"]))
    return out


def table(rows: list[dict], repeats: int) -> str:
    g = {k: growth(rows, k) for k in ("check_s", "symbolic_s", "fresh_s")}
    fmt = lambda k: "-" if k is None else f"{k:.2f}"
    lines = [
        f"{EXPR}: check.grad three ways (engine, closed form, finite differences)",
        f"median of {repeats} runs after a warm-up; growth = exponent k in n**k",
        "",
        f"{'n':>5}  {'check s':>9} {'growth':>6}  {'symbolic s':>10} {'growth':>6}"
        f"  {'fresh s':>9} {'growth':>6}  verdict",
    ]
    for i, r in enumerate(rows):
        verdict = r["verdict"] + ("" if r["closed_form"] else " (no closed form)")
        lines.append(
            f"{r['n']:>5}  {r['check_s']:>9.4f} {fmt(g['check_s'][i]):>6}"
            f"  {r['symbolic_s']:>10.4f} {fmt(g['symbolic_s'][i]):>6}"
            f"  {r['fresh_s']:>9.4f} {fmt(g['fresh_s'][i]):>6}  {verdict}"
        )
    hit = [r for r in rows if r["n"] == TARGET_N]
    if hit:
        t = hit[0]["check_s"]
        mark = "PASS" if t < TARGET_SECONDS else "MISS"
        lines += [
            "",
            f"target: n={TARGET_N} check.grad warm {t:.4f} s < {TARGET_SECONDS} s"
            f"  {mark}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 8, 32, 128])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    args = ap.parse_args(argv)
    rows = []
    for n in sorted(set(args.sizes)):
        print(f"n={n} ...", file=sys.stderr, flush=True)
        rows.append(measure(n, max(1, args.repeats)))
    if args.json:
        for key in ("check_s", "symbolic_s", "fresh_s"):
            for row, k in zip(rows, growth(rows, key), strict=True):
                row[key.replace("_s", "_growth")] = k
        print(json.dumps({"expr": EXPR, "rows": rows}, indent=2))
    else:
        print(table(rows, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
