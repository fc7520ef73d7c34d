"""Validation of workflow files: every problem of a file at once, each with its path and line.

Structure (types, unknown keys, durations) is checked by the pydantic models; meaning (agents that
exist, groups and conditions that fit the sequence, expressions that parse, sane retry settings)
is checked here, against the agent registry. When a top-level section is structurally broken,
the meaning checks still run on the other sections, so one pass reports everything.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from baton.definition.base import AGENT_NAME_PATTERN
from baton.definition.durations import format_duration
from baton.definition.exceptions import Problem
from baton.definition.expressions import ExpressionError, check_expression
from baton.definition.registry import SECRET_NAME_PATTERN, AgentRegistry
from baton.definition.resolved import (
    ResolvedCache,
    ResolvedCondition,
    ResolvedWorkflow,
    RetryPolicy,
    StepPolicy,
)
from baton.definition.schedules import expression_problem, timezone_problem
from baton.definition.source import Document, PathKey
from baton.definition.workflow import FIELD_PATTERN, WORKFLOW_ID_PATTERN, ForEach, Workflow
from baton_agent.hosts import HOST_PATTERN, HOST_SYNTAX
from baton_service.inputs import shown
from baton_service.tenants import TENANT_SYNTAX, is_tenant

T = TypeVar("T")
MAX_RETRIES = 10
MIN_RETENTION_MS = 3_600_000
MAX_WORKFLOW_TIMEOUT_MS = 365 * 86_400_000
"""A standard Step Functions execution runs at most a year."""
MAX_RETRY_INTERVAL_MS = 99_999_999_000
"""Step Functions' largest IntervalSeconds (99,999,999 s)."""
MAX_RETRY_DELAY_MS = 31_622_401_000
"""Step Functions' largest MaxDelaySeconds (31,622,401 s, about 366 days)."""
MAX_BACKOFF_RATE = 1_000.0
"""Past this every retry after the first waits maxDelay (or more than a year): a mistake."""
MAX_RETENTION_MS = 10 * 365 * 86_400_000
_FRIENDLY = {
    "missing": "is required",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
}


PATTERN_FORMS = {
    WORKFLOW_ID_PATTERN: "a workflow id: letters, digits, '_' and '-', starting with a letter or "
    "digit",
    AGENT_NAME_PATTERN: "an agent name: lowercase words of letters and digits joined by '-'",
    HOST_PATTERN.pattern: f"a host: {HOST_SYNTAX}",
    FIELD_PATTERN: "a field of the workflow data: letters, digits and '_', not starting with a "
    "digit (one name, not a path)",
    SECRET_NAME_PATTERN: "a secret name: up to 128 letters, digits or _ . + = @ -, with no '/' "
    "(it names a secret in the tenant's own space)",
}
"""What each pattern a definition field must match means, for people."""


