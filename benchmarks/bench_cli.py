"""Whole-process cost of the command line, against the equivalent PyTorch script.

    python benchmarks/bench_cli.py [--runs 5]

Each command runs as its own process; the figure is the median wall time of
``--runs`` runs and the peak resident memory (ru_maxrss of that child, from
os.wait4).  The targets (issue "The command line"): the checked ``grad`` at
most a third of the PyTorch script's time and under 100 MiB; ``--no-check``
under 0.25 s; ``--help`` without SymPy or torch.  Ratios are printed because
absolute times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable
EXPR = ["a*x**2+b*x+c", "--at", "x=0", "--let", "a=1", "--let", "b=-2", "--let", "c=1"]
TORCH_SCRIPT = """\
import torch
a, b, c = torch.tensor(1.0), torch.tensor(-2.0), torch.tensor(1.0)
x = torch.tensor(0.0, requires_grad=True)
y = a * x**2 + b * x + c
y.backward()
print(x.grad)
"""


def run_once(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    if proc.stderr:
        proc.stderr.close()
    rss = usage.ru_maxrss / 1024  # KiB on Linux
    return wall, usage.ru_utime + usage.ru_stime, rss


def measure(cmd: list[str], runs: int) -> tuple[float, float, float]:
    """Median wall time, median CPU time (steadier on a loaded machine), peak MiB."""
    run_once(cmd)  # warm the file cache
    results = [run_once(cmd) for _ in range(runs)]
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        max(r[2] for r in results),
    )


def imports_of(code: str) -> set[str]:
    out = subprocess.run(
        [PY, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def main() -> None:
    """Measure, then print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cli = [PY, "-m", "diffcli", "grad"]
    rows = {
        "python -c pass": measure([PY, "-c", "pass"], args.runs),
        "diffcli --help": measure([PY, "-m", "diffcli", "--help"], args.runs),
        "grad --no-check": measure([*cli, *EXPR, "--no-check"], args.runs),
        "grad (checked)": measure([*cli, *EXPR], args.runs),
    }
    torch = None
    if importlib.util.find_spec("torch") is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
            fh.write(TORCH_SCRIPT)
        try:
            torch = measure([PY, fh.name], args.runs)
            rows["PyTorch script"] = torch
        finally:
            os.unlink(fh.name)
    print(f"{'command':<18} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}")
    for name, (wall, cpu, rss) in rows.items():
        print(f"{name:<18} {wall:8.3f} {cpu:8.3f} {rss:9.1f}")
    full, nocheck = rows["grad (checked)"], rows["grad --no-check"]
    print()
    if torch:
        for label, row in (("checked grad", full), ("--no-check  ", nocheck)):
            print(
                f"{label} / PyTorch script: wall {row[0] / torch[0]:.2f}, "
                f"CPU {row[1] / torch[1]:.2f} (target for the checked one <= 0.33)"
            )
    else:
        print("torch is not importable: no baseline ratio")
    print(f"checked grad peak memory: {full[2]:.1f} MiB (target < 100)")
    print(f"--no-check wall time: {nocheck[0]:.3f} s (target < 0.25)")
    light = imports_of("import diffcli.cli")
    print(
        "import diffcli.cli loads sympy:", "sympy" in light, "torch:", "torch" in light
    )


if __name__ == "__main__":
    main()
