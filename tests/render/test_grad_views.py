"""render.py and jsonout.py: what a person sees (recorded at 80 columns) and the
JSON data, from real results of the core."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from rich.console import Console

from diffcli.cli.common import make_console
from diffcli.render import grad_views as R
from diffcli.render import text as T
from diffcli.render.json_data import dumps, grad_json, graph_json, jsonable, multi_json
from diffcli.render.text import exact_text, number_text
from diffcli.verify import verdict as C
from diffcli.verify.graph_report import build_graph, to_dot

QUAD = ("a*x**2+b*x+c", {"x": "0"}, {"a": "1", "b": "-2", "c": "1"})


def shown(renderable, width: int = 80) -> str:
    """The plain text a non-terminal would get, checked to fit ``width``."""
    console = Console(record=True, width=width, color_system=None, file=_Null())
    console.print(renderable)
    text = console.export_text()
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide
    return text


class _Null:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


# --- numbers and arrays -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.48507125007266594, "0.485071"),
        (3.880570000581328, "3.88057"),
        (-2.0, "-2"),
        (1e-12, "1e-12"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
    ],
)
def test_number_text_keeps_six_digits_and_spells_non_finite(value, text):
    assert number_text(value) == text


def test_exact_text_round_trips():
    v = 0.48507125007266594
    assert float(exact_text(v)) == v
    assert [exact_text(x) for x in (math.nan, math.inf, -math.inf)] == [
        "nan",
        "inf",
        "-inf",
    ]


def test_array_text_aligns_like_pytorch():
    assert T.array_text(np.array([0.0, 4.0, 8.0, 12.0])) == "[ 0,  4,  8, 12]"
    assert T.array_text(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1, 2],\n [3, 4]]"
    assert T.array_text(np.array(2.5)) == "2.5"
    assert T.array_text(np.array([np.nan, -np.inf, 1.0])) == "[ nan, -inf,    1]"


def test_array_text_fills_lines_and_summarizes_big_arrays():
    text = T.array_text(np.arange(12.0), width=24)
    assert text.splitlines() == ["[ 0,  1,  2,  3,  4,  5,", "  6,  7,  8,  9, 10, 11]"]
    big = T.array_text(np.arange(100.0), width=80)
    assert big == "[ 0,  1,  2, ..., 97, 98, 99]"
    assert T.array_text(np.arange(100.0), inline=True).count("...") == 1


def test_value_text_symbolic_and_missing():
    from diffcli.expr.symbolic import sympy

    x = sympy().Symbol("x")
    forms = np.empty(2, dtype=object)
    forms[:] = [2 * x, 3]
    assert T.value_text(forms) == "[2*x, 3]"
    assert T.value_text(None) == "—"


# --- JSON values --------------------------------------------------------------


def test_jsonable_writes_non_finite_as_strings():
    data = jsonable({"v": np.array([1.0, np.nan, np.inf, -np.inf]), "s": np.float64(2)})
    assert data == {"v": [1.0, "nan", "inf", "-inf"], "s": 2.0}
    assert json.loads(dumps({"x": np.array([[np.nan]])})) == {"x": [["nan"]]}


def test_dumps_puts_arrays_on_one_line():
    text = dumps({"a": {"b": np.array([[1.0, 2.0], [3.0, 4.0]])}, "n": None})
    assert '"b": [[1.0, 2.0], [3.0, 4.0]]' in text
    assert json.loads(text) == {"a": {"b": [[1.0, 2.0], [3.0, 4.0]]}, "n": None}


# --- grad ---------------------------------------------------------------------


def test_grad_view_of_the_quadratic():
    text = shown(R.grad_view(C.grad(*QUAD)))
    assert "a*x**2+b*x+c" in text
    assert "a = 1, b = -2, c = 1" in text
    table = [r for r in rows(text) if r and r[0] == "x"]
    assert table == [["x", "2*x", "-", "2", "-2", "-2", "✓", "ok"]]
    assert "check  ✓ ok" in text


def test_grad_view_of_norm_shows_four_digits_and_long_closed_forms_below():
    result = C.grad("norm(x**2)", {"x": "[1,2]"})
    text = shown(R.grad_view(result))
    assert "[0.485071,  3.88057]" in text
    assert "2*x[0]**3/sqrt(x[0]**4 + x[1]**4)" in text
    assert "closed form" in text


def test_symbolic_grad_view():
    text = shown(R.grad_view(C.grad("a*x**2+b*x+c", wrt=["x"])))
    assert "2*a*x + b" in text
    assert "– skipped" in text
    assert "no value: the result is symbolic" in text
    assert "engine" not in text


def test_latex_closed_forms():
    result = C.grad("a*x**2+b*x+c", wrt=["x"])
    assert "2 a x + b" in shown(R.grad_view(result, latex=True))
    assert grad_json(result, latex=True)["closed_form"] == {"x": "2 a x + b"}


def test_hessian_and_nth_derivative_tables():
    text = shown(R.grad_view(C.grad("x**2-2*x+1", {"x": "0"}, order=2)))
    assert ["d²f/dx²", "2", "2", "✓", "ok"] in rows(text)
    text = shown(R.grad_view(C.grad("x**5", {"x": "2"}, order=3)))
    assert ["d³f/dx³", "60*x**2", "240", "✓", "ok"] in rows(text)


def test_seeded_matrix_grad_view():
    result = C.grad("mm(x, Y)", {"x": "[[1,2]]"}, {"Y": "[[1,2],[3,4]]"}, seed="ones")
    text = shown(R.grad_view(result))
    assert "vector-Jacobian product" in text
    assert "Y = [[1, 2]," in text
    assert "[[3, 7]]" in text


def disagreeing(text: str, at: dict, name: str = "x") -> C.GradResult:
    """A real result whose finite differences were made to disagree at ``name``
    (and judged again by the core, as grad_problem does)."""
    result = C.grad(text, at)
    result.finite_differences[name] = result.gradient[name] + 1.0
    result.check = C.Verdict(
        "mismatch", 0.0, 1.0, f"finite differences disagree at {name}: forced"
    )
    result.variable_checks = C.variable_checks(result, C.Tolerances())
    return result


def test_mismatch_is_shown_with_its_reason():
    text = shown(R.grad_view(disagreeing("sin(x)", {"x": "1"})))
    assert "✗ mismatch" in text
    assert "finite differences disagree at x: forced" in text


def test_kink_notes_are_shown_under_the_table():
    result = C.grad("relu(x)", {"x": "0"})
    text = shown(R.grad_view(result))
    assert "note: x is at a kink" in text
    assert "✓ ok" in text


def test_nonfinite_gradient_is_visible():
    text = shown(R.grad_view(C.grad("sqrt(x)", {"x": "0"})))
    assert "inf" in text
    assert "! not differentiable here" in text


def test_multi_view_sums_the_outputs():
    result = C.grad_many(["x1*x2", "x1+x2"], {"x1": "1", "x2": "2"})
    text = shown(R.multi_view(result))
    assert "output 1" in text and "output 2" in text
    assert ["x1", "3"] in rows(text) and ["x2", "2"] in rows(text)
    assert multi_json(result)["gradient"] == {"x1": 3.0, "x2": 2.0}


def variable_rows(result: C.GradResult) -> list[list[str]]:
    return [r for r in rows(shown(R.grad_view(result))) if r[:1] in (["x"], ["y"])]


def test_variable_checks_point_at_the_variable_that_disagrees():
    result = disagreeing("sin(x) + y", {"x": "1", "y": "1"})
    assert result.variable_checks == {"x": "mismatch", "y": "ok"}
    assert [r[-1] for r in variable_rows(result)] == ["mismatch", "ok"]


def test_the_core_judges_each_variable_and_the_view_only_reads_it():
    result = C.grad("sin(x) + y", {"x": "1", "y": "1"})
    assert result.variable_checks == {"x": "ok", "y": "ok"}
    # The numbers agree, but the verdict the core gave is what is shown...
    result.check = C.Verdict("mismatch", reason="said so")
    result.variable_checks = {"x": "ok", "y": "mismatch"}
    assert [r[-1] for r in variable_rows(result)] == ["ok", "mismatch"]
    # ...and numbers that disagree are not judged again by the view.
    result.finite_differences["x"] = result.gradient["x"] + 1.0
    result.variable_checks = {"x": "ok", "y": "ok"}
    assert [r[-1] for r in variable_rows(result)] == ["ok", "ok"]


def test_a_hessian_result_checks_each_gradient_against_the_closed_form():
    result = C.grad("x**2*y", {"x": "1", "y": "2"}, order=2)
    assert result.variable_checks == {"x": "ok", "y": "ok"}
    result.closed_form_at_point["y"] = result.closed_form_at_point["y"] + 1e-6
    result.check = C.Verdict("ok")
    assert C.variable_checks(result, C.Tolerances()) == {"x": "ok", "y": "mismatch"}


# --- jacobian and graph -------------------------------------------------------


def test_jacobian_view_is_a_table():
    result = C.jacobian("[m[0]**2, m[1]**3]", {"m": "[2,3]"})
    text = shown(R.jacobian_view(result))
    assert ["f[0]", "4", "0"] in rows(text)
    assert ["f[1]", "0", "27"] in rows(text)
    assert ["f[1]", "0", "3*m[1]**2"] in rows(text)


def test_graph_view_names_nodes_like_pytorch():
    graph = build_graph(*QUAD)
    text = shown(R.graph_view(graph))
    assert text.splitlines()[0].startswith(
        "AddBackward0  #0  shape ()  value 1  grad 1"
    )
    assert "MulBackward0" in text
    assert "x  #" in text and "(leaf, requires grad)" in text and "grad -2" in text
    assert "(constant)" in text


def test_graph_data_dot_and_json():
    graph = build_graph("sum(x*x)", {"x": "[1,2]"})
    names = [n.name for n in graph.nodes]
    assert names == ["SumBackward0", "MulBackward0", "x"]
    leaf = graph.nodes[2]
    assert leaf.kind == "leaf" and leaf.grad.tolist() == [2.0, 4.0]
    assert graph.edges == [(1, 0), (2, 1), (2, 1)]
    dot = to_dot(graph)
    assert dot.startswith("digraph diffcli {") and "n2 -> n1;" in dot
    data = json.loads(dumps(graph_json(graph)))
    assert data["nodes"][0]["grad"] == 1.0
    assert data["edges"] == [[1, 0], [2, 1], [2, 1]]


@pytest.mark.parametrize(
    "value", [0.1, 1 / 3, -2.0, 1e-7, 123456789.0, -0.0, math.nan, math.inf, -math.inf]
)
def test_graph_labels_spell_numbers_as_the_renderer_does(value):
    """verify cannot import render, so graph_report spells numbers itself."""
    from diffcli.verify import graph_report as G

    assert G._number(np.array(value)) == number_text(value)
    if math.isfinite(value):  # --let takes finite numbers only
        dot = to_dot(build_graph("x * c", {"x": "2"}, {"c": repr(value)}))
        assert f"value {number_text(value)}" in dot


def test_shared_subgraphs_are_drawn_once():
    from diffcli.verify.graph_report import GraphResult, Node

    one = np.array(1.0)
    nodes = [
        Node(0, "MulBackward0", "op", (), one, one, [1, 1]),
        Node(1, "SinBackward0", "op", (), one, one, [2]),
        Node(2, "x", "leaf", (), one, one, []),
    ]
    text = shown(R.graph_view(GraphResult("sin(x)**2", {}, {}, one, None, nodes)))
    assert text.count("SinBackward0") == 2
    assert "SinBackward0  #1  (shown above)" in text
    assert text.count("x  #2") == 1


# --- console ------------------------------------------------------------------


def test_console_is_plain_without_a_terminal_or_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    import io

    assert make_console(file=io.StringIO()).color_system is None
    monkeypatch.setenv("NO_COLOR", "1")
    console = make_console(file=io.StringIO())
    console.print(R.status_text("ok"))
    assert console.color_system is None
    assert "\x1b[" not in console.file.getvalue()


def test_large_arrays_are_written_in_chunks_and_parse():
    big = np.arange(200_000, dtype=float).reshape(2, 100_000) / 7
    big[1, 5], big[0, 99_999] = np.nan, -np.inf
    text = dumps({"a": big, "b": [np.ones(1001), np.zeros(2000)], "c": np.ones(0)})
    data = json.loads(text)
    expected = jsonable(big.tolist())
    assert data["a"] == expected and data["a"][1][5] == "nan"
    assert data["a"][0][99_999] == "-inf" and data["a"][0][3] == 3 / 7
    assert data["b"] == [[1.0] * 1001, [0.0] * 2000] and data["c"] == []
