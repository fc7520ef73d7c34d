"""Run compiled workflows offline: moto's Step Functions interpreter, agents called in-process.

    with LocalRuntime(registry) as runtime:
        record = runtime.run(compiled, {"url": "..."})

One runtime at a time per process (moto's state and the seams are process-wide).
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.core.config import DefaultConfig

from baton.compiler.asl import CompiledWorkflow
from baton.definition.handlers import HandlerError, import_handler
from baton.definition.loader import project_root
from baton.definition.registry import AgentRegistry, AgentSpec
from baton.deploy.manifest import Manifest, build_manifest, environment_text
from baton.lambda_code import use_functions
from baton.local.fake_lambda import Dispatcher, Handler
from baton.local.record import BackoffWait, RunRecord, read_execution
from baton.local.resources import LocalResources
from baton.local.seams import Seams, Wait, patched
from baton.local.seams.executions import running_now
from baton.local.seams.express_runs import inspecting

REGION = "us-east-1"
ACCOUNT = "123456789012"
MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}

KEPT_RUNS = 10_000
"""The most runs whose backoff waits the runtime keeps for their records (the oldest go first)."""

ProgressListener = Callable[[str, dict[str, Any]], None]
"""Called with ("attempt" | "succeeded" | "failed" | "wait", details) as an execution runs."""


RuntimeSetupError = HandlerError
"""An agent handler that cannot be imported, or is not a function."""


def _fake_credentials() -> None:
    """moto needs credentials to exist; never let a real profile be picked up."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ[key] = value
    os.environ.pop("AWS_PROFILE", None)
    # the agents' CloudWatch metrics are EMF lines on stdout: noise offline, unless asked for
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


