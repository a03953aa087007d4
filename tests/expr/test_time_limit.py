"""SymPy's time limit: it interrupts the block, nests, and strikes only where
the exception reaches the block (never in a finalizer, a gc callback or a
context manager's exit, where it would be lost or leave a cleanup half done;
never after the block has ended)."""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
import traceback

import pytest

from diffcli.expr import symbolic as S


def test_time_limit_interrupts_and_restores_the_handler():
    before = signal.getsignal(signal.SIGALRM)
    with (
        pytest.raises(S.SymbolicTimeout, match=r"longer than 0.05 s"),
        S.time_limit(0.05),
    ):
        time.sleep(2)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limits_nest():
    class Inner(Exception):
        pass

    with S.time_limit(5.0):
        with pytest.raises(Inner), S.time_limit(0.05, Inner):
            time.sleep(1)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 3.0 < left < 5.0  # the enclosing limit is back, minus the time used
        with S.time_limit(60.0, Inner):  # a looser inner limit changes nothing
            assert signal.getitimer(signal.ITIMER_REAL)[0] <= left
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with (
        pytest.raises(S.SymbolicTimeout),
        S.time_limit(0.05),
        S.time_limit(10.0, Inner),  # the enclosing limit still fires
    ):
        time.sleep(1)


def test_time_limit_off_the_main_thread_is_no_limit():
    seen = []

    def work():
        with S.time_limit(0.01):
            time.sleep(0.05)
        seen.append(S.can_time_limit())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [False]


def strike() -> None:
    signal.raise_signal(signal.SIGALRM)  # as if the deadline passed right here


def in_a_finalizer(done: list) -> None:
    class Garbage:
        def __del__(self) -> None:
            strike()
            done.append(True)

    Garbage()


def in_a_gc_callback(done: list) -> None:
    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            strike()
            done.append(True)

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)


def in_a_context_managers_exit(done: list) -> None:
    class Cleanup:
        def __enter__(self) -> None:
            pass

        def __exit__(self, *exc: object) -> None:
            strike()
            done.append(True)

    with Cleanup():
        pass


@pytest.mark.parametrize(
    "place", [in_a_finalizer, in_a_gc_callback, in_a_context_managers_exit]
)
def test_a_deadline_waits_until_it_can_reach_the_block(place, monkeypatch):
    dropped, done = [], []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    with pytest.raises(S.SymbolicTimeout) as caught, S.time_limit(60.0):
        place(done)
        assert done == [True]  # ran to its end, not cut short
        time.sleep(60)  # the retry strikes here, in the block
    where = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert where == ["test_a_deadline_waits_until_it_can_reach_the_block", "_expire"]
    assert dropped == []
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_alarm_after_the_block_does_nothing():
    with S.time_limit(60.0):
        expire = signal.getsignal(signal.SIGALRM)
    expire(signal.SIGALRM, sys._getframe())  # handled late: the block has ended
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
