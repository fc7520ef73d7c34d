"""The deployment manifest: every name, environment variable, substitution and permission of a
Baton deployment, computed once from the agent registry and the workflow files.

The CDK stack (infra/) and the offline runtime (baton/local) both read it and write no name of
their own. Values that only exist once deployed (an ARN, a generated bucket name) are `Ref`s:
CDK resolves them to tokens, the offline runtime to its local names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from baton.compiler.asl import CompiledWorkflow
from baton.compiler.express import EVENTS_FUNCTION_KEY, EVENTS_FUNCTION_PLACEHOLDER
from baton.compiler.graph import draw
from baton.compiler.limits import MAX_DEFINITION_BYTES
from baton.compiler.naming import EXECUTIONS_TABLE_KEY, placeholder_key
from baton.definition.exceptions import DefinitionError, Problem
from baton.definition.registry import AgentRegistry, AgentSpec
from baton.definition.triggers import trigger_cycle_problems
from baton.definition.workflow import Schedule, recovery_delays
from baton_agent import settings as env
from baton_agent.payloads import retention_days
from baton_agent.tables import AGENT_STATS, ALL_TABLES, CACHE, EXECUTIONS, TableSpec
from baton_service.catalog import resume_points_in

DEFAULT_PREFIX = "baton"
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
"""At most 15 characters: `<prefix>-<workflow id>` (64) stays within a state machine's 80."""
METRICS_NAMESPACE = "Baton"
WARM_ALIAS = "live"
"""The alias that carries provisioned concurrency; the ASL invokes it for `pool.warm` agents."""
EVENTS_HANDLER = "events.handler.handler"
API_HANDLER = "api.handler.handler"
SCHEDULER_HANDLER = "schedules.handler.handler"
SERVICE_MEMORY_MB = 512
"""Memory of Baton's own functions (the API, the events handler, the scheduler)."""
API_TIMEOUT_SECONDS = 29
EVENTS_TIMEOUT_SECONDS = 20
"""Shorter than an Express run's report Task timeout (express.REPORT_TIMEOUT_SECONDS)."""
"""API Gateway waits at most 29 s for its integration."""
LIFECYCLE_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)
"""What the lifecycle does in the executions table (records, claims, handoffs, checkpoints;
a record and its claim are written in one TransactWriteItems, which needs PutItem)."""
CATALOG_FILE = "/opt/baton/workflows.json"
"""Where the deployed functions find the workflow catalog (a layer the stack builds): Lambda
environments hold at most 4 KB, too little for a catalog of many workflows."""

RefKind = Literal[
    "table",
    "function",
    "function_named",
    "alias",
    "bus",
    "topic",
    "bucket",
    "state_machine",
    "state_machine_arn_prefix",
    "executions_of",
    "state_machine_named",
    "child_executions_of",
    "secret",
    "service_secret",
]


@dataclass(frozen=True)
class Ref:
    """A deployed resource's name or ARN. `executions_of` is the ARN pattern of a state
    machine's executions, `child_executions_of` that of its Distributed Map runs' child
    executions, `state_machine_named` its ARN built from its name (a state machine's own role
    cannot depend on the state machine); `secret` the ARN pattern of a secret name in every tenant's space;
    `service_secret` a secret of Baton's own (PAGE_TOKEN_KEY), which the stack generates;
    `state_machine_arn_prefix` what a state machine's name completes into its ARN;
    `function_named` the ARN of one of Baton's own functions built from its name (an Express
    state machine invokes the events function, whose role depends on the state machines)."""

    kind: RefKind
    key: str
    attribute: Literal["name", "arn"] = "arn"


Resolver = Callable[[Ref], str]


@dataclass(frozen=True)
class Grant:
    """`actions` allowed on one resource (`suffix` appended to its ARN, e.g. an index)."""

    resource: Ref
    actions: tuple[str, ...]
    suffix: str = ""


@dataclass(frozen=True)
class ApiTier:
    """A usage plan of the REST API: each tenant's API key belongs to one tier."""

    name: str
    rate_per_second: int
    burst: int
    requests_per_month: int


