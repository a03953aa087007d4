"""Tests for diffcli.engine.tensor_repr: reprs match PyTorch byte for byte."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffcli.engine.tensor_repr import dtype_suffix, format_tensor

NAN, INF = float("nan"), float("inf")

# Full 80-column lines don't fit the 88-column source limit when indented.
WRAPPED_INTS = """\
tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,
        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,
        28., 29.], requires_grad=True)"""
WRAPPED_SUFFIX = """\
tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,
         8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000],
       requires_grad=True)"""

# (array, suffixes, expected repr); the first block is copied from PyTorch tutorials.
EXACT = [
    (np.array([0.0, 4.0, 8.0, 12.0]), [], "tensor([ 0.,  4.,  8., 12.])"),
    (
        np.array(1191.2576),
        ["grad_fn=<MulBackward0>"],
        "tensor(1191.2576, grad_fn=<MulBackward0>)",
    ),
    (np.array([True] * 4), [], "tensor([True, True, True, True])"),
    (np.array(True), [], "tensor(True)"),
    (np.array([0.4851, 3.8806]), [], "tensor([0.4851, 3.8806])"),
    (np.array(0.99998), [], "tensor(1.0000)"),
    (
        np.array([[0.0, 0.0], [1.0, 2.0]]),
        ["requires_grad=True"],
        "tensor([[0., 0.],\n        [1., 2.]], requires_grad=True)",
    ),
    (
        np.array([[-2.0, -2.0], [0.0, 2.0]]),
        [],
        "tensor([[-2., -2.],\n        [ 0.,  2.]])",
    ),
    (np.arange(4), [], "tensor([0, 1, 2, 3])"),
    (np.array([]), [], "tensor([])"),
    (np.zeros((0, 3)), [], "tensor([], size=(0, 3))"),
    # Further torch outputs, for the rules the tutorials don't exercise.
    (np.array([True, False]), [], "tensor([ True, False])"),
    (np.array([0.0, -0.0]), [], "tensor([0., -0.])"),
    (np.array(-0.0), [], "tensor(-0.)"),
    (np.array(NAN), [], "tensor(nan)"),
    (np.array([[-0.0, 0.5]]), [], "tensor([[-0.0000, 0.5000]])"),
    (np.array([NAN, 1.0, -INF]), [], "tensor([nan, 1., -inf])"),
    (
        np.array([1e-5, 1.0, NAN, -INF]),
        [],
        "tensor([1.0000e-05, 1.0000e+00,        nan,       -inf])",
    ),
    (
        np.array([[1e10, 2.5], [0.0, -3.0]]),
        [],
        "tensor([[ 1.0000e+10,  2.5000e+00],\n        [ 0.0000e+00, -3.0000e+00]])",
    ),
    (
        np.arange(24.0).reshape(2, 3, 4),
        [],
        "tensor([[[ 0.,  1.,  2.,  3.],\n"
        "         [ 4.,  5.,  6.,  7.],\n"
        "         [ 8.,  9., 10., 11.]],\n"
        "\n"
        "        [[12., 13., 14., 15.],\n"
        "         [16., 17., 18., 19.],\n"
        "         [20., 21., 22., 23.]]])",
    ),
    (
        np.arange(30.0),
        ["requires_grad=True"],
        WRAPPED_INTS,
    ),
    (
        np.arange(14.0) + 0.5,
        ["requires_grad=True"],
        WRAPPED_SUFFIX,
    ),
    (
        np.arange(2000.0),
        [],
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])",
    ),
    (
        np.array([1, -20, 300], dtype=np.int32),
        ["dtype=diffcli.int32"],
        "tensor([  1, -20, 300], dtype=diffcli.int32)",
    ),
    (np.array([], dtype=np.int64), [], "tensor([], dtype=diffcli.int64)"),
    (
        np.zeros((2, 0), dtype=np.float32),
        ["dtype=diffcli.float32", "requires_grad=True"],
        "tensor([], size=(2, 0), dtype=diffcli.float32, requires_grad=True)",
    ),
]


@pytest.mark.parametrize(("arr", "suffixes", "expected"), EXACT)
def test_exact_reprs(arr: np.ndarray, suffixes: list[str], expected: str) -> None:
    assert format_tensor(arr, suffixes) == expected


def test_prefix_sets_indent() -> None:
    got = format_tensor(np.eye(2), prefix="Parameter(")
    assert got == "Parameter([[1., 0.],\n           [0., 1.]])"


def test_float32_uses_same_rules() -> None:
    assert format_tensor(np.array([0.1, 2.0], dtype=np.float32)) == (
        "tensor([0.1000, 2.0000])"
    )


def test_complex_rejected() -> None:
    with pytest.raises(TypeError):
        format_tensor(np.array([1j]))


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.float64, None),
        (np.int64, None),
        (np.bool_, None),
        (np.float32, "dtype=diffcli.float32"),
        (np.float16, "dtype=diffcli.float16"),
        (np.int32, "dtype=diffcli.int32"),
        (np.uint8, "dtype=diffcli.uint8"),
    ],
)
def test_dtype_suffix(dtype: type, expected: str | None) -> None:
    assert dtype_suffix(np.dtype(dtype)) == expected


# ---------------------------------------------------------------- torch oracle

_F64 = "dtype=torch.float64"


def _torch_repr(arr: np.ndarray, requires_grad: bool = False) -> str:
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(arr.copy())
    return repr(t.requires_grad_() if requires_grad else t)


def _strip_f64(text: str) -> str:
    """Drop torch's float64 dtype suffix: diffcli's default float is float64.

    Only valid when it is the last suffix; with more, pass ``_F64`` instead.
    """
    return re.sub(r",\s*" + _F64 + r"\)$", ")", text)


@st.composite
def _shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """Shapes up to 3-D with at most ~64 elements, long enough 1-D rows to wrap."""
    ndim = draw(st.integers(0, 3))
    side = {0: 1, 1: 60, 2: 8, 3: 4}[ndim]
    return tuple(draw(st.integers(1, side)) for _ in range(ndim))


@st.composite
def _float_arrays(draw: st.DrawFn, dtype: type = np.float64) -> np.ndarray:
    """Arrays whose values share a random scale, so every display mode occurs."""
    shape = draw(_shapes())
    scale = 10.0 ** draw(st.integers(-7, 10))
    element = st.one_of(
        st.integers(-1000, 1000).map(float),
        st.floats(-10, 10).map(lambda x: x * scale),
        st.integers(-99, 99).map(lambda x: x * scale),
        st.sampled_from([0.0, -0.0, NAN, INF, -INF, 0.99998, 1e-5, 1e9]),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    size = int(np.prod(shape))
    values = draw(st.lists(element, min_size=size, max_size=size))
    with np.errstate(over="ignore"):
        return np.array(values, dtype=np.float64).astype(dtype).reshape(shape)


def _fast(examples: int) -> settings:
    """Bounded example counts keep the whole file under ~5 s including torch."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@_fast(75)
