"""Run batch cases in worker processes, each case under a time limit.

Workers are forked after SymPy and the checker are imported, so no worker
imports them again.  A case that overruns its limit has its worker killed and
replaced; results come back in file order as soon as they are known.  However
the caller stops (Ctrl-C or another signal included), every worker is killed
and reaped; and a worker whose parent died without that (SIGKILL) ends itself.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any

from diffcli.batch.cases import DEFAULT_TIMEOUT, Case, CaseResult, run_case

# The signals whose default action ends a process, faults aside (a crash is not a
# request to stop).  A CLI turns them into StopSignal (stop_signals_raised);
# workers ignore them: their parent ends them, or the kernel when it dies.
STOP_SIGNALS = frozenset(
    getattr(signal, name)
    for name in (
        *("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2"),
        *("SIGALRM", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGIO", "SIGPWR"),
        "SIGSTKFLT",
    )
    if hasattr(signal, name)
) | frozenset(
    range(signal.SIGRTMIN, signal.SIGRTMAX + 1) if hasattr(signal, "SIGRTMIN") else ()
)

# Linux ends a worker the moment its parent dies (PR_SET_PDEATHSIG); elsewhere a
# thread in the worker watches for it.  Tests switch the former off.
DEATH_SIGNAL = sys.platform.startswith("linux")
WATCH_SECONDS = 0.5


class StopSignal(KeyboardInterrupt):
    """A signal that would end the process, raised where it lands, as Ctrl-C
    raises KeyboardInterrupt: whatever cleans up after Ctrl-C cleans up after it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_signals_raised() -> Iterator[None]:
    """Turn each signal that would end this process into StopSignal (Ctrl-C
    already is KeyboardInterrupt), so that a run stops as it does on Ctrl-C.

    Only signals left at their default action are taken (one a program set
    aside, e.g. SIGHUP under nohup, stays so).  The first one puts the defaults
    back: a second one ends the process at once.  Main thread only.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    taken = [
        s
        for s in STOP_SIGNALS - {signal.SIGINT}
        if signal.getsignal(s) is signal.SIG_DFL
    ]

    def restore() -> None:
        for s in taken:
            signal.signal(s, signal.SIG_DFL)

    def raise_stop(signum: int, frame: Any) -> None:
        restore()
        raise StopSignal(signum)

    for s in taken:
        signal.signal(s, raise_stop)
    try:
        yield
    finally:
        restore()


def signal_number(err: KeyboardInterrupt) -> int:
    """The signal behind an interruption: Ctrl-C's SIGINT, or a StopSignal's."""
    return getattr(err, "signum", signal.SIGINT)


def _worker(conn: Connection, inherited: list[Connection], parent: int) -> None:
    for signum in STOP_SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_IGN)  # the parent decides when to stop
    if hasattr(signal, "pthread_sigmask"):  # blocked across the fork: see _Worker
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    for end in inherited:  # so that the parent's death is end-of-file here
        end.close()
    _end_with_parent(parent)
    while True:
        try:
            case = conn.recv()
            if case is None:
                return
            conn.send(run_case(case))
        except (EOFError, OSError):  # the parent is gone
            return


def _end_with_parent(parent: int) -> None:
    """End this worker when its parent dies, even mid-case and by SIGKILL."""
    if DEATH_SIGNAL:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:  # it died before we asked
                    os._exit(0)
                return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(0)


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Hold back the signals that stop a run (delivered on leaving) over steps
    not to be cut.

    A terminal sends SIGINT (SIGHUP, SIGQUIT) to every process of the group: a
    worker forked before it ignores them would die with a traceback, and a
    KeyboardInterrupt halfway through start-up or clean-up would leave a worker
    behind.  Callers use it too, e.g. to write a result and count it as one step.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
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
        self._ctx = ctx
        self.process: Any = None
        self.tasks: collections.deque[int] = collections.deque()
        self.started = 0.0  # when the first task began

    def start(self, others: Sequence[_Worker]) -> None:
        """Fork it; it closes its copies of every parent end of a pipe."""
        ends = [self.conn, *(w.conn for w in others if w is not self)]
        self.process = self._ctx.Process(
            target=_worker, args=(self._child, ends, os.getpid()), daemon=True
        )
        with stop_signals_blocked():
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
        if self.process is not None and self.process.pid is not None:
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
    timeout: float | None = DEFAULT_TIMEOUT,
    stop: Callable[[CaseResult], bool] | None = None,
) -> Iterator[CaseResult]:
    """Yield each case's result, in order; ``stop`` ends the run early.

    However the caller leaves (the end, ``stop``, an exception, Ctrl-C or
    StopSignal, or closing the generator), every worker is killed and reaped.
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
            workers[-1].start(workers)
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
                workers[i].start(workers)
            while emitted in done:
                result = done.pop(emitted)
                emitted += 1
                yield result
                if stop is not None and stop(result):
                    return
    finally:
        with stop_signals_blocked():
            for w in workers:
                if not w.tasks and w.process is not None and w.process.pid is not None:
                    with contextlib.suppress(OSError):
                        w.conn.send(None)
                w.kill()
