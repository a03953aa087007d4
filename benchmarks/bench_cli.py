"""Whole-process cost of the command line, against the equivalent PyTorch script.

    python benchmarks/bench_cli.py [--runs 9]

Each command runs as its own process, the commands taking turns for ``--runs``
rounds; the figures are median wall and CPU times, the peak resident memory
(ru_maxrss of the child, from os.wait4), and ratios taken within each round.
The targets (issue "The command line"): the checked ``grad`` at most a third
of the PyTorch script's time and under 100 MiB; ``--no-check`` under 0.25 s;
``--help`` without SymPy or torch.  Ratios are printed because absolute times
depend on the machine and its load.
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


def measure(cmds: dict[str, list[str]], runs: int) -> dict[str, list[tuple]]:
    """``runs`` samples of each command, taking turns run by run, so that a slow
    spell of the machine slows them all rather than one of them."""
    for cmd in cmds.values():
        run_once(cmd)  # warm the file cache
    samples: dict[str, list[tuple]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            samples[name].append(run_once(cmd))
    return samples


def summary(runs: list[tuple]) -> tuple[float, float, float]:
    """Median wall time, median CPU time, peak MiB."""
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        max(r[2] for r in runs),
    )


def paired_ratio(runs: list[tuple], base: list[tuple], i: int) -> float:
    """Median over rounds of this command's time over the baseline's, both
    taken in the same round."""
    return statistics.median(r[i] / b[i] for r, b in zip(runs, base, strict=True))


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
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    cli = [PY, "-m", "diffcli", "grad"]
    cmds = {
        "python -c pass": [PY, "-c", "pass"],
        "diffcli --help": [PY, "-m", "diffcli", "--help"],
        "grad --no-check": [*cli, *EXPR, "--no-check"],
        "grad (checked)": [*cli, *EXPR],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(TORCH_SCRIPT)
    has_torch = importlib.util.find_spec("torch") is not None
    if has_torch:
        cmds["PyTorch script"] = [PY, fh.name]
    try:
        samples = measure(cmds, args.runs)
    finally:
        os.unlink(fh.name)
    rows = {name: summary(runs) for name, runs in samples.items()}
    print(f"{'command':<18} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}")
    for name, (wall, cpu, rss) in rows.items():
        print(f"{name:<18} {wall:8.3f} {cpu:8.3f} {rss:9.1f}")
    full, nocheck = rows["grad (checked)"], rows["grad --no-check"]
    print()
    if has_torch:
        base = samples["PyTorch script"]
        for label, name in (
            ("checked grad", "grad (checked)"),
            ("--no-check  ", "grad --no-check"),
        ):
            wall = paired_ratio(samples[name], base, 0)
            cpu = paired_ratio(samples[name], base, 1)
            print(
                f"{label} / PyTorch script: wall {wall:.2f}, CPU {cpu:.2f} "
                "(median of per-round ratios; target for the checked one <= 0.33)"
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
