"""What every diffcli command shares, without click: reading ``--at``/``--let``
options, loading ``--func`` files, the console, JSON printing and the one way
errors are reported (message and caret on stderr, exit 2, no traceback).

Commands in other modules (``minimize``, ``check FILE``) import these so that
options, errors and exit codes mean the same everywhere.  Kept light: rich is
imported only when a console is made, SymPy never.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from diffcli.errors import DiffcliError, ExprError, visible

EXIT_OK = 0
EXIT_MISMATCH = 1  # a cross-check disagreed
EXIT_USAGE = 2  # bad input or usage, and internal errors


class UsageError(ExprError):
    """Bad input found by the command line itself (options that don't fit)."""


# --- options ----------------------------------------------------------------------


def parse_assignments(texts: Iterable[str]) -> list[tuple[str, str]]:
    """``--at x=1,y=[1,2] --at z=3`` as (name, value text) pairs, in order.

    Commas inside brackets don't split; errors carry the option text for the caret.
    """
    from diffcli.expr.parser import split_assignments

    pairs: list[tuple[str, str]] = []
    for text in texts:
        pairs += split_assignments(text)
    return pairs


def parse_names(texts: Iterable[str]) -> list[str]:
    """``--wrt x,y --wrt z``: names separated by commas or spaces."""
    names: list[str] = []
    for text in texts:
        for name in text.replace(",", " ").split():
            if not name.isidentifier():
                col = text.find(name)
                raise ExprError(
                    f"'{name}' is not a variable name", text, col, col + len(name)
                )
            names.append(name)
    return list(dict.fromkeys(names))


# --- output -----------------------------------------------------------------------


def make_console(stderr: bool = False, file: IO[str] | None = None) -> Any:
    """A rich Console: colour only on terminals, none at all with NO_COLOR."""
    from rich.console import Console

    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        file=file,
        stderr=stderr,
        highlight=False,
        emoji=False,
        markup=False,
        color_system=None if plain else "auto",
    )


def print_json(data: Any, file: IO[str] | None = None) -> None:
    """One JSON object (non-finite numbers as "nan"/"inf"/"-inf") and a newline."""
    from diffcli.render.json_data import pieces

    quiet()
    out = file or sys.stdout
    for piece in pieces(data):  # a large array in chunks, never one huge string
        out.write(piece)
    out.write("\n")


def error_text(err: BaseException) -> str:
    """The one message a person sees: ExprErrors with their caret."""
    if isinstance(err, ExprError):
        return err.render()
    from diffcli.verify.question import NonScalarOutput

    if isinstance(err, NonScalarOutput):
        return (
            f"{err}\n"
            "  hint: --seed ones gives the vector-Jacobian product with a seed of\n"
            "  ones, as backward(gradient=ones_like(y)) does; `diffcli jacobian`\n"
            "  gives the full Jacobian"
        )
    return str(err)


def report_error(
    err: BaseException, json_mode: bool = False, debug: bool = False
) -> int:
    """Print an error as promised (stderr; also ``{"error"}`` with --json) -> exit code.

    Errors diffcli raises on purpose are user errors; anything else is an
    internal error in one line, with the traceback only under ``--debug``.
    """
    expected = isinstance(err, DiffcliError)
    message = (
        error_text(err) if expected else f"internal error: {type(err).__name__}: {err}"
    )
    if debug:
        traceback.print_exception(err, file=sys.stderr)
    hint = "" if expected or debug else " (run with --debug for the traceback)"
    sys.stderr.write(f"error: {message}{hint}\n")
    if json_mode:
        first = message if expected else f"{message}{hint}"
        print_json({"error": first})
    return EXIT_USAGE


_SPINNERS: list[Any] = []


@contextlib.contextmanager
def spinner() -> Iterator[None]:
    """What the check is doing (verify/progress.py), on stderr when that is a
    terminal; nothing otherwise.  Stopped before any output (``quiet``)."""
    if not _isatty(sys.stderr):
        yield
        return
    from diffcli.verify import progress

    status = make_console(stderr=True).status("working", spinner="dots")
    status.start()
    _SPINNERS.append(status)
    stop = progress.listen(status.update)
    try:
        yield
    finally:
        stop()
        quiet()


def quiet() -> None:
    """Stop the spinner (before the output is written)."""
    while _SPINNERS:
        _SPINNERS.pop().stop()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run_guarded(
    action: Callable[[], int], json_mode: bool = False, debug: bool = False
) -> int:
    """Run a command's body; every exception becomes a clear message and exit 2.
    Its arrays and its time are limited (engine/limits.py)."""
    from diffcli.engine.limits import bounded

    try:
        with bounded(), _warnings_as_notes(), spinner():
            return action()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as err:
        return report_error(err, json_mode, debug)


@contextlib.contextmanager
def _warnings_as_notes() -> Iterator[None]:
    """A library's warning (numpy's "Mean of empty slice") is one note on
    stderr, not a line of its source with a path into site-packages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            yield
        finally:
            for text in dict.fromkeys(visible(str(w.message)) for w in caught):
                sys.stderr.write(f"note: {text}\n")


def _silence_stdout() -> None:
    """After a closed pipe (``diffcli ... | head``), don't complain at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def exit_code(status: str) -> int:
    """The exit code a verdict status stands for."""
    return EXIT_MISMATCH if status in ("mismatch", "overflow") else EXIT_OK