API_TIERS = (
    ApiTier("standard", rate_per_second=10, burst=20, requests_per_month=100_000),
    ApiTier("premium", rate_per_second=100, burst=200, requests_per_month=5_000_000),
)
API_STAGE = "v1"


@dataclass(frozen=True)
class TableDeployment:
    spec: TableSpec
    name: str
    variable: str


@dataclass(frozen=True)
class FunctionDeployment:
    key: str
    function_name: str
    handler: str
    memory: int
    timeout_seconds: int
    environment: Mapping[str, Any]
    """Values are text, Refs, or JSON-able structures holding Refs (serialized as JSON)."""
    grants: tuple[Grant, ...]
    description: str = ""
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0

    @property
    def alias(self) -> str | None:
        return WARM_ALIAS if self.provisioned_concurrency else None

    @property
    def invoke_target(self) -> Ref:
        """What a state machine invokes: the warm alias when there is one, else the function."""
        return Ref("alias" if self.alias else "function", self.key)


@dataclass(frozen=True)
class TriggerDeployment:
    on: str
    workflow: str


@dataclass(frozen=True)
class ScheduleDeployment:
    """An EventBridge Scheduler schedule starting the workflow through the lifecycle."""

    name: str
    expression: str
    timezone: str
    tenant: str
    input: Mapping[str, Any]
    enabled: bool

    def target_input(self, workflow_id: str, scheduled_time: str) -> dict[str, Any]:
        """What the schedule hands the scheduler function (`scheduled_time`: Scheduler's
        placeholder in the cloud, the time itself offline)."""
        return {
            "workflowId": workflow_id,
            "tenant": self.tenant,
            "input": dict(self.input),
            "scheduledTime": scheduled_time,
        }


@dataclass(frozen=True)
class WorkflowDeployment:
    workflow_id: str
    name: str
    state_machine_name: str
    type: str
    definition: str
    """The compiled ASL (JSON) with `${...}` placeholders; `substitutions` fills them."""
    substitutions: Mapping[str, Ref]
    agents: tuple[str, ...]
    grants: tuple[Grant, ...]
    triggers: tuple[TriggerDeployment, ...]
    auto_recovery: bool
    max_recoveries: int
    retention_seconds: int
    timeout_seconds: int
    description: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    """The definition as written (normalized to the YAML form's field names)."""
    graph: str = ""
    """The compiled state machine as a Mermaid flowchart."""
    resume_points: Mapping[str, str] = field(default_factory=dict)
    """Completed step → the state a resumed run continues at, read from the definition's resume
    router ("" → the first step)."""
    schedule: ScheduleDeployment | None = None
    abort_agents: tuple[str, ...] = ()
    recovery_delays: tuple[int, ...] = ()
    """Seconds the k-th auto-recovery waits before it resumes (the workflow's backoff)."""

    def catalog_entry(self) -> dict[str, Any]:
        """What the lifecycle and the API know of this workflow (catalog.WorkflowInfo)."""
        return {
            "workflowId": self.workflow_id,
            "name": self.name,
            "stateMachineName": self.state_machine_name,
            "type": self.type,
            "autoRecovery": self.auto_recovery,
            "maxRecoveries": self.max_recoveries,
            "recoveryDelaysSeconds": list(self.recovery_delays),
            "retentionSeconds": self.retention_seconds,
            "triggers": [{"on": t.on, "workflow": t.workflow} for t in self.triggers],
            "abortAgents": list(self.abort_agents),
            "timeoutSeconds": self.timeout_seconds,
            "description": self.description,
            "definition": self.source,
            "graph": self.graph,
            "resumePoints": dict(self.resume_points),
        }

    def substituted(self, resolve: Resolver) -> str:
        return substitute(self.definition, {k: resolve(v) for k, v in self.substitutions.items()})


