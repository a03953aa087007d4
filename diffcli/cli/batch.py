"""``diffcli check FILE ...``: the gradient checks of batch files, run in parallel,
with one verdict per case, for people (a table), scripts (JSON lines) and CI
(JUnit XML, exit codes).

Nothing a user gave is lost: a malformed case is an ``error`` row and the rest
still run; an unreadable file is reported on stderr and the other files' cases
still run; on Ctrl-C the cases that finished are reported, with the summary.

Exit codes: 0 every case ok; 1 a case failed or is an error (malformed, timed
out: it did not pass); 2 a file could not be read, the JUnit file could not be
written, or bad usage; 130 interrupted.  The highest applicable one wins.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from diffcli.cli import common as common
from diffcli.cli import run

EXIT_INTERRUPTED = 130

CHECK_HELP = """Run the gradient checks of batch FILEs (TOML, or JSON Lines with
the same fields), in parallel, one verdict per case.

A case with `expect` passes when the engine matches it within its rtol/atol
and the three-way check (engine, SymPy, finite differences) agrees; one
without `expect` passes when the three-way check agrees.  A malformed case is
reported as an error and the others still run.

\b
Exit codes: 0 all ok; 1 a case failed or is an error; 2 a FILE could not
be read (the other files' cases still run) or bad usage; 130 interrupted.

\b
Examples:
  diffcli check examples/seeds.diffcheck.toml
  diffcli check a.toml b.jsonl --jobs 4 --timeout 10
  diffcli check cases.toml --junit report.xml     # for CI dashboards
  diffcli check cases.toml --json | jq -c 'select(.status != "ok")'
  diffcli check cases.toml --fail-fast
"""


@click.command(
    help=CHECK_HELP,
    short_help="Run the gradient checks of batch files, in parallel.",
)
@click.argument("files", nargs=-1, required=True, metavar="FILE [FILE ...]")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Worker processes [default: one per core]; results stay in file order.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Time limit per case; a case over it is an error (0: no limit).",
)
@click.option(
    "-x",
    "--fail-fast",
    is_flag=True,
    help="Stop after the first case that fails or is an error.",
)
@click.option(
    "--junit",
    metavar="FILE",
    help="Also write JUnit XML (atomically: a temporary file, then renamed).",
)
@click.option(
    "--json",
    "json_mode",
    is_flag=True,
    help="One JSON object per case as it finishes, then a summary line.",
)
@click.option(
    "--debug", is_flag=True, help="Show tracebacks of errors (for bug reports)."
)
def check(
    files: tuple[str, ...],
    jobs: int,
    timeout: float,
    fail_fast: bool,
    junit: str | None,
    json_mode: bool,
    debug: bool,
) -> None:
    def action() -> int:
        if junit is not None:
            _check_writable(junit)
        return check_files(list(files), jobs, timeout, fail_fast, junit, json_mode)

    run(action, json_mode, debug)


def check_files(
    files: list[str],
    jobs: int = 0,
    timeout: float = 30.0,
    fail_fast: bool = False,
    junit: str | None = None,
    json_mode: bool = False,
) -> int:
    """Load, run and report every case of ``files`` -> the exit code."""
    from diffcli.batch import cases as batch
    from diffcli.batch import workers as runner
    from diffcli.render import run_views as R

    cases: list[batch.Case] = []
    unreadable: list[tuple[str, str]] = []
    for path in files:
        try:
            cases += batch.load(path)
        except batch.BatchFileError as err:
            unreadable.append((path, str(err)))
            sys.stderr.write(f"error: {err}\n")
            sys.stderr.flush()

    results: list[batch.CaseResult] = []
    interrupted = False
    start = time.perf_counter()
    stop = (lambda r: r.status != "ok") if fail_fast else None
    try:
        with _progress(len(cases), enabled=not json_mode) as advance:
            stream = runner.run_cases(cases, jobs, timeout or None, stop)
            try:  # closing the stream stops and reaps the workers, however we leave
                for result in stream:
                    with runner.sigint_blocked():  # the summary counts what was written
                        if json_mode:
                            _json_line(R.case_json(result))
                        results.append(result)
                    advance(result)
            finally:
                stream.close()
    except KeyboardInterrupt:
        interrupted = True
        sys.stderr.write("interrupted\n")
    seconds = time.perf_counter() - start

    code = _exit_code(results, unreadable, interrupted)
    if junit is not None:
        try:
            batch.write_atomically(junit, _junit(results, unreadable))
        except OSError as err:
            sys.stderr.write(f"error: cannot write {junit}: {err.strerror or err}\n")
            code = max(code, common.EXIT_USAGE)
    _report(results, len(cases), unreadable, interrupted, seconds, json_mode)
    return code


def _exit_code(results: list, unreadable: list, interrupted: bool) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    if unreadable:
        return common.EXIT_USAGE
    if any(r.status != "ok" for r in results):
        return common.EXIT_MISMATCH
    return common.EXIT_OK


def _check_writable(path: str) -> None:
    """Fail before running anything, not after the last case."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise common.UsageError(f"--junit {path} is a directory")
    if not parent.is_dir():
        raise common.UsageError(f"--junit {path}: no directory {parent}")


def _json_line(data: dict[str, Any]) -> None:
    """One compact line, flushed: a reader sees each case as it finishes."""
    sys.stdout.write(json.dumps(data, allow_nan=False) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[Any], None]]:
    """A progress bar on stderr, only when stderr is a terminal."""
    console = common.make_console(stderr=True)
    if not enabled or not console.is_terminal or total == 0:
        yield lambda result: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bad = 0
    with Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[bad]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("check", total=total, bad="")

        def advance(result: Any) -> None:
            nonlocal bad
            bad += result.status != "ok"
            progress.update(task, advance=1, bad=f"{bad} not ok" if bad else "")

        yield advance


def _junit(results: list, unreadable: list[tuple[str, str]]) -> str:
    """Cases, and each unreadable file as an error, so CI shows it too."""
    from diffcli.batch.cases import CaseResult, junit_xml

    lost = [
        CaseResult(path, "", "error", message=message, file=path)
        for path, message in unreadable
    ]
    return junit_xml(lost + results)


def _report(
    results: list,
    total: int,
    unreadable: list[tuple[str, str]],
    interrupted: bool,
    seconds: float,
    json_mode: bool,
) -> None:
    from diffcli.render import run_views as R

    counts = R.summary(results)
    not_run = total - len(results)
    if json_mode:
        line: dict[str, Any] = {"summary": counts}
        if not_run:
            line["not_run"] = not_run
        if unreadable:
            line["unreadable"] = [{"file": f, "error": e} for f, e in unreadable]
        if interrupted:
            line["interrupted"] = True
        _json_line(line)
        return
    console = common.make_console()
    if results:
        console.print(R.batch_table(results))
    console.print(
        R.summary_text(counts, seconds, interrupted, not_run, len(unreadable))
    )
