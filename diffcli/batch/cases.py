"""Batch gradient checks from TOML or JSON Lines files: cases in, verdicts out.

A file that cannot be read at all is a ``BatchFileError``; a case that is
malformed becomes a ``Case`` carrying its error, so that every other case still
runs and is reported.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from diffcli.errors import DiffcliError, ExprError

CASE_KEYS = {
    "name",
    "expr",
    "at",
    "let",
    "seed",
    "order",
    "expect",
    "rtol",
    "atol",
    "check",
    "wrt",
}
DEFAULT_KEYS = {"rtol", "atol", "check"}
EXPECT_KEYS = {"value", "gradient", "hessian", "closed_form"}


DEFAULT_TIMEOUT = 30.0  # seconds per case: `check --timeout`, the pytest plugin

# SymPy's simplify of the closed forms is most of a case's time, and batch only
# checks them, never shows them (benchmarks/bench_batch.py --before sets it).
SIMPLIFY = False


class BatchFileError(DiffcliError):
    """The file itself could not be read (missing, unreadable, not TOML)."""


@dataclass
class Case:
    name: str
    expr: str
    at: dict[str, Any] = field(default_factory=dict)
    let: dict[str, Any] = field(default_factory=dict)
    wrt: list[str] | None = None
    seed: Any = None
    order: int = 1
    expect: dict[str, Any] | None = None
    rtol: float = 1e-4
    atol: float = 1e-6
    check: bool = True
    file: str = ""
    index: int = 0
    error: str | None = None  # malformed: reported, not run


@dataclass
class CaseResult:
    name: str
    expr: str
    status: str  # "ok" | "fail" | "error"
    value: Any = None
    gradient: dict[str, Any] | None = None
    hessian: dict[str, Any] | None = None
    max_abs_err: float | None = None
    message: str = ""
    seconds: float = 0.0
    file: str = ""
    index: int = 0


def load(path: str | Path) -> list[Case]:
    """Every case of a ``.toml`` or ``.jsonl`` file, malformed ones included."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BatchFileError(f"cannot read {path}: {err.strerror or err}") from None
    if path.suffix in (".jsonl", ".ndjson"):
        return _load_jsonl(data, str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BatchFileError(f"cannot read {path}: {_not_utf8(data, err)}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BatchFileError(f"{path} is not valid TOML: {err}") from None
    defaults = data.get("defaults", {})
    raw = data.get("case", [])
    if not isinstance(defaults, dict) or not isinstance(raw, list):
        raise BatchFileError(f"{path}: expected a [defaults] table and [[case]] tables")
    unknown = set(defaults) - DEFAULT_KEYS
    if unknown:
        raise BatchFileError(f"{path}: unknown keys in [defaults]: {sorted(unknown)}")
    extra = set(data) - {"defaults", "case"}
    if extra:
        raise BatchFileError(
            f"{path}: unknown top-level keys {sorted(extra)}; "
            "cases go in [[case]] tables"
        )
    return [_case(entry, defaults, str(path), i) for i, entry in enumerate(raw)]


def _load_jsonl(data: bytes, path: str) -> list[Case]:
    """One case per line; a line that is not UTF-8 or not JSON is one error."""
    cases: list[Case] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            entry = json.loads(line)
        except UnicodeDecodeError as err:
            problem = f"{err.start + 1}: not UTF-8 text (byte 0x{raw[err.start]:02x})"
        except json.JSONDecodeError as err:
            problem = f"{err.colno}: not valid JSON: {err.msg}"
        else:
            cases.append(_case(entry, {}, path, len(cases)))
            continue
        error = f"{path}:{number}:{problem}"  # file:line:column, as compilers say
        cases.append(
            Case(f"line {number}", "", file=path, index=len(cases), error=error)
        )
    return cases


def _not_utf8(data: bytes, err: UnicodeDecodeError) -> str:
    """``not UTF-8 text (byte 0xff at line 2, column 5)``: where to look."""
    line = data.count(b"\n", 0, err.start) + 1
    column = err.start - data.rfind(b"\n", 0, err.start)
    return (
        f"not UTF-8 text (byte 0x{data[err.start]:02x} at line {line}, column {column})"
    )


def _case(entry: Any, defaults: dict, path: str, index: int) -> Case:
    """One case, or a Case whose ``error`` says what is wrong with it."""
    name = entry.get("name") if isinstance(entry, dict) else None
    label = str(
        name
        or (entry.get("expr") if isinstance(entry, dict) else None)
        or f"case {index + 1}"
    )
    try:
        if not isinstance(entry, dict):
            raise ExprError("a case must be a table of fields")
        unknown = set(entry) - CASE_KEYS
        if unknown:
            raise ExprError(
                f"unknown fields {sorted(unknown)} (known: "
                f"{', '.join(sorted(CASE_KEYS))})"
            )
        expr = entry.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            raise ExprError("'expr' must be a non-empty string")
        settings = {
            **defaults,
            **{k: entry[k] for k in ("rtol", "atol", "check") if k in entry},
        }
        case = Case(
            label,
            expr,
            file=path,
            index=index,
            at=_table(entry, "at"),
            let=_table(entry, "let"),
            wrt=_names(entry.get("wrt")),
            seed=entry.get("seed"),
            order=_integer(entry.get("order", 1), "order"),
            expect=_expect(entry.get("expect")),
            rtol=_number(settings.get("rtol", 1e-4), "rtol"),
            atol=_number(settings.get("atol", 1e-6), "atol"),
            check=_boolean(settings.get("check", True), "check"),
        )
        for table in (case.at, case.let):
            for key, value in table.items():
                _value_ok(key, value)
        if case.seed is not None:
            _value_ok("seed", case.seed)
        return case
    except ExprError as err:
        return Case(
            label,
            str(entry.get("expr", "")) if isinstance(entry, dict) else "",
            file=path,
            index=index,
            error=err.message,
        )


def _table(entry: dict, key: str) -> dict:
    value = entry.get(key, {})
    if not isinstance(value, dict):
        raise ExprError(f"'{key}' must be a table like {{ x = 1 }}")
    return dict(value)


def _value_ok(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExprError(
            f"the value of '{name}' is not a number, array or value string: {value!r}"
        ) from None
    if array.dtype == object or _has_bool(value):
        raise ExprError(f"the value of '{name}' is not a number: {value!r}")


def _has_bool(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_bool(v) for v in value)
    return isinstance(value, bool)


def _names(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ExprError(f"'wrt' must be a list of variable names, got {value!r}")
    return value


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"'{key}' must be true or false, got {value!r}")
    return value


def _integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExprError(f"'{key}' must be a positive integer, got {value!r}")
    return value


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ExprError(f"'{key}' must be a non-negative number, got {value!r}")
    return float(value)


def _expect(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - EXPECT_KEYS:
        raise ExprError(f"'expect' takes the fields {sorted(EXPECT_KEYS)}")
    forms = value.get("closed_form")
    if forms is not None and (
        not isinstance(forms, dict)
        or not all(isinstance(f, str) for f in forms.values())
    ):
        raise ExprError("'expect.closed_form' is a table of formulas: { x = \"2*x\" }")
    return value


def run_case(case: Case) -> CaseResult:
    """Run one case in this process (workers and the pytest plugin call this)."""
    start = time.perf_counter()
    result = CaseResult(case.name, case.expr, "error", file=case.file, index=case.index)
    if case.error:
        result.message = case.error
        return result
    from diffcli.errors import visible_error
    from diffcli.verify.expect import claims
    from diffcli.verify.question import prepare
    from diffcli.verify.verdict import Tolerances, grad_problem

    forms = (case.expect or {}).get("closed_form") or {}
    try:
        problem = prepare(case.expr, case.at, case.let, case.wrt)
        r = grad_problem(
            problem,
            case.seed,
            case.order,
            case.check,
            Tolerances(simplify=SIMPLIFY),
            expect=claims([f"{k}={f}" for k, f in forms.items()], problem, case.order),
        )
    except ExprError as err:
        result.message = visible_error(err)  # the caret stays under its span
    except DiffcliError as err:
        result.message = str(err)
    except Exception as err:  # a bug in one case must not take the others down
        result.message = f"internal error: {type(err).__name__}: {err}"
    else:
        if r.value is None:  # a name without a value: nothing numeric to check
            result.message = r.check.reason or "the expression has no numeric value"
        else:
            _judge(case, r, result)
    result.seconds = time.perf_counter() - start
    return result


def _judge(case: Case, r: Any, result: CaseResult) -> None:
    result.value = r.value
    result.gradient = r.gradient
    result.hessian = r.hessian
    errors, problems = [], []
    if r.check.status in ("mismatch", "overflow"):  # the CLI's exit 1
        problems.append(f"three-way check: {r.check.reason}")
    for c in r.expectations:
        if c.status in ("refuted", "undecided"):
            problems.append(f"closed_form {c.status}: {c.describe()}")
    for key, got in (
        ("value", r.value),
        ("gradient", r.gradient),
        ("hessian", r.hessian),
    ):
        want = (case.expect or {}).get(key)
        if want is not None:
            problems += _compare(key, want, got, case.rtol, case.atol, errors)
    for err in (r.check.symbolic_max_abs_err, r.check.fd_max_abs_err):
        if err is not None:
            errors.append(err)
    result.max_abs_err = max(errors) if errors else None
    result.status = "fail" if problems else "ok"
    result.message = "; ".join(problems) or (r.check.reason or "")


def _compare(
    key: str, want: Any, got: Any, rtol: float, atol: float, errors: list
) -> list[str]:
    """Differences between an expected value (nested by name) and the engine's."""
    from diffcli.verify.verdict import compare

    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{key}: expected names {sorted(want)}, got none"]
        out = []
        for name, sub in want.items():
            if name not in got or got[name] is None:
                out.append(f"{key}[{name}]: no such result")
            else:
                out += _compare(f"{key}[{name}]", sub, got[name], rtol, atol, errors)
        return out
    if got is None:
        return [f"{key}: the engine could not compute it"]
    if isinstance(got, dict):
        return [f"{key}: expected a table of names {{ {', '.join(got)} }}"]
    try:
        want = np.asarray(want, dtype=np.float64)
    except (TypeError, ValueError):
        return [f"{key}: expected value {want!r} is not numeric"]
    got = np.asarray(got, dtype=np.float64)
    if want.shape != got.shape:
        return [f"{key}: expected shape {want.shape}, got {got.shape}"]
    c = compare(got, want, rtol, atol)
    if c.abs_err.size and np.all(np.isfinite(c.abs_err)):
        errors.append(c.max_err())
    if not c.agree:
        return [f"{key}: expected {_short(want)}, got {_short(got)}"]
    return []


def _short(a: np.ndarray) -> str:
    return np.array2string(a, precision=6, separator=", ", threshold=20)
