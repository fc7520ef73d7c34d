"""`schedule:` of a workflow → an EventBridge Scheduler schedule whose target, the scheduler
function, starts the execution through the lifecycle (a record and events like any other run;
once per scheduled time, however often Scheduler delivers)."""

from __future__ import annotations

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.deploy.manifest import Manifest
from infra.acknowledgements import acknowledge_dead_letter_queue, acknowledge_function_versions
from infra.functions import LambdaPackage, baton_function
from infra.references import References


class Schedules(Construct):
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
        schedules = manifest.schedules()
        if not schedules:
            return
        function = baton_function(
            self,
            "Starter",
            manifest.scheduler_function,
            package,
            references,
            layers=[package.catalog],
        )
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge_dead_letter_queue(dead_letters)
        # Scheduler may invoke this one function, for this account only
        role = iam.Role(
            self,
            "InvokeRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="Baton: what EventBridge Scheduler may do for Baton's schedules",
        )
        acknowledge_function_versions(role, function)  # the target grants lambda:Invoke
        for workflow_id, schedule in schedules.items():
            scheduled_time = str(scheduler.ContextAttribute.scheduled_time)
            scheduler.Schedule(
                self,
                workflow_id,
                schedule_name=schedule.name,
                description=f"Baton: start {workflow_id} as {schedule.tenant}",
                schedule=scheduler.ScheduleExpression.expression(
                    schedule.expression, TimeZone.of(schedule.timezone)
                ),
                enabled=schedule.enabled,
                target=targets.LambdaInvoke(
                    function,
                    input=scheduler.ScheduleTargetInput.from_object(
                        schedule.target_input(workflow_id, scheduled_time)
                    ),
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                    dead_letter_queue=dead_letters,
                    role=role,
                ),
            )
