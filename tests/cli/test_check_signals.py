"""``diffcli check`` stopped by a signal: every signal that ends it ends its
workers, reports what ran (summary, JUnit) and exits 128 + the signal; a parent
killed outright (SIGKILL) leaves no worker behind either.

Real processes: the run is started in its own session, a test-only hook makes
two cases hang in the workers, and each worker says so on stderr when it starts
one; the signal goes out once both have.  /proc then tells which processes of
that session are still alive (a zombie runs nothing)."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_helpers import ENV
from click.testing import CliRunner

from diffcli.batch import workers as runner
from diffcli.cli import main

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs /proc"
)

CASES = """
[[case]]
name = "sine"
expr = "sin(x)"
at = { x = 0.5 }

[[case]]
name = "slow one"
expr = "x**2"
at = { x = 1.0 }

[[case]]
name = "slow two"
expr = "x**3"
at = { x = 1.0 }
"""

SCRIPT = """
import os, signal, sys, time
from diffcli.batch import cases as batch, workers as runner
from diffcli.cli import main

for s in (signal.SIGHUP, signal.SIGTERM):  # as a shell starts a command
    signal.signal(s, signal.SIG_DFL)
runner.DEATH_SIGNAL = {death}

def run(case):
    if case.name.startswith("slow"):
        os.write(2, f"started {{os.getpid()}}\\n".encode())
        time.sleep(300)
    return batch.run_case(case)

runner.run_case = run
main(sys.argv[1:])
"""


def alive_in_group(pgid: int) -> list[int]:
    """Processes of the process group ``pgid`` that are not zombies."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        state, _ppid, pgrp = text[text.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in "ZX":
            found.append(int(entry))
    return found


def gone(pgid: int, limit: float = 60.0) -> list[int]:
    """Wait (at most ``limit`` s) for the group to empty -> who is left."""
    deadline = time.monotonic() + limit
    while (left := alive_in_group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def started():
    """Start runs; whatever a failed test leaves of them is killed after it."""
    procs: list[subprocess.Popen] = []

    def run(tmp_path: Path, *args: str, death: bool = True) -> subprocess.Popen:
        procs.append(start(tmp_path, *args, death=death))
        return procs[-1]

    yield run
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def start(tmp_path: Path, *args: str, death: bool) -> subprocess.Popen:
    """The run, in its own session, once both hanging cases have started."""
    path = tmp_path / "c.toml"
    path.write_text(CASES, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(death=death), "check", str(path)]
        + ["-j", "2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
    )
    # a run that never gets ready must not hang the test: it goes after a minute
    watchdog = threading.Timer(60, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    try:
        workers = []
        while len(workers) < 2:
            line = proc.stderr.readline()
            assert line, f"exited before both cases started: {proc.wait()}"
            workers.append(int(line.split()[1]))  # "started PID"
    finally:
        watchdog.cancel()
    proc.workers = workers  # type: ignore[attr-defined]
    assert set(workers) <= set(alive_in_group(proc.pid)) - {proc.pid}
    return proc


@pytest.mark.parametrize(
    ("signum", "to_group", "mode"),
    [
        (signal.SIGTERM, False, "--json"),  # `kill PID`, as a supervisor sends it
        (signal.SIGHUP, True, "table"),  # the terminal closed: the whole group
    ],
)
def test_a_stop_signal_ends_the_workers_and_reports_what_ran(
    tmp_path, started, signum, to_group, mode
):
    report = tmp_path / "report.xml"
    args = ["--junit", str(report)] + (["--json"] if mode == "--json" else [])
    proc = started(tmp_path, *args)
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert gone(proc.pid) == []  # no worker left, busy or idle
    assert "Traceback" not in err
    assert err.splitlines()[-1] == f"interrupted by {signal.Signals(signum).name}"
    if mode == "--json":
        first, summary = (json.loads(line) for line in out.splitlines())
        assert (first["name"], first["status"]) == ("sine", "ok")
        assert summary == {
            "summary": {"ok": 1, "fail": 0, "error": 0},
            "not_run": 2,
            "interrupted": True,
        }
    else:
        assert "sine" in out and "slow" not in out
        assert "1 case: 1 ok, 0 failed, 0 errors" in out
        assert "2 not run  (interrupted)" in out
    root = ET.parse(report).getroot()  # the partial report, whole
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        "1",
        "0",
        "0",
    )
    assert [c.get("name") for c in root.findall("testcase")] == ["sine"]


@pytest.mark.parametrize(
    "death", [True, False], ids=["kernel's death signal", "watching thread"]
)
def test_workers_end_when_their_parent_is_killed_outright(tmp_path, started, death):
    proc = started(tmp_path, "--json", death=death)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert gone(proc.pid) == []  # both workers were busy running a hanging case


def test_a_signal_in_process_stops_the_run_and_puts_the_defaults_back(
    tmp_path, monkeypatch
):
    """SIGTERM while the runner waits on its workers: the table of what ran."""
    wait, calls = runner.wait, []

    def wait_then_terminate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # its handler raises right here
        return wait(*args, **kwargs)

    monkeypatch.setattr(runner, "wait", wait_then_terminate)
    path = tmp_path / "c.toml"
    path.write_text(CASES.replace("slow", "quick"), encoding="utf-8")
    result = CliRunner(env=ENV).invoke(main, ["check", str(path), "-j", "1"])
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert "1 case: 1 ok, 0 failed, 0 errors" in result.stdout
    assert "2 not run  (interrupted)" in result.stdout
    assert result.stderr == "interrupted by SIGTERM\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert multiprocessing.active_children() == []


def test_a_signal_set_aside_stays_so():
    """SIGHUP ignored (nohup) is not taken; the others are, for the run only."""
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with runner.stop_signals_raised():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert callable(signal.getsignal(signal.SIGTERM))
            assert callable(signal.getsignal(signal.SIGUSR1))
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, old)