@given(arr=_float_arrays(), grad=st.booleans())
def test_float64_matches_torch(arr: np.ndarray, grad: bool) -> None:
    assert format_tensor(arr) == _strip_f64(_torch_repr(arr))
    # Passing torch's own dtype suffix also checks where suffixes wrap.
    suffixes = [_F64, "requires_grad=True"] if grad else [_F64]
    assert format_tensor(arr, suffixes) == _torch_repr(arr, grad)


@_fast(50)
@given(arr=_float_arrays(np.float32))
def test_float32_matches_torch(arr: np.ndarray) -> None:
    assert format_tensor(arr) == _torch_repr(arr)


@_fast(50)
@given(data=st.data())
def test_int_and_bool_match_torch(data: st.DataObject) -> None:
    shape = data.draw(_shapes())
    size = int(np.prod(shape))
    if data.draw(st.booleans()):
        dtype, element = np.bool_, st.booleans()
    else:
        dtype, element = np.int64, st.integers(-9, 9) | st.integers(-(2**40), 2**40)
    values = data.draw(st.lists(element, min_size=size, max_size=size))
    arr = np.array(values, dtype=dtype).reshape(shape)
    assert format_tensor(arr) == _torch_repr(arr)


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(2000.0).reshape(20, 100) / 7,
        np.linspace(-1, 1, 1001),
        np.arange(1200).reshape(3, 20, 20) - 600,
        np.ones((1001,), dtype=bool),
        (np.arange(5 * 4 * 300) % 97).reshape(5, 4, 300) * 1e5,
        np.arange(1100.0).reshape(1100, 1) - 0.5,
    ],
)
def test_summarized_match_torch(arr: np.ndarray) -> None:
    assert format_tensor(arr) == _strip_f64(_torch_repr(arr))
    if arr.dtype == np.float64:
        expected = _torch_repr(arr, requires_grad=True)
        assert format_tensor(arr, [_F64, "requires_grad=True"]) == expected


def test_float16_matches_torch() -> None:
    arr = np.array([0.1, 1.5, 65504.0, -2.0], dtype=np.float16)
    expected = _torch_repr(arr).replace("torch.", "diffcli.")
    assert format_tensor(arr, ["dtype=diffcli.float16"]) == expected
