"""Matrix expressions: the gradient as a mathematician writes it.

A small tree of its own (not SymPy's MatrixExpr, whose derivative of det
stays unevaluated and whose log-det derivative is wrong): leaves are the
user's names with their shapes, nodes are ``@``, ``.T``, elementwise
operations and the matrix functions.  Constructors tidy as they build
(scalars pulled to the front, ``X.T.T`` is ``X``, ``eye @ X`` is ``X``, like
terms added, ``P @ x + Q @ x`` is ``(P + Q) @ x``); ``text`` prints diffcli's
own syntax (numpy's semantics: vectors are 1-d), which the user can paste
back; matrix_value.py evaluates it with numpy, at a cost that does not grow with
the number of entries the way per-component forms do.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from diffcli.expr.walk import Interrupt


class NoMatrixForm(Interrupt):
    """The expression uses something the matrix form does not cover."""


class M:
    """A node: ``op``, its arguments, its shape, and ``data`` (a leaf's name,
    a number, an op's parameters); equal nodes have equal keys."""

    __slots__ = ("args", "data", "key", "op", "shape")

    def __init__(
        self, op: str, args: tuple = (), shape: tuple = (), data: Any = None
    ) -> None:
        self.op, self.args, self.shape, self.data = op, args, tuple(shape), data
        self.key = (op, data, self.shape, tuple(a.key for a in args))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, M) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:  # matrix_text.text prints it as the user reads it
        return f"M({self.op!r}, {self.shape}, {self.data!r}, {list(self.args)})"

    def __float__(self) -> float:  # cross_entropy(u, t): t's value is not here
        raise NoMatrixForm(f"{_said(self)} used as a number is not supported")

    __int__ = __index__ = __float__

    @property
    def ndim(self) -> int:
        return len(self.shape)


def _said(x: M) -> str:
    return f"'{x.data}'" if x.op == "var" else "an expression"


ELEMENTWISE = ("tanh", "exp", "sin", "cos", "sqrt", "sigmoid", "relu", "abs", "sign")


def num(v: Any) -> M:
    if isinstance(v, Fraction | int):
        return M("num", data=Fraction(v))
    v = float(v)
    if np.isfinite(v):  # 0.1 / 3 is 1 / 30, not 3333333333333333 / 10**17
        near = Fraction(v).limit_denominator(10**6)
        if float(near) == v:
            return M("num", data=near)
    exact = Fraction(repr(v)) if np.isfinite(v) else None
    return M("num", data=exact if exact is not None and len(repr(v)) < 20 else v)


def leaf(name: str, shape: tuple) -> M:
    return M("var", (), shape, name)


def ones(shape: tuple) -> M:
    return M("ones", (), shape) if shape else num(1)


def eye(n: int) -> M:
    return M("eye", (), (n, n))


def is_num(x: M, v: Any = None) -> bool:
    return x.op == "num" and (v is None or x.data == v)


def split(x: M) -> tuple[Any, M | None]:
    """(coefficient, rest): ``2 * A`` is (2, A), a number is (n, None)."""
    if x.op == "num":
        return x.data, None
    if x.op == "mul" and is_num(x.args[0]):
        return x.args[0].data, x.args[1]
    return 1, x


def scale(c: Any, x: M) -> M:
    c0, rest = split(x)
    c = c * c0
    if rest is None:
        return num(c)
    flipped = _flipped(rest) if _negative(num(c)) else None
    if flipped is not None:  # -2 * A.T @ (y - A @ x) is 2 * A.T @ (A @ x - y)
        c, rest = -c, flipped
    return rest if c == 1 else M("mul", (num(c), rest), rest.shape)


def _flipped(x: M) -> M | None:
    """``-x`` without a sign, where x is ``u - v`` (then ``v - u``), or a
    product ending in one; else None."""
    two = x.op == "add" and len(x.args) == 2
    if two and _negative(x.args[1]) and not _negative(x.args[0]):
        return M("add", (neg(x.args[1]), neg(x.args[0])), x.shape)
    if x.op == "matmul":
        last = _flipped(x.args[1])
        return None if last is None else M("matmul", (x.args[0], last), x.shape)
    return None


def neg(x: M) -> M:
    return scale(-1, x)


def _broadcast(a: M, b: M) -> tuple:
    return tuple(np.broadcast_shapes(a.shape, b.shape))


