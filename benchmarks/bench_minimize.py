"""minimize benchmarks: diffcli's descent loop against a PyTorch eager loop.

A script, not a test: it prints each figure with its target and PASS/MISS and
always exits 0.

    python benchmarks/bench_minimize.py                 # 10,000 steps, 5 repeats
    python benchmarks/bench_minimize.py --steps 2000 --repeats 3
    python benchmarks/bench_minimize.py --json

Rows:
  per step     diffcli.minimize.descent.minimize on the seed function a*x**2 + b*x + c
               (SGD, lr 0.01, solve=False): whole call / steps, so parsing and
               tracing are included.  PyTorch: the same loop written eagerly
               (zero_grad, forward, backward, step; float64 tensors).
               Target: diffcli per step <= 0.5 x PyTorch's.
  cli          wall time of the whole command, as a person runs it:
               `diffcli minimize "a*x**2 + b*x + c" --let a=1 --let b=-2
               --let c=1 --at x=0 --lr 0.01 --steps N` (a subprocess, stdout
               to a pipe so no progress bar; median of --repeats runs):
               interpreter start, imports, the steps, SymPy's stationary
               points (in a forked child beside the steps, on Linux with two
               CPUs), the rendering and the exit.  Target: < 1 s.
               Also with --no-solve (info: the command without SymPy).
  process      the same work in one process, one thing after the other, and
               without click and rich: `python -c "from diffcli.minimize.descent
               import minimize; minimize(...)"`, solve=True (median of 3),
               and where its time goes (phases).  Info.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from time import perf_counter
from typing import Any

from diffcli.minimize.descent import minimize

EXPR = "a*x**2 + b*x + c"
ABC = {"a": 1.0, "b": -2.0, "c": 1.0}
LR = 0.01
TARGET_RATIO = 0.5  # diffcli / torch, per step
TARGET_PROCESS = 1.0  # seconds


def diffcli_run(steps: int) -> tuple[float, float]:
    """Seconds for one minimize call, and the x it reaches."""
    gc.collect()
    t0 = perf_counter()
    r = minimize(
        EXPR, {"x": 0.0}, ABC, optimizer="sgd", lr=LR, steps=steps, solve=False
    )
    return perf_counter() - t0, float(r.point["x"])


def torch_run(steps: int) -> tuple[float, float]:
    import torch

    gc.collect()
    t0 = perf_counter()
    a, b, c = (torch.tensor(ABC[k], dtype=torch.float64) for k in "abc")
    x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=LR)
    for _ in range(steps):
        opt.zero_grad()
        y = a * x**2 + b * x + c
        y.backward()
        opt.step()
    return perf_counter() - t0, float(x.detach())


def cli_command(steps: int) -> list[str]:
    """This interpreter's console script (beside sys.executable: a version
    manager's shim on PATH, like pyenv's bash one, would add its own start-up),
    else the one on PATH, else the same entry through python -m."""
    beside = os.path.join(os.path.dirname(sys.executable), "diffcli")
    script = beside if os.access(beside, os.X_OK) else shutil.which("diffcli")
    entry = [script] if script else [sys.executable, "-m", "diffcli"]
    lets = [f"--let={k}={v:g}" for k, v in ABC.items()]
    options = ["--at", "x=0", "--lr", str(LR), "--steps", str(steps)]
    return [*entry, "minimize", EXPR, *lets, *options]


def cli_run(steps: int, *extra: str) -> float:
    """Wall seconds of one whole `diffcli minimize` process."""
    command = [*cli_command(steps), *extra]
    t0 = perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = perf_counter() - t0
    want = "stationary points: not listed" if extra else "distance to the nearest"
    if proc.returncode != 0 or want not in proc.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr}")
    return seconds


def process_run(steps: int) -> float:
    code = (
        "from diffcli.minimize.descent import minimize; "
        f"r = minimize({EXPR!r}, {{'x': 0.0}}, {ABC!r}, lr={LR}, steps={steps}); "
        "assert r.nearest_minimum is not None"
    )
    t0 = perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return perf_counter() - t0


PHASES_CHILD = """
import json, time
marks = [("start", time.time())]
from diffcli.minimize.descent import minimize
marks.append(("import diffcli", time.time()))
minimize(EXPR, {"x": 0.0}, ABC, lr=LR, steps=STEPS, solve=False)
marks.append(("steps", time.time()))
from diffcli.expr import symbolic as symbolic
symbolic.sympy()
marks.append(("import sympy", time.time()))
from diffcli.verify.question import prepare
from diffcli.minimize.stationary import stationary_points
stationary_points(prepare(EXPR, {"x": 0.0}, ABC), 5.0)
marks.append(("stationary points", time.time()))
print(json.dumps(marks), flush=True)
"""


def phases(steps: int) -> dict[str, float]:
    """Where the process's wall time goes: start-up, each phase, exit."""
    code = PHASES_CHILD.replace("EXPR", repr(EXPR)).replace("ABC", repr(ABC))
    code = code.replace("LR", repr(LR)).replace("STEPS", str(steps))
    before = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    after = time.time()
    marks = json.loads(proc.stdout)
    out = {"interpreter start": marks[0][1] - before}
    for (_, t0), (name, t1) in itertools.pairwise(marks):
        out[name] = t1 - t0
    out["exit"] = after - marks[-1][1]
    return out


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    steps, repeats = args.steps, args.repeats
    torch_ok = torch_available()

    runs: dict[str, Any] = {"diffcli": diffcli_run}
    if torch_ok:
        runs["torch"] = torch_run
    for fn in runs.values():  # warm up: lazy imports, allocator
        fn(min(steps, 200))
    samples: dict[str, list[float]] = {name: [] for name in runs}
    reached: dict[str, float] = {}
    for _ in range(repeats):  # interleaved, so load on the machine hits both
        for name, fn in runs.items():
            seconds, x = fn(steps)
            samples[name].append(seconds)
            reached[name] = x
    per_step = {n: statistics.median(s) / steps * 1e6 for n, s in samples.items()}
    cli_run(min(steps, 200))  # warm up the file cache
    cli = [cli_run(steps) for _ in range(repeats)]
    cli_no_solve = [cli_run(steps, "--no-solve") for _ in range(repeats)]
    process = [process_run(steps) for _ in range(3)]
    breakdown = phases(steps)

    ratio = per_step["diffcli"] / per_step["torch"] if torch_ok else None
    report = {
        "steps": steps,
        "repeats": repeats,
        "per_step_us": per_step,
        "per_step_us_min": {n: min(s) / steps * 1e6 for n, s in samples.items()},
        "x_reached": reached,
        "ratio_diffcli_over_torch": ratio,
        "ratio_target": TARGET_RATIO,
        "cli_command": cli_command(steps),
        "cli_seconds": {
            "median": statistics.median(cli),
            "min": min(cli),
            "samples": cli,
        },
        "cli_target": TARGET_PROCESS,
        "cli_no_solve_seconds": {
            "median": statistics.median(cli_no_solve),
            "min": min(cli_no_solve),
        },
        "process_seconds": {"median": statistics.median(process), "min": min(process)},
        "process_phases_seconds": breakdown,
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(f"minimize {EXPR} (SGD, lr {LR}, {steps} steps, median of {repeats})")
    print(f"  diffcli       {per_step['diffcli']:8.1f} us/step")
    if torch_ok:
        print(f"  torch eager   {per_step['torch']:8.1f} us/step")
        same = reached["diffcli"] == reached["torch"]
        print(f"  same x reached: {same} ({reached['diffcli']!r})")
        print(
            f"  ratio diffcli/torch {ratio:.2f}  (target <= {TARGET_RATIO})  "
            f"{verdict(ratio <= TARGET_RATIO)}"
        )
    else:
        print("  torch not installed: no ratio")
    med = statistics.median(cli)
    print(
        f"whole process, `diffcli minimize ... --steps {steps}`: median {med:.2f} s,"
        f" min {min(cli):.2f} s (target < {TARGET_PROCESS:g} s)  "
        f"{verdict(med < TARGET_PROCESS)}"
    )
    print(
        f"  with --no-solve: median {statistics.median(cli_no_solve):.2f} s, "
        f"min {min(cli_no_solve):.2f} s"
    )
    print(
        f"  python -c minimize(...), all in one process: median "
        f"{statistics.median(process):.2f} s, min {min(process):.2f} s"
    )
    print("  " + ", ".join(f"{k} {v:.2f}" for k, v in breakdown.items()))
    print(f"  load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
