"""Human-readable output of offline runs: live progress lines and execution summaries."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from baton.local.record import ExecutionRecord

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
            line = Text.assemble(("  ✔ ", "green"), step, (attempt, "dim"), f"  {ms:7.1f} ms{acc}")
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
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("step", "agent", "attempts", "accuracy", "time", "note"):
        table.add_column(
            column, justify="right" if column in ("attempts", "accuracy", "time") else "left"
        )
    for h in record.handoffs:
        note = ""
        if h.skipped:
            note = f"skipped: {h.data.get('reason', '')}"
        elif h.replaces:
            note = f"instead of {h.replaces}"
        elif h.cached:
            note = "from cache"
        table.add_row(
            h.step,
            f"#{h.agent_id} {h.agent}",
            str(h.attempts),
            f"{h.accuracy:g}%",
            f"{h.duration_ms:.1f} ms",
            note,
        )
    return table


def print_record(console: Console, record: ExecutionRecord) -> None:
    style = STATUS_STYLE.get(record.status, "white")
    m = record.metrics
    console.print(
        Text.assemble(
            (f"{record.workflow_name}", "bold"),
            f" [{record.execution_id}] ",
            (record.status.upper(), f"bold {style}"),
            f"  {m.total_execution_time:.0f} ms, {m.successful_handoffs} handoffs, "
            f"{m.failed_handoffs} failed attempts, {m.state_transitions} state transitions",
        ),
        highlight=False,
    )
    if record.handoffs:
        console.print(handoff_table(record))
    if record.waits:
        waits = ", ".join(f"{w.step} {w.seconds:g}s" for w in record.waits)
        console.print(Text(f"backoff waits: {waits}", style="yellow"))
    if record.error:
        e = record.error
        who = f" in {e.agent_name} (agent #{e.agent_id})" if e.agent_name else ""
        console.print(
            Text(
                f"error{who}: {e.error_type}: {e.message} (after {e.retry_count} retries)",
                style="red",
            ),
            highlight=False,
        )


def result_summary(record: ExecutionRecord, limit: int = 400) -> str:
    """What the last agent produced, compactly: the part of the data a person looks for."""
    last = next((h for h in reversed(record.handoffs) if not h.skipped), None)
    if last is None:
        return ""
    text = json.dumps(last.data, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_execution(
    console: Console, execution: dict[str, Any], runs: list[ExecutionRecord]
) -> None:
    """Every run of an execution (a resumed or auto-recovered one has several), then its end."""
    for number, record in enumerate(runs, start=1):
        if len(runs) > 1:
            console.rule(
                f"run {number} of {len(runs)}" + (" (auto-recovery)" if number > 1 else "")
            )
        print_record(console, record)
    status = execution["status"]
    console.print(
        Text.assemble(
            "execution ",
            (execution["executionId"], "bold"),
            ": ",
            (status.upper(), f"bold {STATUS_STYLE.get(status, 'white')}"),
            f" after {len(runs)} run{'s' if len(runs) != 1 else ''}",
        ),
        highlight=False,
    )


def execution_json(execution: dict[str, Any], runs: list[ExecutionRecord]) -> dict[str, Any]:
    """The stored execution record, with the workflow data, the backoff waits and each run."""
    last = runs[-1].to_json() if runs else {}
    return {
        **execution,
        "workflowData": execution.get("output") or last.get("workflowData", {}),
        "waits": [w for run in runs for w in run.to_json()["waits"]],
        "runDetails": [run.to_json() for run in runs],
    }
