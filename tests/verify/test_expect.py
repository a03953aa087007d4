"""--expect: the user's own derivative, proved, refuted with a point, or agreeing."""

import json
import time

import pytest

from diffcli.batch.cases import load, run_case
from diffcli.errors import ExprError
from diffcli.verify.expect import claims, parse_expectation
from diffcli.verify.verdict import grad_problem, prepare
from tests.cli_helpers import human, invoke

SEED_FORM = "x[0]=2*x[0]**3/sqrt(x[0]**4+x[1]**4)"  # seed 000, by hand


def checks(expr, expect, **values):
    problem = prepare(expr, values.get("at"), values.get("let"), values.get("wrt"))
    return grad_problem(problem, expect=claims(expect, problem)).expectations


def test_the_seed_formula_is_proved_and_shown():
    out = human("grad", "norm(x**2)", "--at", "x=[1,2]", "--expect", SEED_FORM)
    assert "your derivation (--expect)" in out
    assert "x[0]        2*x[0]**3/sqrt(x[0]**4+x[1]**4)  ✓ proved" in out
    assert "x[0]: SymPy reduces the difference to zero" in out


def test_a_missing_factor_2_is_refuted_at_the_point_with_both_values_exit_1():
    wrong = "x[0]=x[0]**3/sqrt(x[0]**4+x[1]**4)"
    out = human("grad", "norm(x**2)", "--at", "x=[1,2]", "--expect", wrong, code=1)
    assert "✗ refuted" in out
    # 2/sqrt(17) and half of it
    assert (
        "x[0] at x[0]=1, x[1]=2: the derivative is 0.485071, your formula 0.242536"
    ) in out


def test_json_carries_each_verdict():
    r = invoke(
        "grad", "a*x**2+b*x", "--at", "x=1", "--let", "a=2", "--let", "b=3",
        "--expect", "x=2*a*x+b", "--expect", "x=a*x+b", "--json", code=1,
    )  # fmt: skip
    got = json.loads(r.stdout)["expect"]
    assert [c["status"] for c in got] == ["proved", "refuted"]
    assert got[1]["actual"] == 7.0 and got[1]["expected"] == 5.0
    assert got[1]["at"] == {"x": 1.0}


def test_whole_arrays_and_symbolic_parameters():
    assert checks("sum(x**2)", ["x=2*x"], at={"x": [1, 2, 3]})[0].status == "proved"
    (c,) = checks("a*x**2+b*x+c", ["x=2*a*x+b"], wrt=["x"])
    assert c.status == "proved"  # no values at all: still decided


def test_true_but_unproved_formulas_agree_at_random_points_of_the_domain():
    # 1/abs(x) is log's derivative wherever log is real (x > 0): SymPy, with x
    # only real, does not prove it, and points with x < 0 must not refute it
    (c,) = checks("log(x)", ["x=1/abs(x)"], at={"x": 2})
    assert (c.status, c.points) == ("agrees", 20)


def test_a_formula_right_at_the_point_but_wrong_elsewhere_is_refuted():
    (c,) = checks("abs(x)", ["x=1"], at={"x": 2})
    assert c.status == "refuted" and c.at["x"] < 0
    assert (c.actual, c.expected) == (-1.0, 1.0)


def test_float_cancellation_never_refutes_a_right_formula():
    # (1 - cos(x))' = sin(x); written as 2*sin(x/2)*cos(x/2) it is the same
    (c,) = checks("1 - cos(x)", ["x=2*sin(x/2)*cos(x/2)"], at={"x": 1e-8})
    assert c.status in ("proved", "agrees")


def test_without_a_closed_form_the_engine_at_the_point_decides_and_says_so():
    (c,) = checks("sum(x**2)", ["x=2*x"], at={"x": [1.0] * 600})
    assert (c.status, c.points) == ("agrees", 1)
    assert "over the symbolic limit" in c.reason
    (c,) = checks("sum(x**2)", ["x=3*x"], at={"x": [1.0] * 600})
    assert c.status == "refuted" and (c.actual, c.expected) == (2.0, 3.0)


@pytest.mark.parametrize(
    "expect, message",
    [
        ("q=2*x", "'q' is not a variable differentiated here (variables: x)"),
        ("x[5]=2", "no such entry; x has shape (2,)"),
        ("x=2*y", "'y' is not a name of 'sum(x**2)'"),
        ("x=[1,2,3]", "the formula has shape (3,), the derivative has shape (2,)"),
        ("x 2*x", "--expect needs NAME=FORMULA"),
        ("x=", "has no formula"),
    ],
)
def test_bad_expectations_are_errors_before_any_work(expect, message):
    r = invoke("grad", "sum(x**2)", "--at", "x=[1,2]", "--expect", expect, code=2)
    assert message in r.stderr


