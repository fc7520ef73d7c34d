"""Compile a resolved workflow into Amazon States Language (JSONata), with no AWS import.

Shape of every state machine:

    Start (Pass: workflow data into $data, execution context into $ctx)
      → Resume router (Choice: straight on, or jump to the checkpointed step)
      → one Task per agent step / one Map per parallel group / one Choice per condition
      → the last of them ends the run, its output {"data": ...}; only a Choice (which cannot
        end a run) goes on to Completed (Succeed: outputs {"data": $data})

So a run costs two fixed state transitions (Start, Resume router), plus its steps.

The workflow data lives in the JSONata variable `$data`; each Task merges its agent's `data` into
it with `Assign`, so a sequential step costs one state transition. Lambda ARNs are placeholders
(`${AgentFn_<name>}`) that CDK or the local runtime fills in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from baton.compiler import express, naming
from baton.compiler.checks import targets
from baton.compiler.express import EXPRESS_LIMIT_SECONDS
from baton.compiler.limits import limit_problems
from baton.compiler.plan import Node, build_plan, walk
from baton.compiler.retry import (
    dynamodb_retriers,
    ends_run,
    retriers,
    service_retriers,
    share_one_task,
)
from baton.compiler.safe_text import escape_substitutions, single_line_expressions
from baton.definition.exceptions import DefinitionError
from baton.definition.expressions import fields_read, on_data
from baton.definition.resolved import ResolvedWorkflow
from baton.definition.workflow import INLINE_LIMIT
from baton_agent.errors import TOO_MANY_ITEMS_FAILED
from baton_agent.payloads import retention_days

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
DYNAMODB_PUT_ITEM = "arn:aws:states:::dynamodb:putItem"
MERGE_RESULT = "{% $merge([$data, $states.result.Payload.data]) %}"
PASSES_NOTHING_ON: dict[str, Any] = {}
"""The Output of a step whose result is merged into `$data` (Assign): the next state reads the
data from `$data`, not from its input. Without it, the step's output would be its whole result,
Lambda's envelope and HTTP headers included: every step's data carried twice (in the output and
in `$data`), into the next state's input and both history events of each state, and counted
twice against the 256 KB limits. A step that ends the run outputs the data
(`_ending_where_done`)."""
StateKind = Literal["task", "alternative", "skip", "group", "condition", "fan-out"]


@dataclass(frozen=True)
class StateInfo:
    """What a generated state stands for, so an execution's history can be read back as steps."""

    kind: StateKind
    agent: str | None = None
    replaces: str | None = None
    members: tuple[str, ...] = ()


@dataclass
class CompiledWorkflow:
    workflow: ResolvedWorkflow
    asl: dict[str, Any]
    states: dict[str, StateInfo] = field(default_factory=dict)
    resume_points: dict[str, str] = field(default_factory=dict)
    """Completed step → the state a resumed execution continues at."""

    def to_json(self, indent: int | None = 2) -> str:
        """The definition as deployed: `${` only in Baton's placeholders (see safe_text)."""
        text = json.dumps(self.asl, indent=indent, ensure_ascii=False)
        return escape_substitutions(text) + ("\n" if indent else "")

    def agent_names(self) -> list[str]:
        """Every agent a Task of this state machine can invoke."""
        names = {i.agent for i in self.states.values() if i.agent and i.kind != "skip"}
        names |= {m for i in self.states.values() for m in i.members}
        return sorted(names)


