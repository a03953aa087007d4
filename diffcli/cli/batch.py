"""``diffcli check FILE ...``: the gradient checks of batch files, run in parallel,
with one verdict per case, for people (a table), scripts (JSON lines) and CI
(JUnit XML, exit codes).

Nothing a user gave is lost: a malformed case is an ``error`` row and the rest
still run; an unreadable file is reported on stderr and the other files' cases
still run; on Ctrl-C, or any other signal that would end the process (SIGTERM,
SIGHUP, ...), the workers are stopped and the cases that finished are reported,
with the summary and the JUnit file.  Text from the files is shown escaped where
a terminal would obey it or XML and UTF-8 cannot carry it.

Exit codes: 0 every case ok; 1 a case failed or is an error (malformed, timed
out: it did not pass); 2 a file could not be read, the JUnit file could not be
written, or bad usage; 128 + the signal's number when stopped by one (130 for
Ctrl-C).  The highest applicable one wins.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import click

from diffcli.batch.cases import DEFAULT_TIMEOUT
from diffcli.cli import common as common
from diffcli.cli.options import run

EXIT_SIGNAL = 128  # plus the signal's number: 130 for Ctrl-C, 143 for SIGTERM

CHECK_HELP = """Run the gradient checks of batch FILEs (TOML, or JSON Lines with
the same fields), in parallel, one verdict per case.

A case with `expect` passes when the engine matches it within its rtol/atol
and the three-way check (engine, SymPy, finite differences) agrees; one
without `expect` passes when the three-way check agrees.  A malformed case is
reported as an error and the others still run.

\b
Exit codes: 0 all ok; 1 a case failed or is an error; 2 a FILE could not
be read (the other files' cases still run) or bad usage; 128 + N stopped
by signal N (130 Ctrl-C, 143 SIGTERM).

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
    default=DEFAULT_TIMEOUT,
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
        from diffcli.batch import workers as runner

        if junit is not None:
            _check_writable(junit)
        with runner.stop_signals_raised():
            try:
                return check_files(
                    list(files), jobs, timeout, fail_fast, junit, json_mode
                )
            except KeyboardInterrupt as err:  # while the report was written
                return _interrupted(err)

    run(action, json_mode, debug)


def check_files(
    files: list[str],
    jobs: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    fail_fast: bool = False,
    junit: str | None = None,
    json_mode: bool = False,
) -> int:
    """Load, run and report every case of ``files`` -> the exit code.

    Stopped by Ctrl-C or a StopSignal (see workers.stop_signals_raised), it
    reports what ran and returns 128 + the signal's number.
    """
    from diffcli.batch import cases as batch
    from diffcli.batch import reports
    from diffcli.batch import workers as runner
    from diffcli.render import run_views as R

    cases: list[batch.Case] = []
    unreadable: list[tuple[str, str]] = []
    results: list[batch.CaseResult] = []
    stopped = 0
    start = time.perf_counter()
    stop = (lambda r: r.status != "ok") if fail_fast else None
    try:
        for path in files:
            try:
                cases += batch.load(path)
            except batch.BatchFileError as err:
                unreadable.append((path, str(err)))
                _say(f"error: {err}")
        with _progress(len(cases), enabled=not json_mode) as advance:
            stream = runner.run_cases(cases, jobs, timeout or None, stop)
            try:  # closing the stream stops and reaps the workers, however we leave
                for result in stream:
                    with runner.stop_signals_blocked():  # the summary counts it
                        if json_mode:
                            _json_line(R.case_json(result))
                        results.append(result)
                    advance(result)
            finally:
                stream.close()
    except KeyboardInterrupt as err:
        stopped = _interrupted(err)
    seconds = time.perf_counter() - start

    code = stopped or _exit_code(results, unreadable)
    if junit is not None:
        try:
            reports.write_report(junit, _junit(results, unreadable))
        except OSError as err:
            _say(f"error: cannot write {junit}: {err.strerror or err}")
            code = max(code, common.EXIT_USAGE)
    _report(results, len(cases), unreadable, bool(stopped), seconds, json_mode)
    return code


def _interrupted(err: KeyboardInterrupt) -> int:
    """Say what stopped the run -> its exit code, 128 + the signal's number."""
    from diffcli.batch.workers import signal_number

    signum = signal_number(err)
    name = signal.Signals(signum).name
    _say("interrupted" if signum == signal.SIGINT else f"interrupted by {name}")
    return EXIT_SIGNAL + signum


def _say(line: str) -> None:
    """A line on stderr, shown as text even where it quotes a file's."""
    from diffcli.errors import visible

    sys.stderr.write(visible(line, keep="\n\t") + "\n")
    sys.stderr.flush()


def _exit_code(results: list, unreadable: list) -> int:
    if unreadable:
        return common.EXIT_USAGE
    if any(r.status != "ok" for r in results):
        return common.EXIT_MISMATCH
    return common.EXIT_OK


def _check_writable(path: str) -> None:
    """Fail before running anything, not after the last case."""
    from diffcli.batch.reports import ReportPathError, check_target

    try:
        check_target(path)
    except ReportPathError as err:
        raise common.UsageError(f"--junit {err}") from None


def _json_line(data: dict[str, Any]) -> None:
    """One compact line, flushed: a reader sees each case as it finishes."""
    sys.stdout.write(json.dumps(_utf8(data), allow_nan=False) + "\n")
    sys.stdout.flush()


def _utf8(data: Any) -> Any:
    """Strings UTF-8 can carry: a lone surrogate (JSON input may spell one) is
    shown as its escape text; json.dumps would write the \\ud800 escape, which
    strict parsers reject."""
    from diffcli.errors import CONTROLS, visible

    if isinstance(data, str):
        return visible(data, keep=CONTROLS)  # JSON escapes control characters
    if isinstance(data, dict):
        return {_utf8(k): _utf8(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_utf8(v) for v in data]
    return data


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
    from diffcli.batch.cases import CaseResult
    from diffcli.batch.reports import junit_xml

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
