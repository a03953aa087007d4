"""``diffcli grad``: the gradient, Hessian or N-th derivative of an expression
(or of --func code) at a point, cross-checked three ways."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from diffcli.cli import common as common
from diffcli.cli.options import (
    check_options,
    output_options,
    point_options,
    run,
    show,
    tolerances,
    view_options,
)
from diffcli.cli.parsing import ExprCommand

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
  matrix form         any size: beyond, it stands in for the closed form
  finite differences  2000 variable elements
At a matrix that is inverted (inv, solve, logdet, ...) its condition number
sets how many digits every witness is compared to; numerically singular:
skipped.
Output: arrays over 64 elements show their edges and '...', over 8 closed
forms the shortest few; --full and --json have everything.
"""


@click.command(
    "grad",
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
        if expect and func is not None:
            raise common.UsageError(
                "--expect checks a formula's derivative: give EXPR, not --func"
            )
        if expect and len(exprs) != 1:
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
                return emit_jacobian(result, latex, json_mode)
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


def emit_jacobian(result: Any, latex: bool, json_mode: bool) -> int:
    from diffcli.render import json_data as jsonout

    if json_mode:
        common.print_json(jsonout.jacobian_json(result, latex))
    else:
        from diffcli.render import grad_views as render

        show(render.jacobian_view(result, latex))
    return common.exit_code(result.check.status)
