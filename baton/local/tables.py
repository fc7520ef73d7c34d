"""Create Baton's DynamoDB tables (as the CDK stack declares them) in the offline AWS."""

from __future__ import annotations

from typing import Any

from baton_agent.settings import AgentSettings
from baton_agent.tables import ALL_TABLES, TableSpec


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


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
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    return request


def create_tables(client: Any, settings: AgentSettings) -> dict[str, str]:
    """Create every table (idempotent); return {setting: table name}."""
    names = {}
    existing = set(client.list_tables()["TableNames"])
    for spec in ALL_TABLES:
        name = getattr(settings, spec.setting)
        names[spec.setting] = name
        if name in existing:
            continue
        client.create_table(**create_table_request(spec, name))
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    return names