def mul(a: M, b: M) -> M:
    ca, ra = split(a)
    cb, rb = split(b)
    if ra is None or rb is None:
        rest = rb if ra is None else ra
        return num(ca * cb) if rest is None else scale(ca * cb, rest)
    shape = _broadcast(ra, rb)
    if rb.ndim == 0 < ra.ndim:  # s * A, not A * s: like terms meet
        ra, rb = rb, ra
    for p, q in ((ra, rb), (rb, ra)):
        if p.op == "ones" and q.shape == shape:  # q * ones is q
            return scale(ca * cb, q)
    for p, q in ((ra, rb), (rb, ra)):  # (1 / d) * q is q / d
        if p.op == "div" and is_num(p.args[0], 1) and q.shape == shape:
            return scale(ca * cb, div(q, p.args[1]))
    if ra == rb:
        return scale(ca * cb, power(ra, 2))
    return scale(ca * cb, M("mul", (ra, rb), shape))


def div(a: M, b: M) -> M:
    if is_num(b) and isinstance(b.data, Fraction) and b.data != 0:
        return scale(1 / b.data, a)
    ca, ra = split(a)
    if ra is None and is_num(b):
        return num(ca / b.data)
    cb, rb = split(b)
    if rb is not None and isinstance(cb, Fraction) and cb not in (0, 1):
        return scale(1 / cb, div(a, rb))  # 2 * u / (2 * v) is u / v
    if ra == b and ra.shape == _broadcast(ra, b):  # u / u is 1
        return scale(ca, ones(ra.shape))
    if ra is not None and ra.op == "mul" and b in ra.args:  # u * v / u is v
        other = ra.args[1] if ra.args[0] == b else ra.args[0]
        if other.shape == _broadcast(ra, b):
            return scale(ca, other)
    top = num(1) if ra is None else ra
    return scale(ca, M("div", (top, b), _broadcast(top, b)))


def power(u: M, p: Any) -> M:
    if p == 1:
        return u
    if p == 0:
        return ones(u.shape)
    if u.op == "num":
        return num(u.data**p)
    return M("pow", (u, num(p)), u.shape)


def T(x: M) -> M:
    c, r = split(x)
    if r is None or r.ndim < 2 or r.op == "eye":
        return x
    if r.op == "ones":
        return scale(c, ones(r.shape[::-1]))
    if c != 1:
        return scale(c, T(r))
    if r.op == "T":
        return r.args[0]
    if r.op == "inv" and T(r.args[0]) == r.args[0]:  # inv(X @ X.T) is symmetric
        return r
    if r.op == "add" and all(t.ndim != 1 for t in r.args):
        # not over a vector added to every row: transposed it is a column
        return add(*(T(t) for t in r.args))
    if r.op == "outer":
        return M("outer", r.args[::-1], r.shape[::-1])
    if r.op == "mul" and r.args[0].ndim == 0 and r.args[1].shape == r.shape:
        return mul(r.args[0], T(r.args[1]))  # (s * A).T is s * A.T
    if r.op == "mul" and r.args[0].ndim == 1 and r.args[1].op == "ones":
        return outer(r.args[0], ones(r.shape[:1]))  # rows of v, transposed
    if r.op == "matmul" and r.args[0].ndim == 2 and r.args[1].ndim == 2:
        return matmul(T(r.args[1]), T(r.args[0]))
    return M("T", (r,), r.shape[::-1])


def matmul_shape(a: tuple, b: tuple) -> tuple:
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
        raise NoMatrixForm("@ of arrays over 2 dimensions is not supported")
    if a[-1] != b[0]:
        raise ValueError(f"matmul: shapes {a} and {b} do not match")
    return a[:-1] + b[1:]


def matmul(a: M, b: M) -> M:
    shape = matmul_shape(a.shape, b.shape)
    ca, ra = split(a)
    cb, rb = split(b)
    if ra is None or rb is None:  # a 1-element matrix held as a number
        raise NoMatrixForm("@ with a number is not supported")
    if _identity(ra):
        return scale(ca * cb, rb)
    if _identity(rb):
        return scale(ca * cb, ra)
    for p, q in ((ra, rb), (rb, ra)):  # A @ (s * B) is s * A @ B, s a scalar
        if p.op == "mul" and p.args[0].ndim == 0 and p.args[1].shape == p.shape:
            rest = matmul(*((p.args[1], q) if p is ra else (q, p.args[1])))
            return scale(ca * cb, mul(p.args[0], rest))
    if ra.ndim == 1 and rb.ndim == 2:  # x @ A is A.T @ x
        return scale(ca * cb, matmul(T(rb), ra))
    return scale(ca * cb, M("matmul", (ra, rb), shape))


def _identity(x: M) -> bool:
    """eye(n), or ones(1, 1): ``x @ ones(1, 1)`` is ``x``."""
    return x.op == "eye" or (x.op == "ones" and x.shape == (1, 1))


