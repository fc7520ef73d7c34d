"""Baton's DynamoDB tables, as baton_agent.tables declares them: on demand, point-in-time
recovery, TTL on `expiresAt` (the retention), kept when the stack is deleted."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from baton.deploy.manifest import Manifest
from infra.references import References


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _sort_key(name: str | None) -> dynamodb.Attribute | None:
    return _key(name) if name else None


class Tables(Construct):
    def __init__(
        self, scope: Construct, id: str, *, manifest: Manifest, references: References
    ) -> None:
        super().__init__(scope, id)
        for key, table in manifest.tables.items():
            spec = table.spec
            references.tables[key] = dynamodb.TableV2(
                self,
                key,
                table_name=table.name,
                partition_key=_key(spec.partition_key),
                sort_key=_sort_key(spec.sort_key),
                billing=dynamodb.Billing.on_demand(),
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=spec.ttl_attribute,
                global_secondary_indexes=[
                    dynamodb.GlobalSecondaryIndexPropsV2(
                        index_name=index.name,
                        partition_key=_key(index.partition_key),
                        sort_key=_sort_key(index.sort_key),
                        projection_type=(
                            dynamodb.ProjectionType.INCLUDE
                            if index.projected
                            else dynamodb.ProjectionType.KEYS_ONLY
                        ),
                        non_key_attributes=list(index.projected) or None,
                    )
                    for index in spec.indexes
                ],
                deletion_protection=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
