"""Engine benchmarks: diffcli timed against baselines run in the same process.

A script, not a test: it prints a table with each target and PASS/MISS and
always exits 0.  See benchmarks/README.md for what each row measures.

    python benchmarks/bench_engine.py            # full sizes (about a minute)
    python benchmarks/bench_engine.py --quick    # smaller sizes
    python benchmarks/bench_engine.py --json     # machine-readable output
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from time import perf_counter
from typing import Any

import numpy as np

import diffcli as dc

SIZES = {
    "full": {"n": 10**7, "chain": 200_000, "repeats": 7, "chain_repeats": 3},
    "quick": {"n": 10**6, "chain": 20_000, "repeats": 5, "chain_repeats": 2},
}
TARGET_NORM = 1.5  # diffcli / hand numpy, norm(x**2) forward + backward
ISSUE_TORCH_NORM = 4.8  # torch / hand numpy as quoted in the issue (info only)
TARGET_CHAIN = 0.5  # diffcli / torch per iteration of the scalar chain
TARGET_MEMORY = 6.0  # peak extra bytes / input bytes, norm(x**2)


# --- the functions being measured ------------------------------------------


def numpy_norm_grad(a: np.ndarray) -> tuple[float, np.ndarray]:
    """Hand-written norm(x**2) and its gradient 2*x*y/n: one temporary, reused."""
    y = a * a
    n = np.sqrt(np.dot(y, y))
    y *= 2.0 / n
    y *= a  # y is now the gradient
    return float(n), y


def diffcli_norm_grad(a: np.ndarray) -> tuple[Any, Any]:
    x = dc.from_numpy(a).requires_grad_()
    z = dc.norm(x**2)
    z.backward()
    return z, x.grad


def torch_norm_grad(a: np.ndarray) -> tuple[Any, Any]:
    import torch

    x = torch.from_numpy(a).requires_grad_()
    z = torch.norm(x**2)
    z.backward()
    return z, x.grad


def chain(x: Any, n: int) -> tuple[float, float, Any]:
    """The scalar chain on a 0-d leaf; (forward s, backward s, final output)."""
    t0 = perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.000001 + 0.0
    t1 = perf_counter()
    y.backward()
    t2 = perf_counter()
    return t1 - t0, t2 - t1, y


def diffcli_leaf() -> Any:
    return dc.tensor(1.0, requires_grad=True)


def torch_leaf() -> Any:
    import torch

    return torch.tensor(1.0, dtype=torch.float64, requires_grad=True)


# --- measurement helpers -----------------------------------------------------


class GcClock:
    """Time spent inside the garbage collector, via gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start: float | None = None

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = perf_counter()
        elif self._start is not None:
            self.seconds += perf_counter() - self._start
            self.collections += 1
            self._start = None

    def reset(self) -> None:
        self.seconds, self.collections, self._start = 0.0, 0, None


def timed_call(fn: Callable[[np.ndarray], Any], a: np.ndarray) -> float:
    """Seconds for one call; the result is freed after the clock stops."""
    gc.collect()
    t0 = perf_counter()
    out = fn(a)
    elapsed = perf_counter() - t0
    del out
    return elapsed


def timed_chain(
    leaf: Callable[[], Any], n: int, gc_on: bool, clock: GcClock
) -> dict[str, float]:
    """One chain run in the requested gc state; per-phase seconds."""
    gc.collect()
    if not gc_on:
        gc.disable()
    x = leaf()
    clock.reset()
    gc.callbacks.append(clock)
    try:
        fwd, bwd, y = chain(x, n)
    finally:
        gc.callbacks.remove(clock)
        gc.enable()
    grad = float(x.grad)
    del x, y
    gc.collect()
    return {
        "forward": fwd,
        "backward": bwd,
        "total": fwd + bwd,
        "gc": clock.seconds,
        "gc_collections": clock.collections,
        "grad": grad,
    }


def summary(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "samples": samples,
    }


def traced_peak(fn: Callable[[np.ndarray], Any], a: np.ndarray) -> int:
    """Peak bytes tracemalloc sees during ``fn(a)``, above what was live before.

    ``a`` was allocated before tracing starts, so it is excluded; the gradient
    the call returns is included (it is live at the peak or after it).
    """
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn(a)
        peak = tracemalloc.get_traced_memory()[1]
        del out
    finally:
        tracemalloc.stop()
    return peak - base


def rss_child(engine: str, n: int) -> None:
    """Run in a fresh process: print the RSS high-water mark the call adds."""
    fn = {
        "numpy": numpy_norm_grad,
        "diffcli": diffcli_norm_grad,
        "torch": torch_norm_grad,
    }[engine]
    fn(np.ones(1000))  # import and initialise lazily loaded code
    a = np.random.default_rng(0).standard_normal(n)
    gc.collect()
    try:  # reset VmHWM to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before, method = _proc_status("VmRSS"), "VmHWM after clear_refs"
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        method = "ru_maxrss"
    out = fn(a)
    if method == "ru_maxrss":
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    else:
        after = _proc_status("VmHWM")
    del out
    print(json.dumps({"delta": after - before, "input": a.nbytes, "method": method}))


