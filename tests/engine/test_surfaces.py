"""The Python API, Tensor's methods and the expression language are all made
from THE table: each surface offers exactly the functions marked for it, under
the function's name and each alias, bound by the function's signature."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

import diffcli as dc
from diffcli.engine import functional
from diffcli.engine.primitive import Function
from diffcli.engine.table import BY_NAME, FUNCTIONS
from diffcli.engine.tensor import Tensor
from diffcli.errors import ExprError
from diffcli.expr import parser as P


def spellings(fn: Function) -> tuple[str, ...]:
    return (fn.name, *fn.aliases)


def offered_on(surface: str) -> set[str]:
    return {
        n for fn in FUNCTIONS.values() if surface in fn.surfaces for n in spellings(fn)
    }


def _defined_in_class() -> set[str]:
    """Names the class statement of Tensor binds itself."""
    body = ast.parse(inspect.getsource(Tensor)).body[0]
    assert isinstance(body, ast.ClassDef)
    names = set()
    for node in body.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


OWN = _defined_in_class()
METHODS = sorted(
    (name, fn.name)
    for fn in FUNCTIONS.values()
    if fn.method and "api" in fn.surfaces
    for name in spellings(fn)
)


def test_spellings_name_one_function_each():
    every = [n for fn in FUNCTIONS.values() for n in spellings(fn)]
    assert len(every) == len(set(every))
    assert set(BY_NAME) == set(every)
    assert all(name in spellings(fn) for name, fn in BY_NAME.items())


# --- the Python API -------------------------------------------------------------


def test_api_offers_exactly_the_api_functions():
    assert set(functional.API) == offered_on("api")


@pytest.mark.parametrize("name", sorted(offered_on("api")))
def test_api_function_is_the_tables(name):
    fn = BY_NAME[name]
    f = getattr(dc, name)
    assert f is functional.API[name]
    assert name in dc.__all__
    assert f.__name__ == fn.name
    assert f.__doc__.startswith(f"{fn.signature}: {fn.doc}.")


# --- Tensor methods ------------------------------------------------------------------


def _delegates_to_api(method, name: str) -> bool:
    """Whether ``method`` is the wrapper install_methods makes around dc.<name>."""
    cells = getattr(method, "__closure__", None) or ()
    return any(c.cell_contents is functional.API[name] for c in cells)


@pytest.mark.parametrize(("name", "function"), METHODS)
def test_method_is_the_api_function(name, function):
    method = Tensor.__dict__.get(name)
    assert method is not None, f"Tensor.{name} is missing"
    if name in OWN:
        assert method.__qualname__ == f"Tensor.{name}"
    else:
        assert _delegates_to_api(method, name), f"Tensor.{name} is not dc.{name}"
        assert method.__doc__ == functional.API[name].__doc__


def test_tensor_defines_only_these_methods_itself():
    """A table method Tensor shadows: documented here, so a new one is a choice."""
    assert {name for name, _ in METHODS if name in OWN} == {"clone"}


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for fn in FUNCTIONS.values()
        if not fn.method or "api" not in fn.surfaces
        for n in spellings(fn)
    ),
)
def test_function_not_marked_as_method_is_not_installed(name):
    method = Tensor.__dict__.get(name)
    assert method is None or not (
        name in functional.API and _delegates_to_api(method, name)
    )


def test_methods_compute_what_the_functions_do():
    x = dc.tensor(np.random.default_rng(0).uniform(-2, 2, (2, 3)))
    pairs = [
        (x.sin(), dc.sin(x)),
        (x.sum(1, keepdim=True), dc.sum(x, 1, True)),
        (x.clip(max=0.5), dc.clamp(x, None, 0.5)),
        (x.view(3, 2), dc.reshape(x, 3, 2)),
        (x.true_divide(2.0), x / 2.0),
    ]
    for method_value, function_value in pairs:
        np.testing.assert_array_equal(method_value.numpy(), function_value.numpy())


# --- the expression language ------------------------------------------------------

ARGUMENT = {"T": "x", "tensors": "[x, y]", "int": "1", "dims": "1", "bool": "1"}
ARGUMENT["float"] = "0.5"


def call_text(
    spelled: str, fn: Function, drop: int = 0, extra: int = 0
) -> tuple[str, int]:
    """A call with every required argument and one for a ``*`` parameter, plus
    ``extra`` positional ones; or, with ``drop``, that many required ones short
    (and none for ``*``).  Also how many arguments are positional."""
    required, star, keywords = [], [], []
    for p in fn.signature.params:
        if p.keyword_only and p.required:
            keywords.append(f"{p.name}={ARGUMENT[p.kind]}")
        elif p.required:
            required.append(ARGUMENT[p.kind])
        elif p.variadic:
            star.append(ARGUMENT[p.kind])
    positional = required[: len(required) - drop] if drop else required + star
    positional += ["1"] * extra
    return f"{spelled}({', '.join(positional + keywords)})", len(positional)


def test_language_offers_exactly_the_expr_functions():
    """The parser's vocabulary, also its did-you-mean list, is the table's."""
    assert set(P.FUNCTIONS) == offered_on("expr")
    assert all(P.FUNCTIONS[n] is BY_NAME[n] for n in P.FUNCTIONS)
    with pytest.raises(ExprError, match="did you mean 'clip'"):
        P.parse("clipp(x, 0)")


@pytest.mark.parametrize("spelled", sorted(offered_on("expr")))
def test_parser_accepts_a_call_of_the_right_arity(spelled):
    fn = P.FUNCTIONS[spelled]
    text, count = call_text(spelled, fn)
    tree = P.parse(text)
    assert isinstance(tree, P.Call)
    assert (tree.func, len(tree.args)) == (spelled, count)
    params = fn.signature.params
    if not any(p.variadic for p in params):
        too_many, _ = call_text(spelled, fn, extra=len(params) + 1 - count)
        with pytest.raises(ExprError, match="takes"):
            P.parse(too_many)
    if any(p.required and not p.keyword_only for p in params):
        with pytest.raises(ExprError, match="takes"):
            P.parse(call_text(spelled, fn, drop=1)[0])


@pytest.mark.parametrize("spelled", sorted(offered_on("api") - offered_on("expr")))
def test_api_only_function_is_unknown_to_the_language(spelled):
    with pytest.raises(ExprError, match=f"unknown function '{spelled}'"):
        P.parse(f"{spelled}(x)")
