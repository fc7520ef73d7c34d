"""The console's pages: plain HTML rendered on the server, every value escaped (workflow data
comes from the web pages agents scrape: it is never trusted as markup)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from baton.compiler.graph import STATUS_COLOURS
from baton.local.console.views import STATUSES, TimelineEntry, clock_time, masked

ACTIVE = ("pending", "running")


def h(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _json(value: Any) -> str:
    return h(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def execution_url(record: Mapping[str, Any]) -> str:
    tenant, execution = (
        quote(str(record.get("tenant")), safe=""),
        quote(str(record.get("executionId")), safe=""),
    )
    return f"/console/executions/{tenant}/{execution}"


def workflow_url(workflow_id: str) -> str:
    return f"/console/workflows/{quote(workflow_id, safe='')}"


def layout(title: str, body: str, token: str, *, refresh: bool = False) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="baton-console" content="{h(token)}">
<title>{h(title)} · Baton console</title>
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/mermaid.min.js" defer></script>
<script src="/console/static/console.js" defer></script>
</head><body data-refresh="{"1" if refresh else "0"}">
<header><a class="brand" href="/console">Baton console</a>
<nav><a href="/console">Executions</a><a href="/console/workflows">Workflows</a></nav>
<span class="offline">offline · 127.0.0.1</span></header>
<main>{body}</main></body></html>"""


def status_badge(status: Any, element_id: str = "") -> str:
    attribute = f' id="{h(element_id)}"' if element_id else ""
    return f'<span class="status status-{h(status)}"{attribute}>{h(status)}</span>'


def _duration(record: Mapping[str, Any]) -> str:
    metrics = record.get("metrics") or {}
    total = metrics.get("totalExecutionTime")
    return f"{float(total):,.0f} ms" if isinstance(total, int | float) and total else "–"


def execution_rows(records: Sequence[Mapping[str, Any]]) -> str:
    if not records:
        return '<tr><td colspan="7" class="empty">No executions yet.</td></tr>'
    rows = []
    for record in records:
        metrics = record.get("metrics") or {}
        workflow_id = str(record.get("workflowId"))
        rows.append(
            f'<tr data-status="{h(record.get("status"))}">'
            f'<td><a href="{h(execution_url(record))}">{h(record.get("executionId"))}</a></td>'
            f'<td><a href="{h(workflow_url(workflow_id))}">{h(workflow_id)}</a></td>'
            f"<td>{h(record.get('tenant'))}</td><td>{status_badge(record.get('status'))}</td>"
            f"<td>{h(record.get('startTime'))}</td><td>{_duration(record)}</td>"
            f"<td>{h(metrics.get('successfulHandoffs', '–'))}</td></tr>"
        )
    return "\n".join(rows)