@dataclass(frozen=True)
class Manifest:
    prefix: str
    tables: Mapping[str, TableDeployment]
    event_bus: str
    topic: str
    archive_bucket: str
    """The bucket's name offline; in the cloud S3 names are global, so CDK generates one."""
    payload_bucket: str
    """Where large values of data, inputs and outputs are kept (baton_agent.payloads): as the
    archive, named offline, generated by CDK in the cloud."""
    agents: Mapping[str, FunctionDeployment]
    agent_catalog: tuple[dict[str, Any], ...] = ()
    """What the API shows of each agent (GET /agents)."""
    workflows: Mapping[str, WorkflowDeployment] = field(default_factory=dict)

    def table(self, spec: TableSpec) -> TableDeployment:
        return self.tables[spec.key]

    def service_secret_name(self, key: str) -> str:
        """A secret of Baton's own: outside every tenant's space (`<prefix>/<tenant>/...`)."""
        return f"{self.prefix}-service/{key}"

    def secret_name_pattern(self, name: str) -> str:
        """The secrets an agent declaring `name` may read: `name` in every tenant's space."""
        return f"{self.prefix}/*/{name}"

    def archive_retention_days(self) -> list[int]:
        """The retentions (days) archived records are tagged with, one lifecycle rule each."""
        return sorted({retention_days(w.retention_seconds) for w in self.workflows.values()})

    def shared_environment(self) -> dict[str, Any]:
        return _shared_environment(self.tables, self.prefix)

    def catalog(self) -> dict[str, Any]:
        """The catalog the lifecycle and the API read (CATALOG_FILE in the cloud)."""
        return {
            "workflows": [w.catalog_entry() for w in self.workflows.values()],
            "agents": list(self.agent_catalog),
        }

    def catalog_environment(self) -> dict[str, Any]:
        return {
            env.WORKFLOWS_FILE: CATALOG_FILE,
            env.STATE_MACHINE_ARN_PREFIX: Ref("state_machine_arn_prefix", ""),
        }

    def state_machine_refs(self) -> list[Ref]:
        return [Ref("state_machine", w) for w in self.workflows]

    def _machine_grants(
        self, on_machines: tuple[str, ...], on_runs: tuple[str, ...]
    ) -> list[Grant]:
        grants = []
        for machine in self.state_machine_refs():
            grants.append(Grant(machine, on_machines))
            grants.append(Grant(Ref("executions_of", machine.key), on_runs))
        return grants

    def _service_function(
        self,
        key: str,
        handler: str,
        grants: list[Grant],
        description: str,
        timeout_seconds: int,
        **environment: Any,
    ) -> FunctionDeployment:
        name = f"{self.prefix}-{key}"
        return FunctionDeployment(
            key=key,
            function_name=name,
            handler=handler,
            memory=SERVICE_MEMORY_MB,
            timeout_seconds=timeout_seconds,
            environment={
                **self.shared_environment(),
                **self.catalog_environment(),
                env.EVENT_BUS: Ref("bus", "events", "name"),
                env.SERVICE_NAME: name,
                **environment,
            },
            # each of Baton's functions starts runs (the lifecycle), and announces them
            grants=(*grants, ANNOUNCE_GRANT),
            description=description,
        )

    def function_named(self, key: str) -> str:
        """The name of Baton's own function `key` (a Ref by name: no dependency in the stack)."""
        if key == "events":
            return self.events_function.function_name
        raise KeyError(f"no function of Baton's is called {key!r}")

    @property
    def events_function(self) -> FunctionDeployment:
        """The events Lambda: status changes of every Baton state machine."""
        executions = Ref("table", EXECUTIONS.key)
        grants = [
            Grant(executions, LIFECYCLE_TABLE_ACTIONS),
            Grant(Ref("table", AGENT_STATS.key), ("dynamodb:UpdateItem",)),
            Grant(Ref("topic", "notifications"), ("sns:Publish",)),
            Grant(Ref("bucket", "archive"), ("s3:PutObject", "s3:PutObjectTagging"), suffix="/*"),
            PAYLOAD_GRANT,
            *self._machine_grants(
                ("states:StartExecution", "states:DescribeStateMachine"),
                ("states:DescribeExecution", "states:GetExecutionHistory"),
            ),
        ]
        return self._service_function(
            "events",
            EVENTS_HANDLER,
            grants,
            "Baton: Step Functions status changes → records, events, notifications, archive, "
            "triggers, auto-recovery",
            EVENTS_TIMEOUT_SECONDS,
            **{
                env.TOPIC_ARN: Ref("topic", "notifications"),
                env.ARCHIVE_BUCKET: Ref("bucket", "archive", "name"),
            },
        )

    def schedules(self) -> dict[str, ScheduleDeployment]:
        return {w: d.schedule for w, d in self.workflows.items() if d.schedule is not None}

    @property
    def scheduler_function(self) -> FunctionDeployment:
        """Starts the executions the schedules ask for, through the lifecycle (once each)."""
        executions = Ref("table", EXECUTIONS.key)
        grants = [
            Grant(executions, LIFECYCLE_TABLE_ACTIONS),
            PAYLOAD_GRANT,
            *(
                Grant(
                    Ref("state_machine", w),
                    ("states:StartExecution", "states:DescribeStateMachine"),
                )
                for w in self.schedules()
            ),
        ]
        return self._service_function(
            "scheduler",
            SCHEDULER_HANDLER,
            grants,
            "Baton: starts scheduled executions (EventBridge Scheduler) through the lifecycle",
            60,
        )

    @property
    def api_function(self) -> FunctionDeployment:
        """The REST API's Lambda: start, inspect, list, cancel, pause, resume; workflows, agents."""
        executions = Ref("table", EXECUTIONS.key)
        grants = [
            Grant(executions, LIFECYCLE_TABLE_ACTIONS),
            PAYLOAD_GRANT,
            *(
                Grant(executions, ("dynamodb:Query",), suffix=f"/index/{index.name}")
                for index in EXECUTIONS.indexes
            ),
            Grant(Ref("table", AGENT_STATS.key), ("dynamodb:BatchGetItem",)),
            Grant(Ref("service_secret", PAGE_TOKEN_KEY), ("secretsmanager:GetSecretValue",)),
            *self._machine_grants(
                ("states:StartExecution", "states:DescribeStateMachine"),
                # a resume reads the stopped run's history: may its steps still be running?
                ("states:StopExecution", "states:GetExecutionHistory"),
            ),
        ]
        return self._service_function(
            "api",
            API_HANDLER,
            grants,
            "Baton: the REST API (executions, workflows, agents), per tenant",
            API_TIMEOUT_SECONDS,
            **{env.PAGE_TOKEN_SECRET: self.service_secret_name(PAGE_TOKEN_KEY)},
        )

    def with_workflows(self, compiled: Iterable[CompiledWorkflow]) -> Manifest:
        workflows = dict(self.workflows)
        problems: list[Problem] = []
        for workflow in compiled:
            deployment = self.workflow(workflow)
            size = len(deployment.substituted(_longest_values(self)).encode())
            if size > MAX_DEFINITION_BYTES:
                problems.append(_too_large(workflow, size))
            workflows[deployment.workflow_id] = deployment
        if problems:
            raise DefinitionError(problems)
        return replace(self, workflows=workflows)

    def workflow(self, compiled: CompiledWorkflow) -> WorkflowDeployment:
        """How one compiled workflow deploys: its state machine, substitutions and grants."""
        workflow = compiled.workflow
        agents = tuple(compiled.agent_names())
        substitutions = {placeholder_key(a): self.agents[a].invoke_target for a in agents}
        grants = [Grant(self.agents[a].invoke_target, ("lambda:InvokeFunction",)) for a in agents]
        definition = compiled.to_json(indent=None)
        if "${" + EXECUTIONS_TABLE_KEY + "}" in definition:
            substitutions[EXECUTIONS_TABLE_KEY] = Ref("table", EXECUTIONS.key, "name")
            grants.append(Grant(Ref("table", EXECUTIONS.key), ("dynamodb:PutItem",)))
        if EVENTS_FUNCTION_PLACEHOLDER in definition:  # an Express run reports to it
            events_function = Ref("function_named", "events")
            substitutions[EVENTS_FUNCTION_KEY] = events_function
            grants.append(Grant(events_function, ("lambda:InvokeFunction",)))
        if any(spec.distributed for spec in workflow.for_each.values()):
            # a Distributed Map starts child executions of its own state machine
            grants.append(
                Grant(Ref("state_machine_named", workflow.id), ("states:StartExecution",))
            )
            grants.append(
                Grant(
                    Ref("child_executions_of", workflow.id),
                    ("states:DescribeExecution", "states:StopExecution"),
                )
            )
        config = workflow.source.config
        return WorkflowDeployment(
            workflow_id=workflow.id,
            name=workflow.name,
            state_machine_name=f"{self.prefix}-{workflow.id}",
            type=workflow.type.upper(),
            definition=definition,
            substitutions=substitutions,
            agents=agents,
            grants=tuple(grants),
            triggers=tuple(TriggerDeployment(t.on, t.workflow) for t in workflow.source.triggers),
            auto_recovery=config.auto_recovery,
            max_recoveries=config.max_recoveries,
            retention_seconds=workflow.retention_seconds,
            timeout_seconds=workflow.timeout_seconds,
            description=workflow.description,
            source=workflow.definition_as_written(),
            graph=draw(compiled.asl, "mermaid"),
            resume_points=resume_points_in(compiled.asl),
            schedule=self._schedule(workflow.id, workflow.source.schedule),
            abort_agents=tuple(
                sorted(a for a, p in workflow.policies.items() if p.strategy == "abort")
            ),
            recovery_delays=recovery_delays(config),
        )

    def _schedule(self, workflow_id: str, schedule: Schedule | None) -> ScheduleDeployment | None:
        if schedule is None:
            return None
        return ScheduleDeployment(
            name=f"{self.prefix}-{workflow_id}",
            expression=schedule.expression,
            timezone=schedule.timezone,
            tenant=schedule.tenant,
            input=schedule.input,
            enabled=schedule.enabled,
        )


