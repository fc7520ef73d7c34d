"""Step Functions status changes of Baton's state machines → the events function, retried by
EventBridge and kept in a dead-letter queue when every retry failed. Only runs' ends are routed:
the lifecycle that starts a run announces it, so a RUNNING event would cost an invocation for
nothing."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.deploy.manifest import Manifest
from baton_service.events import ENDED, STATUS_CHANGE
from infra.acknowledgements import acknowledge_dead_letter_queue
from infra.functions import LambdaPackage, baton_function
from infra.references import References


class StatusEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        manifest: Manifest,
        package: LambdaPackage,
        references: References,
    ) -> None:
        super().__init__(scope, id)
        self.function = baton_function(
            self,
            "Handler",
            manifest.events_function,
            package,
            references,
            layers=[package.catalog],
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge_dead_letter_queue(self.dead_letters)
        # EventBridge retries what it cannot deliver; Lambda retries what the function fails
        # (twice); what still fails is kept for an operator, never dropped
        self.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letters),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        machines = [references.resolve(m) for m in manifest.state_machine_refs()]
        events.Rule(
            self,
            "StatusChanges",
            description="Baton: status changes of Baton's state machines",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[STATUS_CHANGE],
                detail={"stateMachineArn": machines, "status": list(ENDED)},
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.dead_letters,
                    max_event_age=Duration.hours(24),
                    retry_attempts=185,
                )
            ],
        )
