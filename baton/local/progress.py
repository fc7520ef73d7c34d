"""Human-readable output of offline runs: live progress lines and execution summaries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from baton.local.record import BackoffWait
from baton_agent.keys import is_express_run, run_name
from baton_service.history import error_message
from baton_service.lifecycle import run_number
from baton_service.record import ExecutionRecord

STATUS_STYLE = {"completed": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}


class ProgressPrinter:
    """A runtime listener printing one line per attempt start, end, and backoff wait."""

    def __init__(self, console: Console, *, real_waits: bool = False) -> None:
        self.console = console
        self.real_waits = real_waits

    def __call__(self, kind: str, details: dict[str, Any]) -> None:
        step = f"{details.get('step', ''):<28}"
        attempt = f"attempt {details.get('attempt', '')}"
        if kind == "attempt":
            line = Text.assemble(("  ▶ ", "cyan"), step, (attempt, "dim"))
        elif kind == "succeeded":
            ms = details.get("seconds", 0) * 1000
            accuracy = details.get("accuracy")
            acc = f"  accuracy {accuracy:g}%" if isinstance(accuracy, int | float) else ""
            cached = ("  from cache", "dim") if details.get("cached") else ""
            line = Text.assemble(
                ("  ✔ ", "green"), step, (attempt, "dim"), f"  {ms:7.1f} ms{acc}", cached
            )
        elif kind == "failed":
            line = Text.assemble(
                ("  ✖ ", "red"),
                step,
                (attempt, "dim"),
                (f"  {details.get('error')}: {details.get('message')}", "red"),
            )
        elif kind == "wait":
            how = "waiting" if self.real_waits else "recorded, not waited offline"
            line = Text.assemble(
                ("  ⏳ ", "yellow"), step, (f"backoff {details['seconds']:g}s ({how})", "yellow")
            )
        else:
            return
        self.console.print(line, highlight=False)


def handoff_table(record: ExecutionRecord) -> Table:
    """Every handoff of every run, as stored (a run column when there were several runs)."""
    several = len(record.runs) > 1
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    columns = ["step", "agent", "attempt", "accuracy", "time", "note"]
    if several:
        columns.insert(0, "run")
    for column in columns:
        table.add_column(
            column, justify="right" if column in ("run", "attempt", "accuracy", "time") else "left"
        )
    for h in record.handoffs:
        note = ""
        if h.skipped:
            note = f"skipped: {h.error}: {error_message(h.cause)}"
        elif h.replaces:
            note = f"instead of {h.replaces}"
        elif h.cached:
            note = "from cache"
        row = [
            h.step,
            h.agent,
            str(h.attempt or "-"),
            f"{h.accuracy:g}%",
            f"{h.duration_ms:.1f} ms",
            note,
        ]
        if several:
            row.insert(0, str(run_number(run_name(h.run or ""))))
        table.add_row(*row)
    return table


def print_execution(
    console: Console, record: ExecutionRecord, waits: Sequence[BackoffWait] = ()
) -> None:
    """The stored record, as the lifecycle keeps it, and the waits observed offline."""
    style = STATUS_STYLE.get(record.status, "white")
    runs = len(record.runs)
    m = record.metrics
    express = bool(record.runs) and is_express_run(record.runs[-1])
    transitions = (
        "an Express run"
        if express or not m
        else "state transitions not known (settled without its history)"
        if m.state_transitions is None
        else f"{m.state_transitions} state transitions"
    )
    numbers = (
        f"  {m.total_execution_time:.0f} ms, {m.successful_handoffs} handoffs, "
        f"{m.failed_handoffs} failed attempts, {transitions}" + (" (last run)" if runs > 1 else "")
        if m
        else ""
    )
    console.print(
        Text.assemble(
            (f"{record.workflow_name}", "bold"),
            f" [{record.execution_id}] ",
            (record.status.upper(), f"bold {style}"),
            numbers,
        ),
        highlight=False,
    )
    if record.handoffs:
        console.print(handoff_table(record))
    if waits:
        listed = ", ".join(f"{w.step} {w.seconds:g}s" for w in waits)
        console.print(Text(f"backoff waits: {listed}", style="yellow"))
    if record.error:
        e = record.error
        who = f" in {e.agent_name}" if e.agent_name else ""
        console.print(
            Text(
                f"error{who}: {e.error_type}: {e.message} (after {e.retry_count} retries)",
                style="red",
            ),
            highlight=False,
        )
    console.print(
        Text.assemble(
            "execution ",
            (record.execution_id, "bold"),
            ": ",
            (record.status.upper(), f"bold {style}"),
            f" after {runs} run{'s' if runs != 1 else ''}"
            + (f" ({record.recoveries} by auto-recovery)" if record.recoveries else ""),
        ),
        highlight=False,
    )


def result_summary(record: ExecutionRecord, limit: int = 400) -> str:
    """What the last agent produced, compactly: the part of the data a person looks for."""
    last = next((h for h in reversed(record.handoffs) if not h.skipped), None)
    if last is None:
        return ""
    return compact_json(last.data, limit)


def compact_json(value: Any, limit: int = 400) -> str:
    """JSON on one line, cut at `limit` characters (a person reads the start)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def execution_json(record: ExecutionRecord, waits: Sequence[BackoffWait]) -> dict[str, Any]:
    """The stored record exactly, plus the backoff waits only the offline runtime observes."""
    return {**record.to_json(), "offlineWaits": [w.to_json() for w in waits]}
