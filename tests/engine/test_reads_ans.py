"""The ``reads_ans`` THE table declares must be truthful.

The backward pass may reuse the memory of a value no rule reads, so a rule
that loads ``ans`` while its primitive says it does not would read overwritten
memory.  Each rule's bytecode is read with ``dis``: a load of ``ans`` counts as
reading unless it is a plain argument of a call to a helper of
diffcli.engine.rules, which is then read the same way; anything the reader
cannot follow (closures, ``*args``, nested expressions) counts as reading.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable
from types import ModuleType

import pytest

from diffcli.engine import rules as R
from diffcli.engine.table import PRIMITIVES

LOADS_ONE = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CONST"}
CALL_PREFIX = {"KW_NAMES", "PRECALL", "CACHE"}

# Declared True though no rule reads ``ans``: safe, only less memory reuse.
# Tighten a declaration and remove its line here.
CONSERVATIVE = {
    ("stack", "*"): "the one variadic rule only indexes g",
}


def _names(ins: dis.Instruction) -> tuple:
    return ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)


def _pushes(ins: dis.Instruction) -> int | None:
    """How many values a plain load pushes; None for anything else."""
    if ins.opname == "LOAD_FAST_LOAD_FAST":
        return 2
    return 1 if ins.opname in LOADS_ONE else None


def _rules_function(fn: Callable, ins: list[dis.Instruction], j: int):
    """The helper of diffcli.engine.rules whose call starts at ``ins[j]``:
    ``R.helper`` (LOAD_GLOBAL R; LOAD_ATTR helper) or a bare ``helper``."""
    scope = fn.__globals__
    target = None
    if ins[j].opname == "LOAD_ATTR" and j > 0 and ins[j - 1].opname == "LOAD_GLOBAL":
        module = scope.get(ins[j - 1].argval)
        if isinstance(module, ModuleType) and module is R:
            target = getattr(R, ins[j].argval, None)
    elif ins[j].opname == "LOAD_GLOBAL":
        target = scope.get(ins[j].argval)
    if inspect.isfunction(target) and target.__module__ == R.__name__:
        return target
    return None


def _passed_along(fn: Callable, ins: list[dis.Instruction], i: int, name: str):
    """(helper, parameter index) when the load ``ins[i]`` of ``name`` is a plain
    argument of a call to a rules helper; None when it is anything else."""
    own = _names(ins[i])
    if own.count(name) != 1:
        return None
    before, after = own.index(name), len(own) - own.index(name) - 1
    j = i - 1
    while j >= 0 and (n := _pushes(ins[j])) is not None:
        before, j = before + n, j - 1
    if j >= 0 and ins[j].opname == "PUSH_NULL":  # 3.13: after the callee
        j -= 1
    k = i + 1
    while k < len(ins) and (n := _pushes(ins[k])) is not None:
        after, k = after + n, k + 1
    keywords: tuple = ()
    while k < len(ins) and ins[k].opname in CALL_PREFIX:
        if ins[k].opname == "KW_NAMES":
            keywords = fn.__code__.co_consts[ins[k].arg]
        k += 1
    if k == len(ins) or j < 0 or ins[k].opname not in ("CALL", "CALL_KW"):
        return None
    if ins[k].opname == "CALL_KW":  # 3.13: the names are the last constant pushed
        keywords, after = ins[k - 1].argval, after - 1
    if before + 1 + after != ins[k].arg:
        return None
    helper = _rules_function(fn, ins, j)
    if helper is None:
        return None
    code = helper.__code__
    first_keyword = ins[k].arg - len(keywords)
    if before >= first_keyword:
        keyword = keywords[before - first_keyword]
        named = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        return (helper, named.index(keyword)) if keyword in named else None
    return (helper, before) if before < code.co_argcount else None


def reads(fn: Callable, position: int) -> bool:
    """Whether ``fn`` may read its argument at ``position`` (True when unsure)."""
    code = getattr(fn, "__code__", None)
    if code is None or position >= code.co_argcount:
        return True
    name = code.co_varnames[position]
    if name in code.co_cellvars:  # an inner function captures it
        return True
    ins = list(dis.get_instructions(code))
    for i, instruction in enumerate(ins):
        if not instruction.opname.startswith("LOAD") or name not in _names(instruction):
            continue
        along = _passed_along(fn, ins, i, name)
        if along is None or reads(*along):
            return True
    return False


def _rules():
    """(primitive, input, rule, position of ``ans``, declared) for every rule."""
    for name, prim in PRIMITIVES.items():
        if not prim.differentiable:
            continue
        if isinstance(prim.vjps, tuple):
            for argnum, rule in enumerate(prim.vjps):
                yield name, argnum, rule, 2, prim.reads_output(argnum)
        else:  # one rule for every input: rule(argnum, F, g, ans, ...)
            yield name, "*", prim.vjps, 3, prim.reads_output(0)


RULES = list(_rules())


@pytest.mark.parametrize(
    ("name", "argnum", "rule", "position", "declared"),
    RULES,
    ids=[f"{r[0]}-{r[1]}" for r in RULES],
)
def test_a_rule_that_reads_ans_says_so(name, argnum, rule, position, declared):
    if reads(rule, position):
        assert declared, f"{name}: the rule of input {argnum} reads ans"


def test_conservative_declarations_are_the_listed_ones():
    found = {
        (name, argnum)
        for name, argnum, rule, position, declared in RULES
        if declared and not reads(rule, position)
    }
    assert found == set(CONSERVATIVE)


def test_one_declaration_per_input():
    for name, prim in PRIMITIVES.items():
        if isinstance(prim.reads_ans, tuple):
            assert isinstance(prim.vjps, tuple), name
            assert len(prim.reads_ans) == len(prim.vjps), name
        elif prim.differentiable and not isinstance(prim.vjps, tuple):
            assert isinstance(prim.reads_ans, bool), name


# --- the reader itself: it must see reads, including through helpers ---------------


def _inner(F, g, ans, x):
    return (lambda: ans)()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (lambda F, g, ans, x: g * ans, True),
        (lambda F, g, ans, x: g * x, False),
        (lambda F, g, ans, x: F.where(ans == 0, g, x), True),
        (lambda F, g, ans, x: R._times(F, g, ans), True),  # _times reads y
        (lambda F, g, ans, x, y: R._pow_base(F, g, ans, x, y), False),
        (lambda F, g, ans, x, y: R._pow_exponent(F, g, ans, x, y), True),
        (lambda F, g, ans, x: R._times(F, g, y=ans), True),
        (lambda F, g, ans, x: R._times(F, g, 2 * ans), True),  # not followed
        (lambda F, g, ans, x: R._no_grad(F, g, ans), True),  # *args
        (lambda F, g, ans, x: print(ans), True),  # not a rules helper
        (_inner, True),  # a closure over ans
    ],
)
def test_reader(rule, expected):
    assert reads(rule, 2) is expected


def test_reader_catches_exp_declared_not_reading():
    """exp's rule is ``R._times(F, g, ans)``: ``ans`` read inside the helper."""
    assert reads(PRIMITIVES["exp"].vjps[0], 2)
    assert PRIMITIVES["exp"].reads_output(0)
