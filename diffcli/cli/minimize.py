"""``diffcli minimize``: gradient descent on an expression from the command line.

Options are parsed here; the descent is the core's (diffcli.minimize.descent, which
parses and traces the expression once and replays the trace per step) and the
output is render_runs' view or JSON.  Loaded lazily through LAZY_COMMANDS, so
its top-level imports stay light: numpy, the engine and rich come in only when
the command runs, SymPy only for the stationary points (never with --no-solve).
"""

from __future__ import annotations

import sys
from time import perf_counter
from typing import Any

import click

from diffcli.cli import common as common
from diffcli.cli.options import output_options, point_options, run
from diffcli.cli.parsing import ExprCommand, finite

# The core's names (diffcli.minimize.descent.OPTIMIZERS, checked equal by a test); not
# imported from there so that `diffcli --help` does not load numpy for them.
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
REFRESH = 0.05  # seconds between progress bar updates: at most 20 a second
EXIT_INTERRUPTED = 130  # as after SIGINT, also with the partial report

MINIMIZE_HELP = """Minimize a scalar EXPR by gradient descent from the --at point,
then cross-check with SymPy's stationary points (where grad f = 0).

\b
Examples:
  diffcli minimize "a*x**2+b*x+c" --let a=1 --let b=-2 --let c=1 \\
      --at x=0 --lr 0.01 --steps 500
  diffcli minimize "x**3 - 3*x + y**2" --at x=2,y=1 --optimizer adam --lr 0.05
  diffcli minimize "sum((A @ w - b)**2)" --at "w=[0,0]" \\
      --let "A=[[1,0],[1,1],[1,2]]" --let "b=[1,2,2]" --lr 0.05 --tol 1e-9
  diffcli minimize "x**2" --at x=1 --lr 0.1 --steps 100 --every 10 --json

\b
Stops after --steps steps, when the gradient norm falls below --tol
(converged), when the gradient has vanished to rounding (10 steps leave the
point unchanged; --all-steps runs on), or when the value or gradient stops
being finite or passes 1e150 (diverged: exit 1, the last point before it is
reported).  Ctrl-C prints the report so far ("interrupted": true), exit 130.
"""

MAX_SOLVE_SECONDS = 86400.0  # longer than the platform's timers take


def _betas(ctx: click.Context, param: click.Parameter, text: str) -> tuple:
    """``0.9,0.999`` as Adam's (beta1, beta2), each in [0, 1)."""
    parts = text.replace(" ", "").split(",")
    try:
        b1, b2 = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(
            f"expected B1,B2 like 0.9,0.999, got '{text}'"
        ) from None
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise click.BadParameter(f"both betas must be in [0, 1), got '{text}'")
    return b1, b2


