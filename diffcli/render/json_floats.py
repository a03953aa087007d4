"""Large float arrays as JSON text at numpy speed (``--json`` of 1e7 values).

Python's ``repr`` of a float (the shortest text that reads back to the same
float64) costs 150-400 ns a value; an array of 1e7 took seconds.  Here a chunk
is written as one byte matrix, a row per value, right-aligned and padded with
zero bytes that are dropped at the end:

* values with at most 15 significant digits in fixed notation (integers,
  short decimals such as 0.25 or -3.5, every value of ``ones``/``arange``) are
  written from their digits with numpy operations over the whole chunk.  For
  them the text is exactly ``repr``'s: m / 10**d == v in float64 (both exact,
  the division correctly rounded) means the decimal m·10**-d reads back to v,
  the smallest such d gives the fewest digits, and with m < 1e15 no other
  decimal of as many digits lies within half an ulp of v;
* the rest (full-precision values, exponent notation, nan and inf) are written
  by ``repr`` (the C list repr when a chunk has mostly those) and copied in.

Non-finite values are the JSON strings "nan", "inf" and "-inf", as everywhere
in the ``--json`` contract.  n-d arrays are nested lists: the closing and
opening brackets are part of each value's row, so no row is a Python call.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["float_array_pieces"]

CHUNK = 16384  # values formatted at a time: bounded memory for any size
MAX_DIGITS = 15  # significant digits written from numpy (below 2**53)
_POW10_INT = 10 ** np.arange(0, 19, dtype=np.int64)
_POW10 = _POW10_INT.astype(np.float64)
_NONFINITE = {"nan": '"nan"', "inf": '"inf"', "-inf": '"-inf"'}


def float_array_pieces(a: np.ndarray) -> Iterator[str]:
    """``a`` (float) as nested JSON lists, in pieces."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0 or a.ndim == 0:  # "[[], []]" or one number
        yield str(a.tolist()) if a.size == 0 else _repr(a.item())
        return
    flat = a.reshape(-1)
    suffixes = _suffix_table(a.ndim)
    blocks = np.cumprod(a.shape[::-1])[:-1]  # row lengths of the inner dims
    yield "[" * a.ndim
    for start in range(0, flat.size, CHUNK):
        part = flat[start : start + CHUNK]
        closed = np.zeros(part.size, dtype=np.intp)  # brackets closed after each
        index = np.arange(start + 1, start + 1 + part.size)
        for size in blocks:
            closed += index % size == 0
        if start + part.size == flat.size:
            closed[-1] = a.ndim  # the last value closes every list
        yield _format_chunk(part, suffixes, closed).decode("ascii")


def _suffix_table(ndim: int) -> np.ndarray:
    """Row c: what follows a value that closes c lists (zero-padded bytes)."""
    texts = ["]" * c + ", " + "[" * c for c in range(ndim)] + ["]" * ndim]
    width = max(map(len, texts))
    return np.array([t.encode().ljust(width, b"\0") for t in texts], dtype=f"S{width}")


