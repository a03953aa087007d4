"""How THE table is declared: the registries and the three ways to add a row.

``PRIMITIVES`` are what the engine differentiates, ``FUNCTIONS`` what users
call; ``define`` declares a function that is one primitive (both rows at
once), ``composite`` one written with other functions, ``primitive`` an
engine-internal operation no user calls by name.

Rules (as in PyTorch's derivatives.yaml): ``rule(F, g, ans, *inputs,
**params)`` with ``g`` the cotangent of the output and ``ans`` the output.
``F`` holds these primitives by name: the numpy forwards for a fast
first-order pass, or recorded ops so the backward pass is itself
differentiable; one formula serves every order.  A rule may return a gradient
of the broadcast shape; autograd sums it back to the input's shape in one
place.  A rule returns a new array, ``g`` itself or a view, never another
array it was given, and reads ``g`` once: the engine may hand it ``g`` or an
input's value as an array it may overwrite (memory_reuse.Reusable), and plain
arithmetic on it then writes in place.
Whether a rule reads ``ans`` is declared (``reads_ans``): a value no rule
reads may have its memory reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from diffcli.engine import twins as Y
from diffcli.engine.primitive import Function, Primitive
from diffcli.engine.signature import Signature

PRIMITIVES: dict[str, Primitive] = {}
FUNCTIONS: dict[str, Function] = {}
BY_NAME: dict[str, Function] = {}  # names and aliases


def primitive(
    name: str,
    forward: Callable[..., Any],
    vjps: Any = None,
    *,
    sympy: Any = None,
    torch: Any = "",
    saves_inputs: bool = True,
    overwrites_input: bool = False,
    reads_ans: tuple[bool, ...] | bool = True,
    shape: Callable[..., Any] | None = None,
) -> Primitive:
    """Declare an engine operation.

    ``sympy``: the twin, or the name of an elementwise SymPy function; None
    when the numpy forward already works on object arrays.
    ``saves_inputs=False``: the rules read only the inputs' shapes, so the node
    survives a backward that frees saved values (as PyTorch's SumBackward0).
    ``overwrites_input``: a one-input primitive whose rule may write into its
    input's value when the engine donates it (memory_reuse.Reusable).
    """
    if isinstance(sympy, str):
        sympy = Y.elementwise(sympy)
    prim = Primitive(
        name,
        forward,
        vjps,
        sympy,
        torch or name.capitalize() + "Backward0",
        saves_inputs,
        overwrites_input,
        reads_ans,
        shape,
    )
    PRIMITIVES[name] = prim
    return prim


def _register(
    sig: Signature,
    doc: str,
    body: Callable[..., Any],
    prim: Primitive | None,
    *,
    aliases: Iterable[str] = (),
    method: bool = True,
    kinks: str = "",
    surfaces: Iterable[str] = ("api", "expr"),
    category: str,
    api: Callable[..., Any] | None = None,
) -> Function:
    """Enter a function in THE table.  ``aliases``: its other names;
    ``method``: also a Tensor method; ``kinks``: its choice at kinks and domain
    edges, as documented; ``surfaces``: where it is offered ("api", "expr");
    ``category``: its section of the reference; ``api``: the Python API's own
    callable where it differs from the body (PyTorch's calling convention)."""
    fn = Function(
        sig,
        doc,
        body,
        prim,
        tuple(aliases),
        method,
        kinks,
        frozenset(surfaces),
        category,
        api,
    )
    FUNCTIONS[fn.name] = fn
    for name in (fn.name, *fn.aliases):
        BY_NAME[name] = fn
    return fn


# The settings of how a function is called (``_register``'s); every other
# keyword of ``define`` is its primitive's (``primitive``'s).
HOW_CALLED = frozenset({"aliases", "method", "kinks", "surfaces", "category", "api"})


def define(
    header: str,
    doc: str,
    forward: Callable[..., Any],
    vjps: Any = None,
    *,
    body: Callable[..., Any] | None = None,
    **settings: Any,
) -> Function:
    """A function that is exactly one primitive: its tensor parameters are the
    primitive's inputs, the others its params, by name.  ``body``: where the
    call needs more than that (argument checks), written with ``F.op``;
    ``settings``: how it is called (HOW_CALLED, see ``_register``), the rest
    the primitive's own (see ``primitive``)."""
    sig = Signature.parse(header)
    how_called = {k: settings.pop(k) for k in HOW_CALLED & settings.keys()}
    prim = primitive(sig.name, forward, vjps, **settings)
    kinds = [(p.name, p.kind, p.variadic) for p in sig.params]

    def primitive_call(F, *values):
        inputs: list[Any] = []
        params: dict[str, Any] = {}
        for (name, kind, variadic), v in zip(kinds, values, strict=True):
            if kind != "T":
                params[name] = v
            elif variadic:
                inputs.extend(v)
            else:
                inputs.append(v)
        return F.op(prim.name, *inputs, **params)

    return _register(sig, doc, body or primitive_call, prim, **how_called)


def composite(header: str, doc: str, body: Callable[..., Any], **how_called):
    """A function written with other functions: no rule of its own."""
    return _register(Signature.parse(header), doc, body, None, **how_called)
