"""Run batch cases in worker processes, each case under a time limit.

Workers are forked after SymPy and the checker are imported, so no worker
imports them again.  A case that overruns its limit has its worker killed and
replaced; results come back in file order as soon as they are known.  However
the caller stops (Ctrl-C included), every worker is killed and reaped.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any

from diffcli.batch.cases import Case, CaseResult, run_case


def _worker(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if hasattr(signal, "pthread_sigmask"):  # blocked across the fork: see _Worker
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    while True:
        try:
            case = conn.recv()
        except EOFError:
            return
        if case is None:
            return
        conn.send(run_case(case))


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Hold Ctrl-C back (it is delivered on leaving) over steps not to be cut.

    A terminal sends SIGINT to every process of the group: a worker forked
    before it ignores SIGINT would die with a traceback, and a KeyboardInterrupt
    halfway through start-up or clean-up would leave a worker behind.  Callers
    use it too, e.g. to write a result and count it as one step.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# A worker holds its next case in its pipe while it runs the current one, so it
# never waits for the parent to hand it work (on a busy machine the parent may
# not be scheduled for a while, a sizeable part of a 15 ms case).  Only small
# cases are sent ahead: the pipe takes 64 KB or more without a reader, so that
# send never blocks the parent while the worker is sending it a large result.
PREFETCH_BYTES = 16_384


class _Worker:
    """A worker process, its pipe and the cases sent to it (the first running,
    at most one more waiting); listed by the caller before it starts, so that
    clean-up always finds it."""

    def __init__(self, ctx) -> None:
        self.conn, self._child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(self._child,), daemon=True)
        self.tasks: collections.deque[int] = collections.deque()
        self.started = 0.0  # when the first task began

    def start(self) -> None:
        with sigint_blocked():
            self.process.start()
            self._child.close()

    def give(self, index: int, data: Any) -> None:
        """Send a pickled case (see PREFETCH_BYTES for sending one ahead)."""
        if not self.tasks:
            self.started = time.monotonic()
        self.tasks.append(index)
        self.conn.send_bytes(data)

    def finished(self) -> int:
        """The first task's result came: the worker has begun the next one."""
        self.started = time.monotonic()
        return self.tasks.popleft()

    def kill(self) -> None:
        if self.process.pid is not None:
            self.process.kill()
            self.process.join()
        self._child.close()
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
    from diffcli.expr.symbolic import sympy

    sympy()
    run_case(Case("warm-up", "sin(x)*exp(x) + x**2", at={"x": 0.5}))
    _warm = True


def run_cases(
    cases: Sequence[Case],
    jobs: int = 0,
    timeout: float | None = 30.0,
    stop: Callable[[CaseResult], bool] | None = None,
) -> Iterator[CaseResult]:
    """Yield each case's result, in order; ``stop`` ends the run early.

    However the caller leaves (the end, ``stop``, an exception, Ctrl-C, or
    closing the generator), every worker is killed and reaped.
    """
    if not cases:
        return
    jobs = max(1, min(jobs or default_jobs(), len(cases)))
    warm_up()
    ctx = multiprocessing.get_context("fork")
    workers: list[_Worker] = []
    todo = list(range(len(cases)))[::-1]  # a stack: the next case is last
    done: dict[int, CaseResult] = {}
    emitted = 0
    try:
        for _ in range(jobs):
            workers.append(_Worker(ctx))
            workers[-1].start()
        while emitted < len(cases):
            for w in workers:
                if todo and not w.tasks:
                    k = todo.pop()
                    w.give(k, ForkingPickler.dumps(cases[k]))
            for w in workers:  # then one ahead each, while there is plenty to do
                if len(todo) < jobs or len(w.tasks) != 1:
                    continue
                data = ForkingPickler.dumps(cases[todo[-1]])
                if len(data) > PREFETCH_BYTES:
                    break  # sent when a worker is free
                w.give(todo.pop(), data)
            busy = [w for w in workers if w.tasks]
            left = (
                [w.started + timeout - time.monotonic() for w in busy]
                if timeout
                else []
            )
            ready = wait(
                [w.conn for w in busy], timeout=max(0.0, min(left)) if left else None
            )
            for i, w in enumerate(workers):
                if not w.tasks:
                    continue
                if w.conn in ready:
                    try:
                        result = w.conn.recv()
                        done[w.finished()] = result
                        continue
                    except (EOFError, OSError):
                        message = "the worker running this case died"
                elif timeout and time.monotonic() - w.started >= timeout:
                    message = f"timed out after {timeout:g} s"
                else:
                    continue
                k = w.tasks.popleft()
                done[k] = CaseResult(
                    cases[k].name,
                    cases[k].expr,
                    "error",
                    message=message,
                    seconds=time.monotonic() - w.started,
                    file=cases[k].file,
                    index=cases[k].index,
                )
                todo += reversed(w.tasks)  # sent ahead, never begun: run them again
                w.kill()
                workers[i] = _Worker(ctx)
                workers[i].start()
            while emitted in done:
                result = done.pop(emitted)
                emitted += 1
                yield result
                if stop is not None and stop(result):
                    return
    finally:
        with sigint_blocked():
            for w in workers:
                if not w.tasks and w.process.pid is not None:
                    with contextlib.suppress(OSError):
                        w.conn.send(None)
                w.kill()
