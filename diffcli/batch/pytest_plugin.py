"""pytest collects ``*.diffcheck.toml`` files: one test item per batch case."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from diffcli.batch.cases import BatchFileError, Case, load, run_case

SUFFIX = ".diffcheck.toml"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> Any:
    if file_path.name.endswith(SUFFIX):
        return DiffcheckFile.from_parent(parent, path=file_path)
    return None


class DiffcheckFile(pytest.File):
    """A batch file; an unreadable one fails collection with its reason."""

    def collect(self):
        try:
            cases = load(self.path)
        except BatchFileError as err:
            raise self.CollectError(str(err)) from None
        seen = Counter(case.name for case in cases)
        for case in cases:
            # A repeated name gets its case number, so every item has its own id.
            name = (
                case.name if seen[case.name] == 1 else f"{case.name}[{case.index + 1}]"
            )
            yield DiffcheckItem.from_parent(self, name=name, case=case)


class DiffcheckFailure(Exception):
    """A case whose verdict is not ok."""


class DiffcheckItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        result = run_case(self.case)
        if result.status != "ok":
            raise DiffcheckFailure(f"{result.status}: {result.message}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None):
        if isinstance(excinfo.value, DiffcheckFailure):
            # the message first: pytest's short summary shows the first line
            return f"{excinfo.value}\nexpr: {self.case.expr}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.case.name} ({self.case.expr})"
