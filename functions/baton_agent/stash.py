"""Things an agent keeps on the server side and hands on by reference (`stash:<id>`).

A login session cookie or a fetched page does not belong in the workflow data (which Step
Functions records in its history): the agent stashes it under the execution and passes the
reference; the next agent of the same execution (and tenant) takes it back. Items expire.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Protocol

from baton_agent import keys

PREFIX = "stash:"
STASH_SK = "STASH#"


class Stash(Protocol):
    def put(self, tenant: str, execution_id: str, value: str, ttl_seconds: int = 86_400) -> str: ...

    def get(self, tenant: str, execution_id: str, ref: str) -> str | None: ...


class DynamoStash:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def put(self, tenant: str, execution_id: str, value: str, ttl_seconds: int = 86_400) -> str:
        ref = PREFIX + secrets.token_urlsafe(12)
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": keys.execution_pk(tenant, execution_id)},
                "sk": {"S": STASH_SK + ref},
                "value": {"S": value},
                "expiresAt": {"N": str(int(time.time()) + ttl_seconds)},
            },
        )
        return ref

    def get(self, tenant: str, execution_id: str, ref: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.execution_pk(tenant, execution_id)}, "sk": {"S": STASH_SK + ref}},
            ConsistentRead=True,
        ).get("Item")
        if not item or int(item["expiresAt"]["N"]) <= time.time():
            return None
        return str(item["value"]["S"])
