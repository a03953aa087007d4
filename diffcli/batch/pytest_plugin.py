"""pytest collects ``*.diffcheck.toml`` files: one test item per batch case.

An unreadable file is one failing item (the session goes on).  Each case runs
in a forked worker under the ``diffcheck_timeout`` ini option (seconds, as
``diffcli check --timeout``; 0 runs it in the pytest process, without a limit).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from diffcli.batch.cases import DEFAULT_TIMEOUT, BatchFileError, Case, load, run_case
from diffcli.errors import visible

SUFFIX = ".diffcheck.toml"
TIMEOUT_INI = "diffcheck_timeout"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        TIMEOUT_INI,
        f"time limit per {SUFFIX} case in seconds (0: none) [{DEFAULT_TIMEOUT:g}]",
        default=str(DEFAULT_TIMEOUT),
    )


def pytest_configure(config: pytest.Config) -> None:
    case_timeout(config)  # a bad value stops the session before it starts


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> Any:
    if file_path.name.endswith(SUFFIX):
        return DiffcheckFile.from_parent(parent, path=file_path)
    return None


def case_timeout(config: pytest.Config) -> float:
    """The ini option as seconds; a bad value is a usage error of the session."""
    text = str(config.getini(TIMEOUT_INI)).strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also nan
        raise pytest.UsageError(
            f"{TIMEOUT_INI} must be a number of seconds >= 0, got {text!r}"
        )
    return seconds


class DiffcheckFile(pytest.File):
    """A batch file: an item per case, or one failing item if it is unreadable."""

    def collect(self):
        try:
            cases = load(self.path)
        except BatchFileError as err:
            # an item, not a collection error: that would stop the whole session
            broken = Case("load", "", file=str(self.path), error=str(err))
            yield DiffcheckItem.from_parent(self, name="load", case=broken)
            return
        seen = Counter(case.name for case in cases)
        for case in cases:
            # A repeated name gets its case number, so every item has its own id.
            name = visible(case.name)
            if seen[case.name] > 1:
                name += f"[{case.index + 1}]"
            yield DiffcheckItem.from_parent(self, name=name, case=case)


class DiffcheckFailure(Exception):
    """A case whose verdict is not ok."""


class DiffcheckItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        timeout = case_timeout(self.config)
        if self.case.error or not timeout:
            result = run_case(self.case)
        else:  # a forked worker, killed if it overruns, as `diffcli check` does
            from diffcli.batch.workers import run_cases

            (result,) = run_cases([self.case], jobs=1, timeout=timeout)
        if result.status != "ok":
            message = visible(result.message, keep="\n\t")
            raise DiffcheckFailure(f"{result.status}: {message}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None):
        if isinstance(excinfo.value, DiffcheckFailure):
            # the message first: pytest's short summary shows the first line
            expr = f"\nexpr: {visible(self.case.expr)}" if self.case.expr else ""
            return f"{excinfo.value}{expr}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        name, expr = visible(self.case.name), visible(self.case.expr)
        return self.path, None, f"{name} ({expr})" if expr else name
