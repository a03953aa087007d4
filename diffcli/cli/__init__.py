"""The command line: ``diffcli grad``, ``jacobian`` and ``graph`` (here), and
``minimize`` and ``check FILE`` (their own modules in this package).

The only package that imports click.  Each command parses its options, calls
the core (check.py, graph.py) and prints one renderer (render.py) or the JSON
(jsonout.py).  The heavy parts (SymPy, rich) are imported inside the commands,
so ``diffcli --help`` stays fast.

Adding a command from another module (``minimize``, ``check FILE``): write it
with the shared pieces, then register it in LAZY_COMMANDS below (imported only
when used, so ``--help`` stays light) or with ``main.add_command``::

    import click
    from diffcli.cli import common as common
    from diffcli.cli import check_options, output_options, point_options, run

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
from collections.abc import Callable
from typing import Any

import click

from diffcli import __version__
from diffcli.cli import common as common
from diffcli.cli.parsing import ExprCommand, tolerance

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


# --- shared options ------------------------------------------------------------------


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
    from diffcli.verify.verdict import Tolerances

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


# --- grad ---------------------------------------------------------------------

GRAD_HELP = """Gradient of EXPR at a point, cross-checked by SymPy and finite
differences.

\b
Examples:
  diffcli grad "a*x**2+b*x+c" --at x=0 --let a=1 --let b=-2 --let c=1
  diffcli grad "a*x**2+b*x+c" --wrt x               # symbolic: 2*a*x + b
  diffcli grad "x**2-2*x+1" --at x=0 --order 2      # second derivative: 2
  diffcli grad "norm(x**2)" --at "x=[1,2]"          # [0.485071, 3.88057]
  diffcli grad "x**2" --at "x=[1,2]" --seed ones    # backward(ones): [2, 4]
  diffcli grad "x1*x2" "x1+x2" --at x1=1,x2=2       # summed: 3, 2
  diffcli grad "x*y" --at x=1,y=2 --direction x=1   # along x: 2
  diffcli grad --func f.py:f --at a=0.5             # Python code with dc.*
  diffcli grad "norm(x**2)" --at "x=[1,2]" \\
      --expect "x[0]=2*x[0]**3/sqrt(x[0]**4+x[1]**4)"  # your formula: proved

\b
Verdicts (check.status in JSON; exit 0 unless said):
  ok                  the witnesses agree, every number finite
  mismatch            a witness disagrees (exit 1)
  skipped             no witness could run
  not-differentiable  "not differentiable here": the function or its
                      derivative is not a finite real number at the point
  overflow            "overflow in the engine": not finite in the engine,
                      finite exactly (exit 1)
  non-finite          not finite, and no witness can tell why


Budgets (a witness over its budget is skipped, with the reason as a note
under the verdict; the others still decide):
  closed form         512 variable elements, 10 s of SymPy
  finite differences  2000 variable elements