PAYLOADS = "payloads"
PAYLOAD_GRANT = Grant(
    Ref("bucket", PAYLOADS), ("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"), suffix="/*"
)
"""Every function that starts, runs or finishes executions writes and reads large values."""
ANNOUNCE_GRANT = Grant(Ref("bus", "events"), ("events:PutEvents",))
"""Every function that starts runs announces them ("Workflow Started"); the events function
publishes the rest of Baton's events too."""
PAGE_TOKEN_KEY = "page-token-key"
"""The HMAC key of the API's page tokens (baton_service.pages), generated by the stack."""


def _agent_function(prefix: str, spec: AgentSpec, shared: Mapping[str, Any]) -> FunctionDeployment:
    name = f"{prefix}-agent-{spec.name}"
    grants = (
        # the stash (get, put); the handoff and checkpoint of each step, in one transaction
        # fenced by the execution's current run: a condition on the checkpoint, or a check of
        # the FENCE item for a group member; a resumed run's group member reads the handoffs
        # for its own, a fan-out item its own by key (records.DynamoExecutionLog)
        Grant(
            Ref("table", EXECUTIONS.key),
            (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:Query",
            ),
        ),
        Grant(Ref("table", CACHE.key), ("dynamodb:GetItem", "dynamodb:PutItem")),
        Grant(Ref("table", AGENT_STATS.key), ("dynamodb:UpdateItem",)),
        PAYLOAD_GRANT,
        *(Grant(Ref("secret", s), ("secretsmanager:GetSecretValue",)) for s in spec.secrets),
    )
    return FunctionDeployment(
        key=spec.name,
        function_name=name,
        handler=spec.handler,
        memory=spec.memory,
        timeout_seconds=spec.timeout_seconds,
        environment={**shared, env.SERVICE_NAME: name},
        grants=grants,
        description=f"Baton agent #{spec.id} {spec.name}: {spec.description}"[:256],
        reserved_concurrency=spec.pool.max,
        provisioned_concurrency=spec.pool.warm,
    )


