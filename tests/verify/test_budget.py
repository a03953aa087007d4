"""One time budget per command: over it, the closed form and finite
differences are skipped with the reason, and the engine still answers."""

from diffcli.engine.limits import time_budget
from diffcli.verify.verdict import grad, jacobian


def test_over_the_budget_the_witnesses_are_skipped_and_the_engine_answers():
    with time_budget(0.0):
        result = grad("sin(x)*x", at=[("x", "2")])
    assert result.gradient["x"] == float(
        __import__("math").sin(2) + 2 * __import__("math").cos(2)
    )
    assert result.check.status == "skipped"
    reasons = " ".join([result.check.reason or "", *result.check.notes])
    assert "over the command's time budget of 0 s" in reasons


def test_a_jacobian_shares_one_budget_over_its_rows():
    with time_budget(0.0):
        result = jacobian("x**2", at=[("x", "[1, 2, 3]")])
    assert result.jacobian["x"].tolist() == [[2, 0, 0], [0, 4, 0], [0, 0, 6]]
    assert result.closed_form is None


def test_within_the_budget_nothing_changes():
    with time_budget(60.0):
        result = grad("sin(x)*x", at=[("x", "2")])
    assert result.check.status == "ok" and result.closed_form is not None


def test_labels_are_made_when_asked_and_match_the_listed_ones():
    from diffcli.verify.witnesses import Labels, element_labels

    parts = [("x", (2, 3)), ("y", ()), ("z", (4,))]
    listed = [lab for n, s in parts for lab in element_labels(n, s)]
    labels = Labels(parts)
    assert (
        list(labels) == listed and labels[-1] == "z[3]" and labels[1:3] == listed[1:3]
    )
    pairs = [f"d2/d{p}d{q}" for p in listed for q in listed]
    by_block = Labels(parts, pairs=True)
    assert len(by_block) == len(pairs) and by_block[0] == "d2/dx[0, 0]dx[0, 0]"
    assert by_block[36] == "d2/dx[0, 0]dy"  # the (x, y) block follows (x, x)
    assert len(Labels([("x", (10**7,))])) == 10**7


def test_a_jacobian_without_variables_is_refused_before_its_value_is_built():
    """``jacobian "ones(3000,3000)"`` built 72 MB (216 MB at the peak) first."""
    import tracemalloc

    import pytest

    from diffcli.errors import ExprError

    tracemalloc.start()
    try:
        with pytest.raises(ExprError, match="nothing to differentiate"):
            jacobian("ones(3000,3000)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