def _options(values: Sequence[str], chosen: str, everything: str) -> str:
    options = [f'<option value="">{h(everything)}</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        options.append(f'<option value="{h(value)}"{selected}>{h(value)}</option>')
    return "".join(options)


def executions_page(
    records: Sequence[Mapping[str, Any]],
    filters: Mapping[str, str],
    workflows: Sequence[str],
    tenants: Sequence[str],
    token: str,
) -> str:
    query = urlencode({k: v for k, v in filters.items() if v})
    body = f"""<h1>Executions</h1>
<form class="filters" method="get" action="/console">
<label>Workflow <select name="workflow" id="filter-workflow">{_options(workflows, filters.get("workflow", ""), "all workflows")}</select></label>
<label>Tenant <select name="tenant" id="filter-tenant">{_options(tenants, filters.get("tenant", ""), "all tenants")}</select></label>
<label>Status <select name="status" id="filter-status">{_options(STATUSES, filters.get("status", ""), "any status")}</select></label>
<button type="submit">Filter</button>
<span class="live" id="live">live</span>
</form>
<table class="executions"><thead><tr><th>execution</th><th>workflow</th><th>tenant</th>
<th>status</th><th>started</th><th>duration</th><th>steps</th></tr></thead>
<tbody id="executions" data-rows="/console/rows?{h(query)}">{execution_rows(records)}</tbody></table>"""
    return layout("Executions", body, token)


def workflows_page(workflows: Sequence[Mapping[str, Any]], token: str) -> str:
    rows = "".join(
        f'<tr><td><a href="{h(workflow_url(w["workflowId"]))}">{h(w["workflowId"])}</a></td>'
        f"<td>{h(w['name'])}</td><td>{h(w['type'])}</td><td>{h(w['description'])}</td></tr>"
        for w in workflows
    )
    body = f"""<h1>Workflows</h1><table><thead><tr><th>id</th><th>name</th><th>type</th>
<th>description</th></tr></thead><tbody>{rows}</tbody></table>"""
    return layout("Workflows", body, token)


def _cost_table(report: Mapping[str, Any]) -> str:
    def lines(items: Sequence[Mapping[str, Any]]) -> str:
        return "".join(
            f"<tr><td>{h(line['what'])}</td><td>{line['quantity']:,g} {h(line['unit'])}</td>"
            f"<td>${line['dollars']:.8f}</td></tr>"
            for line in items
        )

    standard, express = report["standard"], report["express"]
    fits = "fits Express" if express.get("fits") else "does not fit Express (5 minutes)"
    return f"""<table class="cost" id="cost"><thead><tr><th>per execution</th><th>quantity</th>
<th>price</th></tr></thead><tbody>{lines(report["shared"])}
<tr class="subtotal"><th colspan="3">Standard</th></tr>{lines(standard["lines"])}
<tr class="total"><td>Standard, per execution</td><td></td><td>${standard["perExecution"]:.8f}</td></tr>
<tr class="subtotal"><th colspan="3">Express ({h(fits)})</th></tr>{lines(express["lines"])}
<tr class="total"><td>Express, per execution</td><td></td><td>${express["perExecution"]:.8f}</td></tr>
</tbody></table><p class="note">Published us-east-1 prices, each agent running 1 s, no
failures (<code>baton cost</code> for other assumptions).</p>"""


def workflow_page(
    workflow: Mapping[str, Any],
    graph: str,
    cost: Mapping[str, Any],
    recent: Sequence[Mapping[str, Any]],
    token: str,
) -> str:
    start_input = json.dumps(workflow.get("sampleInput") or {}, indent=2)
    body = f"""<h1>{h(workflow["name"])} <small>{h(workflow["workflowId"])}</small></h1>
<p>{h(workflow.get("description"))}</p>
<section class="start"><h2>Start an execution</h2>
<form id="start-form" data-workflow="{h(workflow["workflowId"])}">
<label>Tenant <input id="start-tenant" name="tenant" value="default" pattern="[a-z0-9][a-z0-9-]{{0,62}}"></label>
<label class="wide">Input (JSON) <textarea id="start-input" name="input" rows="4">{h(start_input)}</textarea></label>
<label><input type="checkbox" id="start-no-cache"> ignore cached results</label>
<button type="submit" id="start">Start</button>
<p class="error" id="start-error" role="alert"></p></form></section>
<section><h2>Graph</h2><pre class="mermaid" id="graph">{h(graph)}</pre></section>
<section><h2>Cost</h2>{_cost_table(cost)}</section>
<section><h2>Recent executions</h2><table><tbody>{execution_rows(recent)}</tbody></table></section>
<section><h2>Definition</h2><pre class="definition" id="definition">{_json(workflow.get("definition"))}</pre></section>"""
    return layout(str(workflow["name"]), body, token)


def _timeline_row(entry: TimelineEntry) -> str:
    if entry.kind == "wait":
        what = f"◷ backoff {entry.seconds:g} s"
    elif entry.kind == "failed":
        what = "✖ failed"
    elif entry.kind == "skipped":
        what = "↷ skipped"
    else:
        what = "✔ from cache" if entry.cached else "✔ succeeded"
    accuracy = f"{entry.accuracy:g}%" if entry.accuracy is not None else ""
    duration = f"{entry.duration_ms:,.1f} ms" if entry.duration_ms is not None else ""
    problem = ": ".join(p for p in (entry.error, entry.message) if p)
    return (
        f'<tr class="entry-{h(entry.kind)}"><td>{entry.run}</td><td>{h(entry.step)}</td>'
        f"<td>{h(entry.agent or '')}</td><td>{h(entry.attempt or '')}</td><td>{h(what)}</td>"
        f"<td>{h(clock_time(entry.at) if entry.at else '')}</td><td>{h(accuracy)}</td><td>{h(duration)}</td>"
        f'<td class="problem">{h(problem)}</td></tr>'
    )


def _legend() -> str:
    return "".join(
        f'<span class="legend" style="background:{fill};border-color:{stroke}">{h(status)}</span>'
        for status, (fill, stroke) in STATUS_COLOURS.items()
    )


def execution_page(
    record: Mapping[str, Any],
    graph: str,
    entries: Sequence[TimelineEntry],
    data_steps: Sequence[tuple[str, Any]],
    token: str,
) -> str:
    status = str(record.get("status"))
    error = record.get("error") or {}
    error_box = (
        f'<p class="error-box" id="error"><b>{h(error.get("errorType"))}</b>'
        f"{' in ' + h(error.get('agentName')) if error.get('agentName') else ''}: "
        f"{h(error.get('message'))} (after {h(error.get('retryCount', 0))} retries)</p>"
        if error
        else ""
    )
    allowed = {
        "cancel": status in ("pending", "running", "paused"),
        "pause": status == "running",
        "resume": status in ("failed", "paused", "cancelled"),
    }
    buttons = "".join(
        f'<button class="action" id="{action}" data-action="{action}"'
        f"{'' if enabled else ' disabled'}>{action.title()}</button>"
        for action, enabled in allowed.items()
    )
    data_blocks = "".join(
        f'<details class="data-step"><summary>after {h(step)}</summary><pre>{_json(data)}</pre></details>'
        for step, data in data_steps
    )
    metrics = record.get("metrics") or {}
    body = f"""<h1>{h(record.get("workflowName") or record.get("workflowId"))}
<small id="execution-id">{h(record.get("executionId"))}</small></h1>
<div class="summary" id="execution" data-tenant="{h(record.get("tenant"))}"
 data-execution="{h(record.get("executionId"))}">
{status_badge(status, "status")}
<span>tenant <b>{h(record.get("tenant"))}</b></span>
<span>workflow <a href="{h(workflow_url(str(record.get("workflowId"))))}">{h(record.get("workflowId"))}</a></span>
<span>started {h(record.get("startTime"))}</span><span>ended {h(record.get("endTime") or "–")}</span>
<span>{len(record.get("runs") or [])} run(s)</span>
<span>{h(metrics.get("failedHandoffs", 0))} failed attempt(s)</span>
<span class="actions">{buttons}</span></div>
<p class="error" id="action-error" role="alert"></p>
{error_box}
<section><h2>Graph</h2><div class="legend-row">{_legend()}</div>
<pre class="mermaid" id="graph">{h(graph)}</pre></section>
<section><h2>Timeline</h2><table class="timeline" id="timeline"><thead><tr><th>run</th>
<th>step</th><th>agent</th><th>attempt</th><th>what</th><th>at (UTC)</th><th>accuracy</th>
<th>duration</th><th>error</th></tr></thead><tbody>
{"".join(_timeline_row(e) for e in entries) or '<tr><td colspan="9" class="empty">No attempt yet.</td></tr>'}
</tbody></table></section>
<section><h2>Data</h2>
<details class="data-input" open><summary>input</summary><pre id="input">{_json(masked(record.get("input") or {}))}</pre></details>
{data_blocks}
<details class="data-output" open><summary>output</summary><pre id="output">{_json(masked(record.get("output")))}</pre></details>
<p class="note">Fields named like a password, secret, token, key, cookie or session, and
stash references, are masked ({h("•••")}).</p></section>"""
    return layout(f"{record.get('executionId')}", body, token, refresh=status in ACTIVE)


def not_found_page(message: str, token: str) -> str:
    return layout("Not found", f'<h1>Not found</h1><p class="error">{h(message)}</p>', token)
