"""`baton`: validate, compile, draw and run workflow definitions offline."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from baton.compiler.asl import CompiledWorkflow, compile_workflow
from baton.compiler.budget import history_budget
from baton.compiler.graph import GraphFormat, draw
from baton.definition.exceptions import DefinitionError, Problem
from baton.definition.handlers import handler_problems
from baton.definition.loader import (
    DEFINITIONS_DIR,
    REGISTRY_FILE,
    load_registry,
    load_workflow,
    offline_secrets,
    project_root,
    workflow_files,
)
from baton.definition.registry import AgentRegistry
from baton.definition.resolved import ResolvedWorkflow
from baton.definition.schema import workflow_schema
from baton.definition.triggers import trigger_cycle_problems

if TYPE_CHECKING:  # the offline runtime is imported only by the commands that run one
    from baton.local.metering import MeasuredRun
    from baton.local.progress import ProgressPrinter
    from baton.local.record import BackoffWait
    from baton.local.runtime import LocalRuntime
    from baton.local.state import StateFolder
    from baton_service.record import ExecutionRecord

app = typer.Typer(
    help="Baton: automation workflows compiled to AWS Step Functions, run offline on moto.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

RegistryOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--registry",
        help="Agent registry file (default: statemachines/agents.yaml); give it several times "
        "to compose registries, each adding its agents (a file's `extends:` does the same).",
    ),
]


def _fail(problems: list[Problem]) -> None:
    for problem in problems:
        err.print(Text(str(problem), style="red"))
    raise typer.Exit(1)


def _setup_error(message: str) -> NoReturn:
    """A problem with what the command was given (not a failed workflow): one line, exit 2."""
    err.print(Text(f"error: {message}", style="red"), highlight=False)
    raise typer.Exit(2)


def _setup_problems(problems: list[Problem]) -> NoReturn:
    """What a command was given cannot run at all: one line per problem, exit 2."""
    for problem in problems:
        err.print(Text(f"error: {problem}", style="red"), highlight=False)
    raise typer.Exit(2)


def _registry(paths: list[Path] | None) -> AgentRegistry:
    try:
        return load_registry(paths)
    except DefinitionError as error:
        _setup_problems(error.problems)


def _compiled(path: Path, registry: AgentRegistry, *, to_run: bool = False) -> CompiledWorkflow:
    """The compiled workflow; its problems end the command (exit 1, or 2 when it was to run,
    which also needs every handler it can invoke to load)."""
    try:
        compiled = compile_workflow(load_workflow(path, registry))
    except DefinitionError as error:
        if to_run:
            _setup_problems(error.problems)
        _fail(error.problems)
        raise
    if to_run:
        problems = handler_problems(registry, compiled.agent_names())
        if problems:
            _setup_problems(problems)
    return compiled


def _input(value: str | None) -> dict[str, Any]:
    if value is None:
        return {}
    source = "--input"
    if value.startswith("@"):
        source = value[1:]
        try:
            value = Path(source).read_text(encoding="utf-8")
        except OSError as error:
            err.print(f"[red]cannot read {source}: {error.strerror}[/red]")
            raise typer.Exit(2) from error
    try:
        data = json.loads(value)
    except json.JSONDecodeError as error:
        err.print(
            f"[red]{source}: invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})[/red]"
        )
        raise typer.Exit(2) from error
    if not isinstance(data, dict):
        err.print(
            f"[red]{source}: the input must be a JSON object, got {type(data).__name__}[/red]"
        )
        raise typer.Exit(2)
    return data


@contextmanager
def _demo_site_for(workflows: list[CompiledWorkflow]) -> Iterator[Any]:
    """Serve the demo site on 127.0.0.1 while workflows that point at it run (else: None)."""
    from baton.local.demo_site import PLACEHOLDER_URL, DemoSite

    if not any(w.workflow.initial_data.get("baseUrl") == PLACEHOLDER_URL for w in workflows):
        yield None
        return
    with DemoSite() as site:
        yield site


def _at_site(workflow: CompiledWorkflow, site: Any) -> CompiledWorkflow:
    """The workflow pointed at the running demo site (unchanged when none runs)."""
    if site is None:
        return workflow
    return compile_workflow(site.point(workflow.workflow))


def _quiet_offline_logs() -> None:
    """Agents log through Powertools, moto narrates failures: the CLI shows its own progress."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    logging.getLogger("moto").setLevel(logging.CRITICAL)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Workflow files to check.")],
    registry: RegistryOption = None,
) -> None:
    """Check workflow files; print "ok" per file, or every problem of every file."""
    agents = _registry(registry)
    problems: list[Problem] = []
    validated: dict[str, ResolvedWorkflow] = {}
    for path in paths:
        try:
            if path.name == REGISTRY_FILE:
                count = len(load_registry(path).agents)
                out.print(
                    Text.assemble(
                        (f"{path}: ", "bold"), ("ok", "green"), f" (registry, {count} agents)"
                    )
                )
            else:
                workflow = load_workflow(path, agents)
                unloadable = handler_problems(agents, compile_workflow(workflow).agent_names())
                if unloadable:
                    raise DefinitionError(unloadable)
                validated[workflow.id] = workflow
                out.print(Text.assemble((f"{path}: ", "bold"), ("ok", "green")))
        except DefinitionError as error:
            problems += error.problems
    problems += trigger_cycle_problems(
        [*validated.values(), *_project_workflows(agents, exclude=set(validated))],
        only=set(validated),
    )
    if problems:
        _fail(problems)


