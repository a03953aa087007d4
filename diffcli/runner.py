"""Run batch cases in worker processes, each case under a time limit.

Workers are forked after SymPy and the checker are imported, so no worker
imports them again.  A case that overruns its limit has its worker killed and
replaced; results come back in file order as soon as they are known.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait

from diffcli.batch import Case, CaseResult, run_case


def _worker(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    while True:
        try:
            case = conn.recv()
        except EOFError:
            return
        if case is None:
            return
        conn.send(run_case(case))


class _Worker:
    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.task: int | None = None
        self.started = 0.0

    def give(self, index: int, case: Case) -> None:
        self.task, self.started = index, time.monotonic()
        self.conn.send(case)

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


def default_jobs() -> int:
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else (os.cpu_count() or 1)
    )


_warm = False


def warm_up() -> None:
    """Import what every case needs once, before forking workers.

    SymPy loads parts of itself on first use (simplify, lambdify's namespaces):
    one small case through the full check loads them here, once, instead of in
    every worker's first case.
    """
    global _warm
    if _warm:
        return
    import diffcli.check
    import diffcli.closed_form  # noqa: F401
    from diffcli.symbolic import sympy

    sympy()
    run_case(Case("warm-up", "sin(x)*exp(x) + x**2", at={"x": 0.5}))
    _warm = True


def run_cases(
    cases: Sequence[Case],
    jobs: int = 0,
    timeout: float | None = 30.0,
    stop: Callable[[CaseResult], bool] | None = None,
) -> Iterator[CaseResult]:
    """Yield each case's result, in order; ``stop`` ends the run early."""
    jobs = max(1, min(jobs or default_jobs(), len(cases) or 1))
    warm_up()
    ctx = multiprocessing.get_context("fork")
    workers = [_Worker(ctx) for _ in range(jobs)]
    todo = list(range(len(cases)))[::-1]
    done: dict[int, CaseResult] = {}
    emitted = 0
    try:
        while emitted < len(cases):
            for w in workers:
                if w.task is None and todo:
                    k = todo.pop()
                    w.give(k, cases[k])
            busy = [w for w in workers if w.task is not None]
            left = (
                [w.started + timeout - time.monotonic() for w in busy]
                if timeout
                else []
            )
            ready = wait(
                [w.conn for w in busy], timeout=max(0.0, min(left)) if left else None
            )
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                k = w.task
                if w.conn in ready:
                    try:
                        done[k] = w.conn.recv()
                        w.task = None
                        continue
                    except (EOFError, OSError):
                        message = "the worker running this case died"
                elif timeout and time.monotonic() - w.started >= timeout:
                    message = f"timed out after {timeout:g} s"
                else:
                    continue
                done[k] = CaseResult(
                    cases[k].name,
                    cases[k].expr,
                    "error",
                    message=message,
                    seconds=time.monotonic() - w.started,
                    file=cases[k].file,
                    index=cases[k].index,
                )
                w.kill()
                workers[i] = _Worker(ctx)
            while emitted in done:
                result = done.pop(emitted)
                emitted += 1
                yield result
                if stop is not None and stop(result):
                    return
    finally:
        for w in workers:
            if w.task is None:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
            w.kill()
