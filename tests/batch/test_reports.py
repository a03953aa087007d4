"""Reports: JUnit XML that always parses, whatever the cases' text holds, and
writing a report only ever replacing a regular file (devices, FIFOs and links
are written through), with the usual permissions."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from diffcli.batch.cases import CaseResult
from diffcli.batch.reports import (
    ReportPathError,
    check_target,
    junit_xml,
    write_report,
)

XML = junit_xml([CaseResult("x", "x", "ok")])


def results_for_xml() -> list[CaseResult]:
    return [
        CaseResult("good", "x", "ok", seconds=0.25, file="a.toml"),
        CaseResult("bad <&>", "x**2", "fail", message='value: "9" & <10>\nmore'),
        CaseResult("err", "x+", "error", message="unexpected end", seconds=0.5),
        CaseResult("err2", "y", "error"),
    ]


def test_junit_xml_is_valid_with_counts():
    root = ET.fromstring(junit_xml(results_for_xml(), suite="seeds"))
    assert root.tag == "testsuite" and root.get("name") == "seeds"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        "4",
        "1",
        "2",
    )
    assert float(root.get("time")) == pytest.approx(0.75)
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["good", "bad <&>", "err", "err2"]
    assert cases[0].get("classname") == "a.toml" and list(cases[0]) == []
    (failure,) = cases[1]
    assert failure.tag == "failure"
    assert failure.get("message") == 'value: "9" & <10>'  # the first line
    assert failure.text == 'value: "9" & <10>\nmore'
    assert cases[2][0].tag == "error" and cases[2][0].get("message") == "unexpected end"
    assert cases[3][0].get("message") == "error"


def test_junit_xml_of_nothing():
    root = ET.fromstring(junit_xml([]))
    assert root.get("tests") == "0" and root.findall("testcase") == []


def test_junit_xml_parses_whatever_the_text_holds():
    """NUL, other controls, a lone surrogate (JSON allows "\\ud800") and the
    non-characters XML forbids are shown as escapes; one case sinks nothing."""
    results = [
        CaseResult("nul \x00 here", "x", "ok", file="f\x1b.toml"),
        CaseResult("\ud800", "x", "fail", message="bad \x0b\x1b[2J\ufffe\nline 2\t!"),
        CaseResult("plain", "x", "error", message="\x07"),
    ]
    text = junit_xml(results)
    text.encode("utf-8")  # strict: no surrogate left
    root = ET.fromstring(text)
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["nul \\x00 here", "\\ud800", "plain"]
    assert cases[0].get("classname") == "f\\x1b.toml"
    (failure,) = cases[1]
    assert failure.get("message") == "bad \\x0b\\x1b[2J\\ufffe"
    assert failure.text == "bad \\x0b\\x1b[2J\\ufffe\nline 2\t!"
    assert cases[2][0].text == "\\x07"


# --- writing where the user asked ---------------------------------------------


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_report_gets_the_usual_permissions(tmp_path):
    with umask(0o022):
        write_report(tmp_path / "a.xml", XML)
    with umask(0o027):
        write_report(tmp_path / "b.xml", XML)
    assert stat.S_IMODE(os.stat(tmp_path / "a.xml").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "b.xml").st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["a.xml", "b.xml"]  # no temporary left


def test_a_regular_file_is_replaced_atomically_keeping_its_mode(tmp_path):
    target = tmp_path / "report.xml"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    before = os.stat(target).st_ino
    write_report(target, junit_xml(results_for_xml()))
    assert os.listdir(tmp_path) == ["report.xml"]
    assert os.stat(target).st_ino != before  # a new file renamed over the old one
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    ET.fromstring(target.read_text(encoding="utf-8"))
    write_report(target, "é ünïcode\n")
    assert target.read_text(encoding="utf-8") == "é ünïcode\n"


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["out.json"]


def test_a_symlink_is_followed_not_replaced(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "report.xml"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    write_report(link, XML)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == XML
    assert os.listdir(tmp_path / "real") == ["report.xml"]
    dangling = tmp_path / "dangling.xml"
    dangling.symlink_to(tmp_path / "real" / "new.xml")
    write_report(dangling, XML)  # the link's target is created
    assert dangling.is_symlink()
    assert (tmp_path / "real" / "new.xml").read_text(encoding="utf-8") == XML


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text("utf-8")))
    reader.start()
    check_target(str(fifo))  # never opens it: that would wait for a reader
    write_report(fifo, XML)
    reader.join(timeout=60)
    assert got == [XML]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_devices_are_written_to_never_replaced():
    check_target("/dev/full")
    with pytest.raises(OSError) as err:  # full: the write itself fails
        write_report("/dev/full", XML)
    assert err.value.strerror == "No space left on device"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    write_report(os.devnull, XML)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_unwritable_targets_are_found_before_the_run(tmp_path):
    problems = {
        "": "needs a file name",
        str(tmp_path): "is a directory",
        str(tmp_path / "nope" / "r.xml"): f"no directory {tmp_path / 'nope'}",
        str(tmp_path / "file" / "r.xml"): "Not a directory",
    }
    (tmp_path / "file").write_text("", encoding="utf-8")
    for path, message in problems.items():
        with pytest.raises(ReportPathError, match=message):
            check_target(path)
    check_target(str(tmp_path / "new.xml"))  # fine, and nothing left behind
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_folder_is_found_before_the_run(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ReportPathError, match="Permission denied"):
            check_target(str(folder / "r.xml"))
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="no sysfs")
def test_a_folder_nobody_may_write_is_found_before_the_run():
    with pytest.raises(ReportPathError, match="cannot write in /sys"):
        check_target("/sys/report.xml")  # sysfs takes no new files, not from root
