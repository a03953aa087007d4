"""The pytest plugin: each case of a ``*.diffcheck.toml`` file is one test item."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from diffcli.batch.cases import load

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


def test_unreadable_file_is_a_collection_error(pytester: pytest.Pytester):
    pytester.makefile(".diffcheck.toml", broken='[[case]]\nexpr = "x\n')
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.diffcheck.toml is not valid TOML*"])


def test_seed_examples_all_pass(pytester: pytest.Pytester):
    source = EXAMPLES / "seeds.diffcheck.toml"
    shutil.copy(source, pytester.path / source.name)
    result = run(pytester)
    result.assert_outcomes(passed=len(load(source)))
    assert len(load(source)) >= 20