def pattern_message(item: Mapping[str, Any]) -> str:
    """A pydantic pattern mismatch said as what the value should be."""
    pattern = item.get("ctx", {}).get("pattern", "")
    form = PATTERN_FORMS.get(pattern, f"text matching {pattern}")
    return f"{shown(item.get('input'))} is not {form}"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at `loc` accepts, for 'did you mean' hints on unknown keys."""
    current = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return []
        match = next(
            (f for name, f in fields.items() if part in _field_names(name, f)),
            None,
        )
        if match is None:
            return []
        annotation = match.annotation
        current = _model_in(annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return [n for name, f in fields.items() for n in _field_names(name, f)]


def _field_names(name: str, info: Any) -> list[str]:
    alias = info.validation_alias
    if alias is not None and hasattr(alias, "choices"):
        return [str(c) for c in alias.choices]
    return [info.alias or name]


def _model_in(annotation: Any) -> Any:
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def document_loc(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """The part of a pydantic error location that names keys and indexes of the document.

    Pydantic adds the names of union members and validators (`int`, `function-before[...]`);
    those are dropped. A key the document lacks (a missing field) is kept, last.
    """
    path: list[str | int] = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            current = current[part]
        elif (
            isinstance(current, dict)
            and isinstance(part, str)
            and "[" not in part
            and part not in _UNION_TAGS
        ):
            path.append(part)
            break
        else:
            continue
        path.append(part)
    return tuple(path)


_UNION_TAGS = {"int", "str", "float", "bool", "none", "list", "dict", "is-instance"}


def _structure_problems(doc: Document, error: ValidationError) -> list[Problem]:
    problems = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for item in error.errors():
        loc = document_loc(doc.data, item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            hint = _suggest(key, _allowed_keys(Workflow, loc))
            message = f"unknown key '{key}'{hint}"
        elif kind in _FRIENDLY:
            message = _FRIENDLY[kind]
        elif kind == "string_pattern_mismatch":
            message = pattern_message(item)
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            if kind.startswith("literal"):
                expected = item.get("ctx", {}).get("expected", "")
                message = f"must be one of {expected}"
        if (loc, message) not in seen:
            seen.add((loc, message))
            problems.append(doc.problem(loc, message))
    return problems


BROKEN = "\x00broken"
"""Stands in for a value that failed structural validation, so meaning checks still run on the
rest of the file; references to it are not reported again."""


def _target(data: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """What to set aside for an error at `loc`: the value itself, or for a missing key its parent."""
    parent = data
    for part in loc[:-1]:
        parent = parent[part]
    if loc and isinstance(parent, dict) and loc[-1] not in parent:
        return loc[:-1]
    return loc


def _set_aside(data: Any, loc: tuple[str | int, ...]) -> bool:
    """Remove (or stand in for) the broken value at `loc`; False when there is nothing to do."""
    if not loc:
        return False
    parent = data
    for part in loc[:-1]:
        parent = parent[part]
    last = loc[-1]
    if isinstance(parent, dict):
        return parent.pop(last, BROKEN) is not BROKEN
    item = parent[last]
    if item == BROKEN or (isinstance(item, dict) and item.get("after") == BROKEN):
        return False
    parent[last] = {"after": BROKEN, "when": "true"} if isinstance(item, dict) else BROKEN
    return True


def _lenient(data: dict[str, Any], error: ValidationError) -> Workflow | None:
    """The workflow without its broken parts, or None when it cannot be had."""
    for _ in range(8):
        targets = sorted(
            {_target(data, document_loc(data, e["loc"])) for e in error.errors()}, key=len
        )
        changed = False
        done: list[tuple[str | int, ...]] = []
        for target in targets:
            if any(target[: len(prefix)] == prefix for prefix in done):
                continue
            changed |= _set_aside(data, target)
            done.append(target)
        for key, default in (("id", "invalid"), ("name", "invalid"), ("agents", [])):
            if not isinstance(data.get(key), type(default)):
                data[key] = default
        try:
            return Workflow.model_validate(data)
        except ValidationError as again:
            error = again
        if not changed:
            return None
    return None


def _whole_seconds(ms: float) -> int:
    return math.ceil(ms / 1000)


class _Checker:
    """Meaning checks of one workflow against the registry; collects problems."""

    def __init__(self, doc: Document, workflow: Workflow, registry: AgentRegistry) -> None:
        self.doc = doc
        self.wf = workflow
        self.registry = registry
        self.problems: list[Problem] = []
        self.names: dict[PathKey, str] = {}

    def add(self, path: PathKey, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def resolve(self, ref: Any, path: PathKey, role: str = "agent") -> str | None:
        if ref == BROKEN:
            return None
        agent = self.registry.find(ref)
        if agent is None:
            known = [a.name for a in self.registry]
            hint = _suggest(str(ref), known)
            self.add(path, f"unknown {role} {ref!r}: no such agent in the registry{hint}")
            return None
        self.names[path] = agent.name
        return agent.name

    def sequence(self) -> list[str]:
        if not self.wf.agents and isinstance(self.doc.data.get("agents"), list):
            self.add(("agents",), "the workflow has no agents: list at least one")
        seen: dict[str, int] = {}
        ordered = []
        for index, ref in enumerate(self.wf.agents):
            name = self.resolve(ref, ("agents", index))
            if name is None:
                continue
            if name in seen:
                self.add(
                    ("agents", index),
                    f"agent '{name}' is listed twice (also at agents[{seen[name]}])",
                )
                continue
            seen[name] = index
            ordered.append(name)
        return ordered

    def groups(self, in_workflow: set[str]) -> list[tuple[str, ...]]:
        owner: dict[str, int] = {}
        groups = []
        for g, group in enumerate(self.wf.config.parallel_groups):
            path = ("config", "parallelGroups", g)
            if not group:
                self.add(path, "a parallel group needs at least one agent")
            members = []
            for m, ref in enumerate(group):
                name = self.resolve(ref, (*path, m))
                if name is None:
                    continue
                if name in owner:
                    where = "earlier in this group" if owner[name] == g else f"group {owner[name]}"
                    self.add((*path, m), f"agent '{name}' is already in {where}")
                    continue
                if name not in in_workflow:
                    self.add(
                        (*path, m),
                        f"agent '{name}' is in a parallel group but not in the workflow's agents",
                    )
                    continue
                owner[name] = g
                members.append(name)
            if members:
                groups.append(tuple(members))
        return groups

    def conditions(self, main: set[str], grouped: set[str]) -> list[ResolvedCondition]:
        resolved = []
        afters: dict[str, int] = {}
        branch_agents: set[str] = set()
        for c, cond in enumerate(self.wf.conditions):
            for key, refs in (("then", cond.then), ("else", cond.else_)):
                for b, ref in enumerate(refs):
                    name = self.resolve(ref, ("conditions", c, key, b), role="branch agent")
                    if name is not None:
                        branch_agents.add(name)
        for c, cond in enumerate(self.wf.conditions):
            path: PathKey = ("conditions", c)
            after = self.resolve(cond.after, (*path, "after"))
            if after is not None and after not in main | branch_agents:
                self.add(
                    (*path, "after"),
                    f"the condition runs after '{after}', which is not in the workflow",
                )
                after = None
            if after is not None and after in afters:
                self.add(
                    (*path, "after"),
                    f"conditions[{afters[after]}] already runs after '{after}': "
                    "combine them into one condition",
                )
                after = None
            try:
                check_expression(cond.when)
            except ExpressionError as err:
                self.add((*path, "when"), f"invalid `when` expression {cond.when!r}: {err}")
                after = None
            branches: dict[str, tuple[str, ...]] = {}
            for key, refs in (("then", cond.then), ("else", cond.else_)):
                names = []
                for b, _ref in enumerate(refs):
                    name = self.names.get((*path, key, b))
                    if name is None:
                        continue
                    if name in grouped:
                        self.add(
                            (*path, key, b),
                            f"agent '{name}' runs in a parallel group, "
                            "so it cannot also be a branch of a condition",
                        )
                    elif name in names:
                        self.add((*path, key, b), f"agent '{name}' is twice in this branch")
                    elif after is not None and name == after:
                        self.add((*path, key, b), f"agent '{name}' cannot be a branch of itself")
                    else:
                        names.append(name)
                branches[key] = tuple(names)
            if after is None:
                continue
            afters[after] = c
            label = cond.name or f"after {after}"
            resolved.append(
                ResolvedCondition(after, cond.when, branches["then"], branches["else"], label)
            )
        self._check_cycles(resolved)
        return resolved

    def _check_cycles(self, conditions: list[ResolvedCondition]) -> None:
        children = {c.after: set(c.then) | set(c.else_) for c in conditions}

        def reaches(start: str, target: str, seen: set[str]) -> bool:
            for child in children.get(start, ()):
                if child == target or (
                    child not in seen and reaches(child, target, seen | {child})
                ):
                    return True
            return False

        for index, cond in enumerate(conditions):
            if reaches(cond.after, cond.after, set()):
                self.add(
                    ("conditions", index),
                    f"conditions form a loop: '{cond.after}' is reached again from its own branches",
                )

    def retry(self, max_retries: int, path: PathKey) -> RetryPolicy:
        cfg = self.wf.config
        if not 0 <= max_retries <= MAX_RETRIES:
            self.add(path, f"maxRetries must be between 0 and {MAX_RETRIES}, got {max_retries}")
        backoff = cfg.backoff
        interval = backoff.interval / 1000
        if interval < 1 or interval != int(interval):
            self.add(
                ("config", "backoff", "interval"),
                "the retry interval must be a whole number of seconds, at least 1s "
                f"(Step Functions waits in whole seconds), got {interval:g}s",
            )
        elif backoff.interval > MAX_RETRY_INTERVAL_MS:
            self.add(
                ("config", "backoff", "interval"),
                f"{format_duration(backoff.interval)} is over Step Functions' longest retry "
                "interval, 99999999s",
            )
        if backoff.rate < 1:
            self.add(("config", "backoff", "rate"), f"rate must be at least 1, got {backoff.rate}")
        elif backoff.rate > MAX_BACKOFF_RATE:
            self.add(
                ("config", "backoff", "rate"),
                f"rate must be at most {MAX_BACKOFF_RATE:g}, got {backoff.rate:g}",
            )
        max_delay = None
        if backoff.max_delay is not None:
            max_delay = _whole_seconds(backoff.max_delay)
            if backoff.max_delay <= 0:
                self.add(("config", "backoff", "maxDelay"), "maxDelay must be positive")
            elif backoff.max_delay > MAX_RETRY_DELAY_MS:
                self.add(
                    ("config", "backoff", "maxDelay"),
                    f"{format_duration(backoff.max_delay)} is over Step Functions' longest "
                    "maxDelay, 31622401s (about 366d)",
                )
        return RetryPolicy(
            max_attempts=min(max(max_retries, 0), MAX_RETRIES),
            interval_seconds=max(1, int(interval)),
            backoff_rate=max(backoff.rate, 1.0),
            max_delay_seconds=max_delay,
            jitter=backoff.jitter,
        )

    def per_step(
        self, section: str, entries: Mapping[str, T], steps: set[str], what: str
    ) -> Iterator[tuple[str, T, PathKey]]:
        """The entries of a section keyed by agent (fallbacks, cache, forEach), each with the
        agent's name and its path; an unknown agent, or one not among `steps`, is reported."""
        for key, entry in entries.items():
            path: PathKey = (section, key)
            name = self.resolve(key, path)
            if name is None:
                continue
            if name not in steps:
                self.add(path, f"agent '{name}' has {what} but is not in the workflow")
                continue
            yield name, entry, path

    def policies(self, default: RetryPolicy, steps: set[str]) -> dict[str, StepPolicy]:
        policies = {}
        for name, fallback, path in self.per_step(
            "fallbacks", self.wf.fallbacks, steps, "a fallback"
        ):
            retry = default
            if fallback.max_retries is not None:
                retry = self.retry(fallback.max_retries, (*path, "maxRetries"))
            alternative = None
            if fallback.strategy == "alternative":
                if fallback.alternative is None:
                    self.add(path, "strategy 'alternative' needs an alternative agent")
                else:
                    alternative = self.resolve(
                        fallback.alternative, (*path, "alternative"), role="alternative agent"
                    )
                    if alternative == name:
                        self.add((*path, "alternative"), "an agent cannot be its own alternative")
                        alternative = None
            elif fallback.alternative is not None:
                self.add(
                    (*path, "alternative"),
                    f"an alternative agent is only used with strategy 'alternative', "
                    f"not '{fallback.strategy}'",
                )
            if fallback.strategy == "abort":
                retry = RetryPolicy(0, retry.interval_seconds, retry.backoff_rate, None, False)
            policies[name] = StepPolicy(retry, fallback.strategy, alternative)
        return policies

    def caches(self, agents: set[str]) -> dict[str, ResolvedCache]:
        """Effective cache policies: the registry's defaults, overridden by the workflow's."""
        overrides = {}
        for name, policy, path in self.per_step("cache", self.wf.cache, agents, "a cache policy"):
            overrides[name] = policy
            if policy.ttl is not None and policy.ttl < 1000:
                self.add((*path, "ttl"), "the cache ttl must be at least 1s")
        caches = {}
        for name in sorted(agents):
            spec = self.registry.get(name)
            override = overrides.get(name)
            enabled = override.enabled if override else spec.cache.enabled
            if not enabled:
                continue
            ttl = override.ttl if override and override.ttl is not None else spec.cache.ttl
            fields = override.key if override and override.key is not None else spec.cache.key
            caches[name] = ResolvedCache(
                _whole_seconds(ttl), tuple(fields) if fields else None, spec.version
            )
        return caches

    def for_each(
        self, steps: set[str], grouped: set[str], policies: dict[str, StepPolicy]
    ) -> dict[str, ForEach]:
        fan_outs = {}
        for name, spec, path in self.per_step("forEach", self.wf.for_each, steps, "a forEach"):
            if name in grouped:
                self.add(
                    path,
                    f"agent '{name}' is in a parallel group; a forEach step runs alone (its "
                    "items run in parallel already)",
                )
            elif policies.get(name) and policies[name].strategy in ("skip", "alternative"):
                self.add(
                    path,
                    f"agent '{name}' runs for each item: a failed item counts against "
                    "toleratedFailurePercentage instead of a skip or alternative fallback",
                )
            else:
                fan_outs[name] = spec
        return fan_outs

    def timeout(self) -> int:
        timeout = self.wf.config.timeout
        if timeout <= 0:
            self.add(("config", "timeout"), f"timeout must be positive, got {timeout:g} ms")
            return 1
        if timeout > MAX_WORKFLOW_TIMEOUT_MS:
            self.add(
                ("config", "timeout"),
                f"{format_duration(timeout)} is over Step Functions' longest run, 365d "
                "(a standard workflow runs at most a year)",
            )
            return _whole_seconds(MAX_WORKFLOW_TIMEOUT_MS)
        return _whole_seconds(timeout)

    def retention(self) -> int:
        retention = self.wf.config.retention
        if retention < MIN_RETENTION_MS:
            self.add(("config", "retention"), "the retention must be at least 1h")
        elif retention > MAX_RETENTION_MS:
            self.add(("config", "retention"), "the retention must be at most 3650d (10 years)")
            return _whole_seconds(MAX_RETENTION_MS)
        return _whole_seconds(retention)

    def schedule(self) -> None:
        schedule = self.wf.schedule
        if schedule is None:
            return
        problem = expression_problem(schedule.expression)
        if problem:
            self.add(("schedule", "expression"), problem)
        problem = timezone_problem(schedule.timezone)
        if problem:
            self.add(("schedule", "timezone"), problem)
        if not is_tenant(schedule.tenant):
            self.add(("schedule", "tenant"), f"{schedule.tenant!r}: a tenant is {TENANT_SYNTAX}")


