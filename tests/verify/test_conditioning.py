"""At an ill-conditioned matrix float64 keeps fewer digits, in the engine and in
every witness: compared within that, never called a mismatch for rounding,
and said (review finding: the Hilbert matrices of 9 to 12 rows gave false
mismatches)."""

from __future__ import annotations

import numpy as np
import pytest

from diffcli.verify import verdict as C
from diffcli.verify.conditioning import conditioning
from diffcli.verify.question import prepare


def hilbert(n: int) -> np.ndarray:
    i = np.arange(n)
    return 1.0 / (i[:, None] + i + 1)


def test_the_condition_number_is_measured_where_a_matrix_is_inverted():
    found = conditioning(
        prepare("sum(inv(X) @ y)", {"X": hilbert(6)}, {"y": np.ones(6)})
    )
    assert found.function == "inv"
    # the 1-norm's condition number (no SVD): within a factor n of the 2-norm's
    assert found.number == pytest.approx(np.linalg.cond(hilbert(6), 1), rel=1e-6)
    assert conditioning(prepare("sum(X @ X)", {"X": hilbert(6)}, {})) is None


def test_logdet_and_solve_are_measured_too():
    X = hilbert(4)
    assert conditioning(prepare("logdet(X)", {"X": X}, {})).number > 1e4
    found = conditioning(prepare("sum(solve(X, y))", {"X": X}, {"y": np.ones(4)}))
    assert found.function == "solve"


@pytest.mark.parametrize("n", [9, 10])
def test_an_ill_conditioned_inverse_is_ok_within_its_digits_and_said(n):
    """cond 4.9e11 and 1.6e13: finite differences cannot resolve the slopes
    (skipped with the reason); the matrix form agrees within cond * eps."""
    tol = C.Tolerances(sym_max_elements=0)  # the matrix form alone
    r = C.grad(
        "sum(inv(X) @ y)", at={"X": hilbert(n)}, let={"y": np.arange(n)}, tol=tol
    )
    assert r.check.status == "ok", r.check.reason
    notes = " ".join(r.check.notes)
    assert "inv's matrix is ill-conditioned (condition number" in notes
    assert "finite differences skipped: the matrix is so ill-conditioned" in notes
    # the engine: -inv(X).T @ outer(ones, y) @ inv(X).T, to the digits kept
    inv = np.linalg.inv(hilbert(n))
    hand = -inv.T @ np.outer(np.ones(n), np.arange(n)) @ inv.T
    scale = np.abs(hand).max()
    assert (
        np.abs(r.gradient["X"] - hand).max()
        <= 1e-16 * np.linalg.cond(hilbert(n)) * scale * 10
    )


def test_a_numerically_singular_matrix_is_no_check_and_says_why():
    r = C.grad("sum(inv(X))", at={"X": hilbert(12)})
    assert r.check.status == "skipped"
    assert r.check.reason.startswith(
        "inv's matrix is numerically singular (condition number 4.3e+16)"
    )


def test_a_well_conditioned_matrix_gets_no_note():
    X = hilbert(3) + 3 * np.eye(3)
    r = C.grad("sum(inv(X))", at={"X": X})
    assert r.check.status == "ok"
    assert not any("conditioned" in n for n in r.check.notes)


def test_a_large_inverse_leaves_the_per_component_forms_to_the_matrix_form():
    """inv of 6 x 6 symbols: cofactors of 720 terms, 10 s of SymPy for forms
    no one reads; the matrix form stands in at once and is the witness."""
    X = hilbert(6) + np.eye(6)
    r = C.grad("sum(inv(X))", at={"X": X})
    assert r.check.status == "ok"
    assert r.closed_form_matrix == {"X": "-inv(X).T @ ones(6, 6) @ inv(X).T"}
    assert (
        "per-component closed form skipped (inv of a matrix of 6 x 6 needs forms "
        "of 6! terms); the matrix closed form stands in"
    ) in r.check.notes
    inv = np.linalg.inv(X)
    np.testing.assert_allclose(r.gradient["X"], -inv.T @ np.ones((6, 6)) @ inv.T)


def test_det_at_a_singular_matrix_is_still_checked():
    """det's value and cofactor gradient stay exact at a singular matrix (was
    an internal error: log10 of an infinite condition number)."""
    r = C.grad("det(X)", at={"X": [[1.0, 2.0], [2.0, 4.0]]})
    assert r.check.status == "ok"
    np.testing.assert_allclose(r.gradient["X"], [[4.0, -2.0], [-2.0, 1.0]])


def test_where_the_function_is_not_real_the_conditioning_says_nothing():
    r = C.grad("logdet(X)", at={"X": [[1.0, 2.0], [2.0, 4.0]]})
    assert r.check.status == "not-differentiable"
    assert not any("singular" in n for n in r.check.notes)


def test_a_matrix_form_is_not_compared_where_the_function_is_not_real():
    """logdet at det < 0 is nan (PyTorch's too): no derivative to disagree
    with; the form inv(X).T stays shown, with no false 'disagrees' note."""
    r = C.grad("logdet(X)", at={"X": [[1.0, 2.0], [3.0, 4.0]]})
    assert r.check.status == "not-differentiable"
    assert r.closed_form_matrix == {"X": "inv(X).T"}
    assert not any("disagrees" in n for n in r.check.notes)


def test_an_overflow_at_a_singular_matrix_says_the_matrix_is_singular():
    """logdet(X @ X.T) with two rows of X within 1e-9: float64's det is 0
    (-inf), exactly -40.69; the engine is wrong, and the reason says why."""
    X = np.array(
        [
            [-0.3775545621683309, 0.2738849009141932, 1.085371992673057],
            [-1.23607514405535, 1.4508959750608112, 1.2119933423122224],
            [-0.37755456328557013, 0.2738849009721474, 1.0853719920856775],
        ]
    )
    r = C.grad("logdet(X @ X.T)", at={"X": X})
    assert r.check.status == "overflow"
    assert r.check.reason.startswith("overflow in the engine: the value is -40.6894")
    assert r.check.reason.endswith(
        "logdet's matrix is numerically singular there (condition number inf)"
    )


def test_a_disagreeing_closed_form_without_finite_differences_is_the_reason():
    """pinv near a singular matrix (cond 1e9): finite differences are skipped
    and the engine's gradient (PyTorch's formula) is off by 1e10 from the
    exact -0.26 at X[1, 0]: a mismatch, said (was an internal error)."""
    X = [
        [-0.13938883055974702, 0.05741666204236571, -0.20274935984995607],
        [0.6150052638109683, 0.3103475704430823, -0.34946714643382215],
        [-0.13938883013759165, 0.05741666352117277, -0.20274936035539742],
    ]
    r = C.grad("sum(pinv(X))", at={"X": X})
    assert r.check.status == "mismatch"
    assert r.check.reason.startswith("the closed form disagrees at X[")


def test_python_code_is_measured_from_its_recorded_graph():
    """--func code inverting the 10x10 Hilbert matrix: measured from its graph
    (finite differences skipped, not a false mismatch), and the per-component
    forms of a 10 x 10 inverse are not attempted (10 s of SymPy before)."""
    import diffcli as dc

    r = C.grad_function(lambda X: dc.linalg.inv(X).sum(), "f", at={"X": hilbert(10)})
    assert r.check.status == "skipped"
    assert "finite differences skipped: the matrix is so ill-conditioned" in (
        r.check.reason
    )
    assert "inv of a matrix of 10 x 10 needs forms of 10! terms" in r.check.reason
    assert any("inv's matrix is ill-conditioned" in n for n in r.check.notes)
