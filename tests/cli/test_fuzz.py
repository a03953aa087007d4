"""The fuzz test: thousands of seeded random command lines (fuzz_inputs.py),
each ending in a result or one of diffcli's own errors, never an internal error
or a traceback.

Run as a script for the outcome counts of any seed and size:
``python tests/cli/test_fuzz.py [SEED] [COUNT]``.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fuzz_inputs, run as a script

from fuzz_inputs import commands

SEED = 13
COUNT = 1500
WORKERS = 2
# SymPy's budgets cut short (simplify, exact evaluation): every path still runs,
# in a third of the time; what they decide is not what this test checks.
BUDGETS = {"SIMPLIFY_SECONDS": 0.05, "EXACT_SECONDS": 0.25}


def outcome(args: list[str]) -> tuple[str, str]:
    """(kind, detail) of one command line run with --json."""
    from click.testing import CliRunner

    from diffcli.cli import main

    env = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    try:
        r = CliRunner(env=env).invoke(main, [*args, "--json"])
    except BaseException as err:  # anything at all is a finding
        return "crash", f"{type(err).__name__}: {err}"
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        return "crash", f"{type(r.exception).__name__}: {r.exception}"
    if "internal error" in r.output or "Traceback" in r.output:
        return "internal error", r.output.strip().splitlines()[-1]
    if r.exit_code == 2:
        ok = "error" in json.loads(r.stdout) and r.stderr.startswith(("error:", "Us"))
        return ("diffcli error" if ok else "bad error"), r.stderr.splitlines()[0]
    if r.exit_code not in (0, 1):
        return f"exit {r.exit_code}", r.output[-200:]
    data = json.loads(r.stdout)
    if "check" in data:
        return f"exit {r.exit_code} {data['check']['status']}", ""
    return f"exit {r.exit_code} {args[0]}", ""


def _run(chunk: list[list[str]]) -> list[tuple[str, str]]:
    from diffcli.expr import tidy as T
    from diffcli.verify import closed_form_at as CF

    T.SIMPLIFY_SECONDS = BUDGETS["SIMPLIFY_SECONDS"]
    CF.EXACT_SECONDS = BUDGETS["EXACT_SECONDS"]
    return [outcome(args) for args in chunk]


def run_all(seed: int, count: int) -> list[tuple[list[str], str, str]]:
    """Every command line with its outcome, run by WORKERS forked processes."""
    lines = commands(seed, count)
    chunks = [lines[k::WORKERS] for k in range(WORKERS)]
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        results = pool.map(_run, chunks)
    out = []
    for k, chunk in enumerate(chunks):
        out += [(a, *o) for a, o in zip(chunk, results[k], strict=True)]
    return out


@pytest.mark.skipif(sys.platform != "linux", reason="forks its workers")
def test_every_outcome_is_a_result_or_a_diffcli_error():
    found = run_all(SEED, COUNT)
    kinds = Counter(kind for _, kind, _ in found)
    bad = [
        (args, kind, detail)
        for args, kind, detail in found
        if not kind.startswith(("exit 0", "exit 1", "diffcli error"))
    ]
    assert not bad, (kinds, bad[:5])
    # the fuzz reaches every kind of result it is meant to exercise
    assert kinds["exit 0 ok"] > COUNT // 3
    for kind in ("diffcli error", "exit 0 not-differentiable", "exit 0 skipped"):
        assert kinds[kind] > 10, kinds


def test_the_inputs_are_seeded():
    assert commands(SEED, 50) == commands(SEED, 50)
    assert commands(SEED, 50) != commands(SEED + 1, 50)
    assert any(a[1].startswith("-") for a in commands(SEED, 300))


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else SEED
    count = int(sys.argv[2]) if len(sys.argv) > 2 else COUNT
    found = run_all(seed, count)
    counts = Counter(kind for _, kind, _ in found)
    print(f"{count} inputs (seed {seed})")
    for kind, n in counts.most_common():
        print(f"{n:7d}  {kind}")
    for args, kind, detail in found:  # what needs a look
        if kind.startswith(("crash", "internal", "bad", "exit 1 mismatch")):
            print(f"{kind}: {args} {detail}")
