"""One Step Functions state machine per workflow file: the compiled ASL with the manifest's
substitutions, a role that may invoke exactly its agents, logs without execution data, X-Ray."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from baton.deploy.manifest import Manifest
from infra.acknowledgements import acknowledge_service_wide
from infra.functions import retained_log_group
from infra.grants import apply_grants
from infra.references import References


class Workflows(Construct):
    def __init__(
        self, scope: Construct, id: str, *, manifest: Manifest, references: References
    ) -> None:
        super().__init__(scope, id)
        for workflow_id, workflow in manifest.workflows.items():
            role = iam.Role(
                self,
                f"{workflow_id}Role",
                assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                description=f"Baton: what {workflow.state_machine_name} may do",
            )
            apply_grants(role, workflow.grants, references)
            acknowledge_service_wide(role)  # tracing and logging
            log_group = retained_log_group(
                self, f"{workflow_id}Logs", f"/aws/vendedlogs/states/{workflow.state_machine_name}"
            )
            references.state_machines[workflow_id] = sfn.StateMachine(
                self,
                workflow_id,
                state_machine_name=workflow.state_machine_name,
                state_machine_type=sfn.StateMachineType[workflow.type],
                definition_body=sfn.DefinitionBody.from_string(workflow.definition),
                definition_substitutions={
                    key: references.resolve(ref) for key, ref in workflow.substitutions.items()
                },
                role=role,
                logs=sfn.LogOptions(
                    destination=log_group,
                    level=sfn.LogLevel.ALL,
                    include_execution_data=False,
                ),
                tracing_enabled=True,
            )
