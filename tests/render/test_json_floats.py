"""json_floats.py: large float arrays in ``--json`` written by numpy, each value
exactly as ``repr`` writes it (so it reads back to the same float64)."""

import json
import math

import numpy as np
import pytest

from diffcli.render import json_floats
from diffcli.render.json_data import dumps

# More values than SMALL_ARRAY, so that dumps takes the numpy writer.
N = 3000


def written(a: np.ndarray) -> str:
    return "".join(json_floats.float_array_pieces(a))


def by_repr(a: np.ndarray) -> str:
    """The reference: Python's repr of each value, non-finite ones quoted."""
    text = json.dumps(a.tolist())
    for word, quoted in (("NaN", '"nan"'), ("-Infinity", '"-inf"')):
        text = text.replace(word, quoted)
    return text.replace("Infinity", '"inf"')


EDGES = [
    (0.0, "0.0"),
    (-0.0, "-0.0"),
    (1.0, "1.0"),
    (-3.5, "-3.5"),
    (0.1, "0.1"),
    (0.0001, "0.0001"),
    (1e-05, "1e-05"),
    (1e-300, "1e-300"),
    (5e-324, "5e-324"),
    (1 / 3, "0.3333333333333333"),
    (0.1 + 0.2, "0.30000000000000004"),
    (123456789012345.6, "123456789012345.6"),
    (999999999999999.0, "999999999999999.0"),
    (1e15, "1000000000000000.0"),
    (1e16, "1e+16"),
    (2.0**53, "9007199254740992.0"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (-2.2250738585072014e-308, "-2.2250738585072014e-308"),
]


def test_each_value_is_written_as_its_shortest_repr():
    values = np.array([v for v, _ in EDGES] * 200)
    text = written(values)
    expected = ", ".join(t for _, t in EDGES)
    assert text.startswith("[" + expected + ", " + expected[:10])
    assert text == "[" + ", ".join([expected] * 200) + "]"


def test_the_values_read_back_as_the_same_float64_bits():
    values = np.array([v for v, _ in EDGES] * 200)
    back = np.array(json.loads(dumps({"x": values}))["x"])
    assert back.tobytes() == values.tobytes()  # -0.0 and 5e-324 included


def test_non_finite_values_are_the_strings_nan_inf_and_minus_inf():
    values = np.ones(N)
    values[[0, 7, 2999]] = [np.nan, np.inf, -np.inf]
    data = json.loads(dumps({"x": values}))["x"]
    assert data[:8] == ["nan", 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, "inf"]
    assert data[-1] == "-inf" and data.count(1.0) == N - 3
    assert "NaN" not in dumps({"x": values})


def test_non_finite_values_among_full_precision_ones():
    values = np.arange(N) / 7  # mostly 16-17 digits: the repr path
    values[1::10] = np.nan
    assert written(values) == by_repr(values)


@pytest.mark.parametrize("shape", [(3, 1000), (N, 1), (1, 1, N), (2, 3, 4, 150)])
def test_arrays_of_more_dimensions_are_nested_lists(shape):
    values = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) / 4
    assert json.loads(dumps({"x": values}))["x"] == values.tolist()
    assert written(values) == by_repr(values)


def test_lists_close_and_open_across_chunk_borders():
    # rows of 1000 straddle the 16384-value chunks; a nan in every kind of row
    values = np.arange(3 * 7 * 1000, dtype=np.float64).reshape(3, 7, 1000) - 500.5
    values[0, 0, 0] = values[1, 2, 383] = values[2, 6, 999] = np.nan
    assert values.size > json_floats.CHUNK
    assert written(values) == by_repr(values)


@pytest.mark.parametrize(
    "make",
    [
        lambda r, n: r.random(n),  # full precision: the repr path
        lambda r, n: np.round(r.standard_normal(n) * 100, 3),  # short decimals
        lambda r, n: r.integers(-(10**14), 10**14, n) * 1.0,  # large integers
        lambda r, n: r.standard_normal(n) * 10.0 ** r.integers(-30, 30, n),
        lambda r, n: np.array(  # every number of digits, mixed in one chunk
            list(map(round, r.standard_normal(n) * 1e5, r.integers(0, 18, n).tolist()))
        ),
    ],
)
def test_every_kind_of_value_is_written_as_repr_writes_it(make):
    values = make(np.random.default_rng(17), 40000)
    assert written(values) == by_repr(values)
    assert np.array(json.loads(written(values))).tobytes() == values.tobytes()


def test_a_small_array_is_still_written_by_the_json_module():
    assert dumps({"x": np.array([0.5, -0.0, np.nan])}) == (
        '{\n  "x": [0.5, -0.0, "nan"]\n}'
    )
