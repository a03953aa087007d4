"""PyTorch's ``autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp.

Everything is made of reverse passes (``autograd.grad``).  diffcli has no
forward mode: ``jvp`` and ``hvp`` use the double-backward trick, i.e.
J v = d/du <J^T u, v> for a dummy cotangent u (J^T u is linear in u, and the
table's rules are themselves differentiable), exactly as PyTorch's own
functional API does.  ``vectorize`` and the forward-mode strategies are
accepted and give the same numbers by the same loops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.engine.autograd import grad
from diffcli.engine.functional import stack
from diffcli.engine.grad_mode import enable_grad, set_grad_enabled
from diffcli.engine.tensor import GradMode, Tensor
from diffcli.errors import DiffcliError

Inputs = Tensor | tuple[Tensor, ...]


def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple]:
    many = isinstance(value, tuple | list)
    items = tuple(value) if many else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if many else f"the given {what}"
            raise DiffcliError(
                f"The {what} given to {fn} must be either a Tensor or a tuple of "
                f"Tensors but {where} has type {type(el).__name__}."
            )
    return many, items


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh leaves; with create_graph, ones still joined to the caller's graph."""
    return tuple(
        x.clone()
        if create_graph and x.requires_grad
        else x.detach().requires_grad_(need_graph)
        for x in inputs
    )


def _finish(values: tuple, create_graph: bool) -> tuple:
    if values and isinstance(values[0], tuple):
        return tuple(_finish(v, create_graph) for v in values)
    return values if create_graph else tuple(v.detach() for v in values)


def _unpack(values: tuple, many: bool | tuple[bool, bool]) -> Any:
    if isinstance(many, tuple):
        if not many[1]:
            values = tuple(v[0] for v in values)
        return values if many[0] else values[0]
    return values if many else values[0]