class _ProgressBar:
    """A transient rich bar on stderr, updated at most 1/REFRESH times a second.

    Called by the core after every step, so the call itself is one clock read
    and a comparison; rich does the drawing only when it is due.
    """

    def __init__(self, console: Any, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("minimizing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            auto_refresh=False,  # no refresh thread: we refresh when due
        )
        self.task = self.progress.add_task("minimize", total=total)
        self.due = 0.0

    def __call__(self, step: int) -> None:
        now = perf_counter()
        if now >= self.due:
            self.due = now + REFRESH
            self.progress.update(self.task, completed=step, refresh=True)

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        self.due = perf_counter() + REFRESH
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _bar(json_mode: bool, total: int) -> _ProgressBar | None:
    """A progress bar only where a person watches: stderr a terminal, no --json."""
    if json_mode or total < 1 or not sys.stderr.isatty():
        return None
    console = common.make_console(stderr=True)
    return _ProgressBar(console, total) if console.is_terminal else None


@click.command(
    cls=ExprCommand,
    help=MINIMIZE_HELP,
    short_help="Gradient descent, cross-checked by SymPy's stationary points.",
)
@click.argument("expr")
@point_options
@click.option(
    "--optimizer",
    type=click.Choice(OPTIMIZERS, case_sensitive=False),
    default="sgd",
    show_default=True,
    help="The engine's optimizer (PyTorch's update formulas).",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0),
    default=0.01,
    show_default=True,
    callback=finite,
    help="Learning rate.",
)
@click.option(
    "--momentum",
    type=click.FloatRange(min=0),
    default=0.9,
    show_default=True,
    callback=finite,
    help="Momentum of --optimizer momentum and nesterov.",
)
@click.option(
    "--betas",
    default="0.9,0.999",
    show_default=True,
    metavar="B1,B2",
    callback=_betas,
    help="Adam's decay rates of the gradient's mean and square.",
)
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    callback=finite,
    help="L2 penalty added to the gradient, as in PyTorch.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="The maximum number of steps.",
)
@click.option(
    "--tol",
    type=click.FloatRange(min=0),
    default=None,
    metavar="G",
    callback=finite,
    help="Stop (converged) when the gradient norm falls below G.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=None,
    metavar="K",
    help="A history row every K steps [steps/10].",
)
@click.option(
    "--all-steps",
    is_flag=True,
    help="Run every step even after the gradient has vanished to rounding "
    "(by default 10 steps in a row that leave the point unchanged stop the run).",
)
@click.option(
    "--no-solve",
    is_flag=True,
    help="Skip SymPy's stationary points (SymPy is not even imported).",
)
@click.option(
    "--solve-timeout",
    type=click.FloatRange(min=0, min_open=True, max=MAX_SOLVE_SECONDS),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    callback=finite,
    help="Give up on the symbolic solve after this long (at most a day).",
)
@output_options
def minimize(
    expr: str,
    at: tuple[str, ...],
    let: tuple[str, ...],
    optimizer: str,
    lr: float,
    momentum: float,
    betas: tuple[float, float],
    weight_decay: float,
    steps: int,
    tol: float | None,
    every: int | None,
    all_steps: bool,
    no_solve: bool,
    solve_timeout: float,
    json_mode: bool,
    debug: bool,
) -> None:
    def action() -> int:
        from diffcli.minimize import descent as M
        from diffcli.verify.question import prepare

        points = common.parse_assignments(at)
        lets = common.parse_assignments(let)
        if not points:
            raise common.UsageError(
                "minimize needs a start point: give the variables with --at, "
                "e.g. --at x=0"
            )
        options = dict(
            optimizer=optimizer.lower(),
            lr=lr,
            momentum=momentum,
            betas=betas,
            weight_decay=weight_decay,
            steps=steps,
            tol=tol,
            every=every,
            solve=False,  # the BesideSolver's job, beside the descent
            stop_at_rounding=not all_steps,
        )
        problem = prepare(expr, points, lets, strict=True)  # bad input: exit 2
        solver = None
        if not no_solve and not problem.free:
            from diffcli.minimize.stationary import BesideSolver

            solver = BesideSolver(problem, solve_timeout)
        try:
            bar = _bar(json_mode, steps)
            if bar is None:
                result = M.minimize(expr, points, lets, **options)
            else:
                with bar:
                    result = M.minimize(expr, points, lets, progress=bar, **options)
            if solver is not None and not result.interrupted:
                try:
                    M.add_stationary(result, *solver.result())
                except KeyboardInterrupt:  # Ctrl-C while SymPy solves
                    result.interrupted = True
        finally:
            if solver is not None:
                solver.close()
        if no_solve:
            result.symbolic_reason = "--no-solve"
        elif result.interrupted and result.stationary_points is None:
            result.symbolic_reason = "interrupted"
        from diffcli.render import run_views as render_runs

        if json_mode:
            data = render_runs.minimize_json(result)
            common.print_json(
                {**data, "interrupted": True} if result.interrupted else data
            )
        else:
            common.make_console().print(render_runs.minimize_view(result))
        if result.interrupted:
            sys.stdout.flush()
            sys.stderr.write(f"diffcli minimize: {result.stop_reason} (Ctrl-C)\n")
            return EXIT_INTERRUPTED
        if result.diverged_at is None:
            return common.EXIT_OK
        sys.stdout.flush()
        sys.stderr.write(_diverged_message(result))
        return common.EXIT_MISMATCH

    run(action, json_mode, debug)


def _diverged_message(result: Any) -> str:
    """Two lines for stderr: the stop reason, and which point is reported."""
    step = result.diverged_at
    where = "the start point" if step == 0 else f"the point of step {step - 1}"
    return (
        f"diffcli minimize: {result.stop_reason}\n"
        f"  reported: {where}, the last one before\n"
    )