Output: arrays over 64 elements show their edges and '...', over 8 closed
forms the shortest few; --full and --json have everything.
"""


@main.command(
    cls=ExprCommand,
    help=GRAD_HELP,
    short_help="Gradient, Hessian or N-th derivative, cross-checked.",
)
@click.argument("exprs", nargs=-1, metavar="EXPR [EXPR ...]")
@point_options
@click.option(
    "--wrt",
    multiple=True,
    metavar="NAMES",
    help="Differentiate with respect to these only (x,y); "
    "a name without a value gets a symbolic answer.",
)
@click.option(
    "--seed",
    metavar="VALUE",
    help="Seed of a non-scalar output (backward(gradient=...)): "
    "a value like '[1,1]', or 'ones'.",
)
@click.option(
    "--order",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="2: the Hessian; N: the N-th derivative of a one-variable function.",
)
@click.option(
    "--direction",
    multiple=True,
    metavar="NAME=VALUE",
    help="Also the derivative along this direction (a Jacobian-vector "
    "product); same syntax as --at, unnamed variables move by 0.",
)
@click.option(
    "--expect",
    multiple=True,
    metavar="NAME=FORMULA",
    help="Your own derivative of EXPR by NAME (or one entry, x[0]) to check: "
    "proved, refuted at a point (exit 1), or agreeing at random points.",
)
@check_options
@click.option("--latex", is_flag=True, help="Closed forms as LaTeX.")
@click.option(
    "--func",
    metavar="FILE.py:NAME",
    help="Differentiate a Python function written with diffcli's API.",
)
@view_options
@output_options
def grad(
    exprs: tuple[str, ...],
    at: tuple[str, ...],
    let: tuple[str, ...],
    wrt: tuple[str, ...],
    seed: str | None,
    order: int,
    direction: tuple[str, ...],
    expect: tuple[str, ...],
    no_check: bool,
    rtol: float | None,
    atol: float | None,
    latex: bool,
    func: str | None,
    json_mode: bool,
    debug: bool,
    full: bool = False,
    all_forms: bool = False,
) -> None:
    view = {"full": full, "all_forms": all_forms}

    def action() -> int:
        from diffcli.verify import expect as E
        from diffcli.verify import verdict as C
        from diffcli.verify.question import NonScalarOutput, prepare

        tol = tolerances(rtol, atol)
        points = common.parse_assignments(at)
        lets = common.parse_assignments(let)
        names = common.parse_names(wrt) if wrt else None
        if expect and (func is not None or len(exprs) != 1):
            raise common.UsageError("--expect needs a single EXPR")
        if expect and no_check:
            raise common.UsageError("--expect needs SymPy, which --no-check turns off")
        if func is not None:
            if exprs:
                raise common.UsageError("give either EXPR or --func, not both")
            if names:
                raise common.UsageError("--wrt does not apply to --func: use --at")
            from diffcli.cli.user_code import load_function

            function, label = load_function(func)
            result = C.grad_function(
                function, label, points, lets, seed, order, not no_check, tol
            )
        elif not exprs:
            raise common.UsageError("missing EXPR (or --func FILE.py:NAME)")
        elif len(exprs) > 1:
            if order != 1 or direction:
                raise common.UsageError("--order and --direction need a single EXPR")
            problems = [prepare(e, points, lets, names) for e in exprs]
            _need_values(problems, no_check)
            multi = C.grad_many(
                list(exprs), points, lets, names, seed, not no_check, tol, strict=True
            )
            return _emit(multi, latex, tol, json_mode, **view)
        else:
            problem = prepare(exprs[0], points, lets, names, strict=True)
            _need_values([problem], no_check)
            claims = E.claims(expect, problem, order)
            try:
                result = C.grad_problem(
                    problem, seed, order, not no_check, tol, expect=claims
                )
            except NonScalarOutput:
                if not direction or seed is not None:
                    raise
                # a vector value along a direction: J v from the full Jacobian
                result = C.jacobian(
                    exprs[0], points, lets, names, not no_check, tol, strict=True
                )
                C.along(result, common.parse_assignments(direction))
                return _emit_jacobian(result, latex, json_mode)
        if direction:
            C.along(result, common.parse_assignments(direction))
        return _emit(result, latex, tol, json_mode, **view)

    run(action, json_mode, debug)


def _need_values(problems: list[Any], no_check: bool) -> None:
    """Without values only SymPy can answer, and --no-check turned it off."""
    for p in problems:
        if no_check and not p.numeric:
            missing = [n for n in p.free + p.wrt if n not in p.point]
            raise common.UsageError(
                f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} "
                "no value, so only the symbolic answer is possible, and --no-check "
                "turns SymPy off; give values with --at/--let or drop --no-check"
            )


def _emit(
    result: Any,
    latex: bool,
    tol: Any,
    json_mode: bool,
    full: bool = False,
    all_forms: bool = False,
) -> int:
    from diffcli.render import json_data as jsonout
    from diffcli.verify.verdict import MultiResult

    multi = isinstance(result, MultiResult)
    if json_mode:
        json_of = jsonout.multi_json if multi else jsonout.grad_json
        data = json_of(result, latex, full or all_forms)
        common.print_json(data)
    else:
        from diffcli.render import grad_views as render
        from diffcli.render.text import unabridged

        with unabridged() if full else contextlib.nullcontext():
            if multi:
                show(render.multi_view(result, latex, tol))
            else:
                show(render.grad_view(result, latex, tol, True, full, all_forms))
    refuted = any(c.status == "refuted" for c in getattr(result, "expectations", ()))
    return max(common.exit_code(result.check.status), int(refuted))


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
        return _emit_jacobian(result, latex, json_mode)

    run(action, json_mode, debug)


def _emit_jacobian(result: Any, latex: bool, json_mode: bool) -> int:
    from diffcli.render import json_data as jsonout

    if json_mode:
        common.print_json(jsonout.jacobian_json(result, latex))
    else:
        from diffcli.render import grad_views as render

        show(render.jacobian_view(result, latex))
    return common.exit_code(result.check.status)


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