def build_manifest(
    registry: AgentRegistry,
    workflows: Iterable[CompiledWorkflow] = (),
    *,
    prefix: str = DEFAULT_PREFIX,
) -> Manifest:
    """The manifest of a deployment; DefinitionError when a workflow cannot deploy as it is
    (too large once substituted, or in a cycle of triggers)."""
    workflows = list(workflows)
    cycles = trigger_cycle_problems(w.workflow for w in workflows)
    if cycles:
        raise DefinitionError(cycles)
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(
            f"prefix {prefix!r}: 1 to 15 lowercase letters, digits or '-', starting with a letter"
        )
    tables = {
        spec.key: TableDeployment(spec, f"{prefix}-{spec.key}", env.VARIABLES[spec.setting])
        for spec in ALL_TABLES
    }
    shared = _shared_environment(tables, prefix)
    return Manifest(
        prefix=prefix,
        tables=tables,
        event_bus=prefix,
        topic=f"{prefix}-notifications",
        archive_bucket=f"{prefix}-archive",
        payload_bucket=f"{prefix}-payloads",
        agents={spec.name: _agent_function(prefix, spec, shared) for spec in registry},
        agent_catalog=tuple(_agent_entry(spec) for spec in registry),
    ).with_workflows(workflows)


def _agent_entry(spec: AgentSpec) -> dict[str, Any]:
    return spec.model_dump(
        mode="json",
        include={"id", "name", "tier", "capabilities", "required_accuracy", "description"},
    ) | {"version": spec.version}


