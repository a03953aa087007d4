"""The options and plumbing every command shares: where the point and the
constants come from, the cross-check's tolerances, the output's form, and how
a command's body is run (errors to one message, exit codes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from diffcli.cli import common as common
from diffcli.cli.parsing import tolerance


def point_options(f: Callable) -> Callable:
    """``--at`` (variables and the point) and ``--let`` (constants)."""
    f = click.option(
        "--let",
        "let",
        multiple=True,
        metavar="NAME=VALUE",
        help="A constant, not differentiated; same syntax as --at.",
    )(f)
    return click.option(
        "--at",
        "at",
        multiple=True,
        metavar="NAME=VALUE",
        help="A variable and its value, e.g. x=1, 'x=[1,2]', 'x=ones(2,2)'; "
        "repeatable, or several separated by commas: x=1,y=2.",
    )(f)


def check_options(f: Callable) -> Callable:
    """``--no-check``, ``--rtol``, ``--atol``."""
    f = click.option(
        "--atol",
        type=float,
        default=None,
        callback=tolerance,
        help="Absolute tolerance of the finite-difference check [1e-5].",
    )(f)
    f = click.option(
        "--rtol",
        type=float,
        default=None,
        callback=tolerance,
        help="Relative tolerance of the finite-difference check [1e-3].",
    )(f)
    return click.option(
        "--no-check",
        is_flag=True,
        help="Engine only: skip SymPy and finite differences (fast).",
    )(f)


def output_options(f: Callable) -> Callable:
    """``--json`` and ``--debug``."""
    f = click.option(
        "--debug", is_flag=True, help="Show tracebacks of errors (for bug reports)."
    )(f)
    return click.option(
        "--json", "json_mode", is_flag=True, help="Print one JSON object instead."
    )(f)


def view_options(f: Callable) -> Callable:
    """``--full`` and ``--closed-form``: what the summarised output leaves out."""
    f = click.option(
        "--closed-form",
        "all_forms",
        is_flag=True,
        help="Every closed form (many are summarised: the shortest few).",
    )(f)
    return click.option(
        "--full",
        is_flag=True,
        help="Everything: every closed form and every array element "
        "(large arrays otherwise show their edges and '...').",
    )(f)


def tolerances(rtol: float | None, atol: float | None) -> Any:
    """Tolerances from --rtol/--atol (the closed form keeps its tight ones)."""
    from diffcli.verify.tolerances import Tolerances

    default = Tolerances()
    return Tolerances(
        rtol=default.rtol if rtol is None else rtol,
        atol=default.atol if atol is None else atol,
    )


def show(renderable: Any) -> None:
    """Print a renderable on stdout with the shared console."""
    common.quiet()
    common.make_console().print(renderable)


def run(action: Callable[[], int], json_mode: bool, debug: bool) -> None:
    """Run a command's body and exit with its code (errors reported, exit 2)."""
    code = common.run_guarded(action, json_mode, debug)
    click.get_current_context().exit(code)