def _project_workflows(agents: AgentRegistry, exclude: set[str]) -> list[ResolvedWorkflow]:
    """The project's other valid workflows (statemachines/): a trigger may lead through them."""
    found = []
    for path in workflow_files():
        try:
            workflow = load_workflow(path, agents)
        except DefinitionError:
            continue  # its own problems are reported when it is validated
        if workflow.id not in exclude:
            found.append(workflow)
    return found


@app.command("compile")
def compile_command(
    path: Annotated[Path, typer.Argument(help="Workflow file.")],
    report: Annotated[
        bool, typer.Option("--report", help="Report history events and transitions per run.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    registry: RegistryOption = None,
) -> None:
    """Print the workflow's Amazon States Language (JSON) on stdout, or with --report what one
    run can cost in history events and state transitions."""
    compiled = _compiled(path, _registry(registry))
    if not report:
        sys.stdout.write(compiled.to_json())
        return
    budget = history_budget(compiled.workflow)
    if as_json:
        document = {"workflowId": compiled.workflow.id, "historyBudget": budget.to_json()}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    out.print(
        Text.assemble(
            (compiled.workflow.id, "bold"),
            f": one run's history events (Step Functions stops at {budget.limit:,}) "
            "and state transitions (each billed)",
        )
    )
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("run", "events", "transitions"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for label, cost in (
        ("without failures", budget.failure_free),
        ("worst case (every retry spent, every fallback taken)", budget.worst),
        ("worst case with Lambda's own faults retried", budget.with_lambda_faults),
        ("a run started by auto-recovery adds", budget.recovered_run_extra),
    ):
        table.add_row(label, f"{cost.events:,}", f"{cost.transitions:,}")
    out.print(table)
    if compiled.workflow.type == "express":
        out.print(
            "type: express: Step Functions keeps no history of an Express run and bills no "
            "transitions (one request and the run's duration: `baton cost`); the figures are "
            "the same run's on Standard"
        )


@app.command()
def cost(
    path: Annotated[Path, typer.Argument(help="Workflow file.")],
    agent_seconds: Annotated[
        float,
        typer.Option("--agent-seconds", min=0.001, help="How long each agent invocation runs."),
    ] = 1.0,
    items: Annotated[
        list[str] | None,
        typer.Option("--items", help="AGENT=N: a fan-out's items (default: its maxItems)."),
    ] = None,
    measure: Annotated[
        bool,
        typer.Option("--measure", help="Also run it offline and compare the counts."),
    ] = False,
    input_: Annotated[
        str | None, typer.Option("--input", help="Input data of the --measure run.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    registry: RegistryOption = None,
) -> None:
    """What one execution costs in AWS: transitions, Lambda, DynamoDB, S3, events, per
    execution at published prices, Standard against Express."""
    from baton.cost_view import comparison, print_comparison, print_cost
    from baton.deploy.cost import Assumptions, cost_report

    agents = _registry(registry)
    compiled = _compiled(path, agents, to_run=measure)
    workflow = compiled.workflow
    counts = _item_counts(items or [], workflow)
    data = _input(input_)
    measured = None
    if measure:
        start = {**workflow.initial_data, **data}
        for agent, spec in workflow.for_each.items():
            listed = start.get(spec.items)
            if agent not in counts and isinstance(listed, list):
                counts[agent] = len(listed)
        measured = _measured(compiled, agents, data)
    report = cost_report(workflow, counts, Assumptions(agent_seconds=agent_seconds))
    if as_json:
        document = report.to_json()
        if measured is not None:
            document["offlineRun"] = {
                "status": measured.status,
                "failedAttempts": measured.failed_attempts,
                "counts": [
                    {"what": name, "model": model, "offline": offline}
                    for name, model, offline in comparison(report.usage, measured)
                ],
                "agentsOwn": dict(measured.meter.agents_own),
            }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    print_cost(out, report)
    if measured is not None:
        out.print()
        print_comparison(out, report.usage, measured)


def _item_counts(given: list[str], workflow: ResolvedWorkflow) -> dict[str, int]:
    counts: dict[str, int] = {}
    for text in given:
        agent, _, number = text.partition("=")
        if agent not in workflow.for_each:
            fan_outs = ", ".join(workflow.for_each) or "none"
            _setup_error(
                f"--items {text}: {agent!r} is not a fan-out of this workflow ({fan_outs})"
            )
        if not number.isdigit() or int(number) < 1:
            _setup_error(f"--items {text}: give a whole number of items, at least 1 (AGENT=N)")
        counts[agent] = int(number)
    return counts


def _measured(
    compiled: CompiledWorkflow, agents: AgentRegistry, data: dict[str, Any]
) -> MeasuredRun:
    """The workflow run once offline, its billed requests counted (baton.local.metering)."""
    from baton.local.metering import measure
    from baton.local.runtime import LocalRuntime

    _started_up()
    _quiet_offline_logs()
    with _demo_site_for([compiled]) as site, LocalRuntime(agents, observe_events=False) as rt:
        rt.put_secrets(offline_secrets())
        return measure(rt, _at_site(compiled, site), data)


@app.command("compile-all")
def compile_all(
    folder: Annotated[Path | None, typer.Argument(help="Folder of workflow files.")] = None,
    registry: RegistryOption = None,
) -> None:
    """Regenerate statemachines/asl/<workflow>.asl.json for every workflow file."""
    agents = _registry(registry)
    base = folder or project_root() / DEFINITIONS_DIR
    target = base / "asl"
    target.mkdir(exist_ok=True)
    for path in workflow_files(base):
        compiled = _compiled(path, agents)
        destination = target / f"{path.stem}.asl.json"
        destination.write_text(compiled.to_json(), encoding="utf-8")
        out.print(f"{destination}")


@app.command()
def graph(
    path: Annotated[Path, typer.Argument(help="Workflow file.")],
    fmt: Annotated[str, typer.Option("--format", help="mermaid or dot.")] = "mermaid",
    registry: RegistryOption = None,
) -> None:
    """Draw the compiled state machine (Mermaid flowchart or Graphviz DOT)."""
    if fmt not in ("mermaid", "dot"):
        err.print(f"[red]--format must be mermaid or dot, not {fmt!r}[/red]")
        raise typer.Exit(2)
    chosen: GraphFormat = "mermaid" if fmt == "mermaid" else "dot"
    sys.stdout.write(draw(_compiled(path, _registry(registry)).asl, chosen))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the workflow definition format."""
    sys.stdout.write(json.dumps(workflow_schema(), indent=2) + "\n")


@app.command()
def run(
    path: Annotated[Path, typer.Argument(help="Workflow file.")],
    input_: Annotated[
        str | None, typer.Option("--input", help="Input data: a JSON object, or @file.json.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the execution record as JSON.")
    ] = False,
    real_waits: Annotated[
        bool,
        typer.Option("--real-waits", help="Really wait out retry backoff (default: record only)."),
    ] = False,
    tenant: Annotated[str, typer.Option(help="Tenant the execution belongs to.")] = "default",
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Run every agent, ignoring cached results.")
    ] = False,
    registry: RegistryOption = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Run it on a running `baton serve` (its URL), whose cache and executions "
            "outlive this command.",
        ),
    ] = None,
) -> None:
    """Run a workflow offline with live progress; exit 0 when it completed, 1 when it did not."""
    from baton.local.progress import ProgressPrinter
    from baton.local.runtime import LocalRuntime
    from baton_service.exceptions import LifecycleError
    from baton_service.inputs import check_run_input, check_tenant
    from baton_service.record import ExecutionRecord

    _started_up()

    agents = _registry(registry)
    compiled = _compiled(path, agents, to_run=True)
    data = _input(input_)
    try:  # refused up front, before any emulator starts
        check_tenant(tenant)
        check_run_input(data)
    except LifecycleError as error:
        _setup_error(str(error).replace("tenant:", "--tenant:", 1))
    console = err if as_json else out
    printer = ProgressPrinter(console, real_waits=real_waits)
    if server is not None:
        final = _run_on_server(server, path, compiled, data, tenant, no_cache, console, printer)
        _print_run(ExecutionRecord.model_validate(final), [], as_json)
    _quiet_offline_logs()
    console.print(Text.assemble(("Running ", "bold"), compiled.workflow.name, f" ({path})"))
    with (
        _demo_site_for([compiled]) as site,
        LocalRuntime(agents, real_waits=real_waits, listener=printer, observe_events=False) as rt,
    ):
        if site is not None:
            console.print(f"demo site: {site.base_url}")
        rt.put_secrets(offline_secrets())
        compiled = _at_site(compiled, site)
        execution = rt.execute(compiled, data, tenant=tenant, no_cache=no_cache)
        record = ExecutionRecord.model_validate(execution)
        waits = rt.observed_waits(compiled, execution)
    _print_run(record, waits, as_json)


def _print_run(record: ExecutionRecord, waits: list[BackoffWait], as_json: bool) -> NoReturn:
    """The record (as JSON, or for a person), then exit 0 when it completed, 1 otherwise."""
    from baton.local.progress import compact_json, execution_json, print_execution

    if as_json:
        sys.stdout.write(
            json.dumps(execution_json(record, waits), indent=2, ensure_ascii=False) + "\n"
        )
    else:
        print_execution(out, record, waits)
        if record.output:
            out.print(Text.assemble(("output: ", "bold"), compact_json(record.output)))
    raise typer.Exit(0 if record.status == "completed" else 1)


def _run_on_server(
    url: str,
    path: Path,
    compiled: CompiledWorkflow,
    data: dict[str, Any],
    tenant: str,
    no_cache: bool,
    console: Console,
    printer: ProgressPrinter,
) -> dict[str, Any]:
    """Start the workflow on a `baton serve` and follow it to its end: its final record."""
    from baton.lambda_code import use_functions

    use_functions()
    from baton.local.remote import BatonServer, ServerError
    from baton.local.tokens import issue, signing_key

    workflow = compiled.workflow
    api = BatonServer(url, issue(tenant, signing_key(project_root())))
    try:
        deployed = api.workflow(workflow.id)
        if deployed is None:
            _setup_error(
                f"workflow {workflow.id} is not deployed on {url}: `baton serve` deploys its "
                "project's workflow files when it starts (restart it to add this one)"
            )
        if deployed.get("definition") != workflow.definition_as_written():
            _setup_error(
                f"{url} runs another version of workflow {workflow.id} than {path} (the one "
                "it deployed when it started): restart `baton serve` to deploy this one"
            )
        console.print(
            Text.assemble(("Running ", "bold"), workflow.name, f" ({path}) on {url}"),
            highlight=False,
        )
        started = api.start(workflow.id, data, no_cache=no_cache)
        console.print(f"execution {started['executionId']} started", highlight=False)

        def shown(handoff: Mapping[str, Any]) -> None:
            if handoff.get("skipped"):
                reason = {"error": handoff.get("error"), "message": "skipped (fallback)"}
                printer("failed", {**handoff, **reason, "attempt": "-"})
                return
            seconds = float(handoff.get("durationMs") or 0) / 1000
            printer("succeeded", {**handoff, "seconds": seconds})

        return api.follow(started["executionId"], shown)
    except ServerError as error:
        _setup_error(str(error))


@app.command()
def demo(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Workflow files (default: all shipped).")
    ] = None,
    registry: RegistryOption = None,
) -> None:
    """Run the example workflows offline and print what each one did."""
    from baton.local.progress import ProgressPrinter, print_execution, result_summary
    from baton.local.runtime import LocalRuntime
    from baton_service.record import ExecutionRecord, Metrics

    _started_up()

    agents = _registry(registry)
    files = paths or workflow_files()
    compiled = [(path, _compiled(path, agents, to_run=True)) for path in files]
    _quiet_offline_logs()
    records = []
    workflows = [workflow for _, workflow in compiled]
    with (
        _demo_site_for(workflows) as site,
        LocalRuntime(agents, listener=ProgressPrinter(out)) as rt,
    ):
        if site is not None:
            out.print(
                f"demo site: {site.base_url} (login form, orders, catalogs, webhook and Slack receivers)"
            )
        rt.put_secrets(offline_secrets())
        for path, workflow in compiled:
            out.rule(f"{workflow.workflow.name}  ·  {path.name}")
            workflow = _at_site(workflow, site)
            record = ExecutionRecord.model_validate(rt.execute(workflow))
            waits = rt.observed_waits(workflow, record.to_json())
            print_execution(out, record, waits)
            records.append((record, waits))
        received = _received(site)
        published = Counter(event["detail-type"] for event in rt.services.events())
    out.rule("Summary")
    table = Table(header_style="bold")
    for column in ("workflow", "status", "steps", "failed attempts", "backoff waits", "time"):
        table.add_column(column)
    for record, waits in records:
        style = "green" if record.status == "completed" else "red"
        metrics = record.metrics or Metrics()
        table.add_row(
            record.workflow_name,
            Text(record.status, style=style),
            str(len(record.handoffs)),
            str(metrics.failed_handoffs),
            ", ".join(f"{w.seconds:g}s" for w in waits) or "-",
            f"{metrics.total_execution_time:.0f} ms",
        )
    out.print(table)
    for record, _ in records:
        last = next((h for h in reversed(record.handoffs) if not h.skipped), None)
        if last is not None:
            out.print(Text.assemble((f"{record.workflow_name}", "bold"), f" → {last.agent}:"))
            out.print(Text(result_summary(record), style="dim"), highlight=False)
    for line in received:
        out.print(line)
    out.print(
        Text("Baton events published: ", style="bold")
        + Text(", ".join(f"{kind} ×{n}" for kind, n in sorted(published.items())) or "none")
    )
    failed = [r for r, _ in records if r.status != "completed"]
    out.print(f"{len(records) - len(failed)} of {len(records)} workflows completed.")
    raise typer.Exit(1 if failed else 0)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="API port on 127.0.0.1 (0: any free port).")] = 8000,
    aws_port: Annotated[
        int, typer.Option("--aws-port", help="Port of the offline AWS (moto) endpoint.")
    ] = 5000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    real_waits: Annotated[
        bool,
        typer.Option("--real-waits", help="Really wait out retry backoff (default: record only)."),
    ] = False,
    registry: RegistryOption = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Keep executions, cache, statistics and archives in this folder: saved as "
            "they change, restored at the next start.",
        ),
    ] = None,
) -> None:
    """Serve the REST API on 127.0.0.1 over an offline deployment of every workflow, with the
    agents in-process, the demo site, and an AWS endpoint for boto3 and the AWS CLI."""
    import signal

    from moto.server import ThreadedMotoServer

    from baton.local.console.app import Console
    from baton.local.demo_site import DemoSite
    from baton.local.runtime import LocalRuntime
    from baton.local.server import LocalApi, LocalServer
    from baton.local.tokens import issue, signing_key

    _started_up()

    agents = _registry(registry)
    workflows = [_compiled(path, agents, to_run=True) for path in workflow_files()]
    _quiet_offline_logs()
    # `kill` (SIGTERM) stops the server as Ctrl-C does: the state is saved on the way out
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with DemoSite() as site, LocalRuntime(agents, real_waits=real_waits) as runtime:
        runtime.put_secrets(offline_secrets())
        deployed = {w.workflow.id: _at_site(w, site) for w in workflows}
        for workflow in deployed.values():
            runtime.deploy(workflow)
        saved = _kept_state(runtime, state)
        aws = ThreadedMotoServer(ip_address=host, port=aws_port, verbose=False)
        aws.start()
        key = signing_key(project_root())
        console = Console(runtime, deployed, lambda tenant: issue(tenant, key))
        server = LocalServer(LocalApi(runtime, key, console), host, port)
        aws_host, aws_bound = aws.get_host_and_port()
        out.print(f"Baton API: {server.url}", highlight=False)
        out.print(f"console: {server.url}/console", highlight=False)
        out.print(f"AWS endpoint: http://{aws_host}:{aws_bound}", highlight=False)
        out.print(f"demo site: {site.base_url}", highlight=False)
        out.print(
            f"{len(workflows)} workflows deployed; a token: baton token TENANT; stop with Ctrl-C",
            highlight=False,
        )
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            if saved is not None:
                saved.stop.set()
                saved.folder.save()
            aws.stop()


@dataclass(frozen=True)
class _Saving:
    folder: StateFolder
    stop: threading.Event


def _kept_state(runtime: LocalRuntime, folder: Path | None) -> _Saving | None:
    """Restore the state folder's previous save, then save it every SAVE_SECONDS."""
    if folder is None:
        return None
    import boto3

    from baton.local.runtime import REGION
    from baton.local.state import SAVE_SECONDS, StateError, StateFolder

    kept = StateFolder(folder, runtime.manifest, boto3, REGION)
    try:
        restored = kept.restore(runtime.services.lifecycle.store)
    except StateError as error:
        _setup_error(str(error))
    out.print(
        f"state: {folder} ({restored.items} items, {restored.objects} objects restored"
        + (
            f"; {len(restored.interrupted)} interrupted executions marked failed"
            if restored.interrupted
            else ""
        )
        + ")",
        highlight=False,
    )
    kept.save()
    return _Saving(kept, kept.saving_every(SAVE_SECONDS))


new_app = typer.Typer(
    help="Scaffold a working agent or workflow in a project folder.", no_args_is_help=True
)
app.add_typer(new_app, name="new")

ProjectOption = Annotated[
    Path,
    typer.Option("--dir", help="The project folder (statemachines/, functions/, tests/)."),
]


@new_app.command("agent")
def new_agent(
    name: Annotated[str, typer.Argument(help="The agent's name: lowercase words and hyphens.")],
    project: ProjectOption = Path("."),
    description: Annotated[str, typer.Option(help="Its registry description.")] = "",
) -> None:
    """An agent: its handler (functions/<module>/handler.py), its registry entry
    (statemachines/agents.yaml, which extends Baton's) and a unit test (tests/)."""
    from baton.scaffold import ScaffoldError
    from baton.scaffold import new_agent as scaffold_agent

    try:
        made = scaffold_agent(project, name, description)
    except ScaffoldError as error:
        _setup_error(str(error))
    except DefinitionError as error:
        _setup_problems(error.problems)
    _print_made(made.files, f"agent {name}", f"baton new workflow NAME --agent {name}")


@new_app.command("workflow")
def new_workflow(
    name: Annotated[str, typer.Argument(help="The workflow's id: lowercase words and hyphens.")],
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", help="An agent it runs, in order (default: the newest one)."),
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """A workflow (statemachines/<name>.yaml) running the agents, and a test that runs it whole
    offline (tests/)."""
    from baton.scaffold import ScaffoldError
    from baton.scaffold import new_workflow as scaffold_workflow

    try:
        made = scaffold_workflow(project, name, agent)
    except ScaffoldError as error:
        _setup_error(str(error))
    except DefinitionError as error:
        _setup_problems(error.problems)
    workflow = made.files[0]
    _print_made(made.files, f"workflow {name}", f"baton run {workflow}")


def _print_made(files: list[Path], what: str, then: str) -> None:
    out.print(Text.assemble(("created ", "green"), what, ":"))
    for file in files:
        out.print(f"  {file}", highlight=False)
    out.print(f"next: {then}   (and: pytest tests/)", highlight=False)


@app.command()
def repair(
    execution_id: Annotated[str, typer.Argument(help="The execution whose record to repair.")],
    tenant: Annotated[str, typer.Option(help="Tenant the execution belongs to.")] = "default",
    function: Annotated[
        str, typer.Option(help="The deployment's events function (`<prefix>-events`).")
    ] = "baton-events",
) -> None:
    """Make a deployed execution's record true to its current run: its status change is
    delivered to the events function again (after a lost event, or one kept in the DLQ).
    Uses your AWS credentials; needs lambda:InvokeFunction on the events function."""
    import boto3

    from baton.lambda_code import use_functions

    use_functions()
    from baton_service.exceptions import InvalidInputError
    from baton_service.inputs import check_execution_id, check_tenant

    try:
        request = {"tenant": check_tenant(tenant), "executionId": check_execution_id(execution_id)}
    except InvalidInputError as error:
        _setup_error(str(error))
    answer = boto3.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps({"repair": request}).encode()
    )
    result = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        err.print(f"[red]repair failed: {result}[/red]")
        raise typer.Exit(1)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


@app.command()
def token(tenant: Annotated[str, typer.Argument(help="The tenant the token acts for.")]) -> None:
    """Print a bearer token that `baton serve` accepts, carrying the tenant claim."""
    from baton.lambda_code import use_functions

    use_functions()
    from baton.local.tokens import TokenError, issue, signing_key

    try:
        sys.stdout.write(issue(tenant, signing_key(project_root())) + "\n")
    except TokenError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


@app.command()
def docs(
    output: Annotated[
        Path | None, typer.Option("--output", help="Write it here (default: stdout).")
    ] = None,
) -> None:
    """The agent SDK's API reference (docs/agent-sdk.md), generated from its docstrings."""
    from baton.sdk_docs import render

    page = render()
    if output is None:
        sys.stdout.write(page)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    out.print(f"{output}", highlight=False)


@app.command()
def openapi() -> None:
    """Print the REST API's OpenAPI document, generated from its routes."""
    from baton.lambda_code import use_functions

    use_functions()
    from api.routes import create_app, openapi_document

    sys.stdout.write(openapi_document(create_app(lambda: None)))  # type: ignore[arg-type,return-value]


def _received(site: Any) -> list[Text]:
    """What the demo site's webhook and Slack receivers got, for a person to read."""
    if site is None:
        return []
    lines = [Text("What the demo site received:", style="bold")]
    for hook in site.webhooks:
        body = hook["body"]
        signature = hook["headers"].get("X-Baton-Signature", "")
        lines.append(
            Text(
                f"  webhook: {len(body.get('records', []))} records from {body.get('workflow')}, signed {signature[:20]}…"
            )
        )
    for message in site.slack:
        lines.append(Text(f"  slack:   {message['body'].get('text')}"))
    if len(lines) == 1:
        lines.append(Text("  nothing"))
    return lines


def _started_up() -> None:
    """The objects made so far (modules, classes, moto's models and service tables) live as long
    as the process: the collector, paused while they were made, never scans them (it spent
    0.4 s on them in a one-step `baton run`, and 0.9 s more at exit), and resumes for the rest."""
    gc.freeze()
    gc.enable()


def main() -> None:
    gc.disable()  # start-up makes long-lived objects, hardly any garbage: see _started_up
    try:
        app()
    finally:  # exiting: the collections at shutdown need not scan what dies with the process
        gc.freeze()


if __name__ == "__main__":
    main()