class LocalRuntime:
    """An offline AWS (moto) with Baton's agents registered as Lambda functions."""

    def __init__(
        self,
        registry: AgentRegistry,
        *,
        handlers: dict[str, Handler] | None = None,
        functions_dir: Path | None = None,
        real_waits: bool = False,
        listener: ProgressListener | None = None,
        observe_events: bool = True,
    ) -> None:
        """`observe_events`: keep what Baton publishes and notifies readable (`services.events()`,
        `services.notifications()`); a run that reads neither starts faster without."""
        self.registry = registry
        self.observe_events = observe_events
        self.manifest: Manifest = build_manifest(registry)
        self.resources = LocalResources(self.manifest, REGION, ACCOUNT)
        self.overrides = dict(handlers or {})
        self.functions_dir = functions_dir or project_root() / "functions"
        self.real_waits = real_waits
        self.listener = listener
        self.dispatcher = Dispatcher()
        self.waits: dict[str, list[tuple[str, float]]] = {}
        self._waits_lock = threading.Lock()
        self._functions: set[str] = set()
        self._started: set[str] = set()
        self._definitions: dict[str, str] = {}
        self._environment: dict[str, str | None] = {}
        self._mock: Any = None
        self._switch: Any = None
        self.seams: Seams | None = None
        self._runs_started = 0
        self._frozen = False

    # lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        from moto import mock_aws

        _fake_credentials()
        use_functions(self.functions_dir)
        from baton_agent.runtime import cold_start

        self._set_environment()
        cold_start()  # a new offline deployment: agents start with fresh containers

        self._switch = patched(self.dispatcher, real_waits=self.real_waits, on_wait=self._on_wait)
        seams = self.seams = self._switch.__enter__()
        try:
            self._mock = mock_aws(config=MOTO_CONFIG)
            self._mock.start()
            import boto3

            self.sfn = boto3.client("stepfunctions", region_name=REGION)
            self.lambda_ = boto3.client("lambda", region_name=REGION)
            self.dynamodb = boto3.client("dynamodb", region_name=REGION)
            from baton.local.services import LocalServices
            from baton.local.tables import create_tables

            create_tables(self.dynamodb, self.manifest.tables.values())
            self.services = LocalServices(
                boto3, self.manifest, self.resources, seams.ends, observed=self.observe_events
            )
            events = self.manifest.events_function  # Express runs report to it
            self.dispatcher.register(
                events.function_name, self._events_function, events.memory, events.timeout_seconds
            )
            iam = boto3.client("iam", region_name=REGION)
            self.role_arn = iam.create_role(
                RoleName="baton-local",
                AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
            )["Role"]["Arn"]
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._mock is not None:
            self._stop_running()
            self._mock.stop()
            self._mock = None
        self.dispatcher.close()
        if self._switch is not None:
            self._switch.__exit__(exc_type, exc, tb)
            self._switch, self.seams = None, None
        if self._frozen:
            gc.unfreeze()  # collectable again, as the process goes on without this runtime
            self._frozen = False
        self._restore_environment()

    def _run_starts(self) -> None:
        """Count a run; at the second, freeze what is alive (gc.freeze): moto's and botocore's
        models, the deployed resources, what the first run loaded. The cyclic collector's full
        collections walked all of it (about 250,000 objects, 250 ms a collection, one every few
        executions); frozen, they walk what runs made since. What the first run left for the
        collector is frozen too: kept, with the rest, until the runtime closes and unfreezes
        it. A runtime that makes one run (`baton run`) never freezes."""
        self._runs_started += 1
        if self._runs_started == 2 and not self._frozen:
            gc.freeze()
            self._frozen = True

    def _stop_running(self) -> None:
        """Stop every run still going: its worker thread would otherwise go on invoking agents
        through whichever offline runtime is opened next in this process."""
        try:
            with inspecting():  # Express runs too, which AWS could not list or stop
                self._stop_each_run()
        except Exception:  # closing must not fail: what could not be stopped is logged
            logging.getLogger(__name__).warning("could not stop running executions", exc_info=True)

    def _stop_each_run(self) -> None:
        for machine in self.sfn.list_state_machines()["stateMachines"]:
            running = self.sfn.list_executions(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            )["executions"]
            for execution in running:
                self.sfn.stop_execution(
                    executionArn=execution["executionArn"], cause="offline runtime closed"
                )

    def _set_environment(self) -> None:
        """The environment the deployed functions get, for the agents run in this process
        (one process: the variables every function shares)."""
        from baton_agent.settings import get_settings

        values = environment_text(self.manifest.shared_environment(), self.resources.resolve)
        for name, value in values.items():
            self._environment.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        get_settings.cache_clear()

    def _restore_environment(self) -> None:
        from baton_agent.settings import get_settings

        for name, value in self._environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._environment.clear()
        get_settings.cache_clear()

    # deployment --------------------------------------------------------------------------
    def put_secrets(self, secrets: dict[str, str], *, tenant: str = "default") -> None:
        """Store a tenant's secrets (name → value) in the offline Secrets Manager, where agents
        of that tenant's runs find them: `<prefix>/<tenant>/<name>`."""
        import boto3

        client = boto3.client("secretsmanager", region_name=REGION)
        for short, value in secrets.items():
            name = f"{self.manifest.prefix}/{tenant}/{short}"
            try:
                client.create_secret(Name=name, SecretString=value)
            except client.exceptions.ResourceExistsException:
                client.put_secret_value(SecretId=name, SecretString=value)

    def deploy_agent(self, spec: AgentSpec) -> None:
        """Register the agent as a Lambda function (with its warm alias, if it has one) and
        route its invocations in-process."""
        function = self.manifest.agents[spec.name]
        name = function.function_name
        if name in self._functions:
            return
        handler = self.overrides.get(spec.name) or import_handler(spec, self.functions_dir)
        self.dispatcher.register(
            name,
            self._observed(spec.name, handler),
            function.memory,
            function.timeout_seconds,
            function.reserved_concurrency,
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "# runs in-process offline\n")
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role_arn,
            Handler=function.handler,
            Code={"ZipFile": buffer.getvalue()},
            Timeout=function.timeout_seconds,
            MemorySize=function.memory,
        )
        if function.alias:
            version = self.lambda_.publish_version(FunctionName=name)["Version"]
            self.lambda_.create_alias(
                FunctionName=name, Name=function.alias, FunctionVersion=version
            )
            self.dispatcher.aliases[(name, function.alias)] = version
        self._functions.add(name)

    def deploy(self, compiled: CompiledWorkflow) -> str:
        """Create (or update) the workflow's state machine as the manifest describes it;
        return its ARN."""
        for agent in compiled.agent_names():
            self.deploy_agent(self.registry.get(agent))
        self.manifest = self.manifest.with_workflows([compiled])
        deployment = self.manifest.workflows[compiled.workflow.id]
        definition = deployment.substituted(self.resources.resolve)
        arn = self.resources.state_machine_arn(deployment.state_machine_name)
        if self._definitions.get(arn) != definition:  # else deployed as it is already
            if arn in self._definitions:
                self.sfn.update_state_machine(stateMachineArn=arn, definition=definition)
            else:
                self.sfn.create_state_machine(
                    name=deployment.state_machine_name,
                    definition=definition,
                    roleArn=self.role_arn,
                    type=deployment.type,
                )
            self._definitions[arn] = definition
        # options outside the ASL (recovery, triggers, retention) may have changed
        self.services.register(deployment)
        return arn

    # execution ---------------------------------------------------------------------------
    def start(
        self,
        compiled: CompiledWorkflow,
        data: dict[str, Any] | None = None,
        *,
        tenant: str = "default",
        resume: dict[str, Any] | None = None,
        name: str | None = None,
        no_cache: bool = False,
    ) -> str:
        """Start an execution; return its ARN without waiting."""
        arn = self.deploy(compiled)
        payload: dict[str, Any] = {"data": data or {}, "tenant": tenant, "noCache": no_cache}
        if resume:
            payload["resume"] = resume
        execution_name = name or f"{compiled.workflow.id}-{uuid.uuid4().hex[:12]}"
        response = self.sfn.start_execution(
            stateMachineArn=arn, name=execution_name, input=json.dumps(payload)
        )
        execution_arn: str = response["executionArn"]
        self._waits_of(execution_arn)
        return execution_arn

    def wait(self, execution_arn: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the execution leaves RUNNING; return DescribeExecution's response. The
        end of the run wakes the wait (Seams.ends): nothing polls. A run still running is
        described after its end, not before its wait too (running_now)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        assert self.seams is not None, "the runtime is not open"
        with self.seams.ends.watch(execution_arn) as ended, inspecting():
            if running_now(execution_arn):
                ended.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
                ended.clear()
            while True:
                description: dict[str, Any] = self.sfn.describe_execution(
                    executionArn=execution_arn
                )
                remaining = None if deadline is None else deadline - time.monotonic()
                if description["status"] != "RUNNING" or (remaining is not None and remaining <= 0):
                    return description
                ended.wait(remaining)
                ended.clear()  # the status read next tells whether it was this run's end

    @inspecting()
    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """The run's history (an Express run's too: as its CloudWatch logs would show it)."""
        events: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def record(self, compiled: CompiledWorkflow, execution_arn: str) -> RunRecord:
        with inspecting():
            description = self.sfn.describe_execution(executionArn=execution_arn)
        with self._waits_lock:
            waits = list(self.waits.get(execution_arn, []))
        return read_execution(compiled, description, self.history(execution_arn), waits)

    def run(
        self,
        compiled: CompiledWorkflow,
        data: dict[str, Any] | None = None,
        **start_options: Any,
    ) -> RunRecord:
        """Start an execution, wait for its end, return its record."""
        self._run_starts()
        execution_arn = self.start(compiled, data, **start_options)
        self.wait(execution_arn)
        return self.record(compiled, execution_arn)

    # the lifecycle -----------------------------------------------------------------------
    def execute(
        self,
        compiled: CompiledWorkflow,
        data: dict[str, Any] | None = None,
        *,
        tenant: str = "default",
        idempotency_key: str | None = None,
        no_cache: bool = False,
        settle: bool = True,
    ) -> dict[str, Any]:
        """Start an execution through the lifecycle service (records, events, recovery) and,
        unless `settle` is False, wait until it stops running; return its stored record."""
        self._run_starts()
        self.deploy(compiled)
        record = self.services.lifecycle.start(
            compiled.workflow.id,
            data,
            tenant=tenant,
            idempotency_key=idempotency_key,
            no_cache=no_cache,
        )
        if not settle:
            return record
        return self.services.settle(
            tenant, record["executionId"], current_run=record.get("currentRun")
        )

    def run_records(self, compiled: CompiledWorkflow, execution: dict[str, Any]) -> list[RunRecord]:
        """The history-based record of each Step Functions run of a lifecycle execution."""
        return [self.record(compiled, arn) for arn in execution.get("runs", [])]

    def observed_waits(
        self, compiled: CompiledWorkflow, execution: dict[str, Any]
    ) -> list[BackoffWait]:
        """The backoff waits of every run of an execution, as observed offline (Step Functions
        keeps no record of them)."""
        return [w for run in self.run_records(compiled, execution) for w in run.waits]

    def inject_lambda_fault(
        self, agent: str, fault: str = "ServiceException", times: int = 1
    ) -> None:
        """Answer the agent's next `times` invocations as Lambda's service does when it fails
        (`ServiceException`, HTTP 500) or throttles (`TooManyRequestsException`, 429), before
        the handler runs: what Step Functions' Lambda retriers are for; or (`Killed`) let the
        function start and kill its process 50 ms in, as an out-of-memory or crashed runtime
        ends: Lambda answers `Runtime.ExitError` and nothing the function had left to do
        happens."""
        if fault not in ("ServiceException", "TooManyRequestsException", "Killed"):
            raise ValueError(f"no such Lambda fault: {fault}")
        function = self.manifest.agents[agent].function_name
        self.dispatcher.faults.setdefault(function, []).extend([fault] * times)

    # observation -------------------------------------------------------------------------
    def listener_seen(self, agent: str) -> bool:
        """Whether an attempt of `agent` has started in this runtime."""
        return agent in self._started

    def _on_wait(self, wait: Wait) -> None:
        self._waits_of(wait.execution_arn).append((wait.state, wait.seconds))
        self._emit(
            "wait", {"step": wait.state, "seconds": wait.seconds, "execution": wait.execution_arn}
        )

    def backoff_waits(self, execution_arn: str) -> list[tuple[str, float]]:
        """The backoff waits observed in a run: (state, seconds), in order."""
        with self._waits_lock:
            return list(self.waits.get(execution_arn, []))

    def _waits_of(self, execution_arn: str) -> list[tuple[str, float]]:
        """The run's list of waits, created on first use; the oldest runs' lists are dropped
        past KEPT_RUNS, so a long-lived runtime does not grow with every run."""
        with self._waits_lock:
            waits = self.waits.setdefault(execution_arn, [])
            while len(self.waits) > KEPT_RUNS:
                del self.waits[next(iter(self.waits))]
            return waits

    def _events_function(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The events function as an Express run invokes it (functions/events/handler.py)."""
        report = event.get("expressRun")
        if not isinstance(report, dict):
            raise ValueError("the events function is invoked offline only by Express runs")
        return self.services.report(report)

    def _emit(self, kind: str, details: dict[str, Any]) -> None:
        if self.listener is not None:
            self.listener(kind, details)

    def _observed(self, agent: str, handler: Handler) -> Handler:
        """Wrap a handler so the listener sees each attempt start and end."""

        def observed(event: dict[str, Any], context: Any) -> Any:
            step = str(event.get("step", agent))
            if event.get("index") is not None:  # one item of a fan-out
                step = f"{step}[{event['index']}]"
            base = {
                "agent": agent,
                "step": step,
                "attempt": event.get("attempt", 1),
                "execution": (event.get("context") or {}).get("executionId", ""),
            }
            self._started.add(agent)
            self._emit("attempt", base)
            started = time.perf_counter()
            try:
                result = handler(event, context)
            except Exception as err:
                self._emit(
                    "failed",
                    {
                        **base,
                        "error": type(err).__name__,
                        "message": str(err),
                        "seconds": time.perf_counter() - started,
                    },
                )
                raise
            accuracy = result.get("accuracy") if isinstance(result, dict) else None
            self._emit(
                "succeeded",
                {**base, "accuracy": accuracy, "seconds": time.perf_counter() - started},
            )
            return result

        return observed
