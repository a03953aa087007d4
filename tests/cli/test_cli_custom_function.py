"""``diffcli grad --func`` on code with a custom autograd.Function: the user's
backward is checked against finite differences and the replay of its
forward, and a wrong one is named with the output/input pair and values."""

from __future__ import annotations

import json
import textwrap

import pytest
from cli_helpers import human, invoke

SOURCE = textwrap.dedent(
    """
    import diffcli as dc


    class Scale(dc.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w.exp()

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w.exp(), (g * x * w.exp()).sum(0) * {slope}


    def f(x):
        w = dc.tensor([0.5, -1.0], requires_grad=True) * 1
        return Scale.apply(x, w).sum() + dc.sin(x).sum()


    def through(x):
        w = dc.tensor([0.5, -1.0])
        return (Scale.apply(x, w) ** 2).sum()
    """
)


@pytest.fixture
def code(tmp_path):
    def write(slope: str) -> str:
        path = tmp_path / f"scale_{slope.replace('.', '_')}.py"
        path.write_text(SOURCE.format(slope=slope), encoding="utf-8")
        return str(path)

    return write


def test_a_right_backward_is_checked_and_agrees(code):
    text = human("grad", "--func", f"{code('1')}:f", "--at", "x=[[1, 2], [3, 4]]")
    assert "✓ ok" in text
    assert "Scale.backward agrees with finite differences and the table's" in text


def test_a_wrong_backward_names_the_pair_and_both_values(code):
    # The x part is right; the w part (input 1) is doubled.
    text = human(
        "grad", "--func", f"{code('2')}:f", "--at", "x=[[1, 2], [3, 4]]", code=1
    )
    flat = " ".join(text.split())
    assert "Scale.backward disagrees at output 0[0, 0] / input 1 (w)[0]" in flat
    # d/dw[0] of sum(x * exp(w)) is x[0, 0] * exp(0.5) = 1.6487...
    assert "backward 3.297442541, finite differences 1.648721271" in flat
    assert "the table's rules on its forward 1.648721271" in flat


def test_json_says_mismatch_with_the_reason(code):
    out = invoke(
        "grad", "--func", f"{code('2')}:f", "--at", "x=[[1, 2]]", "--json", code=1
    ).stdout
    data = json.loads(out)
    assert data["check"]["status"] == "mismatch"
    assert data["check"]["reason"].startswith("Scale.backward disagrees at output 0")


def test_a_backward_of_the_wrong_shape_is_pytorchs_error(code):
    result = invoke("grad", "--func", f"{code('1')}:f", "--at", "x=[1, 2]", code=2)
    assert "Function ScaleBackward returned an invalid gradient at index 1" in (
        result.stderr
    )


def test_the_whole_function_agrees_with_its_closed_form_through_the_forward(code):
    text = human("grad", "--func", f"{code('1')}:through", "--at", "x=[0.5, 1.5]")
    assert "closed form" in text and "✓ ok" in text
