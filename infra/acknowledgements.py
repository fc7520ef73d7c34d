"""cdk-nag findings Baton accepts, each with its reason. Everything else is an error.

Wildcard resources (AwsSolutions-IAM5) are acknowledged one by one, by the exact resource the
finding names, for two kinds of statement only:
- `Resource: *` for X-Ray and CloudWatch Logs delivery, which support no resource-level
  permission (tests/infra checks that no other action is granted on `*`);
- the manifest grants whose ARN must end in a pattern, with the reason of their kind below.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from baton.deploy.manifest import Grant, RefKind
from infra.references import References

SERVICE_WIDE = (
    "X-Ray (tracing) and CloudWatch Logs delivery (state machine logging) support no "
    "resource-level permissions: their actions can only be granted on '*'"
)
PATTERN_REASONS: dict[RefKind, str] = {
    "executions_of": "execution names are generated per run; the pattern covers the runs of "
    "exactly this state machine",
    "secret": "secrets live under each tenant's namespace (<prefix>/<tenant>/<name>); the "
    "pattern is the one secret name this agent declares, in every tenant's space, and the agent "
    "runtime resolves only the calling tenant's; Secrets Manager appends 6 random characters",
    "bucket": "grants are on the objects of one bucket: archived records keyed "
    "<tenant>/<workflow>/<execution>.json (the events function writes them, never reads), or "
    "large values keyed <tenant>/<sha256> in the payload bucket (resolved only under the run's "
    "tenant, checked against the digest)",
    "child_executions_of": "a Distributed Map's child executions are named by Step Functions "
    "per map run; the pattern covers the child runs of exactly this state machine",
}


def nag_text(stack: Stack, value: str) -> str:
    """A resource as cdk-nag names it in a finding: `<AWS::Region>`, `<Logical.Arn>`..."""

    def render(node: Any) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and "Ref" in node:
            return f"<{node['Ref']}>"
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            return "<" + ".".join(node["Fn::GetAtt"]) + ">"
        if isinstance(node, dict) and "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return str(separator).join(render(part) for part in parts)
        raise ValueError(f"cannot name {node!r} as cdk-nag does")

    return render(stack.resolve(value))


def acknowledge_service_wide(construct: IConstruct) -> None:
    Validations.of(construct).acknowledge(
        Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=SERVICE_WIDE)
    )


def acknowledge_patterns(
    construct: IConstruct, grants: tuple[Grant, ...], references: References
) -> None:
    """Acknowledge each grant whose resource is a pattern, by its exact resource."""
    stack = Stack.of(construct)
    for grant in grants:
        resource = nag_text(stack, references.resolve(grant.resource) + grant.suffix)
        if "*" not in resource:
            continue
        reason = PATTERN_REASONS.get(grant.resource.kind)
        if reason is None:
            raise ValueError(f"a wildcard grant on {resource} has no reason to be one")
        Validations.of(construct).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason
            )
        )


def acknowledge_dead_letter_queue(construct: IConstruct) -> None:
    Validations.of(construct).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-SQS3",
            reason="this queue is itself a dead-letter queue (of the status-change rule and the "
            "events function's asynchronous invocations, or of the schedules' target)",
        )
    )


def acknowledge_api(api: IConstruct, users: IConstruct) -> None:
    Validations.of(api).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-APIG3",
            reason="AWS WAF is priced per web ACL and rule; every method already requires a "
            "Cognito identity and a tenant API key with a throttled usage plan. Attach a web "
            "ACL to the stage where the account's policy asks for one",
        ),
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            reason="API Gateway's account-wide CloudWatch role (for the stage's execution "
            "logs) is defined by AWS with this managed policy",
        ),
    )
    Validations.of(users).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-COG8",
            reason="The Plus feature plan (threat protection) is priced per active "
            "user; MFA is required and users are created by an administrator only",
        )
    )


def acknowledge_function_versions(role: IConstruct, function: Any) -> None:
    """A target's grant to invoke `function` covers its versions too (`<arn>:*`)."""
    resource = nag_text(Stack.of(role), function.function_arn)
    Validations.of(role).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}:*]",
            reason="the CDK target grants lambda:InvokeFunction on this one function and its "
            "versions; the schedule invokes the unqualified function",
        )
    )


def acknowledge_unrotated_key(secret: IConstruct) -> None:
    Validations.of(secret).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-SMG4",
            reason="an HMAC key that only signs the API's page tokens; it guards no data, and "
            "rotating it (by hand, any time) only makes the outstanding tokens invalid (400)",
        )
    )
