"""``diffcli check FILE ...`` through click's CliRunner: the seed examples, bad
cases and unreadable files (nothing lost), the JSON lines contract, JUnit XML,
fail-fast, time limits, jobs, Ctrl-C and the 80-column table.

Every run forks workers, so the files are few and small."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import ENV, human, invoke
from click.testing import CliRunner

from diffcli.batch import cases as batch
from diffcli.batch import workers as runner
from diffcli.cli import main
from diffcli.render import run_views as views

SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seeds.diffcheck.toml"
CONTRACT = {"name", "expr", "status", "value", "gradient", "max_abs_err", "message"}

MIXED = """
[[case]]
name = "good square"
expr = "x**2"
at = { x = 3.0 }
expect = { value = 9.0, gradient = { x = 6.0 } }

[[case]]
name = "wrong cube"
expr = "x**3"
at = { x = 2.0 }
expect = { gradient = { x = 11.0 } }

[[case]]
name = "malformed"
expr = "x**"
at = { x = 1.0 }
"""

SMALL = """
[[case]]
name = "sine"
expr = "sin(x) * y"
at = { x = 0.5, y = 2.0 }
order = 2

[[case]]
name = "sum of squares"
expr = "sum(x * x)"
at = { x = [1.0, 2.0, 3.0] }
expect = { gradient = { x = [2.0, 4.0, 6.0] } }

