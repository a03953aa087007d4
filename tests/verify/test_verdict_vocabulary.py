"""The three-way check on the vocabulary users bring: every function of the
expression language, away from its kinks, gets an ok verdict; and a closed
form float64 cannot evaluate (it overflows) is evaluated exactly instead."""

from __future__ import annotations

import numpy as np

from diffcli.verify import verdict as C


def test_logsumexp_is_stable_and_its_gradient_is_the_softmax():
    r = C.grad("logsumexp(x)", at={"x": [1000, 1001, 1002]})
    assert float(r.value) == np.log(np.exp([-2.0, -1.0, 0.0]).sum()) + 1002
    softmax = np.exp([-2.0, -1.0, 0.0]) / np.exp([-2.0, -1.0, 0.0]).sum()
    # exp(x - 1002.4076...) as PyTorch: the value's rounding at 1e3 shows
    np.testing.assert_allclose(np.asarray(r.gradient["x"], float), softmax, rtol=1e-12)
    # exp(1000) / (exp(1000) + ...) overflows in float64: SymPy evaluates it
    np.testing.assert_allclose(r.closed_form_at_point["x"], softmax, rtol=1e-14)
    assert r.check.status == "ok", r.check


def test_the_naive_formula_overflows_and_the_check_says_so():
    """log(sum(exp(x))) at 1000: the engine's nan is no longer waved through."""
    r = C.grad("log(sum(exp(x)))", at={"x": [1000, 1001, 1002]})
    assert np.isnan(np.asarray(r.gradient["x"], float)).all()
    assert np.isfinite(r.closed_form_at_point["x"]).all()
    assert r.check.status == "mismatch"
