"""The JUnit report of a batch run, and writing a report where the user asked.

A report always parses: text XML cannot carry (control characters, lone
surrogates) is shown as its escape.  Writing never replaces what is not a
regular file: a regular file (or a missing one) is replaced atomically, through
symbolic links; a device, FIFO or this process's own output is written to.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from diffcli.batch.cases import CaseResult
from diffcli.errors import DiffcliError, visible


class ReportPathError(DiffcliError):
    """A report cannot be written where the user asked (found before the run)."""


def junit_xml(results: Sequence[CaseResult], suite: str = "diffcli") -> str:
    """JUnit XML for CI dashboards: one testcase per case."""
    fails = sum(r.status == "fail" for r in results)
    errors = sum(r.status == "error" for r in results)
    total = sum(r.seconds for r in results)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<testsuite name={_attr(suite)} tests="{len(results)}" '
        f'failures="{fails}" errors="{errors}" time="{total:.3f}">',
    ]
    for r in results:
        head = (
            f"  <testcase classname={_attr(r.file or suite)} "
            f'name={_attr(r.name)} time="{r.seconds:.3f}"'
        )
        if r.status == "ok":
            lines.append(head + "/>")
            continue
        tag = "failure" if r.status == "fail" else "error"
        message = visible(r.message, keep="\n\t")
        first = message.splitlines()[0] if message else r.status
        lines += [
            head + ">",
            f"    <{tag} message={_attr(first)}>{escape(message)}</{tag}>",
            "  </testcase>",
        ]
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def _attr(text: str) -> str:
    return quoteattr(visible(text, keep="\t"))


def check_target(path: str) -> None:
    """Fail before the run, not after it, if ``path`` cannot take a report."""
    if not path:
        raise ReportPathError("needs a file name")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise ReportPathError(f"{visible(path)}: {err.strerror or err}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ReportPathError(f"{visible(path)} is a directory")
    if st is not None and _own_stream(st) is not None:
        return
    if st is not None and not _replaceable(path, st):
        if not os.access(path, os.W_OK):
            raise ReportPathError(f"{visible(path)} is not writable")
        return
    real = Path(os.path.realpath(path))
    folder = real.parent
    if not folder.is_dir():
        raise ReportPathError(f"{visible(path)}: no directory {visible(str(folder))}")
    try:  # the very step the write will take: a temporary file in that folder
        fd, tmp = _temporary(folder, real.name)
    except OSError as err:
        why = err.strerror or str(err)
        raise ReportPathError(
            f"{visible(path)}: cannot write in {visible(str(folder))}: {why}"
        ) from None
    os.close(fd)
    os.unlink(tmp)


def write_report(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``, replacing only a regular file (atomically).

    A symbolic link is followed and its target written; a missing file is
    created with the usual permissions (0666 less the umask) and a replaced one
    keeps its own.  Devices and FIFOs are written to, and a path that is this
    process's stdout or stderr (``/dev/stdout``) is written to that stream.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    stream = None if st is None else _own_stream(st)
    if stream is not None:
        stream.write(text)
        stream.flush()
    elif st is not None and not _replaceable(path, st):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        real = Path(os.path.realpath(path))
        _replace(real, text, None if st is None else stat.S_IMODE(st.st_mode))


def _replaceable(path: str | Path, st: os.stat_result) -> bool:
    """A regular file that its resolved name still names (not an open
    descriptor's file reached through /proc, e.g. a deleted one)."""
    if not stat.S_ISREG(st.st_mode):
        return False
    try:
        return os.path.samestat(st, os.stat(os.path.realpath(path)))
    except OSError:
        return False


def _own_stream(st: os.stat_result) -> IO[str] | None:
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        try:
            if os.path.samestat(st, os.fstat(fd)):
                return stream
        except OSError:
            continue
    return None


def _temporary(folder: Path, name: str) -> tuple[int, str]:
    """A new file beside the target, created as open() would create it."""
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return os.open(tmp, flags, 0o666), str(tmp)
        except FileExistsError:
            continue


def _replace(target: Path, text: str, mode: int | None) -> None:
    fd, tmp = _temporary(target.parent, target.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
