"""`baton cost` on a terminal: one execution's bill, Standard against Express, and the counts of
an offline run next to the model's."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from baton.definition.durations import format_duration
from baton.deploy.cost import CostReport, Line, Usage

if TYPE_CHECKING:  # the offline runtime is imported only when a run is measured
    from baton.local.metering import MeasuredRun

MILLION = 1_000_000


def _money(dollars: float) -> str:
    return f"${dollars:,.2f}" if dollars >= 0.01 else f"${dollars:.8f}".rstrip("0")


def _quantity(value: float) -> str:
    return f"{value:,}" if float(value).is_integer() else f"{value:,.3f}"


def print_cost(console: Console, report: CostReport) -> None:
    assumed = report.assumptions
    console.print(
        Text.assemble(
            (report.workflow_id, "bold"),
            f": one execution without failures, at {report.prices.region} on-demand prices; "
            f"each agent invocation assumed to run {assumed.agent_seconds:g} s "
            f"(--agent-seconds), Baton's own functions {assumed.service_seconds:g} s",
        )
    )
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("", "quantity", "unit", "per execution", "per million executions"):
        table.add_column(column, justify="left" if column in ("", "unit") else "right")

    def add(lines: list[Line], style: str = "") -> None:
        for line in lines:
            table.add_row(
                line.what,
                _quantity(line.quantity),
                line.unit,
                _money(line.dollars),
                _money(line.dollars * MILLION),
                style=style,
            )

    add(report.shared)
    table.add_section()
    add(report.standard, "cyan")
    add(report.express, "magenta")
    table.add_section()
    for kind, style in (("standard", "cyan"), ("express", "magenta")):
        total = report.total(kind)
        table.add_row(
            f"total on {kind.title()}", "", "", _money(total), _money(total * MILLION), style=style
        )
    console.print(table)
    minutes, seconds = divmod(round(report.worst_seconds), 60)
    worst = (
        f"{minutes}m {seconds}s"
        if minutes and seconds
        else format_duration(report.worst_seconds * 1000)
    )
    if report.fits_express:
        verdict = Text(
            f"fits Express (type: express): its worst case, {worst}, and the report of its "
            "end finish within 5 minutes",
            "green",
        )
    else:
        verdict = Text("does not fit Express: " + "; ".join(report.express_problems), "yellow")
    console.print(verdict)
    console.print(
        Text(
            "Not counted: values moved to S3 (large data), what agents do themselves (their "
            "stash, their own AWS calls), executions started by triggers, CloudWatch logs and "
            "metrics. DynamoDB units assume items of up to 1 KB written and 4 KB read (larger "
            "ones cost a unit per KB written, per 4 KB read): the execution's record stays "
            "under 1 KB (its output, and a large input, are written once, in items of their "
            "own), but the items that hold data (output, input, handoffs, checkpoints) cost a "
            "unit per KB, so with more data these units are a floor. Both columns price the "
            "same run: "
            "a workflow is deployed as Express with `type: express`.",
            style="dim",
        )
    )


def comparison(usage: Usage, measured: MeasuredRun) -> list[tuple[str, int, int]]:
    """(what, the model's count, the offline run's) for every count either has."""
    rows = [
        ("transaction items", usage.transaction_items, measured.meter.transaction_items),
        ("events published", usage.event_entries, measured.meter.event_entries),
        ("index writes", usage.index_writes, measured.meter.index_writes),
    ]
    if measured.transitions is not None:  # an Express run counts none
        rows.insert(0, ("state transitions", usage.transitions, measured.transitions))
    model: Counter[str] = usage.requests
    offline: Counter[str] = measured.meter.requests
    rows += [(name, model[name], offline[name]) for name in sorted(set(model) | set(offline))]
    return rows


def print_comparison(console: Console, usage: Usage, measured: MeasuredRun) -> bool:
    """Print the model's counts against the offline run's; True when they all agree."""
    rows = comparison(usage, measured)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("", "model", "offline run"):
        table.add_column(column, justify="left" if not column else "right")
    for name, model, offline in rows:
        table.add_row(name, str(model), str(offline), style="" if model == offline else "red")
    console.print(
        Text.assemble(
            ("Checked against an offline run", "bold"),
            f" ({measured.status}, {measured.failed_attempts} failed attempts):",
        )
    )
    console.print(table)
    if measured.meter.agents_own:
        own = ", ".join(f"{name} ×{n}" for name, n in sorted(measured.meter.agents_own.items()))
        console.print(Text(f"the agents' own requests (not in the model): {own}", style="dim"))
    differing = [name for name, model, offline in rows if model != offline]
    if not differing:
        console.print(Text(f"all {len(rows)} counts agree", style="green"))
        return True
    why = (
        "the run had failed attempts, retries or fallbacks: the model counts a run without them"
        if measured.failed_attempts
        else "a condition took its cheaper branch, a cached result was found, or the model is wrong"
    )
    console.print(Text(f"{len(differing)} counts differ ({why})", style="yellow"))
    return False
