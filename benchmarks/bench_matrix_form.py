"""The matrix closed form's symbolic check on least squares as A grows.

``sum((A @ w - b)**2)`` with A from 10x5 to 1000x500 (w and A the
variables): the time to derive the matrix form, print it and evaluate it at
the point (verify/matrix_form.derive), against the engine's own gradient
timed in the same process (the baseline: this machine is noisy).  The
per-component closed forms are skipped above 512 variable elements; the
matrix form's cost stays flat.  A script, not a test: it never asserts on
time.

    python benchmarks/bench_matrix_form.py [--repeats N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from diffcli.verify import matrix_form as MF
from diffcli.verify import witnesses as W
from diffcli.verify.question import prepare

SIZES = [(10, 5), (100, 50), (300, 150), (1000, 500)]
TEXT = "sum((A @ w - b)**2)"


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _by_hand(at: dict, b: np.ndarray) -> tuple:
    """The same gradient written in numpy: the floor of any evaluation."""
    A, w = at["A"], at["w"]
    r = A @ w - b
    return 2 * np.outer(r, w), 2 * A.T @ r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{TEXT}: matrix form derived, printed and evaluated at the point")
    print(
        f"{'A':>10} {'elements':>9} {'derive (symbolic) s':>20} "
        f"{'of which numpy s':>17} {'engine s':>9}  form"
    )
    for m, n in SIZES:
        at = {"A": rng.normal(size=(m, n)), "w": rng.normal(size=n)}
        problem = prepare(TEXT, at, {"b": rng.normal(size=m)}, None)
        symbolic = best(lambda p=problem: MF.derive(p, None, 1), args.repeats)
        form = MF.derive(problem, None, 1)
        numpy = best(
            lambda at=at, b=problem.constants["b"]: _by_hand(at, b), args.repeats
        )
        engine = best(lambda p=problem: W.engine(p, None, 1), args.repeats)
        print(
            f"{m:>5}x{n:<4} {m * n + n:>9} {symbolic:>20.4f} {numpy:>17.4f} "
            f"{engine:>9.4f}  {form.forms['w']}"
        )
    print("symbolic minus numpy is the matrix form's own cost: flat in the size")


if __name__ == "__main__":
    main()