def outer(a: M, b: M) -> M:
    ca, ra = split(a)
    cb, rb = split(b)
    if ra.op == rb.op == "ones":  # outer(ones(3), ones(1)) is ones(3, 1)
        return scale(ca * cb, ones(ra.shape + rb.shape))
    for p in (ra, rb):  # outer(x, s * y) is s * outer(x, y), s a scalar
        if p.op == "mul" and p.args[0].ndim == 0 and p.args[1].shape == p.shape:
            rest = outer(*((p.args[1], rb) if p is ra else (ra, p.args[1])))
            return scale(ca * cb, mul(p.args[0], rest))
    return scale(ca * cb, M("outer", (ra, rb), ra.shape + rb.shape))


def call(name: str, x: M, shape: tuple | None = None, data: Any = None) -> M:
    """A function of the table applied whole: ``det(X)``, ``tanh(u)``."""
    return M(name, (x,), x.shape if shape is None else shape, data)


def reduce(name: str, x: M, dim: Any = None, keepdim: bool = False) -> M:
    """sum or mean over ``dim`` (None: all), shape as numpy's (a scalar's,
    over any dim, is itself: PyTorch's dim=0 of a 0-d value)."""
    if not x.ndim:
        return x
    axes = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if axes and not keepdim and x.ndim and len({a % x.ndim for a in axes}) == x.ndim:
        dim = axes = None  # sum(A, dim=[0, 1]) is sum(A)
    shape = np.sum(np.empty(x.shape, dtype=bool), axis=axes, keepdims=keepdim).shape
    c, r = split(x)
    if dim is None and r.op == "T":  # sum(A.T) is sum(A)
        r = r.args[0]
    if dim is None and name == "sum":
        if r.op == "softmax":  # it sums to 1
            return num(c)
        picked = _picked(r)
        if picked is not None:  # sum(eye(3)[0] * u) is u[0]
            return scale(c, picked)
    total = _constant_sum(r) if dim is None else None
    if total is not None:  # sum(eye(3)[1] - 1 / 30) is 9 / 10
        return num(c * total / (1 if name == "sum" else int(np.prod(r.shape))))
    if r.op == "mul" and r.args[1].op == "ones" and r.args[0].shape != r.shape:
        every = tuple(range(r.ndim)) if axes is None else axes
        spread = _spread_sum(name, r.args[0], r.shape, every, keepdim)
        return scale(c, mul(spread, ones(shape)))  # sum(c * ones(2, 3), dim=0)
    data = None if dim is None and not keepdim else (axes, keepdim)
    return scale(c, M(name, (r,), shape, data))


def _spread_sum(name: str, u: M, full: tuple, axes: tuple, keep: bool) -> M:
    """sum or mean of ``u`` broadcast to ``full`` over ``axes``: over u's own
    axes, times the copies along the others (a mean: not), then spread again
    by the caller: sum(c * ones(2, 3), dim=0) is sum(c) * ones(3)."""
    lead = len(full) - u.ndim
    axes = tuple(a % len(full) for a in axes)
    mine = tuple(a - lead for a in axes if a >= lead)
    copies = int(np.prod([full[a] for a in axes if a < lead or u.shape[a - lead] == 1]))
    if all(n == 1 for i, n in enumerate(u.shape) if i not in mine):
        # all of u (what is left has one element): a number, spread again
        inner = reduce(name, u)
    else:
        inner = reduce(name, u, mine, keep) if mine else u
    return scale(copies, inner) if name == "sum" else inner


def _picked(x: M) -> M | None:
    """``u[i]`` where x is ``eye(n)[i] * u`` with u a vector of n, else None."""
    if x.op != "mul" or x.ndim != 1:
        return None
    for e, u in (x.args, x.args[::-1]):
        if e.op == "select" and isinstance(e.data[1], int) and u.shape == x.shape:
            return M("getitem", (u,), (), (e.data[1],))
    return None


