"""How diffcli's commands read their arguments: an EXPR may start with '-',
and option values are checked where click's types cannot say it."""

from __future__ import annotations

import math
from typing import Any

import click


class ExprCommand(click.Command):
    """A command whose EXPR may start with '-' (a negative log-likelihood):
    anything that is not one of its options is an expression, wherever it
    stands, and option values are taken as they are (``--rtol -1``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes: dict[str, bool] = {}  # option name -> whether it takes a value
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes[name] = not (param.is_flag or param.count)
        options, exprs = [], []
        tokens = iter(args)
        for token in tokens:
            name = token.split("=", 1)[0]
            if token == "--":
                continue  # options stay options after it: no option is an EXPR
            if name in takes:
                options.append(token)
                if takes[name] and "=" not in token:
                    options.append(next(tokens, ""))  # its value, whatever it is
            elif _looks_like_option(token):
                options.append(token)  # click says "No such option" (did you mean)
            else:
                exprs.append(token)
        return super().parse_args(ctx, [*options, "--", *exprs])


def _looks_like_option(token: str) -> bool:
    """``--name`` or ``--name=value`` (a misspelt option), never an expression."""
    name = token.split("=", 1)[0]
    return name.startswith("--") and name[2:].replace("-", "_").isidentifier()


def finite(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Reject nan and inf, which no option means."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number, got {value}")
    return value


def tolerance(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A tolerance: finite and not negative."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise click.BadParameter(f"must be a finite number >= 0, got {value}")
    return value