def _check_v(v: tuple, other: tuple, many: bool) -> None:
    if len(v) != len(other):
        raise DiffcliError(
            f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            if many
            else "The given v should contain a single Tensor."
        )
    for i, (a, b) in enumerate(zip(v, other, strict=True)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if many else ""
            raise DiffcliError(
                f"{where}v has invalid size: should be {list(b.shape)} but got "
                f"{list(a.shape)}."
            )


def _v(v: Any, other: tuple, many: bool, create_graph: bool, fn: str, what: str):
    if v is None:
        if len(other) != 1 or other[0].numel() != 1:
            raise DiffcliError(
                f"The vector v can only be None if the {what} is a single Tensor "
                "with a single element."
            )
        return None
    _, v = _as_tuple(v, "v", fn)
    v = _prepare(v, create_graph, False)
    _check_v(v, other, many)
    return v


def _strict_outputs(outputs: tuple, strict: bool) -> None:
    for i, out in enumerate(outputs):
        if strict and not out.requires_grad:
            raise DiffcliError(
                f"Output {i} of the user-provided function does not require "
                "gradients. The outputs must be computed in a differentiable manner "
                "from the input when running in strict mode."
            )


def _grads(outputs, inputs, seeds=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` of the outputs that require grad; None where unused."""
    seeds = (None,) * len(outputs) if seeds is None else seeds
    live = [(o, s) for o, s in zip(outputs, seeds, strict=True) if o.requires_grad]
    if not live:
        return (None,) * len(inputs)
    return grad(
        [o for o, _ in live],
        list(inputs),
        [s for _, s in live],
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


def _zeros_for_none(grads, refs, strict, create_graph, independent: str) -> tuple:
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs, strict=True)):
        if g is None:
            if strict:
                raise DiffcliError(
                    f"{independent} {i}. This is not allowed in strict mode."
                )
            g = ref.detach() * 0 if not create_graph else ref * 0
        out.append(g)
    return tuple(out)


def vjp(
    func: Callable, inputs: Inputs, v: Any = None, create_graph=False, strict=False
):
    """(func(inputs), v^T J): the vector-Jacobian product, one reverse pass."""
    with enable_grad():
        many_in, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, True)
        many_out, outputs = _as_tuple(func(*inputs), "outputs", "vjp")
        _strict_outputs(outputs, strict)
        what = "user-provided function returns"
        v = _v(v, outputs, many_out, create_graph, "vjp", what)
    with set_grad_enabled(create_graph or GradMode.enabled):
        res = _grads(outputs, inputs, v, create_graph)
    independent = "The output of the user-provided function is independent of input"
    res = _zeros_for_none(res, inputs, strict, create_graph, independent)
    return _answer(outputs, many_out, res, many_in, create_graph)


def jvp(
    func: Callable, inputs: Inputs, v: Any = None, create_graph=False, strict=False
):
    """(func(inputs), J v) by the double-backward trick: J v = d/du <J^T u, v>."""
    with enable_grad():
        many_in, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, True)
        v = _v(v, inputs, many_in, create_graph, "jvp", "input to the function")
        many_out, outputs = _as_tuple(func(*inputs), "outputs", "jvp")
        _strict_outputs(outputs, strict)
        dummies = tuple(_zeros_requiring_grad(o) for o in outputs)
        grad_inputs = _grads(outputs, inputs, dummies, create_graph=True)
        if strict and any(g is None or not g.requires_grad for g in grad_inputs):
            raise DiffcliError(
                "The gradient with respect to the inputs is independent of the inputs "
                "of the user-provided function. This is not allowed in strict mode."
            )
    with set_grad_enabled(create_graph or GradMode.enabled):
        res = _back_trick(grad_inputs, dummies, v, create_graph)
    independent = "The gradient with respect to the input is independent of entry"
    res = _zeros_for_none(res, outputs, strict, create_graph, independent)
    return _answer(outputs, many_out, res, many_out, create_graph)


def _answer(outputs: tuple, many_out: bool, res: tuple, many: bool, create_graph):
    """(outputs, result) as the caller passed them: tensors or tuples."""
    return (
        _unpack(_finish(outputs, create_graph), many_out),
        _unpack(_finish(res, create_graph), many),
    )


def _back_trick(linear: tuple, dummies: tuple, v: Any, create_graph: bool) -> tuple:
    """d/du <linear(u), v>: ``linear`` was computed from the cotangents
    ``dummies`` (u) and is linear in them, so this is the forward product."""
    live = [(g, s) for g, s in zip(linear, v or (None,), strict=False) if g is not None]
    if not live:
        return (None,) * len(dummies)
    return _grads([g for g, _ in live], dummies, [s for _, s in live], create_graph)


def _zeros_requiring_grad(like: Tensor) -> Tensor:
    return (like.detach() * 0).requires_grad_(True)


def jacobian(
    func: Callable,
    inputs: Inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """d outputs / d inputs, one reverse pass per output element: a tensor of
    shape output.shape + input.shape (tuples of them for tuples)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise DiffcliError(
            'Expected strategy to be either "forward-mode" or "reverse-mode".'
        )
    if strict and vectorize:
        raise DiffcliError(
            "jacobian: `strict=True` and `vectorized=True` are not supported "
            "together. Please either set `strict=False` or `vectorize=False`."
        )
    with enable_grad():
        many_in, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, True)
        many_out, outputs = _as_tuple(func(*inputs), "outputs", "jacobian")
        _strict_outputs(outputs, strict)
        result = tuple(
            _jacobian_of(i, out, inputs, create_graph, strict)
            for i, out in enumerate(outputs)
        )
    return _unpack(_finish(result, create_graph), (many_out, many_in))


def _jacobian_of(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict):
    rows: list[list[Tensor]] = [[] for _ in inputs]
    flat = out.reshape(-1)
    for j in range(out.numel()):
        vj = _grads((flat[j],), inputs, None, create_graph, retain_graph=True)
        for k, (g, x) in enumerate(zip(vj, inputs, strict=True)):
            if g is None:
                if strict:
                    raise DiffcliError(
                        f"Output {i} of the user-provided function is independent of "
                        f"input {k}. This is not allowed in strict mode."
                    )
                g = x.detach() * 0
            rows[k].append(g)
    return tuple(
        stack(r).reshape(*out.shape, *x.shape)
        if r
        else Tensor._wrap(np.zeros(out.shape + x.shape, x.dtype))
        for r, x in zip(rows, inputs, strict=True)
    )


def hessian(
    func: Callable,
    inputs: Inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of the gradient of a function with one scalar output."""
    many_in, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*xs: Tensor) -> Tensor:
        out = func(*xs)
        if isinstance(out, tuple | list) or not isinstance(out, Tensor):
            raise DiffcliError(
                "The function given to hessian should return a single Tensor"
            )
        _strict_outputs((out,), strict)
        if out.numel() != 1:
            raise DiffcliError(
                "The Tensor returned by the function given to hessian should contain "
                "a single element"
            )
        return out.reshape(())

    def gradient(*xs: Tensor) -> tuple:
        return jacobian(scalar, xs, create_graph=True)

    res = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(res, (many_in, many_in))


def _second_order(func, inputs, v, create_graph, strict, fn):
    """The gradient of a scalar function (kept differentiable) and v."""
    many_in, inputs = _as_tuple(inputs, "inputs", fn)
    inputs = _prepare(inputs, create_graph, True)
    v = _v(v, inputs, many_in, create_graph, fn, "input to the function")
    many_out, outputs = _as_tuple(func(*inputs), "outputs", fn)
    _strict_outputs(outputs, strict)
    if many_out:
        raise DiffcliError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise DiffcliError(
            f"The Tensor returned by the function given to {fn} should contain a "
            "single element"
        )
    jac = _grads(outputs, inputs, None, create_graph=True)
    if strict and any(g is None or not g.requires_grad for g in jac):
        raise DiffcliError(
            "While computing the hessian, found that the jacobian of the "
            "user-provided function is independent of the input. This is not "
            "allowed in strict mode."
        )
    jac = tuple(
        x.detach() * 0 if g is None else g for g, x in zip(jac, inputs, strict=True)
    )
    return many_in, inputs, v, outputs, jac


def vhp(
    func: Callable, inputs: Inputs, v: Any = None, create_graph=False, strict=False
):
    """(func(inputs), v^T H): the gradient of <grad f, v>."""
    with enable_grad():
        many_in, inputs, v, outputs, jac = _second_order(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with set_grad_enabled(create_graph or GradMode.enabled):
        res = _grads(jac, inputs, v, create_graph)
    independent = "The jacobian of the user-provided function is independent of input"
    res = _zeros_for_none(res, inputs, strict, create_graph, independent)
    return _answer(outputs, False, res, many_in, create_graph)


def hvp(
    func: Callable, inputs: Inputs, v: Any = None, create_graph=False, strict=False
):
    """(func(inputs), H v) by the double-backward trick, as in PyTorch (for a
    twice-differentiable f, H is symmetric and this equals vhp)."""
    with enable_grad():
        many_in, inputs, v, outputs, jac = _second_order(
            func, inputs, v, create_graph, strict, "hvp"
        )
        dummies = tuple(_zeros_requiring_grad(x) for x in inputs)
        double_back = _grads(jac, inputs, dummies, create_graph=True)
    with set_grad_enabled(create_graph or GradMode.enabled):
        res = _back_trick(double_back, dummies, v, create_graph)
    independent = "The hessian of the user-provided function is independent of entry"
    res = _zeros_for_none(res, inputs, strict, create_graph, independent)
    return _answer(outputs, False, res, many_in, create_graph)
