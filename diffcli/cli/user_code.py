"""``--func FILE.py:NAME``: the user's Python code, loaded and run so that
whatever it does ends as one clear error (exit 2).

The file must be a regular, readable Python file of a sane size (``/dev/zero``
would be read forever); loading and each call run under the command's time
budget (an endless loop is stopped); ``SystemExit`` and any other exception
raised there, even one whose ``str()`` raises, become one message.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import stat
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from diffcli.cli.common import UsageError
from diffcli.engine.limits import TIME_BUDGET
from diffcli.errors import DiffcliError, ExprError

MAX_FILE_BYTES = 10_000_000  # far more than any function's source


class UserCodeTimeout(DiffcliError):
    """The user's code ran over the time budget (an endless loop?)."""


def load_function(spec: str) -> tuple[Callable[..., Any], str]:
    """``FILE.py:NAME`` -> the function, guarded so its own errors read clearly."""
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text or not name:
        raise UsageError(f"--func expects FILE.py:NAME, got '{spec}'")
    path = Path(path_text)
    code = compile_file(path, path_text)
    namespace: dict[str, Any] = {"__name__": path.stem, "__file__": str(path)}
    sys.path.insert(0, str(path.resolve().parent))
    try:
        run = f"running {path_text}"
        run_user_code(lambda: exec(code, namespace), run, path, "failed:")
    finally:
        sys.path.remove(str(path.resolve().parent))
    function = namespace.get(name)
    if not callable(function):
        found = [
            k for k, v in namespace.items() if callable(v) and not k.startswith("_")
        ]
        close = difflib.get_close_matches(name, found, 1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        what = "has no function" if function is None else "has no callable"
        raise UsageError(f"{path_text} {what} '{name}'{hint}")
    label = f"{path_text}:{name}"

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        return run_user_code(lambda: function(*args, **kwargs), label, path)

    return guarded, label


def compile_file(path: Path, path_text: str) -> Any:
    """The file's code; what is not a regular readable file is refused unread."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise UsageError(f"cannot read {path_text}: {err.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot read {path_text}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"cannot read {path_text}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise UsageError(
            f"cannot read {path_text}: {info.st_size} bytes "
            f"(limit {MAX_FILE_BYTES} for a Python file)"
        )
    try:
        with open(path, "rb") as fh:
            source = fh.read(MAX_FILE_BYTES + 1).decode("utf-8")
        code = compile(source, str(path), "exec")
    except (OSError, UnicodeDecodeError, ValueError) as err:
        why = getattr(err, "strerror", None) or text_of(err)
        raise UsageError(f"cannot read {path_text}: {why}") from None
    except SyntaxError as err:
        line = (err.text or "").rstrip("\n")
        col = None if err.offset is None else max(0, err.offset - 1 - _indent(line))
        raise ExprError(
            f"{path_text}, line {err.lineno}: syntax error: {err.msg}",
            line.strip(),
            col,
        ) from None
    return code


def run_user_code(
    call: Callable[[], Any], who: str, path: Path, raised: str = "raised"
) -> Any:
    """``call()`` within the time budget; whatever it raises (SystemExit too,
    not Ctrl-C) is one UsageError: ``who``, the exception, the user's line."""
    from diffcli.expr.deadline import time_limit

    try:
        with time_limit(TIME_BUDGET, UserCodeTimeout), _no_exit():
            return call()
    except _Exit as err:
        raise UsageError(
            f"{who} called {err.how}({err.code}), which would end diffcli "
            f"silently{_line(err, path)}"
        ) from None
    except UserCodeTimeout:
        raise UsageError(
            f"{who} did not finish within the time budget of "
            f"{TIME_BUDGET:g} s (an endless loop?)"
        ) from None
    except (DiffcliError, KeyboardInterrupt):
        raise
    except BaseException as err:  # SystemExit, GeneratorExit, BaseException
        raise UsageError(f"{who} {raised} {_describe(err, path)}") from None


class _Exit(BaseException):
    """os._exit or os.abort, called by the user's code: ended as an error."""

    def __init__(self, how: str, code: object) -> None:
        super().__init__(how, code)
        self.how, self.code = how, code


_REAL = {"_exit": os._exit, "abort": os.abort}
_guarded = threading.local()


def _stand_in(how: str) -> Callable[..., Any]:
    def stop(*args: Any) -> None:  # outside user code (a kept reference): real
        if not getattr(_guarded, "on", False):
            _REAL[how](*args)
        raise _Exit(f"os.{how}", args[0] if args else "")

    return stop


@contextlib.contextmanager
def _no_exit() -> Iterator[None]:
    """os._exit and os.abort end the process at once, output unwritten:
    while the user's code runs they raise instead, to be reported."""
    before = getattr(_guarded, "on", False)
    _guarded.on = True
    os._exit, os.abort = _stand_in("_exit"), _stand_in("abort")
    try:
        yield
    finally:
        _guarded.on = before
        if not before:
            os._exit, os.abort = _REAL["_exit"], _REAL["abort"]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def text_of(err: BaseException) -> str:
    """``str(err)``, even for an exception whose ``__str__`` raises."""
    try:
        return str(err)
    except BaseException:  # the user's __str__ may raise anything
        return "(its message could not be made: its __str__ raised)"


def _describe(err: BaseException, path: Path) -> str:
    """``ZeroDivisionError: division by zero (line 4)``: the user's line, if any."""
    return f"{type(err).__name__}: {text_of(err)}{_line(err, path)}"


def _line(err: BaseException, path: Path) -> str:
    """`` (line 4)``: the user's last line in the traceback, if any."""
    lines = [
        f.lineno
        for f in traceback.extract_tb(err.__traceback__)
        if Path(f.filename).resolve() == path.resolve()
    ]
    return f" (line {lines[-1]})" if lines else ""
