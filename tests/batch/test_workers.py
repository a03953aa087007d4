"""The runner: forked workers, results in file order, per-case time limits,
fail-fast.  Few and small: every run forks processes."""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time

import pytest

from diffcli.batch import workers as runner
from diffcli.batch.cases import Case, CaseResult, run_case

EXPRS = ["x**2", "sin(x)", "exp(x) * x", "x**3 - x", "log(1 + x**2)", "tanh(x)"]


def cases(*names: str) -> list[Case]:
    return [
        Case(n, EXPRS[i % len(EXPRS)], at={"x": 0.5 + i}, index=i)
        for i, n in enumerate(names)
    ]


def scripted(case: Case) -> CaseResult:
    """run_case, after misbehaving as the case's name says (runs in a worker)."""
    if case.name.startswith("slow"):
        time.sleep(float(case.name.split()[1]))
    if case.name == "hang":
        time.sleep(60)
    if case.name == "crash":
        os._exit(3)
    result = run_case(case)
    if case.name == "fail":
        result.status, result.message = "fail", "made to fail"
    result.message += f" pid={os.getpid()} sympy={'sympy' in sys.modules}"
    return result


@pytest.fixture
def scripted_runner(monkeypatch):
    # workers are forked, so they see the module-level patch
    monkeypatch.setattr(runner, "run_case", scripted)
    yield
    assert multiprocessing.active_children() == []  # every worker was reaped


def test_results_in_file_order_with_two_jobs(scripted_runner):
    # the first case finishes last, yet comes out first
    todo = cases("slow 0.4", "a", "b", "c", "d")
    results = list(runner.run_cases(todo, jobs=2, timeout=20))
    assert [r.name for r in results] == ["slow 0.4", "a", "b", "c", "d"]
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert all(r.status == "ok" for r in results), [r.message for r in results]
    pids = {r.message.split("pid=")[1].split()[0] for r in results}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two forked workers
    assert all("sympy=True" in r.message for r in results)  # imported before fork
    assert results[2].value == pytest.approx(2.5 * math.exp(2.5), rel=1e-15)


def test_timeout_is_an_error_and_the_rest_go_on(scripted_runner):
    todo = cases("a", "hang", "crash", "b", "c")
    start = time.monotonic()
    results = list(runner.run_cases(todo, jobs=2, timeout=1.0))
    assert time.monotonic() - start < 10
    assert [r.name for r in results] == ["a", "hang", "crash", "b", "c"]
    assert [r.status for r in results] == ["ok", "error", "error", "ok", "ok"]
    hang, crash = results[1], results[2]
    assert hang.message == "timed out after 1 s"
    assert 1.0 <= hang.seconds < 5
    assert (hang.expr, hang.index) == ("sin(x)", 1)
    assert crash.message == "the worker running this case died"


def test_stop_ends_the_run_early(scripted_runner):
    todo = cases("a", "fail", "b", "c", "d", "e", "f", "g")
    seen = []

    def stop(result: CaseResult) -> bool:
        seen.append(result.name)
        return result.status != "ok"

    results = list(runner.run_cases(todo, jobs=2, stop=stop))
    assert [r.name for r in results] == ["a", "fail"] == seen


def test_one_job_in_process_order_and_empty_input():
    results = list(runner.run_cases(cases("p", "q", "r"), jobs=1, timeout=None))
    assert [(r.name, r.status) for r in results] == [
        ("p", "ok"),
        ("q", "ok"),
        ("r", "ok"),
    ]
    assert list(runner.run_cases([], jobs=2)) == []
    assert multiprocessing.active_children() == []


def test_default_jobs_is_positive():
    assert runner.default_jobs() >= 1


def test_an_idle_worker_ends_when_its_parent_end_closes(monkeypatch):
    """Each worker closes its copies of the parent ends of every pipe, so a
    parent that dies without a word (SIGKILL) is end-of-file to them all."""
    made = []

    class Recorded(runner._Worker):
        def start(self, *args):
            super().start(*args)
            made.append(self)

    monkeypatch.setattr(runner, "_Worker", Recorded)
    stream = runner.run_cases(cases("a", "b"), jobs=2)
    assert [next(stream).name, next(stream).name] == ["a", "b"]  # both idle now
    assert len(made) == 2
    for w in made:
        w.conn.close()  # as the parent's death would
    for w in made:
        w.process.join(timeout=30)
        assert w.process.exitcode == 0  # it read end-of-file and returned
    stream.close()
    assert multiprocessing.active_children() == []