def _number(value: float) -> str:
    """A number written exactly (`85.1234449`, not `85.1234`), integers without a fraction."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _plain(value: float) -> int | float:
    """A number as JSON writes it best: integers without a fraction."""
    return int(value) if float(value).is_integer() else float(value)


def _jsonata_string(text: str) -> str:
    """A JSONata string literal: in single quotes where the text needs no escape (the JSON of
    the definition then needs none either: 2 bytes less a string, which counts against the
    1 MB a definition may have), else as JSON writes it."""
    if all(char not in "'\\" and char >= " " for char in text):
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


def _skipped_handoff_item(agent: str, step: str) -> str:
    """JSONata for the executions-table item of a skipped step (see baton_agent.keys); `agent`
    and `step` are JSONata expressions.

    `$states.input` is the error output the Catch passed on ({Error, Cause}).
    """
    handoff = (
        f"{{'step': {step}, 'agent': {agent}, "
        "'finishedAt': $now(), 'skipped': true, 'accuracy': 0, "
        "'validatedBy': ['fallback-skip'], 'cached': false, 'run': $ctx.run, "
        "'error': $states.input.Error, 'cause': $states.input.Cause}"
    )
    return (
        "{'pk': {'S': 'EXEC#' & $ctx.tenant & '#' & $ctx.executionId}, "
        f"'sk': {{'S': 'HANDOFF#' & $now() & '#' & {step}}}, "
        f"'handoff': {{'S': $string({handoff})}}, 'expiresAt': {{'N': $string($ctx.expiresAt)}}}}"
    )


RUN_STOPPED_STATE: dict[str, Any] = {
    "Type": "Fail",
    "Comment": "The execution's time budget is spent (the workflow timeout counts across all "
    "its runs), or an Express run's execution was cancelled or paused: the run ends with that "
    "error, without a fallback",
    "Error": "{% $states.input.Error %}",
    "Cause": "{% $states.input.Cause %}",
}
EXPRESS_FIELD = "'express': true, "
"""In $ctx of an Express run: its agents check for a stop and record failures themselves."""
RECOVERING = "{% $exists($states.input.recoveryDelay) ? $states.input.recoveryDelay > 0 : false %}"
"""A run started by auto-recovery carries its backoff (seconds) as `recoveryDelay`."""
RECOVERY_BACKOFF_STATE: dict[str, Any] = {
    "Type": "Wait",
    "Comment": "An auto-recovered run waits its backoff (recoveryDelay seconds) before resuming",
    "Seconds": "{% $states.input.recoveryDelay %}",
    "Output": "{% $merge([$states.input, {'recoveryDelay': 0}]) %}",
    "Next": naming.ROUTER,
}


class _Builder:
    def __init__(self, workflow: ResolvedWorkflow) -> None:
        self.wf = workflow
        self.names = naming.NameAllocator()
        self.info: dict[str, StateInfo] = {}
        self.resume_points: dict[str, str] = {}
        self.group_sizes: dict[str, int] = {}
        """How many results merge at once into the data after each group (each member keeps
        its result within its share: baton_agent.payloads)."""
        self.express = workflow.type == "express"
        """Its agents may end the run with ExecutionStoppedError (a cooperative stop)."""
        self.positions: dict[str, int] = {}
        """Each step's place in reading order: along any path, later steps stand further on,
        so the runtime can refuse a checkpoint that would move back."""

    # names -------------------------------------------------------------------------------
    def name_nodes(self, nodes: list[Node]) -> None:
        for position, node in enumerate(walk(nodes)):
            if node.is_group:
                node.group_name = self.names.take(naming.group_name(node.agents))
                self.group_sizes[node.group_name] = len(node.agents)
                if share_one_task(self.wf, node.agents):
                    node.shared_task = self.names.take(naming.member_task_name(node.agents))
            for agent in node.agents:
                node.task_names[agent] = self.names.take(agent)
                self.positions[node.task_names[agent]] = position
                spec = self.wf.for_each.get(agent)
                if spec is not None:  # a fan-out: its items' results merge like a group's
                    node.group_name = self.names.take(naming.fan_out_name(agent, spec.items))
                    self.group_sizes[node.group_name] = 0
            if node.branching:
                node.condition_name = self.names.take(
                    naming.condition_name(node.branching.condition.label)
                )

    # states ------------------------------------------------------------------------------
    def task(self, agent: str, name: str, *, group: str | None) -> dict[str, Any]:
        spec = self.wf.agent(agent)
        policy = self.wf.policy(agent)
        state: dict[str, Any] = {
            "Type": "Task",
            "Comment": self._agent_comment(agent),
            "Resource": LAMBDA_INVOKE,
            "Arguments": self._arguments(agent, name, checkpoint=name, group=group),
            "TimeoutSeconds": spec.task_timeout_seconds,
            "Retry": retriers(policy.retry, express=self.express),
        }
        if group:
            state["Output"] = "{% $states.result.Payload.data %}"
        else:
            state["Assign"] = {"data": MERGE_RESULT}
            state["Output"] = dict(PASSES_NOTHING_ON)
        return state

    def _arguments(
        self,
        agent: str,
        name: str,
        *,
        checkpoint: str,
        group: str | None,
        extra: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Lambda arguments; the payload is one JSONata object, so it costs one evaluation.

        The agent runtime checkpoints "`checkpoint` is done" after the step (the step itself,
        or for an alternative the step it replaces); a group member names its `group` instead
        and checkpoints nothing, since only the whole group completes a step.
        """
        spec = self.wf.agent(agent)
        fields = {"agent": _jsonata_string(agent)}
        if name != agent:  # the step is the agent's name unless said otherwise (saves bytes)
            fields["step"] = _jsonata_string(name)
        data, context = "$data", "$ctx"
        if group and agent in self.wf.for_each and self.group_sizes[group] == 0:
            items = self.wf.for_each[agent]
            if items.distributed:  # a child execution: its item carries what the parent has
                data, context = "$states.input.data", "$states.input.ctx"
            fields["group"] = _jsonata_string(group)
            fields["members"] = f"$count({data}.{items.items})"
            fields["item"] = "$states.input.item"
            fields["index"] = "$states.input.index"
            fields["as"] = _jsonata_string(items.as_)
        elif group:
            fields["group"] = _jsonata_string(group)
            fields["members"] = str(self.group_sizes[group])
        else:
            if checkpoint != name:
                fields["checkpoint"] = _jsonata_string(checkpoint)
            fields["position"] = str(self.positions[checkpoint])
        fields |= {
            "attempt": "$states.context.State.RetryCount+1",
            "requiredAccuracy": _number(spec.required_accuracy),
            "data": data,
            "context": context,
            **(extra or {}),
        }
        for key, value in self._agent_fields(agent).items():
            fields[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        payload = "{% {" + ",".join(f"'{key}':{value}" for key, value in fields.items()) + "} %}"
        return {"FunctionName": naming.function_placeholder(agent), "Payload": payload}

    def _agent_fields(self, agent: str) -> dict[str, Any]:
        """What the invocation tells the runtime about the agent beyond its name: its config,
        the secrets it may read and where it may send them (baton_agent.hosts), its cache."""
        spec = self.wf.agent(agent)
        fields: dict[str, Any] = {}
        if spec.config:
            fields["config"] = spec.config
        if spec.secrets:
            fields["secrets"] = spec.secrets
            fields["allowedHosts"] = sorted({*spec.allowed_hosts, *self.wf.allowed_hosts})
        cache = self.wf.caches.get(agent)
        if cache is not None:
            fields["cache"] = {
                "ttl": cache.ttl_seconds,
                "key": list(cache.key) if cache.key else None,
                "version": cache.version,
            }
        return fields

    def _agent_comment(self, agent: str) -> str:
        spec = self.wf.agent(agent)
        return (
            f"Agent #{spec.id} ({spec.tier}): accuracy ≥ {spec.required_accuracy:g}; "
            f"{self._policy_comment(agent)}"
        )

    def _policy_comment(self, agent: str, *, shared: bool = False) -> str:
        """How the agent's step retries and what it does once its retries are spent (`shared`:
        said of every member of a group, each with its own alternative)."""
        policy = self.wf.policy(agent)
        waits = policy.retry.waits()
        retries = f"retries {', '.join(f'{w:g}s' for w in waits)}" if waits else "no retries"
        fallback = {
            "retry": "then fail",
            "abort": "abort on first error",
            "skip": "then skip",
            "alternative": "then its alternative" if shared else f"then {policy.alternative}",
        }[policy.strategy]
        return f"{retries}; {fallback}"

    def fallback(
        self,
        agent: str,
        task: dict[str, Any],
        task_name: str,
        states: dict[str, Any],
        *,
        group: str | None,
    ) -> str | None:
        """Add the Catch of `agent`'s task and its target state; return the target's name."""
        policy = self.wf.policy(agent)
        if policy.strategy == "skip":
            target = self.names.take(naming.skip_name(agent))
            skip: dict[str, Any] = {
                "Type": "Task",
                "Comment": f"{agent} failed after its retries: record the skipped handoff, go on",
                "Resource": DYNAMODB_PUT_ITEM,
                "Arguments": {
                    "TableName": naming.EXECUTIONS_TABLE_PLACEHOLDER,
                    "Item": "{% "
                    + _skipped_handoff_item(_jsonata_string(agent), _jsonata_string(task_name))
                    + " %}",
                },
                "Retry": dynamodb_retriers(),
            }
            skip["Output"] = dict(PASSES_NOTHING_ON)  # the put's answer is nobody's input
            states[target] = skip
            self.info[target] = StateInfo("skip", agent=agent)
        elif policy.strategy == "alternative" and policy.alternative:
            alt = policy.alternative
            target = self.names.take(naming.alternative_name(alt, agent))
            alt_state: dict[str, Any] = {
                "Type": "Task",
                "Comment": f"Runs once when {agent} has failed after its retries",
                "Resource": LAMBDA_INVOKE,
                "Arguments": self._arguments(
                    alt,
                    target,
                    checkpoint=task_name,
                    group=group,
                    extra={"replaces": _jsonata_string(agent), "failure": "$states.input"},
                ),
                "TimeoutSeconds": self.wf.agent(alt).task_timeout_seconds,
                "Retry": service_retriers(),
            }
            if group:
                alt_state["Output"] = "{% $states.result.Payload.data %}"
            else:
                alt_state["Assign"] = {"data": MERGE_RESULT}
                alt_state["Output"] = dict(PASSES_NOTHING_ON)
            states[target] = alt_state
            self.info[target] = StateInfo("alternative", agent=alt, replaces=agent)
        else:
            return None
        # a spent time budget or a stop ends the run: neither a skip nor an alternative may hide it
        stopped = next(
            (n for n, st in states.items() if st == RUN_STOPPED_STATE),
            naming.RUN_STOPPED if group is None else self.names.take(naming.RUN_STOPPED),
        )
        states[stopped] = dict(RUN_STOPPED_STATE)
        task["Catch"] = [
            {"ErrorEquals": ends_run(self.express), "Next": stopped},
            {"ErrorEquals": ["States.ALL"], "Next": target},
        ]
        return target

    def step(
        self, agent: str, name: str, states: dict[str, Any], *, after: str | None, group: str | None
    ) -> None:
        """Emit an agent's Task and its fallback state; both end the iteration inside a group
        (`after` None) or continue at `after`."""
        task = self.task(agent, name, group=group)
        states[name] = task
        self.info[name] = StateInfo("task", agent=agent)
        target = self.fallback(agent, task, name, states, group=group)
        for state in (task, states[target]) if target else (task,):
            if after is None:
                state["End"] = True
            else:
                state["Next"] = after

    def node(self, node: Node, next_name: str, states: dict[str, Any]) -> str:
        """Emit `node` (and its condition) into `states`, continuing at `next_name`; return entry."""
        after = next_name
        if node.branching:
            after = self.condition(node, next_name, states)
        if node.is_group:
            entry = node.group_name
            states[entry] = self.group(node, after)
            self.info[entry] = StateInfo("group", members=node.agents)
        elif node.agents[0] in self.wf.for_each:
            entry = self.fan_out(node, after, states)
        else:
            entry = node.task_names[node.agents[0]]
            self.step(node.agents[0], entry, states, after=after, group=None)
            self.resume_points[entry] = after
        return entry

    def group(self, node: Node, next_name: str) -> dict[str, Any]:
        """The group's members at the same time, their results merged into the data in group
        order, one state transition per member: members that retry, fall back and time out
        alike share one Task in a Map, which reads each member's function and fields from its
        item; members that differ each have their own Task in a branch of a Parallel state."""
        if node.shared_task:  # named when the members can share one (name_nodes)
            return self.shared_group(node, next_name)
        return self.branched_group(node, next_name)

    def _group_map(
        self,
        node: Node,
        next_name: str,
        items: list[dict[str, Any]],
        states: dict[str, Any],
        start: str,
    ) -> dict[str, Any]:
        return {
            "Type": "Map",
            "Comment": f"Runs {', '.join(node.agents)} at the same time; their data merge in this order",
            "Items": items,
            "MaxConcurrency": len(node.agents),
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": start,
                "States": states,
            },
            "Assign": {"data": "{% $merge($append([$data], $states.result)) %}"},
            "Output": dict(PASSES_NOTHING_ON),
            "Next": next_name,
        }

    def shared_group(self, node: Node, next_name: str) -> dict[str, Any]:
        group, members = node.group_name, len(node.agents)
        name = node.shared_task
        first = node.agents[0]
        policy = self.wf.policy(first)
        task: dict[str, Any] = {
            "Type": "Task",
            "Comment": f"Each member of the group ({', '.join(node.agents)}), as its item "
            f"says: {self._policy_comment(first, shared=True)}",
            "Resource": LAMBDA_INVOKE,
            "Arguments": {
                "FunctionName": "{% $states.input.function %}",
                "Payload": "{% $merge([$states.input.payload, {'attempt': "
                "$states.context.State.RetryCount+1, 'data': $data, 'context': $ctx}]) %}",
            },
            "TimeoutSeconds": self.wf.agent(first).task_timeout_seconds,
            "Retry": retriers(policy.retry, express=self.express),
            "Output": "{% $states.result.Payload.data %}",
            "End": True,
        }
        inner: dict[str, Any] = {name: task}
        items = []
        for agent in node.agents:
            step = node.task_names[agent]
            self.info[step] = StateInfo("task", agent=agent)
            items.append(self._member(agent, step, group, members))
        if policy.strategy == "skip" or (policy.strategy == "alternative" and policy.alternative):
            self.shared_fallback(node, task, inner, items)
        self.info[name] = StateInfo("task", members=node.agents)
        return self._group_map(node, next_name, items, inner, name)

    def _member(self, agent: str, step: str, group: str, members: int) -> dict[str, Any]:
        """A member's item: the function the shared Task invokes, and the payload's fixed
        fields."""
        spec = self.wf.agent(agent)
        payload = {
            "agent": agent,
            "step": step,
            "group": group,
            "members": members,
            "requiredAccuracy": _plain(spec.required_accuracy),
            **self._agent_fields(agent),
        }
        return {"function": naming.function_placeholder(agent), "payload": payload}

    def shared_fallback(
        self, node: Node, task: dict[str, Any], states: dict[str, Any], items: list[dict[str, Any]]
    ) -> None:
        """The shared Task's Catch: the failed member's item goes on with the error, so one
        skip (or one alternative) state serves every member."""
        policy = self.wf.policy(node.agents[0])
        member = "$states.input.member"
        if policy.strategy == "skip":
            target = self.names.take(naming.skip_name(" + ".join(node.agents)))
            states[target] = {
                "Type": "Task",
                "Comment": "The member failed after its retries: record its skipped handoff",
                "Resource": DYNAMODB_PUT_ITEM,
                "Arguments": {
                    "TableName": naming.EXECUTIONS_TABLE_PLACEHOLDER,
                    "Item": "{% "
                    + _skipped_handoff_item(f"{member}.payload.agent", f"{member}.payload.step")
                    + " %}",
                },
                "Retry": dynamodb_retriers(),
                "Output": {},
                "End": True,
            }
            self.info[target] = StateInfo("skip")
        else:
            alternatives = []
            for item, agent in zip(items, node.agents, strict=True):
                alt = self.wf.policy(agent).alternative
                assert alt is not None
                step = self.names.take(naming.alternative_name(alt, agent))
                self.info[step] = StateInfo("alternative", agent=alt, replaces=agent)
                alternatives.append(alt)
                item["alternative"] = self._member(alt, step, node.group_name, len(node.agents))
                item["alternative"]["payload"]["replaces"] = agent
            target = self.names.take(naming.alternative_name("the alternative", "a member"))
            states[target] = {
                "Type": "Task",
                "Comment": "Runs once the member's own alternative when it has failed after its "
                "retries",
                "Resource": LAMBDA_INVOKE,
                "Arguments": {
                    "FunctionName": f"{{% {member}.alternative.function %}}",
                    "Payload": f"{{% $merge([{member}.alternative.payload, {{'attempt': "
                    "$states.context.State.RetryCount+1, 'data': $data, 'context': $ctx, "
                    "'failure': {'Error': $states.input.Error, 'Cause': $states.input.Cause}}]) %}",
                },
                "TimeoutSeconds": self.wf.agent(alternatives[0]).task_timeout_seconds,
                "Retry": service_retriers(),
                "Output": "{% $states.result.Payload.data %}",
                "End": True,
            }
            self.info[target] = StateInfo("alternative", members=tuple(alternatives))
        stopped = self.names.take(naming.RUN_STOPPED)
        states[stopped] = dict(RUN_STOPPED_STATE)
        task["Catch"] = [
            {"ErrorEquals": ends_run(self.express), "Next": stopped},
            {
                "ErrorEquals": ["States.ALL"],
                "Output": "{% {'Error': $states.errorOutput.Error, 'Cause': "
                "$states.errorOutput.Cause, 'member': $states.input} %}",
                "Next": target,
            },
        ]

    def branched_group(self, node: Node, next_name: str) -> dict[str, Any]:
        """A Parallel state, a branch per member with its own Task (and fallback): a Map would
        need a Choice routing each member to its Task, a second transition per member."""
        branches = []
        for agent in node.agents:
            name = node.task_names[agent]
            states: dict[str, Any] = {}
            self.step(agent, name, states, after=None, group=node.group_name)
            branches.append({"StartAt": name, "States": states})
        return {
            "Type": "Parallel",
            "Comment": f"Runs {', '.join(node.agents)} at the same time (each retries and falls "
            "back its own way); their data merge in this order",
            "Branches": branches,
            "Assign": {"data": "{% $merge($append([$data], $states.result)) %}"},
            "Output": dict(PASSES_NOTHING_ON),
            "Next": next_name,
        }

    def fan_out(self, node: Node, next_name: str, states: dict[str, Any]) -> str:
        """A Map over a list in the data: the agent once per item (its retries per item), a
        failed item caught as `{failed, error, cause}`, then a Choice that fails the run when
        more than the tolerated share failed and merges the results (in item order) if not.

        Inline up to a concurrency of 40; beyond, a Distributed Map, whose child executions
        cannot read the parent's variables: each item then carries the data and context."""
        agent = node.agents[0]
        spec = self.wf.for_each[agent]
        name, task_name = node.group_name, node.task_names[agent]
        inner: dict[str, Any] = {}
        self.step(agent, task_name, inner, after=None, group=name)
        failed = self.names.take(naming.item_failed_name(agent))
        inner[failed] = {
            "Type": "Pass",
            "Comment": f"{agent} failed for this item after its retries: counted, not fatal",
            "End": True,
        }
        task = inner[task_name]
        task.setdefault("Catch", [])
        if not any(c["ErrorEquals"] == ends_run(self.express) for c in task["Catch"]):
            stopped = self.names.take(naming.RUN_STOPPED)
            inner[stopped] = dict(RUN_STOPPED_STATE)
            task["Catch"].append({"ErrorEquals": ends_run(self.express), "Next": stopped})
        task["Catch"].append(
            {
                "ErrorEquals": ["States.ALL"],
                # the item's result: the Map context is only readable in ItemSelector, so the
                # index comes from the item's input
                "Output": "{% {'failed': true, 'index': $states.input.index, "
                "'error': $states.errorOutput.Error, 'cause': $states.errorOutput.Cause} %}",
                "Next": failed,
            }
        )
        selector = {
            "item": "{% $states.context.Map.Item.Value %}",
            "index": "{% $states.context.Map.Item.Index %}",
        }
        processor: dict[str, Any] = {"Mode": "INLINE"}
        if spec.distributed:  # child executions see no outer variable: hand them over
            selector |= {"data": "{% $data %}", "ctx": "{% $ctx %}"}
            processor = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        check = self.names.take(naming.tolerance_name(agent))
        too_many = self.names.take(naming.too_many_failed_name(agent))
        tolerated = _number(spec.tolerated_failure_percentage)
        failures = "$count($states.input[failed = true])"
        states[name] = {
            "Type": "Map",
            "Comment": f"Runs {agent} once per item of {spec.items} ({spec.max_concurrency} at "
            f"a time); results into {spec.results_field}, in item order",
            "Items": f"{{% $data.{spec.items} %}}",
            "ItemSelector": selector,
            "MaxConcurrency": spec.max_concurrency,
            "ItemProcessor": {
                "ProcessorConfig": processor,
                "StartAt": task_name,
                "States": inner,
            },
            "Next": check,
        }
        states[check] = {
            "Type": "Choice",
            "Comment": f"At most {tolerated}% of the items may fail",
            "Choices": [
                {
                    "Condition": f"{{% {failures} * 100 > {tolerated} * $count($states.input) %}}",
                    "Next": too_many,
                }
            ],
            "Default": next_name,
            "Assign": {
                "data": "{% $merge([$data, {"
                + _jsonata_string(spec.results_field)
                + ": $states.input}]) %}"
            },
        }
        states[too_many] = {
            "Type": "Fail",
            "Comment": f"More than {tolerated}% of the items of {agent} failed",
            "Error": TOO_MANY_ITEMS_FAILED,
            "Cause": f"{{% $string({failures}) & ' of ' & $string($count($states.input)) & "
            f"' items of {agent} failed ({tolerated}% tolerated); the first is item ' & "
            "$string($states.input[failed = true][0].index) & ': ' & "
            "$states.input[failed = true][0].error %}",
        }
        self.info[name] = StateInfo("fan-out", agent=agent)
        return name

    def condition(self, node: Node, rejoin: str, states: dict[str, Any]) -> str:
        branching = node.branching
        assert branching is not None
        name = node.condition_name
        then_entry = self.sequence(branching.then, rejoin, states)
        else_entry = self.sequence(branching.else_, rejoin, states)
        cond = branching.condition
        states[name] = {
            "Type": "Choice",
            "Comment": f"when {cond.when} → {' → '.join(cond.then) or 'continue'}; "
            f"otherwise {' → '.join(cond.else_) or 'continue'}",
            "Choices": [{"Condition": "{% " + on_data(cond.when) + " %}", "Next": then_entry}],
            "Default": else_entry,
        }
        self.info[name] = StateInfo("condition", agent=cond.after)
        return name

    def sequence(self, nodes: list[Node], next_name: str, states: dict[str, Any]) -> str:
        entry = next_name
        for node in reversed(nodes):
            entry = self.node(node, entry, states)
        return entry

    def start(self) -> dict[str, Any]:
        initial = json.dumps(self.wf.initial_data, ensure_ascii=False, separators=(",", ":"))
        context = (
            "{'executionId': $exists($states.input.executionId) ? $states.input.executionId "
            ": $states.context.Execution.Name, 'run': $states.context.Execution.Id, "
            f"'workflowId': {_jsonata_string(self.wf.id)}, "
            "'tenant': $exists($states.input.tenant) ? $states.input.tenant : 'default', "
            "'resumeAfter': $states.input.resume.after, "
            "'noCache': $states.input.noCache = true, "
            "'deadline': $states.input.deadline, "
            f"'retentionDays': {retention_days(self.wf.retention_seconds)}, "
            f"{self._inline_fields()}"
            f"{EXPRESS_FIELD if self.wf.type == 'express' else ''}"
            f"'expiresAt': $floor($millis() / 1000) + {self.wf.retention_seconds}}}"
        )
        return {
            "Type": "Pass",
            "Comment": "Workflow data: the definition's initialData, then the execution input's "
            "`data`; on resume, the checkpointed data",
            "Assign": {
                "data": "{% $exists($states.input.resume.data) ? $states.input.resume.data : "
                f"$merge([{initial}, $exists($states.input.data) ? $states.input.data : {{}}]) %}}",
                "ctx": "{% " + context + " %}",
            },
            "Next": naming.ROUTER,
        }

    def _inline_fields(self) -> str:
        """The data fields conditions and fan-outs read, which must stay inline (Choice and Map
        states cannot read a value kept in S3), and the workflow's inline limit when it is not
        the default."""
        read = sorted(
            {f for c in self.wf.conditions for f in fields_read(c.when)}
            | {spec.items for spec in self.wf.for_each.values()}
        )
        fields = f"'inline': {json.dumps(read, ensure_ascii=False)}, " if read else ""
        limit = self.wf.source.config.inline_limit
        return fields + (f"'inlineBytes': {limit}, " if limit != INLINE_LIMIT else "")

    def router(self, first: str) -> dict[str, Any]:
        """One rule per completed step a checkpoint can name, going to the state after it."""
        choices: list[dict[str, Any]] = [
            {"Condition": RECOVERING, "Next": naming.RECOVERY_BACKOFF},
            {"Condition": "{% $not($exists($ctx.resumeAfter)) %}", "Next": first},
        ]
        for done, following in reversed(self.resume_points.items()):
            choices.append(
                {
                    "Condition": f"{{% $ctx.resumeAfter={_jsonata_string(done)} %}}",
                    "Next": following,
                }
            )
        return {
            "Type": "Choice",
            "Comment": "A new execution starts at the first step; a resumed one after the last "
            "step its checkpoint names",
            "Choices": choices,
            "Default": first,
        }


