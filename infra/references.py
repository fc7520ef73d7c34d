"""The manifest's references (`Ref`) as CDK tokens, from the constructs that own them."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

from baton.deploy.manifest import Manifest, Ref


@dataclass
class References:
    stack: Stack
    manifest: Manifest
    tables: dict[str, dynamodb.ITableV2] = field(default_factory=dict)
    functions: dict[str, lambda_.IFunction] = field(default_factory=dict)
    aliases: dict[str, lambda_.IAlias] = field(default_factory=dict)
    state_machines: dict[str, sfn.IStateMachine] = field(default_factory=dict)
    bus: events.IEventBus | None = None
    topic: sns.ITopic | None = None
    buckets: dict[str, s3.IBucket] = field(default_factory=dict)
    service_secrets: dict[str, secretsmanager.ISecret] = field(default_factory=dict)

    def resolve(self, ref: Ref) -> str:
        """The token (or text) a Ref stands for in this stack."""
        by_name = ref.attribute == "name"
        if ref.kind == "table":
            table = self.tables[ref.key]
            return table.table_name if by_name else table.table_arn
        if ref.kind == "function":
            return self.functions[ref.key].function_arn
        if ref.kind == "function_named":  # by name: the function may come later in the stack
            return self._arn("lambda", "function", self.manifest.function_named(ref.key))
        if ref.kind == "alias":
            return self.aliases[ref.key].function_arn
        if ref.kind == "bus" and self.bus is not None:
            return self.bus.event_bus_name if by_name else self.bus.event_bus_arn
        if ref.kind == "topic" and self.topic is not None:
            return self.topic.topic_arn
        if ref.kind == "bucket":
            bucket = self.buckets[ref.key]
            return bucket.bucket_name if by_name else bucket.bucket_arn
        if ref.kind == "state_machine":
            return self.state_machines[ref.key].state_machine_arn
        if ref.kind == "state_machine_arn_prefix":
            return self._arn("states", "stateMachine", "")
        if ref.kind == "executions_of":
            name = self.manifest.workflows[ref.key].state_machine_name
            return self._arn("states", "execution", f"{name}:*")
        if ref.kind == "state_machine_named":
            name = self.manifest.workflows[ref.key].state_machine_name
            return self._arn("states", "stateMachine", name)
        if ref.kind == "child_executions_of":
            name = self.manifest.workflows[ref.key].state_machine_name
            return self._arn("states", "execution", f"{name}/*")
        if ref.kind == "secret":
            # Secrets Manager appends 6 random characters to a secret's name in its ARN
            pattern = self.manifest.secret_name_pattern(ref.key)
            return self._arn("secretsmanager", "secret", f"{pattern}-??????")
        if ref.kind == "service_secret":
            return self.service_secrets[ref.key].secret_arn
        raise KeyError(f"nothing in the stack answers {ref}")

    def _arn(self, service: str, resource: str, name: str) -> str:
        return self.stack.format_arn(
            service=service,
            resource=resource,
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
