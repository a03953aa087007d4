"""What the CLI tests share: one way to run a command and check it behaved."""

import subprocess
import sys

from click.testing import CliRunner

from diffcli.cli import main

# A plain 80-column terminal: no colour, whatever the machine running the tests.
ENV = {"COLUMNS": "80", "NO_COLOR": None, "FORCE_COLOR": None, "TERM": "dumb"}


def invoke(*args: object, code: int = 0):
    """Run ``diffcli ARGS``: the exit code expected, never a traceback, and a
    clean stderr on success."""
    result = CliRunner(env=ENV).invoke(
        main, [str(a) for a in args], catch_exceptions=False
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    if code == 0:
        assert result.stderr == ""
    return result


def human(*args: object, code: int = 0) -> str:
    """The human output, checked to fit 80 columns."""
    text = invoke(*args, code=code).stdout
    assert all(len(line) <= 80 for line in text.splitlines()), text
    return text


def run_fresh(code: str) -> None:
    """Run ``code`` in a new interpreter (for what it imports); it prints
    'fine' last when its own checks pass."""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip().endswith("fine")
