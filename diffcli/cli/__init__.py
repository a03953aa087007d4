"""The command line: ``diffcli jacobian`` and ``graph`` (here), ``grad``,
``minimize`` and ``check FILE`` (their own modules in this package).

The only package that imports click.  Each command parses its options
(options.py: the shared ones), calls the core (verify/, minimize/, batch/) and
prints one renderer (render/) or the JSON (render/json_data.py).  The heavy
parts (SymPy, rich) are imported inside the commands, so ``diffcli --help``
stays fast.

Adding a command from another module (``minimize``, ``check FILE``): write it
with the shared pieces, then register it in LAZY_COMMANDS below (imported only
when used, so ``--help`` stays light) or with ``main.add_command``::

    import click
    from diffcli.cli import common as common
    from diffcli.cli.options import check_options, output_options, point_options, run

    @click.command(help="...")
    @click.argument("expr")
    @point_options
    @output_options
    def minimize(expr, at, let, json_mode, debug):
        def action() -> int:
            points = common.parse_assignments(at)  # errors: caret, exit 2
            ...
            return common.EXIT_OK
        run(action, json_mode, debug)
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from diffcli import __version__
from diffcli.cli import common as common
from diffcli.cli.grad import emit_jacobian, grad
from diffcli.cli.options import (
    check_options,
    output_options,
    point_options,
    run,
    show,
    tolerances,
)
from diffcli.cli.parsing import ExprCommand

# name -> "module:attribute" of commands defined elsewhere, imported on use.
LAZY_COMMANDS: dict[str, str] = {
    "minimize": "diffcli.cli.minimize:minimize",
    "check": "diffcli.cli.batch:check",
    "functions": "diffcli.cli.functions:functions",
}


class DiffcliGroup(click.Group):
    """A group whose usage errors exit 2 (also as JSON with --json) and that
    can load commands from other modules only when they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in LAZY_COMMANDS:
            import importlib

            module, _, attr = LAZY_COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        standalone = kwargs.pop("standalone_mode", True)
        try:
            code = super().main(argv, *rest, standalone_mode=False, **kwargs)
        except click.ClickException as err:
            if "--json" in argv:
                common.print_json({"error": err.format_message()})
            err.show()
            code = common.EXIT_USAGE
        except click.Abort:
            sys.stderr.write("interrupted\n")
            code = 130
        code = code if isinstance(code, int) else common.EXIT_OK
        if standalone and args is None:
            _exit_now(code)
        if standalone:
            sys.exit(code)
        return code


def _exit_now(code: int) -> None:
    """End the process at once: the real entry point only (the console script
    and ``python -m diffcli``, which pass no args; click's CliRunner and callers
    in Python always do, and get sys.exit).

    Interpreter shutdown after SymPy is loaded (tearing down its many modules
    and caches) takes about 0.2 s, a fifth of `diffcli minimize`'s budget.
    The output is complete here, so flush it and skip the teardown; atexit
    handlers do not run (nothing in diffcli registers one).
    """
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`| head`) or stream: nothing left to save
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


@click.group(cls=DiffcliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="diffcli")
def main() -> None:
    """Differentiate expressions three ways and say whether they agree.

    A reverse-mode engine with PyTorch's semantics, SymPy's closed form and
    finite differences.  Exit codes: 0 success, 1 a cross-check mismatch,
    2 bad input or usage.

    Bounded work: an array of more than 10M elements (a result, a Hessian, a
    Jacobian) or 50M in one evaluation is refused before it is made.  Each
    command has a time budget of 10 s for what can be cut short: over it, the
    closed form and finite differences are skipped with the reason (the
    engine's answer is still given), a higher order that cannot end in it is
    refused, and --func's code is stopped.

    \b
    Examples:
      diffcli grad "a*x**2+b*x+c" --at x=0 --let a=1,b=-2,c=1
      diffcli grad "a*x**2+b*x+c" --wrt x
      diffcli jacobian "x**2" --at "x=[1,2]"
      diffcli graph "sum(x*x)" --at "x=[1,2]"
      diffcli functions
    """


main.add_command(grad)


# --- jacobian -----------------------------------------------------------------

JACOBIAN_HELP = """The full Jacobian of a vector EXPR, one row per output element.

\b
Examples:
  diffcli jacobian "x**2" --at "x=[1,2]"
  diffcli jacobian "[m[0]**2, m[1]**3]" --at "m=[2,3]"
  diffcli jacobian "mm(x, Y)" --at "x=[[1,2]]" --let "Y=[[1,2],[3,4]]"
"""


@main.command(
    cls=ExprCommand,
    help=JACOBIAN_HELP,
    short_help="The full Jacobian of a vector output.",
)
@click.argument("expr")
@point_options
@click.option("--wrt", multiple=True, metavar="NAMES", help="Only these variables.")
@check_options
@click.option("--latex", is_flag=True, help="Closed forms as LaTeX.")
@output_options
def jacobian(
    expr: str,
    at: tuple[str, ...],
    let: tuple[str, ...],
    wrt: tuple[str, ...],
    no_check: bool,
    rtol: float | None,
    atol: float | None,
    latex: bool,
    json_mode: bool,
    debug: bool,
) -> None:
    def action() -> int:
        from diffcli.verify import verdict as C

        names = common.parse_names(wrt) if wrt else None
        result = C.jacobian(
            expr,
            common.parse_assignments(at),
            common.parse_assignments(let),
            names,
            not no_check,
            tolerances(rtol, atol),
            strict=True,
        )
        return emit_jacobian(result, latex, json_mode)

    run(action, json_mode, debug)


# --- graph --------------------------------------------------------------------

GRAPH_HELP = """The graph the engine records for EXPR: each node's PyTorch name
(AddBackward0, ...), shape, value and gradient; leaves marked.

\b
Examples:
  diffcli graph "a*x**2+b*x+c" --at x=0 --let a=1,b=-2,c=1
  diffcli graph "x**2" --at "x=[1,2]" --seed ones
  diffcli graph "sum(x*x)" --at "x=[1,2]" --dot graph.dot   # then: dot -Tpng
"""


@main.command(
    cls=ExprCommand,
    help=GRAPH_HELP,
    short_help="The recorded graph, with values and gradients.",
)
@click.argument("expr")
@point_options
@click.option("--seed", metavar="VALUE", help="Seed of a non-scalar output, or 'ones'.")
@click.option(
    "--dot",
    "dot_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Also write the graph as Graphviz source ('-' for stdout).",
)
@output_options
def graph(
    expr: str,
    at: tuple[str, ...],
    let: tuple[str, ...],
    seed: str | None,
    dot_file: str | None,
    json_mode: bool,
    debug: bool,
) -> None:
    def action() -> int:
        from diffcli.render import json_data as jsonout
        from diffcli.verify import graph_report as G

        result = G.build_graph(
            expr, common.parse_assignments(at), common.parse_assignments(let), seed
        )
        if dot_file == "-":
            sys.stdout.write(G.to_dot(result))
            return common.EXIT_OK
        if dot_file is not None:
            try:
                with open(dot_file, "w", encoding="utf-8") as fh:
                    fh.write(G.to_dot(result))
            except OSError as err:
                raise common.UsageError(
                    f"cannot write {dot_file}: {err.strerror}"
                ) from None
        if json_mode:
            common.print_json(jsonout.graph_json(result))
        else:
            from diffcli.render import grad_views as render

            show(render.graph_view(result))
        return common.EXIT_OK

    run(action, json_mode, debug)


if __name__ == "__main__":  # pragma: no cover
    main()
