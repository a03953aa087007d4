"""The pytest plugin: each case of a ``*.diffcheck.toml`` file is one test item."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path

import pytest

from diffcli.batch import pytest_plugin as plugin
from diffcli.batch.cases import Case, CaseResult, load, run_case

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True, scope="module")
def _imported_before_pytester():
    """Load every diffcli module first: in-process pytester drops the modules a
    run imports, and a re-imported module's classes fail isinstance checks."""
    from diffcli.batch import workers as runner

    runner.warm_up()


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in this process, without the plugins these tests do not need."""
    quiet = ("no:cacheprovider", "no:hypothesispytest", "no:benchmark")
    return pytester.runpytest(*args, *(x for p in quiet for x in ("-p", p)))


SMALL = """
[[case]]
name = "square passes"
expr = "x**2"
at = { x = 3.0 }
expect = { value = 9.0, gradient = { x = 6.0 } }

[[case]]
name = "cube fails"
expr = "x**3"
at = { x = 2.0 }
expect = { gradient = { x = 11.0 } }

[[case]]
name = "malformed"
expr = "x**"
at = { x = 1.0 }
"""


SLOW = """
[[case]]
name = "quick"
expr = "x**2"
at = { x = 1.0 }

[[case]]
name = "slow"
expr = "x**3"
at = { x = 1.0 }

[[case]]
name = "after"
expr = "x**4"
at = { x = 1.0 }
"""


def hang_when_named_so(case: Case) -> CaseResult:
    """run_case, but a case named 'slow' runs away (in the forked worker)."""
    if case.name == "slow":
        time.sleep(60)
    return run_case(case)


def test_cases_that_share_a_name_get_their_numbers(pytester: pytest.Pytester):
    pytester.makefile(
        ".diffcheck.toml",
        dup="""
[[case]]
name = "sq"
expr = "x**2"
at = { x = 1.0 }

[[case]]
name = "cube"
expr = "x**3"
at = { x = 1.0 }

[[case]]
name = "sq"
expr = "x**2"
at = { x = 2.0 }
expect = { value = 5.0 }
""",
    )
    result = run(pytester, "-v", "dup.diffcheck.toml::sq[3]")
    result.assert_outcomes(failed=1)
    result = run(pytester, "--co", "-q")
    result.stdout.fnmatch_lines(
        [
            "dup.diffcheck.toml::sq[[]1[]]",
            "dup.diffcheck.toml::cube",
            "dup.diffcheck.toml::sq[[]3[]]",
        ]
    )


def test_one_item_per_case_and_the_failure_message(pytester: pytest.Pytester):
    pytester.makefile(".diffcheck.toml", small=SMALL)
    pytester.makefile(".toml", other="[[case]]\nexpr = 'x'\n")  # not collected
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*small.diffcheck.toml::square passes PASSED*",
            "*small.diffcheck.toml::cube fails FAILED*",
            "*small.diffcheck.toml::malformed FAILED*",
        ]
    )
    out = result.stdout.str()
    assert "fail: gradient[x]: expected 11., got 12." in out
    assert "error: unexpected end of expression" in out
    assert "Traceback" not in out  # a verdict, not a stack trace


def test_an_unreadable_file_fails_its_item_and_the_session_goes_on(
    pytester: pytest.Pytester,
):
    pytester.makefile(".diffcheck.toml", broken='[[case]]\nexpr = "x\n')
    pytester.makefile(".diffcheck.toml", small=SMALL)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=3)  # no collection error
    out = result.stdout.str()
    assert "Interrupted" not in out and "during collection" not in out
    result.stdout.fnmatch_lines(
        [
            "*broken.diffcheck.toml::load FAILED*",
            "*small.diffcheck.toml::square passes PASSED*",
            "_*_ load _*_",
            "error: *broken.diffcheck.toml is not valid TOML: Unterminated string*",
        ]
    )


def test_a_runaway_case_times_out_and_the_rest_run(
    pytester: pytest.Pytester, monkeypatch
):
    from diffcli.batch import workers as runner

    monkeypatch.setattr(runner, "run_case", hang_when_named_so)  # forked: seen there
    pytester.makeini("[pytest]\ndiffcheck_timeout = 0.5\n")
    pytester.makefile(".diffcheck.toml", t=SLOW)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*t.diffcheck.toml::quick PASSED*",
            "*t.diffcheck.toml::slow FAILED*",
            "*t.diffcheck.toml::after PASSED*",
            "error: timed out after 0.5 s",
            "expr: x**3",
        ]
    )
    assert multiprocessing.active_children() == []  # the runaway one was killed


def test_the_timeout_defaults_to_the_clis_and_0_runs_in_process(
    pytester: pytest.Pytester, monkeypatch
):
    from diffcli.batch import cases as batch
    from diffcli.batch import workers as runner
    from diffcli.batch.pytest_plugin import case_timeout

    config = pytester.parseconfig()
    assert case_timeout(config) == batch.DEFAULT_TIMEOUT == 30.0
    pids = []

    def record(case):
        pids.append(os.getpid())
        return batch.run_case(case)

    monkeypatch.setattr(runner, "run_case", record)  # where a worker runs cases
    monkeypatch.setattr(plugin, "run_case", record)  # where the plugin runs them
    pytester.makeini("[pytest]\ndiffcheck_timeout = 0\n")
    pytester.makefile(".diffcheck.toml", t=SLOW.replace('"slow"', '"other"'))
    run(pytester).assert_outcomes(passed=3)
    assert pids == [os.getpid()] * 3


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_timeout_stops_the_session_at_once(pytester: pytest.Pytester, value):
    pytester.makeini(f"[pytest]\ndiffcheck_timeout = {value}\n")
    pytester.makefile(".diffcheck.toml", t=SLOW)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*diffcheck_timeout must be a number of seconds*"])


def test_names_and_messages_are_shown_escaped(pytester: pytest.Pytester):
    pytester.makefile(
        ".diffcheck.toml",
        esc='[[case]]\nname = "\\u001b[2J wipe"\nexpr = "x +\\u001b"\n',
    )
    result = run(pytester, "-v")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "\x1b" not in out  # nothing a terminal would obey
    assert "esc.diffcheck.toml::\\x1b[2J wipe FAILED" in out
    assert "expr: x +\\x1b" in out


def test_seed_examples_all_pass(pytester: pytest.Pytester):
    source = EXAMPLES / "seeds.diffcheck.toml"
    shutil.copy(source, pytester.path / source.name)
    result = run(pytester)
    result.assert_outcomes(passed=len(load(source)))
    assert len(load(source)) >= 20