def test_expect_needs_sympy_and_order_1():
    r = invoke("grad", "x**2", "--at", "x=1", "--expect", "x=2*x", "--no-check",
               code=2)  # fmt: skip
    assert "--expect needs SymPy" in r.stderr
    r = invoke("grad", "x**2", "--at", "x=1", "--expect", "x=2", "--order", "2",
               code=2)  # fmt: skip
    assert "order 1" in r.stderr


def test_parse_expectation_splits_at_the_first_lone_equals():
    e = parse_expectation("A[1, 0] = where(x >= 0, 1, 0)")
    assert (e.name, e.index, e.formula) == ("A", (1, 0), "where(x >= 0, 1, 0)")
    with pytest.raises(ExprError):
        parse_expectation("2x=1")


def test_batch_closed_form_expectations(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[case]]\nname = "right"\nexpr = "norm(x**2)"\nat = { x = [1, 2] }\n'
        f'expect = {{ closed_form = {{ "x[0]" = "{SEED_FORM[5:]}" }} }}\n'
        '[[case]]\nname = "wrong"\nexpr = "x**3"\nat = { x = 2 }\n'
        'expect = { closed_form = { x = "3*x" } }\n'
        '[[case]]\nname = "not a table"\nexpr = "x**3"\nat = { x = 2 }\n'
        'expect = { closed_form = "3*x**2" }\n'
    )
    right, wrong, bad = (run_case(c) for c in load(path))
    assert right.status == "ok"
    assert wrong.status == "fail"
    want = "closed_form refuted: x at x=2: the derivative is 12, your formula 6"
    assert want in wrong.message
    assert bad.status == "error" and "table of formulas" in bad.message


def test_detach_in_a_formula_is_its_value():  # review finding
    (c,) = checks("sum(x**2)", ["x=detach(2*x)"], at={"x": [1, 2]})
    assert c.status == "proved"


def test_the_users_point_at_a_kink_does_not_refute():  # review finding
    (c,) = checks("relu(x)", ["x=(sign(x)+1)/2"], at={"x": 0.0})
    assert c.status == "agrees" and c.points == 20
    (c,) = checks("relu(x)", ["x=1"], at={"x": 0.0})
    assert c.status == "refuted" and c.at["x"] < 0  # wrong for x < 0 all the same


def test_at_the_point_only_cancellation_in_the_formula_does_not_refute():
    # over 512 elements only the engine at the point compares; the formula's
    # float64 value loses everything to cancellation, its exact value is 3
    right = "x=3*x**2 + (x+1e8)**2 - x**2 - 2e8*x - 1e16"
    (c,) = checks("sum(x**3)", [right], at={"x": [1.0] * 600})
    assert c.status == "agrees"


def test_a_decision_stops_at_its_time_budget_undecided(monkeypatch):
    from diffcli.verify import expect

    monkeypatch.setattr(expect, "DECIDE_SECONDS", 1e-3)
    monkeypatch.setattr(expect, "_proved", lambda diffs: time.sleep(1) or False)
    (c,) = checks("x**2", ["x=2*x"], at={"x": 1.0})
    assert c.status == "undecided" and c.reason.startswith("no decision within")


def test_a_formula_not_finite_where_the_derivative_is_finite_is_refuted():
    # review finding: "x=nan" was undecided, with a reason about domains
    out = human("grad", "sin(x)", "--at", "x=1", "--expect", "x=nan", code=1)
    assert "x           nan           ✗ refuted" in out
    assert (
        "x at x=1: the derivative is 0.540302, but your formula is not a finite "
        "real number there"
    ) in " ".join(out.split())
    # sqrt(x - 5) leaves the reals at x = 1, where cos(1) is the derivative
    (c,) = checks("sin(x)", ["x=cos(x)+sqrt(x-5)"], at={"x": 1.0})
    assert (c.status, c.at, c.actual) == (
        "refuted",
        {"x": 1.0},
        pytest.approx(0.5403023058681398),
    )


def test_a_formula_undefined_only_where_the_function_is_stays_decided():
    # log's derivative 1/x: the points x <= 0 are outside the domain, not a refutation
    (c,) = checks("log(x)", ["x=1/x + 0*sqrt(x)"], at={"x": 2.0})
    assert c.status in ("proved", "agrees")


def test_a_refutation_lists_coordinates_in_index_order():
    (c,) = checks("sum(x**3)", ["x=2*x"], at={"x": list(range(12))})
    assert c.status == "refuted" and c.entry == "x[1]"
    assert list(c.at)[:4] == ["x[0]", "x[1]", "x[2]", "x[3]"]
    assert c.describe().startswith(
        "x[1] at x[0]=0, x[1]=1, x[2]=2, x[3]=3, ...: the derivative is 3, "
        "your formula 2"
    )