def _shared_environment(tables: Mapping[str, TableDeployment], prefix: str) -> dict[str, Any]:
    """What every Baton function reads: the table names, where metrics go, and the prefix of
    the tenants' secrets (secret_name_pattern)."""
    environment: dict[str, Any] = {
        t.variable: Ref("table", key, "name") for key, t in tables.items()
    }
    environment[env.METRICS_NAMESPACE] = METRICS_NAMESPACE
    environment[env.PAYLOAD_BUCKET] = Ref("bucket", PAYLOADS, "name")
    environment[env.SECRETS_PREFIX] = prefix
    return environment


# substitution ---------------------------------------------------------------------------------
def substitute(definition: str, values: Mapping[str, str]) -> str:
    """Fill `${key}` placeholders as CloudFormation's definition substitutions do."""
    for key, value in values.items():
        definition = definition.replace("${" + key + "}", value)
    return definition


def resolve_value(value: Any, resolve: Resolver) -> Any:
    """Replace every Ref inside a value (text, list, mapping) by what `resolve` gives."""
    if isinstance(value, Ref):
        return resolve(value)
    if isinstance(value, Mapping):
        return {k: resolve_value(v, resolve) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_value(v, resolve) for v in value]
    return value


def environment_text(environment: Mapping[str, Any], resolve: Resolver) -> dict[str, str]:
    """An environment as Lambda takes it: text values, structures as JSON."""
    resolved = resolve_value(dict(environment), resolve)
    return {
        k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        for k, v in resolved.items()
    }


# the longest ARNs AWS could give, to check a definition's size as deployed -----------------
_LONGEST_REGION = "ap-southeast-5"
_ACCOUNT = "123456789012"


def _longest_values(manifest: Manifest) -> Resolver:
    def resolve(ref: Ref) -> str:
        if ref.kind == "table":
            return manifest.tables[ref.key].name
        if ref.kind == "function_named":
            function = manifest.function_named(ref.key)
        else:
            function = manifest.agents[ref.key].function_name
        arn = f"arn:aws-us-gov:lambda:{_LONGEST_REGION}:{_ACCOUNT}:function:{function}"
        return arn + (f":{WARM_ALIAS}" if ref.kind == "alias" else "")

    return resolve


def _too_large(compiled: CompiledWorkflow, size: int) -> Problem:
    return Problem(
        compiled.workflow.file,
        "agents",
        f"with real ARNs in place of its placeholders the state machine is "
        f"{size / 1_048_576:.2f} MB; Step Functions accepts at most 1 MB: split the workflow "
        "into smaller ones chained by triggers",
    )
