"""The two kinds of row of THE table, and the namespace that runs them.

A ``Primitive`` is what the engine differentiates: a numpy forward, one VJP
rule per input, a SymPy twin, PyTorch's grad_fn name.  A ``Function`` is what
users call: a name and aliases, a ``Signature``, a one-line description, the
choice it makes at kinks and domain edges, and a body written with ``Ops``,
either a single primitive or a composite of other functions (which needs no
rule of its own: its gradient is its parts').  The Python API, the Tensor
methods, the expression language and ``diffcli functions`` are all made from
the Functions; the backward pass and the SymPy replay from the Primitives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.engine.signature import Signature
from diffcli.errors import ShapeError

Rule = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Primitive:
    """One differentiable (or constant) operation of the engine.

    ``reads_ans``: per input, whether its rule reads the output ``ans``; a value
    no rule reads may have its memory reused by the backward pass.
    ``shape``: ``shape(*input_shapes, **params) -> output shape``, raising
    ValueError when the inputs do not fit; None where numpy's own error says it.
    """

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Rule, ...] | Rule | None
    sympy: Callable[..., Any] | None
    torch: str | Callable[[tuple, dict], str]
    saves_inputs: bool
    overwrites_input: bool = False
    reads_ans: tuple[bool, ...] | bool = True
    shape: Callable[..., tuple[int, ...]] | None = None

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None

    def grad_fn_name(self, inputs: tuple, params: dict) -> str:
        return self.torch(inputs, params) if callable(self.torch) else self.torch

    def reads_output(self, argnum: int) -> bool:
        reads = self.reads_ans
        return reads if isinstance(reads, bool) else reads[argnum]

    def rule(self, argnum: int) -> Rule:
        """The VJP rule of input ``argnum`` with the uniform signature."""
        if isinstance(self.vjps, tuple):
            return self.vjps[argnum]
        variadic = self.vjps
        return lambda F, g, ans, *xs, **p: variadic(argnum, F, g, ans, *xs, **p)


@dataclass(frozen=True, slots=True)
class Function:
    """One thing users call, in Python (``dc.name``, ``x.name()``) and in
    expressions.  ``body(F, *arguments in signature order)``.

    ``api``: a different body for the Python API where PyTorch returns more
    than a value (``max(x, dim)`` gives values and indices).
    ``surfaces``: where it is offered: "api" (dc.*), "expr" (the language).
    """

    signature: Signature
    doc: str
    body: Callable[..., Any]
    primitive: Primitive | None
    aliases: tuple[str, ...]
    method: bool
    kinks: str
    surfaces: frozenset[str]
    category: str
    api: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        return self.signature.name

    def call(self, F: Ops, args: tuple, kwargs: dict) -> Any:
        bound = self.signature.bind(args, kwargs)
        return self.body(F, *bound.values())


class Ops:
    """The table by name for one backend: ``F.sin(x)`` calls the Function,
    ``F.op("mT", x)`` runs a primitive through ``run(primitive, *inputs,
    **params)`` after checking the shapes its inputs make.  The backend also
    says what a constant array and a detached value are."""

    def __init__(
        self,
        run: Callable[..., Any],
        functions: dict[str, Function],
        primitives: dict[str, Primitive],
        *,
        constant: Callable[[np.ndarray], Any],
        detach: Callable[[Any], Any],
    ) -> None:
        self._run = run
        self._functions = functions
        self._primitives = primitives
        self.constant = constant
        self.detach = detach

    def op(self, name: str, *inputs: Any, **params: Any) -> Any:
        prim = self._primitives[name]
        if prim.shape is not None:
            try:
                prim.shape(*(np.shape(x) for x in inputs), **params)
            except ShapeError as err:
                raise ShapeError(str(err).replace("{op}", name)) from None
        return self._run(prim, *inputs, **params)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn = self._functions.get(name)
        if fn is None:
            raise AttributeError(name)
        bound = lambda *args, **kwargs: fn.call(self, args, kwargs)
        setattr(self, name, bound)
        return bound