def _proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        match = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.MULTILINE)
    if match is None:
        raise OSError(f"no {field} in /proc/self/status")
    return int(match.group(1)) * 1024


def rss_delta(engine: str, n: int) -> dict[str, Any] | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", engine]
    cmd += ["--n", str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        progress(f"rss child {engine} failed: {proc.stderr.strip()[-200:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sci(n: int) -> str:
    """10000000 -> '1e7', 200000 -> '2e5' (plain digits otherwise)."""
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if float(f"{n:.0e}") == n else str(n)


# --- the benchmarks ------------------------------------------------------------


def bench_norm(n: int, repeats: int, torch_ok: bool) -> dict[str, Any]:
    a = np.random.default_rng(0).standard_normal(n)
    engines: dict[str, Callable[[np.ndarray], Any]] = {
        "numpy": numpy_norm_grad,
        "diffcli": diffcli_norm_grad,
    }
    if torch_ok:
        engines["torch"] = torch_norm_grad
    # Sanity: every engine agrees with the hand gradient (not timed).
    _, want = numpy_norm_grad(a)
    correct = {}
    for name, fn in engines.items():
        got = np.asarray(fn(a)[1])
        correct[name] = bool(np.allclose(got, want, rtol=1e-10, atol=0))
    del want, got
    for _ in range(2):  # warm up: code paths, allocator, page mappings
        for fn in engines.values():
            timed_call(fn, a)
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeats):  # interleaved, so drift hits every engine alike
        for name, fn in engines.items():
            samples[name].append(timed_call(fn, a))
    peaks = {name: traced_peak(engines[name], a) for name in ("numpy", "diffcli")}
    return {
        "n": n,
        "input_bytes": a.nbytes,
        "correct": correct,
        "time": {name: summary(s) for name, s in samples.items()},
        "traced_peak": peaks,
    }


def bench_chain(n: int, repeats: int, torch_ok: bool) -> dict[str, Any]:
    leaves = {"diffcli": diffcli_leaf}
    if torch_ok:
        leaves["torch"] = torch_leaf
    clock = GcClock()
    for leaf in leaves.values():  # warm up on a shorter chain
        timed_chain(leaf, max(n // 10, 1), True, clock)
    result: dict[str, Any] = {"n": n, "thresholds": list(gc.get_threshold())}
    for gc_on in (True, False):
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in leaves}
        for _ in range(repeats):
            for name, leaf in leaves.items():
                runs[name].append(timed_chain(leaf, n, gc_on, clock))
        result["gc_on" if gc_on else "gc_off"] = {
            name: {
                key: summary([r[key] for r in rs])
                for key in ("total", "forward", "backward", "gc", "gc_collections")
            }
            | {"grad": rs[-1]["grad"]}
            for name, rs in runs.items()
        }
    return result


# --- report --------------------------------------------------------------------


def verdict(ratio: float | None, target: float, counted: bool = True) -> str:
    if ratio is None:
        return "n/a"
    word = "PASS" if ratio <= target else "MISS"
    return word if counted else f"({word})"


def build_rows(norm: dict, chain_: dict, rss: dict) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    t = norm["time"]
    size = sci(norm["n"])
    np_s = t["numpy"]["median"]
    ok = norm["correct"]

    def row(name, value, base, unit, ratio, target, result, target_text=None):
        rows.append(
            {
                "row": name,
                "value": value,
                "baseline": base,
                "unit": unit,
                "ratio": ratio,
                "target": target,
                "target_text": target_text
                or ("" if target is None else f"<={target:g}x"),
                "result": result,
            }
        )

    ratio = t["diffcli"]["median"] / np_s
    result = verdict(ratio, TARGET_NORM) if ok["diffcli"] else "WRONG"
    row(
        f"norm(x**2) {size} diffcli/numpy",
        t["diffcli"]["median"] * 1e3,
        np_s * 1e3,
        "ms",
        ratio,
        TARGET_NORM,
        result,
    )
    if "torch" in t:
        ratio = t["torch"]["median"] / np_s
        row(
            "  torch/numpy",
            t["torch"]["median"] * 1e3,
            np_s * 1e3,
            "ms",
            ratio,
            None,
            "info" if ok["torch"] else "WRONG",
            f"~{ISSUE_TORCH_NORM:g}x",
        )
    size = sci(chain_["n"])
    per_it = 1e6 / chain_["n"]
    for key, label, counted in (
        ("gc_on", f"chain {size} diffcli/torch gc on", True),
        ("gc_off", "  gc off (diagnosis)", False),
    ):
        runs = chain_[key]
        mine = runs["diffcli"]["total"]["median"] * per_it
        theirs = runs["torch"]["total"]["median"] * per_it if "torch" in runs else None
        ratio = None if theirs is None else mine / theirs
        result = verdict(ratio, TARGET_CHAIN, counted)
        if "torch" in runs and not np.isclose(
            runs["diffcli"]["grad"], runs["torch"]["grad"], rtol=1e-9
        ):
            result = "WRONG"
        row(label, mine, theirs, "us/it", ratio, TARGET_CHAIN, result)
    inp = norm["input_bytes"]
    peaks = norm["traced_peak"]
    size = sci(norm["n"])
    row(
        f"peak mem {size} diffcli/input",
        peaks["diffcli"] / 1e6,
        inp / 1e6,
        "MB",
        peaks["diffcli"] / inp,
        TARGET_MEMORY,
        verdict(peaks["diffcli"] / inp, TARGET_MEMORY),
    )
    row(
        "  numpy/input",
        peaks["numpy"] / 1e6,
        inp / 1e6,
        "MB",
        peaks["numpy"] / inp,
        None,
        "info",
    )
    for engine, res in rss.items():
        if res is not None:
            delta = res["delta"]
            row(
                f"  RSS {engine}/input (subproc)",
                delta / 1e6,
                inp / 1e6,
                "MB",
                delta / inp,
                None,
                "info",
            )
    return rows


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    digits = 0 if value >= 1000 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def render(meta: dict, rows: list[dict], chain_: dict) -> str:
    torch = "absent"
    if meta["torch"]:
        torch = f"{meta['torch']} ({meta['torch_threads']} threads)"
    lines = [
        f"diffcli engine benchmark ({meta['mode']}; median of {meta['repeats']}, "
        f"chain {meta['chain_repeats']}; gc "
        + "/".join(map(str, meta["gc_thresholds"]))
        + f", {meta['gc_frozen_imports']} imported objects frozen)",
        f"python {meta['python']}, numpy {meta['numpy']}, torch {torch}, "
        f"{meta['cpus']} cpus",
        "",
        f"{'row':<32} {'measured':>11} {'baseline':>11} {'ratio':>6} "
        f"{'target':>7} {'result':>6}",
        "-" * 78,
    ]
    for r in rows:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(
            f"{r['row']:<32} {fmt_value(r['value'], r['unit']):>11} "
            f"{fmt_value(r['baseline'], r['unit']):>11} {ratio:>6} "
            f"{r['target_text']:>7} {r['result']:>6}"
        )
    lines.append("-" * 78)
    counted = [r for r in rows if r["result"] in ("PASS", "MISS", "WRONG")]
    passed = sum(r["result"] == "PASS" for r in counted)
    lines.append(f"{passed}/{len(counted)} targets met")
    lines.append("chain split, us/it (median): forward + backward; gc pauses")
    per_it = 1e6 / chain_["n"]
    for key in ("gc_on", "gc_off"):
        for engine, runs in chain_[key].items():
            fwd = runs["forward"]["median"] * per_it
            bwd = runs["backward"]["median"] * per_it
            pause = runs["gc"]["median"] * per_it
            count = runs["gc_collections"]["median"]
            lines.append(
                f"  {key:<6} {engine:<7} {fwd:6.2f} + {bwd:6.2f}; "
                f"gc {pause:5.2f} ({count:.0f} collections)"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--json", action="store_true", help="print JSON, no table")
    parser.add_argument("--repeats", type=int, help="timed runs of the norm case")
    parser.add_argument("--chain-repeats", type=int, help="timed runs of the chain")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument(
        "--no-rss", action="store_true", help="skip the subprocess RSS rows"
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="let collections walk the imported modules (torch's too)",
    )
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.n)
        return

    mode = "quick" if args.quick else "full"
    size = dict(SIZES[mode])
    size["repeats"] = args.repeats or size["repeats"]
    size["chain_repeats"] = args.chain_repeats or size["chain_repeats"]
    torch_version = None
    if not args.no_torch:
        try:
            import torch

            torch_version = torch.__version__
        except ImportError:
            progress("torch not importable: its rows are skipped")
    torch_ok = torch_version is not None
    if not args.no_freeze:
        # torch's import leaves some 145,000 objects that every full collection
        # during diffcli's chain would walk, which no diffcli-only process has:
        # frozen (with everything else imported), each engine pays for its own.
        gc.freeze()

    progress(f"norm(x**2) on {sci(size['n'])} elements ...")
    norm = bench_norm(size["n"], size["repeats"], torch_ok)
    progress(f"scalar chain of {sci(size['chain'])} iterations (slow) ...")
    chain_ = bench_chain(size["chain"], size["chain_repeats"], torch_ok)
    rss: dict[str, Any] = {}
    if not args.no_rss and sys.platform.startswith("linux"):
        progress("RSS in subprocesses ...")
        engines = ["numpy", "diffcli"] + (["torch"] if torch_ok else [])
        rss = {engine: rss_delta(engine, size["n"]) for engine in engines}

    meta = {
        "mode": mode,
        **size,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        "torch_threads": None,
        "cpus": os.cpu_count(),
        "gc_thresholds": list(gc.get_threshold()),
        "gc_frozen_imports": gc.get_freeze_count(),
    }
    if torch_ok:
        import torch

        meta["torch_threads"] = torch.get_num_threads()
    rows = build_rows(norm, chain_, rss)
    if args.json:
        doc = {"meta": meta, "rows": rows, "norm": norm, "chain": chain_, "rss": rss}
        print(json.dumps(doc, indent=2))
    else:
        print(render(meta, rows, chain_))


if __name__ == "__main__":
    main()
