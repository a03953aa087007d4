"""README shows real output of real commands: every ``$ diffcli ...`` line in a
console block is run, and what follows it must be what it prints.

A line ``...`` stands for any number of lines; times (``0.56s``) and the
version may differ.  Trailing spaces are ignored (rich pads table cells).
"""

import re
import shlex
from pathlib import Path

import pytest

from tests.cli_helpers import ENV

README = Path(__file__).parent.parent / "README.md"
TIME = re.compile(r"\b\d+(\.\d+)?s\b")


def examples() -> list[tuple[str, list[str]]]:
    """(command line, expected lines) of each ``$ diffcli`` in console blocks."""
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(), re.S)
    found = []
    for block in blocks:
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command and command.startswith("diffcli "):
                    found.append((command, expected))
                command, expected = line[2:], []
            else:
                expected.append(line.rstrip())
        if command and command.startswith("diffcli "):
            found.append((command, expected))
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return (
        bool(actual)
        and TIME.sub("T", expected[0]) == TIME.sub("T", actual[0])
        and matches(expected[1:], actual[1:])
    )


@pytest.mark.parametrize(("command", "expected"), examples(), ids=lambda v: str(v))
def test_readme_output_is_real(command, expected, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from diffcli.cli import main

    monkeypatch.chdir(README.parent)
    for name in re.findall(r"--func (\w+\.py):", command):
        if not (README.parent / name).exists():
            pytest.skip(f"{name} is the reader's own file")
    args = shlex.split(command)[1:]
    result = CliRunner(env=ENV).invoke(main, args)
    actual = [line.rstrip() for line in result.output.splitlines()]
    assert matches(expected, actual), "\n".join(actual)


def test_the_readme_has_examples_to_check():
    assert len(examples()) >= 10