def compile_workflow(workflow: ResolvedWorkflow) -> CompiledWorkflow:
    """Compile a validated workflow into ASL; DefinitionError when Step Functions would refuse
    or fail it (see limits.py)."""
    builder = _Builder(workflow)
    plan = build_plan(workflow)
    builder.name_nodes(plan)
    body: dict[str, Any] = {}
    first = builder.sequence(plan, naming.COMPLETED, body)
    description = f": {workflow.description}" if workflow.description else ""
    states: dict[str, Any] = {
        naming.START: builder.start(),
        naming.ROUTER: builder.router(first),
        naming.RECOVERY_BACKOFF: dict(RECOVERY_BACKOFF_STATE),
    }
    states.update(_in_reading_order(_ending_where_done(body), first))
    # a Choice at the end, or a resume after the last step, still goes on to Completed
    if any(naming.COMPLETED in targets(state) for state in states.values()):
        states[naming.COMPLETED] = {
            "Type": "Succeed",
            "Comment": "Every step is done",
            "Output": "{% {'data': $data} %}",
        }
    asl: dict[str, Any] = {
        "Comment": f"Baton workflow {workflow.id} ({workflow.name}){description}",
        "QueryLanguage": "JSONata",
    }
    if workflow.type == "express":  # it reports its own end (see express.py)
        body = {"StartAt": naming.START, "States": states}
        asl |= {"StartAt": express.RUN, "TimeoutSeconds": EXPRESS_LIMIT_SECONDS}
        states = express.reporting(body)
    else:
        asl |= {"StartAt": naming.START, "TimeoutSeconds": workflow.timeout_seconds}
    asl["States"] = single_line_expressions(states)
    problems = limit_problems(workflow, asl)
    if problems:
        raise DefinitionError(problems)
    return CompiledWorkflow(workflow, asl, builder.info, builder.resume_points)


def _ending_where_done(states: dict[str, Any]) -> dict[str, Any]:
    """A Task, Map or Parallel that would go on to Completed ends the run itself, with the output
    Completed would give: one state transition less per run. Its output is computed from its
    result, since the variables it assigns are not visible in its own Output."""
    for state in states.values():
        if state.get("Next") != naming.COMPLETED or state["Type"] not in (
            "Task",
            "Map",
            "Parallel",
            "Pass",
        ):
            continue
        merged = state.pop("Assign", {}).get("data", "{% $data %}")
        del state["Next"]
        state["Output"] = "{% {'data': " + merged.removeprefix("{% ").removesuffix(" %}") + "} %}"
        state["End"] = True
    return states


def _in_reading_order(states: dict[str, Any], first: str) -> dict[str, Any]:
    """States ordered as a person reads the flow (depth first from `first`), not as emitted."""
    ordered: dict[str, Any] = {}
    stack = [first]
    while stack:
        name = stack.pop()
        if name in ordered or name not in states:
            continue
        state = states[name]
        ordered[name] = state
        stack.extend(reversed(list(targets(state))))
    ordered.update({k: v for k, v in states.items() if k not in ordered})
    return ordered
