"""Create Baton's DynamoDB tables (as the CDK stack declares them) in the offline AWS."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from baton.deploy.manifest import TableDeployment
from baton_agent.tables import Index, TableSpec


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


def _projection(index: Index) -> dict[str, Any]:
    if not index.projected:
        return {"ProjectionType": "KEYS_ONLY"}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projected)}


def create_table_request(spec: TableSpec, name: str) -> dict[str, Any]:
    """CreateTable arguments for a spec (on-demand billing, as in the stack)."""
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(spec.partition_key, spec.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in spec.key_attributes()
        ],
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": _projection(index),
            }
            for index in spec.indexes
        ]
    return request


def create_tables(client: Any, tables: Iterable[TableDeployment]) -> None:
    """Create every table of the manifest (idempotent), with its TTL attribute."""
    existing = set(client.list_tables()["TableNames"])
    for table in tables:
        if table.name in existing:
            continue
        client.create_table(**create_table_request(table.spec, table.name))
        if table.spec.ttl_attribute:
            client.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": table.spec.ttl_attribute,
                },
            )