[[case]]
name = "log"
expr = "log(1 + x**2)"
at = { x = 0.7 }
"""


@pytest.fixture(autouse=True)
def _no_workers_left():
    yield
    assert multiprocessing.active_children() == []  # every worker was reaped


def check(*args: object, code: int = 0):
    return invoke("check", *args, code=code)  # stderr empty: no progress bar either


def table(*args: object, code: int = 0) -> str:
    return human("check", *args, code=code)


def lines(*args: str, code: int = 0) -> list[dict]:
    """--json output: every line one JSON object; cases, then the summary."""
    text = check(*args, "--json", code=code).stdout
    objs = [json.loads(line) for line in text.splitlines()]
    assert objs and "summary" in objs[-1]
    for obj in objs[:-1]:
        assert set(obj) >= CONTRACT, obj
        assert obj["status"] in ("ok", "fail", "error")
    return objs


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_examples_pass():
    out = table(SEEDS)
    assert "21 cases: 21 ok, 0 failed, 0 errors" in out
    assert "seed 000: z = x + y**2" in out and "seed 003: n = [m0^2" in out
    assert out.count("✓ ok") == 21
    for head in ("case", "verdict", "max err", "time"):
        assert head in out


def test_good_failing_and_malformed_all_reported(tmp_path):
    out = table(write(tmp_path, "mixed.toml", MIXED), code=1)
    assert "3 cases: 1 ok, 1 failed, 1 error " in out
    assert "✓ ok" in out and "✗ fail" in out and "✗ error" in out
    assert "gradient[x]: expected 11., got 12." in out
    assert "unexpected end of expression" in out
    objs = lines(tmp_path / "mixed.toml", code=1)
    assert [(o["name"], o["status"]) for o in objs[:-1]] == [
        ("good square", "ok"),
        ("wrong cube", "fail"),
        ("malformed", "error"),
    ]
    assert objs[1]["message"] == "gradient[x]: expected 11., got 12."
    assert objs[1]["gradient"] == {"x": 12.0} and objs[1]["value"] == 8.0
    assert objs[-1] == {"summary": {"ok": 1, "fail": 1, "error": 1}}


def test_unreadable_file_exits_2_and_the_other_files_still_run(tmp_path):
    good = write(tmp_path, "small.toml", SMALL)
    missing = tmp_path / "missing.toml"
    result = check(missing, good, code=2)
    assert f"error: cannot read {missing}" in result.stderr
    assert "3 cases: 3 ok, 0 failed, 0 errors" in result.stdout
    assert "1 file unreadable" in result.stdout
    assert "sum of squares" in result.stdout
    objs = lines(good, missing, "--jobs", "1", code=2)
    assert [o["name"] for o in objs[:-1]] == ["sine", "sum of squares", "log"]
    (lost,) = objs[-1]["unreadable"]
    assert lost["file"] == str(missing) and "cannot read" in lost["error"]
    assert objs[-1]["summary"] == {"ok": 3, "fail": 0, "error": 0}


def test_json_lines_contract(tmp_path):
    objs = lines(write(tmp_path, "small.toml", SMALL), "--jobs", "2")
    sine, squares, log = objs[:-1]
    assert sine["hessian"]["x"]["y"] == pytest.approx(0.8775825618903728)
    assert "hessian" not in squares  # order 1
    assert squares["gradient"] == {"x": [2.0, 4.0, 6.0]}
    assert log["max_abs_err"] < 1e-6 and log["message"] == ""
    assert objs[-1] == {"summary": {"ok": 3, "fail": 0, "error": 0}}


def test_junit_xml_written_atomically(tmp_path):
    report = tmp_path / "out" / "report.xml"
    report.parent.mkdir()
    report.write_text("old", encoding="utf-8")
    check(write(tmp_path, "mixed.toml", MIXED), "--junit", report, code=1)
    assert os.listdir(report.parent) == ["report.xml"]  # no temporary left
    root = ET.fromstring(report.read_text(encoding="utf-8"))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        "3",
        "1",
        "1",
    )
    names = [c.get("name") for c in root.findall("testcase")]
    assert names == ["good square", "wrong cube", "malformed"]


def test_junit_into_a_missing_directory_is_a_usage_error(tmp_path):
    result = check(SEEDS, "--junit", tmp_path / "nope" / "r.xml", code=2)
    assert "no directory" in result.stderr and result.stdout == ""


def test_fail_fast_stops_after_the_first_failure(tmp_path):
    path = write(tmp_path, "mixed.toml", MIXED + SMALL)
    objs = lines(path, "--fail-fast", "--jobs", "1", code=1)
    assert [o["status"] for o in objs[:-1]] == ["ok", "fail"]
    assert objs[-1] == {"summary": {"ok": 1, "fail": 1, "error": 0}, "not_run": 4}
    out = table(path, "-x", code=1)
    assert "2 cases: 1 ok, 1 failed, 0 errors" in out and "4 not run" in out


def slow_when_named_so(case: batch.Case) -> batch.CaseResult:
    """run_case, but a case named 'slow ...' hangs (runs in the forked worker)."""
    if case.name.startswith("slow"):
        time.sleep(30)
    return batch.run_case(case)


def test_timeout_reports_a_slow_case_as_error(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "run_case", slow_when_named_so)
    text = SMALL.replace('name = "sum of squares"', 'name = "slow squares"')
    start = time.monotonic()
    objs = lines(write(tmp_path, "t.toml", text), "--timeout", "0.5", code=1)
    assert time.monotonic() - start < 10
    assert [o["status"] for o in objs[:-1]] == ["ok", "error", "ok"]
    assert objs[1]["message"] == "timed out after 0.5 s"


def test_jobs_1_and_2_give_the_same_results_in_file_order(tmp_path):
    path = write(tmp_path, "mixed.toml", SMALL + MIXED)
    one = lines(path, "--jobs", "1", code=1)
    two = lines(path, "-j", "2", code=1)
    assert one == two
    names = ["sine", "sum of squares", "log", "good square", "wrong cube"]
    assert [o["name"] for o in one[:-1]] == [*names, "malformed"]


def test_several_files_get_a_heading_each_and_fit_80_columns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    long = MIXED.replace("good square", "a very long name " + "that goes on " * 8)
    write(tmp_path, "a.toml", long)
    write(tmp_path, "b.jsonl", '{"name": "cube", "expr": "x**3", "at": {"x": 2}}\n')
    write(tmp_path, "c.jsonl", "")  # no cases, no heading
    out = table("a.toml", "b.jsonl", "c.jsonl", SEEDS, code=1)
    rows = [line.rstrip() for line in out.splitlines()]
    assert "a.toml" in rows and str(SEEDS) in rows and "c.jsonl" not in out
    assert rows[rows.index("b.jsonl") + 1].startswith("cube ")
    assert "that goes on that goes on" in out  # folded, not cut
    assert "25 cases: 23 ok, 1 failed, 1 error " in out


class InterruptAfter:
    """Raise KeyboardInterrupt (as Ctrl-C would) on the n-th call of ``real``."""

    def __init__(self, real, n: int) -> None:
        self.real, self.n, self.calls = real, n, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.real(*args, **kwargs)


def test_interrupt_while_waiting_reports_what_ran(tmp_path, monkeypatch):
    # Ctrl-C arrives while the runner waits on its workers
    wait = runner.wait
    path = write(tmp_path, "small.toml", SMALL + MIXED)
    monkeypatch.setattr(runner, "wait", InterruptAfter(wait, 3))
    objs = lines(path, "--jobs", "1", code=130)
    assert [o["name"] for o in objs[:-1]] == ["sine", "sum of squares"]
    assert objs[-1] == {
        "summary": {"ok": 2, "fail": 0, "error": 0},
        "not_run": 4,
        "interrupted": True,
    }
    monkeypatch.setattr(runner, "wait", InterruptAfter(wait, 2))
    out = table(path, "--jobs", "1", code=130)
    assert "sine" in out and "sum of squares" not in out
    assert "1 case: 1 ok, 0 failed, 0 errors" in out
    assert "5 not run" in out and "(interrupted)" in out


def test_interrupt_while_reporting_stops_the_workers(tmp_path, monkeypatch):
    # Ctrl-C arrives while a result is being written, the runner suspended
    monkeypatch.setattr(views, "case_json", InterruptAfter(views.case_json, 2))
    monkeypatch.setattr(runner, "run_case", slow_when_named_so)  # a busy worker to stop
    text = SMALL.replace('name = "log"', 'name = "slow log"')
    result = check(write(tmp_path, "s.toml", text), "--json", "-j", "2", code=130)
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["name"] for o in objs[:-1]] == ["sine"]
    assert objs[-1]["summary"] == {"ok": 1, "fail": 0, "error": 0}
    assert "interrupted" in result.stderr


def test_ctrl_c_in_a_real_process(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it."""
    text = SMALL + '[[case]]\nname = "slow"\nexpr = "x"\nat = { x = 1.0 }\n'
    path = write(tmp_path, "c.toml", text)
    script = (
        "import time, sys\n"
        "from diffcli.batch import cases as batch, workers as runner\n"
        "from diffcli.cli import main\n"
        "def run(case):\n"
        "    if case.name == 'slow':\n"
        "        time.sleep(60)\n"
        "    return batch.run_case(case)\n"
        "runner.run_case = run\n"
        "main(sys.argv[1:])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "check", str(path), "--json", "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = [proc.stdout.readline() for _ in range(3)]  # streamed as they finish
    os.killpg(proc.pid, signal.SIGINT)
    rest, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert [json.loads(s)["name"] for s in seen] == ["sine", "sum of squares", "log"]
    assert json.loads(rest) == {
        "summary": {"ok": 3, "fail": 0, "error": 0},
        "not_run": 1,
        "interrupted": True,
    }
    assert "Traceback" not in err and err.strip() == "interrupted"
    with pytest.raises(ProcessLookupError):  # no worker outlived the parent
        os.killpg(proc.pid, 0)


def test_progress_bar_on_a_terminal_only_and_never_with_json(tmp_path):
    path = write(tmp_path, "small.toml", SMALL)
    tty = {**ENV, "TTY_COMPATIBLE": "1", "TERM": "xterm", "NO_COLOR": "1"}  # redraws
    shown = CliRunner(env=tty).invoke(main, ["check", str(path)])
    assert shown.exit_code == 0 and "checking" in shown.stderr
    assert "3 cases: 3 ok" in shown.stdout and "checking" not in shown.stdout
    quiet = CliRunner(env=tty).invoke(main, ["check", str(path), "--json"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_batch_checks_skip_simplify(tmp_path, monkeypatch):
    """simplify is most of a case's time, and batch never shows closed forms."""
    import sympy

    from diffcli.expr import tidy as T

    x = sympy.Symbol("x")
    trig = sympy.sin(x) ** 2 + sympy.cos(x) ** 2
    form = np.array([trig], dtype=object)
    # the first simplify of a process imports sympy.physics: slow under load
    monkeypatch.setattr(T, "SIMPLIFY_SECONDS", 120.0)
    assert list(T.tidy(form)) == [1]
    assert list(T.tidy(form, simplify=False)) == [trig]

    def boom(*args, **kwargs):
        raise AssertionError("simplify called")

    monkeypatch.setattr(sympy, "simplify", boom)  # the forked workers see it
    text = '[[case]]\nexpr = "sin(x)**2 * exp(x) / (1 + x)"\nat = { x = 0.4 }\n'
    objs = lines(write(tmp_path, "s.toml", text))
    assert objs[0]["status"] == "ok", objs[0]["message"]


def test_help_has_examples():
    out = table("--help")
    assert "Examples:" in out
    assert "diffcli check examples/seeds.diffcheck.toml" in out
    assert "--jobs" in out and "--junit" in out and "--fail-fast" in out
    assert "Exit codes: 0 all ok" in out


def test_no_file_is_a_usage_error():
    result = check(code=2)
    assert "Missing argument" in result.stderr
