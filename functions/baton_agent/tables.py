"""The DynamoDB tables, defined once: the offline runtime and the CDK stack both build from these.

executions: one item per execution and items under it (partition `EXEC#<tenant>#<executionId>`)
    sk `RECORD`             the execution record: tenant, workflow, status, its runs,
                            timestamps, input, output, error, metrics; carries the index keys
                            below (the current step is read from the checkpoint)
    sk `HANDOFF#<finishedAt>#<step>`  one item per handoff (a step's, a group member's)
    sk `HANDOFF#ITEM#<step>#<digest>`  a fan-out item's handoff, keyed by the item so that a
                            resumed run finds by key whether an earlier run completed it;
                            readers order all handoffs by when they finished
    sk `FAILURE#<failedAt>#<step>#<attempt>`  a failed attempt of a step (read when
                            there is no history to read it from)
    sk `OUTPUT#<run>`       the execution's output (the run that gave it), and sk `INPUT` its
                            input when it would take the record over 1 KB: written once each,
                            not at every write of the record (baton_service.apart)
    sk `CHECKPOINT`         the last completed step and the workflow data after it, and the
                            fence (the execution's current run, see FENCE)
    sk `FENCE`              the execution's current run, once a resume started a second one:
                            a step of any other run is not recorded (baton_agent.records)
    sk `STASH#<ref>`        what an agent keeps server-side by reference (a session cookie, a
                            fetched page), so it never travels in workflow data; expires
  GSI byWorkflow  (`WF#<tenant>#<workflowId>`, startTime)   executions of a workflow
  GSI byStatus    (`STATUS#<tenant>#<status>`, startTime)   executions in a status
  GSI byTenant    (`TENANT#<tenant>`, startTime)            every execution of a tenant
  Only RECORD items carry the index keys, so the indexes stay sparse; every key starts with the
  tenant, so no query can reach another tenant's executions. The indexes hold a record's
  summary (LISTED), not all of it: a write to a record is also a write to each index that holds
  what it changes, billed at the size of what that index holds (DynamoDB), so the events
  handler's marks and a run's output cost no index writes, and a status change costs 4 (the
  status index deletes and puts), each of the summary's size whatever the input and output
  weigh (under 1 KB, unless a failure's message is long).

cache: one item per cached agent result, partition = the cache key (sha256 of the canonical
    JSON of tenant, agent, agent version and input); `expiresAt` (epoch seconds) is the TTL
    attribute. An item past `expiresAt` is a miss even before DynamoDB deletes it.

agent-stats: one item per workflow (partition `WORKFLOW#<id>`): for each agent it ran, the
    calls, the sum of their accuracies (both added atomically, ADD) and the last accuracy with
    its time; an agent's rolling accuracy is its sums over the workflows divided by its calls
    (baton_agent.stats). A run's end adds all its agents in one write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LISTED = ("executionId", "workflowId", "workflowName", "status", "startTime", "endTime", "error")
"""A record's summary: what a listing of executions shows (the API's list), and all that the
executions table's indexes hold of a record besides their keys."""


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None
    projected: tuple[str, ...] = ()
    """The attributes it holds besides the table's and its own keys (DynamoDB's INCLUDE
    projection); none: only the keys."""

    def holds(self, table_keys: tuple[str, ...]) -> tuple[str, ...]:
        """Every attribute an entry of the index holds."""
        keys = (*table_keys, self.partition_key, *([self.sort_key] if self.sort_key else []))
        return tuple(dict.fromkeys((*keys, *self.projected)))


@dataclass(frozen=True)
class TableSpec:
    """A table's keys and indexes; `setting` names the settings field holding its name, `key`
    is how the deployment manifest names it (`<prefix>-<key>`)."""

    setting: str
    key: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None

    def key_attributes(self) -> list[str]:
        names = [self.partition_key, *([self.sort_key] if self.sort_key else [])]
        for index in self.indexes:
            names += [index.partition_key, *([index.sort_key] if index.sort_key else [])]
        return list(dict.fromkeys(names))


def _summary(sort_key: str) -> tuple[str, ...]:
    """LISTED without an index's key attribute, which the index holds as a key."""
    return tuple(name for name in LISTED if name != sort_key)


EXECUTIONS = TableSpec(
    setting="executions_table",
    key="executions",
    partition_key="pk",
    sort_key="sk",
    indexes=(
        Index("byWorkflow", "workflowKey", "startTime", _summary("startTime")),
        Index("byStatus", "statusKey", "startTime", _summary("startTime")),
        Index("byTenant", "tenantKey", "startTime", _summary("startTime")),
    ),
    ttl_attribute="expiresAt",
)
CACHE = TableSpec(
    setting="cache_table",
    key="cache",
    partition_key="pk",
    ttl_attribute="expiresAt",
)
AGENT_STATS = TableSpec(
    setting="stats_table",
    key="agent-stats",
    partition_key="pk",
)
ALL_TABLES = (EXECUTIONS, CACHE, AGENT_STATS)
