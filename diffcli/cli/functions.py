"""``diffcli functions [NAME ...]``: THE table as a reference, for people and
scripts."""

from __future__ import annotations

import click

from diffcli.cli import common
from diffcli.cli.options import output_options, run

HELP = """The functions diffcli knows: how to call each, what it is, its
derivative (from SymPy), PyTorch's grad_fn name and its choice at kinks.

\b
Examples:
  diffcli functions
  diffcli functions atan2 norm
  diffcli functions --json
"""


@click.command(help=HELP)
@click.argument("names", nargs=-1)
@output_options
def functions(names: tuple[str, ...], json_mode: bool, debug: bool) -> None:
    def action() -> int:
        from diffcli.expr.reference import reference

        rows = reference(list(names))
        if json_mode:
            from diffcli.render.reference_views import reference_json

            common.print_json(reference_json(rows))
        else:
            from diffcli.render.reference_views import reference_view

            common.make_console().print(reference_view(rows))
        return common.EXIT_OK

    run(action, json_mode, debug)
