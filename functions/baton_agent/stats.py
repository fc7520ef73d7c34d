"""Rolling accuracy per agent (the reference registry's `updateAccuracy`), kept in agent-stats.

One item per workflow (partition `WORKFLOW#<id>`) holds the counts of every agent the workflow
ran, three attributes per agent: `calls#<agent>` and `sum#<agent>` (added atomically, ADD), and
`last#<agent>`, the list [when, accuracy] of its last call (epoch milliseconds). A run that ends
adds all its agents in one UpdateItem (up to AGENTS_PER_UPDATE agents each), not one per agent:
a 20-agent run costs one write of about 1.5 KB (2 write units), not 20. An agent's rolling
accuracy sums its counts over the workflows that ran it.

The events handler adds a run's handoffs once the run has ended (baton_service.events); the
agent runtime adds a result the accuracy gate refused, at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

AGENTS_PER_UPDATE = 80
"""Agents added by one UpdateItem: 80 keep its expression (about 35 characters an agent) under
DynamoDB's 4 KB limit on an expression. Each UpdateItem is billed at the whole item's size, so
the fewer a run needs, the cheaper."""
DIRECT = ""
"""The workflow of an agent invoked outside any workflow (no lifecycle context)."""


def stats_key(workflow: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"WORKFLOW#{workflow}"}}


class AccuracyStats(Protocol):
    def record(self, workflow: str, accuracies: Mapping[str, Sequence[float]]) -> None:
        """Add calls of each agent of `workflow` with these accuracies, the last one last."""


def accuracy_updates(
    table: str, workflow: str, accuracies: Mapping[str, Sequence[float]], at_ms: int
) -> list[dict[str, Any]]:
    """The UpdateItems that add a run's calls to the workflow's item: for each agent, ADD its
    calls and the sum of their accuracies, SET its last call ([when, accuracy])."""
    agents = [(agent, values) for agent, values in accuracies.items() if values]
    updates = []
    for start in range(0, len(agents), AGENTS_PER_UPDATE):
        names: dict[str, str] = {}
        values: dict[str, dict[str, Any]] = {}
        added, set_ = [], []
        for n, (agent, recorded) in enumerate(agents[start : start + AGENTS_PER_UPDATE]):
            for field in ("calls", "sum", "last"):
                names[f"#{field[0]}{n}"] = f"{field}#{agent}"
            values[f":c{n}"] = {"N": str(len(recorded))}
            values[f":s{n}"] = {"N": repr(float(sum(recorded)))}
            values[f":l{n}"] = {"L": [{"N": str(at_ms)}, {"N": repr(float(recorded[-1]))}]}
            added.append(f"#c{n} :c{n}, #s{n} :s{n}")
            set_.append(f"#l{n} = :l{n}")
        updates.append(
            {
                "TableName": table,
                "Key": stats_key(workflow),
                "UpdateExpression": f"ADD {', '.join(added)} SET {', '.join(set_)}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        )
    return updates


AGENT_BYTES = 55
"""At most, an agent's share of its workflow's statistics item besides its name (three times),
by DynamoDB's measure (a number: 1 byte and 1 per two significant digits; a list: 3 bytes and
1 per element): the names' prefixes (15 bytes), its calls (up to 6) and sum (up to 10), its
last call (3 and 2 for the list, 8 for when, up to 10 for the accuracy)."""


def stats_write_units(workflow: str, agents: Sequence[str]) -> int:
    """The write units of one run's statistics when the workflow's item holds these agents:
    each UpdateItem is billed at the item's size, 1 unit per KB (DynamoDB counts attribute names
    and values)."""
    item_bytes = (
        len("pk")
        + len(f"WORKFLOW#{workflow}")
        + sum(AGENT_BYTES + 3 * len(a.encode()) for a in agents)
    )
    return math.ceil(len(agents) / AGENTS_PER_UPDATE) * math.ceil(item_bytes / 1024)


def _last_call(item: Mapping[str, Any], agent: str) -> tuple[float, float]:
    """When the agent's last call was, and its accuracy. An item written before `last#` held
    both (a state saved by `baton serve`) has the time apart, in `at#`."""
    last = item[f"last#{agent}"]
    if "L" in last:
        at, accuracy = (float(number["N"]) for number in last["L"])
        return at, accuracy
    return float(item.get(f"at#{agent}", {"N": "0"})["N"]), float(last["N"])


def _summed(items: Iterable[Mapping[str, Any]], agents: set[str]) -> dict[str, dict[str, float]]:
    totals: dict[str, list[float]] = {}  # agent: [calls, sum, last, at]
    for item in items:
        for name, value in item.items():
            field, _, agent = name.partition("#")
            if field != "calls" or agent not in agents:
                continue
            at, last = _last_call(item, agent)
            total = totals.setdefault(agent, [0.0, 0.0, 0.0, -1.0])
            total[0] += float(value["N"])
            total[1] += float(item[f"sum#{agent}"]["N"])
            if at > total[3]:
                total[2], total[3] = last, at
    return {
        agent: {
            "calls": int(calls),
            "rollingAccuracy": accuracy_sum / calls,
            "lastAccuracy": last,
        }
        for agent, (calls, accuracy_sum, last, _) in totals.items()
        if calls
    }


class DynamoAccuracyStats:
    """Atomic ADD of calls and accuracy sums: concurrent invocations never lose an update."""

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def record(self, workflow: str, accuracies: Mapping[str, Sequence[float]]) -> None:
        at_ms = int(time.time() * 1000)
        for update in accuracy_updates(self.table, workflow, accuracies, at_ms):
            self.client.update_item(**update)

    def summaries(self, agents: list[str], workflows: Iterable[str]) -> dict[str, dict[str, float]]:
        """{agent: {calls, rollingAccuracy, lastAccuracy}} for the agents that have run in these
        workflows (or outside any)."""
        keys = [stats_key(w) for w in dict.fromkeys([*workflows, DIRECT])]
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {self.table: {"Keys": keys[start : start + 100]}}
            while request:
                page = self.client.batch_get_item(RequestItems=request)
                items += page.get("Responses", {}).get(self.table, [])
                request = page.get("UnprocessedKeys") or {}
        return _summed(items, set(agents))

    def rolling_accuracy(self, agent: str, workflows: Iterable[str]) -> float | None:
        summary = self.summaries([agent], workflows).get(agent)
        return None if summary is None else summary["rollingAccuracy"]