def _constant_sum(x: M) -> Any:
    """The sum of the elements of ``x`` if it is made of numbers and basis
    vectors (each sums to 1), else None."""
    total = 0
    for t in x.args if x.op == "add" else (x,):
        c, r = split(t)
        if r is None:
            total += c * int(np.prod(x.shape))  # broadcast over x
        elif r.op == "select" and isinstance(r.data[1], int):
            total += c * (int(np.prod(x.shape)) // r.shape[0])  # each copy: 1
        else:
            return None
    return total


def add(*terms: M) -> M:
    """Terms flattened, like ones added (``G + G`` is ``2 * G``), then
    common factors of ``@`` taken out."""
    flat: list[M] = []
    for t in terms:
        flat.extend(t.args if t.op == "add" else (t,))
    shape = tuple(np.broadcast_shapes(*(t.shape for t in flat)))
    if any(t.shape == shape and _kind(t) not in ("ones", None) for t in flat):
        # 1 + u, not ones(3) + u: the other terms give the shape
        flat = [num(split(t)[0]) if _kind(t) == "ones" else t for t in flat]
    coefs: dict[Any, list] = {}
    for t in flat:
        c, r = split(t)
        key = _like(_spread(r, shape))
        if key in coefs:
            coefs[key][0] += c
            if r is not None and r.shape == shape != coefs[key][1].shape:
                # u + u * ones is 2 * u * ones
                coefs[key][1] = r
        else:
            coefs[key] = [c, r]
    kept = [num(c) if r is None else scale(c, r) for c, r in coefs.values() if c != 0]
    kept = sorted(_factored(kept), key=_negative)  # u - y, not -y + u
    if not kept:
        return scale(0, flat[0])
    if np.broadcast_shapes(*(t.shape for t in kept)) != shape:
        # what gave the shape cancelled ((R - R) * R + x, x of 3 and R 1 x 3)
        kept[0] = mul(kept[0], ones(shape))
    if len(kept) == 1:
        return kept[0]
    shared = _shared_scalar(kept)
    if shared is not None:  # det(X) * P + det(X) * Q is det(X) * (P + Q)
        return mul(shared[0], add(*shared[1]))
    sizes = {abs(c) for c, r in map(split, kept) if r is not None}
    if len(sizes) == 1 and all(split(t)[1] for t in kept) and (c := sizes.pop()) != 1:
        # 5/2 * u - 5/2 * v is 5/2 * (u - v)
        return scale(c, M("add", tuple(scale(1 / c, t) for t in kept), shape))
    return M("add", tuple(kept), shape)


def _like(r: M | None) -> Any:
    """What makes terms like: ``w * lam`` is ``lam * w`` (elementwise)."""
    if r is None:
        return None
    if r.op == "mul" and r.args[0].shape == r.args[1].shape:
        return ("mul", r.shape, frozenset((r.args[0].key, r.args[1].key)))
    return r.key


def _spread(r: M | None, shape: tuple) -> M | None:
    """``u * ones(shape)`` is ``u`` in a sum of that shape."""
    if r is not None and r.op == "mul" and r.args[1].op == "ones":
        return r.args[0] if r.args[1].shape == shape else r
    return r


def _shared_scalar(terms: list[M]) -> tuple[M, list[M]] | None:
    """The scalar factor ``s`` of every term ``c * s * P`` (not a number),
    and the terms without it; None if they do not share one."""
    factors, rests = set(), []
    for t in terms:
        c, r = split(t)
        if r is None or r.op != "mul" or r.args[0].ndim or r.args[1].shape != r.shape:
            return None
        factors.add(r.args[0])
        rests.append(scale(c, r.args[1]))
    return (factors.pop(), rests) if len(factors) == 1 else None


def _negative(t: M) -> bool:
    c = split(t)[0]
    return isinstance(c, Fraction | int | float) and c < 0


def _kind(t: M) -> str | None:
    rest = split(t)[1]
    return None if rest is None else rest.op


def _factored(terms: list[M]) -> list[M]:
    """``c1 * P @ x + c2 * Q @ x`` as ``(c1 * P + c2 * Q) @ x``, then the same on
    the left: ``A @ P + A @ Q`` as ``A @ (P + Q)``."""
    for side in (1, 0):
        groups: dict[Any, list[tuple[Any, M]]] = {}
        for t in terms:
            c, r = split(t)
            if r is not None and r.op == "matmul":
                groups.setdefault(r.args[side].key, []).append((c, r))
        for group in groups.values():
            if len(group) < 2:
                continue
            if side == 0 and len({r.args[1].ndim for _, r in group}) > 1:
                continue  # A @ x + A @ X: x is a row of X's shape, A @ x is not
            shared = group[0][1].args[side]
            other = add(*(scale(c, r.args[1 - side]) for c, r in group))
            if other.op == "add" and len(other.args) > len(group):
                continue
            joined = matmul(other, shared) if side else matmul(shared, other)
            keys = {r.key for _, r in group}
            at = next(i for i, t in enumerate(terms) if split(t)[1] is group[0][1])
            rest = [
                t for t in terms if split(t)[1] is None or split(t)[1].key not in keys
            ]
            rest.insert(min(at, len(rest)), joined)
            return _factored(rest)
    return terms
