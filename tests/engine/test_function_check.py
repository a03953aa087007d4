"""Checking custom Functions' backwards where they are used (the engine part
of ``diffcli grad --func``)."""

from __future__ import annotations

import diffcli as dc
from diffcli.engine import function_check
from diffcli.engine.function_check import check_functions


def make(slope_of_b):
    class Pair(dc.autograd.Function):
        """(a * b, a + b) with a backward whose b part is scaled."""

        @staticmethod
        def forward(ctx, a, b, offset):
            ctx.save_for_backward(a, b)
            return a * b + offset, a + b

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            a, b = ctx.saved_tensors
            return g_prod * b + g_sum, (g_prod * a + g_sum) * slope_of_b, None

    return Pair


def run(Pair):
    a = dc.tensor([1.0, 2.0], requires_grad=True)
    b = dc.tensor([3.0, -1.0], requires_grad=True)
    p, s = Pair.apply(a, b * 1, 0.5)
    return check_functions((p * s).sum() + p.sum(), 1e-3, 1e-5)


def test_a_right_backward_with_two_outputs_agrees():
    (found,) = run(make(1.0))
    assert found.ok is True
    assert found.text == (
        "Pair.backward agrees with finite differences and the table's rules on "
        "its forward"
    )


def test_a_wrong_backward_is_located_by_output_and_input():
    (found,) = run(make(2.0))
    assert found.ok is False
    # d(a*b)/db[0] = a[0] = 1; the backward says 2.
    assert found.text.startswith(
        "Pair.backward disagrees at output 0[0] / input 1 (b)[0]: backward 2, "
        "finite differences 1"
    )
    assert found.text.endswith("the table's rules on its forward 1")


def test_each_function_is_checked_once_and_large_inputs_are_skipped(monkeypatch):
    Pair = make(1.0)
    a = dc.tensor([1.0, 2.0], requires_grad=True)
    p, s = Pair.apply(a, a * 2, 0.0)
    q, _ = Pair.apply(p, s, 1.0)
    assert [c.ok for c in check_functions(q.sum() + s.sum(), 1e-3, 1e-5)] == [
        True,
        True,
    ]
    monkeypatch.setattr(function_check, "MAX_ELEMENTS", 3)
    (found,) = check_functions(Pair.apply(a, a, 0.0)[0].sum(), 1e-3, 1e-5)
    assert found.ok is None and "4 input elements (over 3)" in found.text