def check_workflow(
    doc: Document, registry: AgentRegistry
) -> tuple[ResolvedWorkflow | None, list[Problem]]:
    """Validate a parsed workflow; return it resolved (or None) and every problem found."""
    if not isinstance(doc.data, dict):
        return None, [
            doc.problem((), "a workflow file must hold a mapping (id, name, agents, ...)")
        ]
    try:
        workflow = Workflow.model_validate(doc.data)
        problems: list[Problem] = []
    except ValidationError as error:
        problems = _structure_problems(doc, error)
        lenient = _lenient(copy.deepcopy(doc.data), error)
        if lenient is None:
            return None, sorted(problems, key=lambda p: p.line or 0)
        workflow = lenient
    check = _Checker(doc, workflow, registry)
    sequence = check.sequence()
    in_workflow = set(sequence)
    groups = check.groups(in_workflow)
    grouped = {m for g in groups for m in g}
    conditions = check.conditions(in_workflow, grouped)
    branch_agents = {a for c in conditions for a in (*c.then, *c.else_)}
    default_retry = check.retry(workflow.config.max_retries, ("config", "maxRetries"))
    policies = check.policies(default_retry, in_workflow | branch_agents)
    alternatives = {p.alternative for p in policies.values() if p.alternative}
    caches = check.caches(in_workflow | branch_agents | alternatives)
    for_each = check.for_each(in_workflow | branch_agents, grouped, policies)
    timeout = check.timeout()
    retention = check.retention()
    check.schedule()
    problems = sorted(problems + check.problems, key=lambda p: p.line or 0)
    if problems:
        return None, problems

    main = tuple(a for a in sequence if a not in branch_agents or a in grouped)
    resolved = ResolvedWorkflow(
        id=workflow.id,
        name=workflow.name,
        type=workflow.type,
        agents=main,
        groups=tuple(groups),
        conditions=tuple(conditions),
        policies=policies,
        default_retry=default_retry,
        timeout_seconds=timeout,
        retention_seconds=retention,
        initial_data=workflow.initial_data,
        registry=registry,
        source=workflow,
        file=doc.file,
        description=workflow.metadata.description or "",
        caches=caches,
        allowed_hosts=tuple(workflow.config.allowed_hosts),
        for_each=for_each,
    )
    return resolved, []
