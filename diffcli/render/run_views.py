"""Renderers for the long-running commands: ``minimize`` and ``check FILE``.

Pure functions from result dataclasses to rich objects and JSON-able dicts,
sharing render.py's pieces so numbers and verdicts look the same everywhere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from diffcli.errors import visible
from diffcli.minimize.descent import MinimizeResult
from diffcli.render.grad_views import assignments_text, header, status_text
from diffcli.render.json_data import jsonable, number_text

if TYPE_CHECKING:  # annotations only: minimize's output need not load batch
    from diffcli.batch.cases import CaseResult

BLOCKS = "▁▂▃▄▅▆▇█"
CASE_STATUS = {"ok": "ok", "fail": "mismatch", "error": "mismatch"}


# --- minimize -------------------------------------------------------------------


def sparkline(values: list[float], width: int = 60) -> str:
    """A loss curve in one line of block characters (log scale when it spans
    decades); non-finite values show as '!'."""
    if not values:
        return ""
    n = min(width, len(values))
    picks = [values[round(i * (len(values) - 1) / max(n - 1, 1))] for i in range(n)]
    finite = [v for v in picks if math.isfinite(v)]
    if not finite:
        return "!" * len(picks)
    low, high = min(finite), max(finite)
    use_log = low > 0 and high / low > 100
    scale = (lambda v: math.log10(v)) if use_log else (lambda v: v)
    lo, hi = scale(low), scale(high)
    span = hi - lo or 1.0
    return "".join(
        "!"
        if not math.isfinite(v)
        else BLOCKS[min(len(BLOCKS) - 1, int((scale(v) - lo) / span * len(BLOCKS)))]
        for v in picks
    )


def history_table(result: MinimizeResult) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("step", "value", "|grad|"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in result.history:
        table.add_row(
            str(row.step), number_text(row.value, 8), number_text(row.grad_norm, 4)
        )
    return table


def minimize_view(result: MinimizeResult) -> Group:
    """History, loss curve, final point and the symbolic cross-check."""
    parts: list[RenderableType] = [
        header(
            [
                ("minimize", result.expr),
                ("optimizer", _settings_text(result)),
            ]
        ),
        Text(""),
        history_table(result),
    ]
    curve = sparkline(result.curve)
    if len(result.curve) > 2:
        scale = " (log scale)" if _logged(result) else ""
        parts += [Text(f"loss  {curve}{scale}")]
    parts += [
        Text(""),
        header(
            [
                ("stopped", result.stop_reason),
                ("point", assignments_text(result.point)),
                ("value", number_text(result.value, 8)),
                ("|grad|", number_text(result.grad_norm, 4)),
            ]
        ),
    ]
    parts += [Text(""), stationary_view(result)]
    return Group(*parts)


def _settings_text(result: MinimizeResult) -> str:
    """``adam, lr 0.05, betas 0.9, 0.999``: only the settings the optimizer uses."""
    s = result.settings
    parts = [result.optimizer]
    if s.get("lr") is not None:
        parts.append(f"lr {s['lr']:g}")
    if result.optimizer in ("momentum", "nesterov") and s.get("momentum") is not None:
        parts.append(f"momentum {s['momentum']:g}")
    if result.optimizer == "adam" and s.get("betas"):
        parts.append("betas " + ", ".join(f"{b:g}" for b in s["betas"]))
    if s.get("weight_decay"):
        parts.append(f"weight decay {s['weight_decay']:g}")
    if s.get("tol") is not None:
        parts.append(f"tol {s['tol']:g}")
    return ", ".join(parts)


def _logged(result: MinimizeResult) -> bool:
    values = [v for v in result.curve if math.isfinite(v)]
    return bool(values) and min(values) > 0 and max(values) / min(values) > 100


def stationary_view(result: MinimizeResult) -> RenderableType:
    if result.stationary_points is None:
        why = result.symbolic_reason or "not computed"
        return Text(f"stationary points: not listed ({why})", style="dim")
    if not result.stationary_points:
        return Text(
            "stationary points: SymPy finds none (grad f = 0 has no isolated "
            "real solution)"
        )
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title="stationary points (SymPy)",
        title_justify="left",
    )
    table.add_column("point", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    for s in result.stationary_points:
        near = " ←" if s is result.nearest_minimum else ""
        table.add_row(assignments_text(s.point), s.kind + near, number_text(s.value))
    parts: list[RenderableType] = [table]
    if result.distance_to_minimum is not None:
        parts.append(
            Text(
                f"distance to the nearest minimum: "
                f"{number_text(result.distance_to_minimum, 3)}"
            )
        )
    return Group(*parts)


def minimize_json(result: MinimizeResult) -> dict[str, Any]:
    """The issue's contract: stationary_points is a list of {name: value}
    objects; their kinds and values are the parallel lists stationary_kinds
    and stationary_values (null, like it, when SymPy was not asked or could
    not solve; symbolic_reason says which)."""
    found = result.stationary_points
    return {
        "expr": result.expr,
        "optimizer": result.optimizer,
        "steps": result.steps,
        "converged": result.converged,
        "stop_reason": result.stop_reason,
        "point": jsonable(result.point),
        "value": jsonable(result.value),
        "grad_norm": jsonable(result.grad_norm),
        "history": [
            {
                "step": r.step,
                "value": jsonable(r.value),
                "grad_norm": jsonable(r.grad_norm),
            }
            for r in result.history
        ],
        "stationary_points": None
        if found is None
        else [jsonable(s.point) for s in found],
        # extras beside the contract, parallel to stationary_points (so that
        # its items hold the variables only): each point's kind and value, and
        # the index of the minimum nearest to where descent stopped
        "stationary_kinds": None if found is None else [s.kind for s in found],
        "stationary_values": None
        if found is None
        else [jsonable(s.value) for s in found],
        "nearest_minimum": next(
            (i for i, s in enumerate(found or ()) if s is result.nearest_minimum),
            None,
        ),
        "distance_to_minimum": jsonable(result.distance_to_minimum),
        "diverged_at": result.diverged_at,
        "symbolic_reason": result.symbolic_reason,
    }


# --- check FILE -------------------------------------------------------------------


def case_status(status: str) -> Text:
    text = status_text(CASE_STATUS[status])
    return Text(text.plain.split()[0] + " " + status, style=text.style)


def batch_table(results: list[CaseResult]) -> Table:
    """One row per case: name (and, when not ok, its message), verdict, largest
    error, time.  Fits 80 columns: only the case column wraps.  Results from
    several files get a heading row per file, as names may repeat.  Text from
    the files is shown escaped where a terminal would obey it."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("case", overflow="fold", ratio=1)
    table.add_column("verdict", no_wrap=True)
    table.add_column("max err", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    several = len({r.file for r in results}) > 1
    file = None
    for r in results:
        if several and r.file != file:
            file = r.file
            table.add_row(Text(visible(file), style="bold"))
        name = Text(visible(r.name))
        if r.status != "ok" and r.message:
            name.append("\n" + visible(r.message, keep="\n\t"), style="dim")
        table.add_row(
            name,
            case_status(r.status),
            "" if r.max_abs_err is None else number_text(r.max_abs_err, 2),
            f"{r.seconds:.2f}s",
        )
    return table


def case_json(result: CaseResult) -> dict[str, Any]:
    """The JSON object streamed per case (non-finite numbers as strings)."""
    out = {
        "name": result.name,
        "expr": result.expr,
        "status": result.status,
        "value": jsonable(result.value),
        "gradient": jsonable(result.gradient),
        "max_abs_err": jsonable(result.max_abs_err),
        "message": result.message,
        "file": result.file,  # names may repeat across files
    }
    if result.hessian is not None:
        out["hessian"] = jsonable(result.hessian)
    return out


def summary(results: list[CaseResult]) -> dict[str, int]:
    counts = {"ok": 0, "fail": 0, "error": 0}
    for r in results:
        counts[r.status] += 1
    return counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def summary_text(
    counts: dict[str, int],
    seconds: float,
    interrupted: bool = False,
    not_run: int = 0,
    unreadable: int = 0,
) -> Text:
    """``21 cases: 21 ok, 0 failed, 0 errors in 1.02s``, and what did not run."""
    text = Text(_plural(sum(counts.values()), "case") + ": ")
    text.append(f"{counts['ok']} ok", style="green" if counts["ok"] else "")
    text.append(", ")
    text.append(f"{counts['fail']} failed", style="bold red" if counts["fail"] else "")
    text.append(", ")
    text.append(
        _plural(counts["error"], "error"), style="bold red" if counts["error"] else ""
    )
    text.append(f" in {seconds:.2f}s")
    if not_run:
        text.append(f"; {not_run} not run", style="yellow")
    if unreadable:
        text.append(f"; {_plural(unreadable, 'file')} unreadable", style="bold red")
    if interrupted:
        text.append("  (interrupted)", style="yellow")
    return text
