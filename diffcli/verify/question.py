"""What the user asked: an expression, a point, constants, and what to differentiate.

Shared by every command (grad, jacobian, minimize, check), so that values,
names and their errors mean the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError, ExprError
from diffcli.expr import parser as P
from diffcli.expr.numeric import check_size, value_of

Values = Mapping[str, Any] | Iterable[tuple[str, Any]]


class NonScalarOutput(DiffcliError):
    """A gradient was asked of a non-scalar value without a seed."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__(
            f"the value has shape {shape}, not a scalar: a gradient needs a scalar, "
            "or a seed for the vector-Jacobian product"
        )
        self.shape = shape


@dataclass
class Problem:
    """A parsed expression with its point (``at``) and constants (``let``).

    ``wrt`` are the variables to differentiate; those without a value are
    purely symbolic.  ``free`` are names with no value that are not in ``wrt``:
    symbolic parameters (the ``a``, ``b``, ``c`` of ``a*x**2+b*x+c``).
    """

    text: str
    tree: P.Expr
    point: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    wrt: list[str]
    free: list[str]
    function: Callable[..., Any] | None = None  # --func: Python code, not a tree

    @property
    def missing(self) -> list[str]:
        """Names with no value: the free ones, then variables given none."""
        return [n for n in self.free + self.wrt if n not in self.point]

    @property
    def numeric(self) -> bool:
        """Whether every name has a value, so the engine can run."""
        return not self.missing

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        """The value with the engine, from the tree or the user's function."""
        if self.function is not None:
            out = self.function(**names)
            if not hasattr(out, "grad_fn"):
                raise ExprError(
                    f"{self.text} returned {type(out).__name__}, not a tensor"
                )
            return out
        from diffcli.expr.numeric import evaluate_numeric

        return evaluate_numeric(self.tree, names, self.text)

    @property
    def fixed(self) -> dict[str, np.ndarray]:
        """Values held constant: ``let`` ones, and ``at`` ones not in ``wrt``."""
        held = {n: v for n, v in self.point.items() if n not in self.wrt}
        return {**self.constants, **held}

    def shape_of(self, name: str) -> tuple[int, ...]:
        return self.point[name].shape if name in self.point else ()


def to_value(name: str, value: Any) -> np.ndarray:
    """A user's value (text in the value syntax, number or nested list) as float64."""
    if isinstance(value, str):
        try:
            array = value_of(value)
        except ExprError as err:
            raise ExprError(
                f"in the value of '{name}': {err.message}", err.source, err.col, err.end
            ) from None
        check_size(name, array, value)
        return array
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExprError(
            f"the value of '{name}' is not a number or a rectangular array of "
            f"numbers (a {type(value).__name__})"
        ) from None
    check_size(name, array)
    return array


def value_pairs(values: Values | None) -> list[tuple[str, Any]]:
    if values is None:
        return []
    return list(values.items()) if isinstance(values, Mapping) else list(values)


def prepare(
    text: str,
    at: Values | None = None,
    let: Values | None = None,
    wrt: Iterable[str] | None = None,
    strict: bool = False,
) -> Problem:
    """Parse and check everything before any work: all errors come out here.

    Without ``wrt`` the variables are the names given a value with ``at``, or
    with no values at all every free name (a symbolic gradient).  ``strict``
    (the command line): a value for a name the expression does not use is an
    error.
    """
    tree = P.parse(text)
    point, constants = {}, {}
    for target, pairs in ((point, value_pairs(at)), (constants, value_pairs(let))):
        for name, value in pairs:
            if name in point or name in constants:
                raise ExprError(f"'{name}' is given a value twice")
            target[name] = to_value(name, value)
    names = P.free_names(tree)
    if strict:
        check_used([*point, *constants], names, text)
    if wrt is None:
        wrt = list(point) if point else [n for n in names if n not in constants]
    wrt = list(dict.fromkeys(wrt))
    for name in wrt:
        if name in constants:
            raise ExprError(
                f"'{name}' is a constant (given with let) and cannot be "
                "differentiated; give its value with at instead"
            )
        if name not in names and name not in point:
            raise ExprError(f"'{name}' does not appear in '{text}'", text)
    free = [n for n in names if n not in point and n not in constants and n not in wrt]
    return Problem(text, tree, point, constants, wrt, free)


def check_used(given: Iterable[str], names: Iterable[str], text: str) -> None:
    """A value for a name the expression does not use is a mistake: a typo, or
    the wrong expression.  Said with the closest name still without a value,
    or, when every name has one, with the names it uses."""
    import difflib

    names, given = list(names), list(given)
    for name in given:
        if name in names:
            continue
        missing = [n for n in names if n not in given]
        close = difflib.get_close_matches(name, missing, 1, cutoff=0.0)
        if close:
            hint = f" (did you mean '{close[0]}'?)"
        elif names:
            hint = f" (it uses {', '.join(sorted(names))}, each given)"
        else:
            hint = " (it uses no names)"
        raise ExprError(f"'{name}' is given a value but '{text}' does not use it{hint}")


def prepare_function(
    function: Callable[..., Any],
    label: str,
    at: Values | None = None,
    let: Values | None = None,
) -> Problem:
    """A Problem whose value comes from Python code written with diffcli's API."""
    import inspect

    point = {n: to_value(n, v) for n, v in value_pairs(at)}
    constants = {n: to_value(n, v) for n, v in value_pairs(let)}
    params = inspect.signature(function).parameters
    for name, param in params.items():
        given = name in point or name in constants
        if (
            not given
            and param.default is inspect.Parameter.empty
            and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
        ):
            raise ExprError(f"{label} takes '{name}', which has no value")
    for name in [*point, *constants]:
        if name not in params and not any(
            p.kind == p.VAR_KEYWORD for p in params.values()
        ):
            raise ExprError(f"{label} has no parameter '{name}'")
    return Problem(label, None, point, constants, list(point), [], function)


def failed_node(problem: Problem, err: BaseException) -> str | None:
    """The function (or operator) of the expression where ``err`` struck, as
    the user wrote it, to name in a reason instead of the exception's text."""
    from diffcli.expr import tree as T

    col, end = getattr(err, "col", None), getattr(err, "end", None)
    if problem.tree is None or col is None:
        return None
    for node in T.walk(problem.tree):
        if getattr(node, "col", None) == col and getattr(node, "end", None) == end:
            if isinstance(node, T.Call):
                return node.func
            if isinstance(node, T.Binary | T.Compare):
                return f"'{node.op}'"
    return None


def at_node(problem: Problem, err: BaseException) -> str:
    """`` (at NAME)`` where the failure has a place, else nothing."""
    node = failed_node(problem, err)
    return f" (at {node})" if node else ""