def _format_chunk(part: np.ndarray, suffixes: np.ndarray, closed: np.ndarray) -> bytes:
    """One chunk: each value's text and its suffix, concatenated."""
    if _mostly_long(part[:: max(1, part.size // SAMPLE)]):
        return _by_repr(part, suffixes, closed)  # C's repr is fastest for those
    m, d = _short_decimals(part)
    rest = np.flatnonzero(d < 0)
    layout = _Layout(m, d, np.signbit(part), rest.size == 0)
    texts = [_repr(v) for v in part[rest].tolist()]
    width = max(layout.width, max(map(len, texts), default=0))
    tail = suffixes.dtype.itemsize
    rows = np.zeros((part.size, width + tail), dtype=np.uint8)
    layout.write(rows[:, width - layout.width : width])
    if texts:
        padded = "".join(t.rjust(width, "\0") for t in texts).encode("ascii")
        rows[rest, :width] = np.frombuffer(padded, dtype=np.uint8).reshape(-1, width)
    rows[:, width:] = suffixes[closed].view(np.uint8).reshape(part.size, tail)
    text = rows.reshape(-1)
    if np.count_nonzero(text) == text.size:  # every row as wide (ones, zeros)
        return text.tobytes()
    return text[text != 0].tobytes()


SAMPLE = 64  # values looked at to choose a chunk's way


def _mostly_long(sample: np.ndarray) -> bool:
    """Whether most values of a sample need more than 15 digits (or repr's
    exponent): random and computed values, which only repr can write; the
    sample chooses the way, each value's text is exact either way."""
    mag = np.abs(sample)
    todo = np.flatnonzero((np.rint(mag) != mag) | (mag >= 1e15))
    return 2 * _at_most_15_digits(mag, todo).size < 2 * todo.size - sample.size


def _short_decimals(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per value the integer m and scale d with |v| == m / 10**d, m < 10**15,
    d smallest; d = -1 where no such pair exists (or repr uses an exponent).
    Scales below FILTER_AFTER cannot reach below 1e-3, where repr would."""
    mag = np.abs(part)
    whole = np.rint(mag)
    d = np.where((whole == mag) & (mag < 1e15), 0, -1)  # integers first: one pass
    todo = np.flatnonzero(d)
    if todo.size == 0:
        return whole.astype(np.int64), d
    m = np.where(d == 0, whole, 0).astype(np.int64)
    for scale in range(1, len(_POW10)):
        if scale == FILTER_AFTER:
            todo = _at_most_15_digits(mag, todo)
        if todo.size == 0:
            break
        mags = mag[todo]
        with np.errstate(over="ignore", invalid="ignore"):  # inf, nan, 1e308
            guess = np.rint(mags * _POW10[scale])
            exact = (guess < 1e15) & (guess / _POW10[scale] == mags)
        m[todo[exact]] = guess[exact]
        d[todo[exact]] = scale
        todo = todo[~exact]
    return m, d


FILTER_AFTER = 4  # scales tried on every value before _at_most_15_digits


def _at_most_15_digits(mag: np.ndarray, todo: np.ndarray) -> np.ndarray:
    """The values of ``todo`` that may have at most 15 significant digits in
    fixed notation: a filter that spares full-precision values the other
    scales (the loop checks each value it keeps)."""
    mags = mag[todo]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fixed = (mags >= 1e-4) & (mags < 1e15)
        exp = np.floor(np.log10(np.where(fixed, mags, 1.0))).astype(np.intp)
        scale = _POW10[np.clip(MAX_DIGITS - 1 - exp, 0, len(_POW10) - 1)]
        top = np.rint(mags * scale)
        return todo[fixed & (top < 1e15) & (top / scale == mags)]


class _Layout:
    """Values as sign, integer digits, point and fraction digits in fixed
    columns, the digits a row does not have left as zero bytes: every column
    is written for all rows at once, with no per-row index arithmetic."""

    def __init__(self, m: np.ndarray, d: np.ndarray, neg: np.ndarray, all_ok: bool):
        self.d = np.maximum(d, 0)
        self.sign = neg if all_ok else neg & (d >= 0)
        self.frac_digits = max(int(self.d.max()), 1)
        if self.frac_digits == 1 and not self.d.any():  # integers: no division
            self.integer, self.fraction = m, None
        else:
            self.integer, fraction = np.divmod(m, _POW10_INT[self.d])
            # the fraction's digits left-aligned in frac_digits digits
            self.fraction = fraction * _POW10_INT[self.frac_digits - self.d]
        self.int_digits = len(str(int(self.integer.max())))
        self.signed = bool(self.sign.any())
        self.width = self.signed + self.int_digits + 1 + self.frac_digits

    def write(self, cols: np.ndarray) -> None:
        if self.signed:
            cols[:, 0] = np.where(self.sign, ord("-"), 0)
        q = self.integer
        point = self.signed + self.int_digits
        for j in range(self.int_digits):
            if j + 1 == self.int_digits == 1:
                r = q.astype(np.uint8)  # one digit: no division left to do
            else:
                q, r = np.divmod(q, 10)
                r = r.astype(np.uint8)
            r += ord("0")
            if j:
                r[self.integer < _POW10_INT[j]] = 0
            cols[:, point - 1 - j] = r
        cols[:, point] = ord(".")
        if self.fraction is None:
            cols[:, point + 1] = ord("0")
            return
        q = self.fraction
        for k in range(self.frac_digits - 1, -1, -1):
            q, r = np.divmod(q, 10)
            r = r.astype(np.uint8)
            r += ord("0")
            if k:
                r[self.d <= k] = 0
            cols[:, point + 1 + k] = r


def _by_repr(part: np.ndarray, suffixes: np.ndarray, closed: np.ndarray) -> bytes:
    """A chunk through Python's repr; str(list) when only ", " separates."""
    values = part.tolist()
    if not closed[:-1].any() and np.isfinite(part).all():
        tail = suffixes[closed[-1]].decode("ascii")
        return (str(values)[1:-1] + tail).encode("ascii")
    tails = [s.decode("ascii") for s in suffixes]
    pairs = zip(values, closed.tolist(), strict=True)
    return "".join(_repr(v) + tails[c] for v, c in pairs).encode("ascii")


def _repr(v: float) -> str:
    text = repr(v)
    return _NONFINITE.get(text, text)
