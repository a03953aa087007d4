"""``diffcli check``'s reports always parse and always print: text from the
files that a terminal would obey, or that XML and UTF-8 cannot carry, is shown
escaped; one bad byte loses one case; ``--junit`` replaces only regular files
and is checked before the run."""

from __future__ import annotations

import json
import multiprocessing
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_helpers import human, invoke

ODD = """
[[case]]
name = "\\u001b]0;pwned\\u0007 title"
expr = "x + \\u001b[2J"
at = { x = 1.0 }

[[case]]
name = "nul \\u0000 and \\u000b"
expr = "x**2"
at = { x = 3.0 }
"""

# JSON may spell a lone surrogate, which no UTF-8 output can carry
SURROGATE = (
    '{"name": "\\ud800", "expr": "x**2", "at": {"x": 2.0}}\n'
    '{"name": "after", "expr": "x**3", "at": {"x": 2.0}}\n'
)


@pytest.fixture(autouse=True)
def _no_workers_left():
    yield
    assert multiprocessing.active_children() == []


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_escape_sequences_are_shown_not_obeyed(tmp_path):
    out = human("check", write(tmp_path, "odd.toml", ODD), code=1)
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert "\\x1b]0;pwned\\x07 title" in out
    assert "nul \\x00 and \\x0b" in out
    lines = out.splitlines()
    at = lines.index(next(line for line in lines if "x + \\x1b[2J" in line))
    assert lines[at].strip() == "x + \\x1b[2J"
    assert lines[at + 1].strip() == "^^^^"  # under the escape, where the ESC was
    assert lines[at + 1].index("^") == lines[at].index("\\x1b")
    assert "2 cases: 1 ok, 0 failed, 1 error" in out


def test_a_lone_surrogate_sinks_nothing(tmp_path):
    path = write(tmp_path, "s.jsonl", SURROGATE)
    report = tmp_path / "r.xml"
    out = human("check", path, "--junit", report)
    assert "\\ud800" in out and "after" in out
    assert "2 cases: 2 ok, 0 failed, 0 errors" in out
    names = [c.get("name") for c in ET.parse(report).getroot().iter("testcase")]
    assert names == ["\\ud800", "after"]
    result = invoke("check", path, "--json")
    text = result.stdout_bytes.decode("utf-8")  # strict
    objs = [json.loads(line) for line in text.splitlines()]
    for obj in objs:  # what a strict parser takes: no surrogate, escaped or not
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    assert [o.get("name") for o in objs] == ["\\ud800", "after", None]
    assert objs[0]["gradient"] == {"x": 4.0}


def test_error_messages_show_file_names_escaped(tmp_path):
    good = write(tmp_path, "good.toml", ODD)
    missing = tmp_path / "gone\x1b[2J.toml"
    result = invoke("check", missing, good, code=2)
    assert "\x1b" not in result.stderr
    assert f"error: cannot read {tmp_path}/gone\\x1b[2J.toml" in result.stderr


def test_one_bad_byte_loses_one_case(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(
        b'{"name": "first", "expr": "x**2", "at": {"x": 3.0}}\n'
        b'{"name": "caf\xe9", "expr": "x"}\n'
        b'{"name": "third", "expr": "x**3", "at": {"x": 2.0}}\n'
    )
    result = invoke("check", path, "--json", code=1)
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o.get("name"), o.get("status")) for o in objs[:-1]] == [
        ("first", "ok"),
        ("line 2", "error"),
        ("third", "ok"),
    ]
    assert objs[1]["message"] == f"{path}:2:14: not UTF-8 text (byte 0xe9)"
    assert objs[-1] == {"summary": {"ok": 2, "fail": 0, "error": 1}}


def test_junit_to_dev_stdout_writes_to_stdout(tmp_path):
    before = os.readlink("/dev/stdout") if os.path.islink("/dev/stdout") else None
    path = write(tmp_path, "s.jsonl", SURROGATE)
    out = invoke("check", path, "--junit", "/dev/stdout").stdout
    xml, _, table = out.partition("</testsuite>\n")
    root = ET.fromstring(xml + "</testsuite>")
    assert root.get("tests") == "2"
    assert "2 cases: 2 ok, 0 failed, 0 errors" in table
    after = os.readlink("/dev/stdout") if os.path.islink("/dev/stdout") else None
    assert after == before  # still what it was, not a regular file


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "--junit needs a file name"),
        ("{tmp}", "is a directory"),
        ("{tmp}/nope/r.xml", "no directory"),
    ],
)
def test_an_unwritable_junit_target_is_a_usage_error_before_the_run(
    tmp_path, target, message
):
    path = write(tmp_path, "s.jsonl", SURROGATE)
    result = invoke("check", path, "--junit", target.format(tmp=tmp_path), code=2)
    assert message in result.stderr
    assert result.stdout == ""  # nothing ran


def test_junit_to_a_full_device_is_an_error_after_the_run_and_stays_a_device(
    tmp_path,
):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    path = write(tmp_path, "s.jsonl", SURROGATE)
    result = invoke("check", path, "--junit", "/dev/full", code=2)
    assert "error: cannot write /dev/full: No space left on device" in result.stderr
    assert "2 cases: 2 ok" in result.stdout
    assert Path("/dev/full").is_char_device()
