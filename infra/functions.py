"""Baton's Lambda functions (one per agent; the events, API and scheduler functions), each with
its own role, log group and X-Ray tracing, built from the manifest's FunctionDeployment."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from baton.deploy.layer import ARCHITECTURE, CODE_EXCLUDES, LAMBDA_PYTHON
from baton.deploy.manifest import CATALOG_FILE, FunctionDeployment, Manifest, environment_text
from infra.acknowledgements import acknowledge_service_wide
from infra.grants import apply_grants
from infra.references import References

RUNTIME = getattr(lambda_.Runtime, "PYTHON_" + LAMBDA_PYTHON.replace(".", "_"))
ARCH = lambda_.Architecture.ARM_64 if ARCHITECTURE == "arm64" else lambda_.Architecture.X86_64
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


class LambdaPackage(Construct):
    """The function code (functions/) and the layers every function shares: the dependencies
    (built by `make layer`) and the workflow catalog (written here, from the manifest)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        manifest: Manifest,
        functions_dir: Path,
        layer_dir: Path,
        build_dir: Path,
    ) -> None:
        super().__init__(scope, id)
        if not (layer_dir / "python").is_dir():
            raise FileNotFoundError(f"no dependency layer in {layer_dir}: run `make layer` first")
        self.code = lambda_.Code.from_asset(str(functions_dir), exclude=list(CODE_EXCLUDES))
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir), exclude=[".built"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCH],
            description="Baton: what the Lambda code imports (functions/requirements.txt)",
        )
        self.catalog = self._catalog_layer(manifest, build_dir)

    def _catalog_layer(self, manifest: Manifest, build_dir: Path) -> lambda_.LayerVersion:
        """The catalog as a file at CATALOG_FILE (/opt/...), for the lifecycle and the API."""
        relative = Path(CATALOG_FILE).relative_to("/opt")
        folder = build_dir / f"catalog-{manifest.prefix}"
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(json.dumps(manifest.catalog(), indent=1), encoding="utf-8")
        return lambda_.LayerVersion(
            self,
            "Catalog",
            code=lambda_.Code.from_asset(str(folder)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCH],
            description="Baton: the deployed workflows (names, recovery, triggers, retention)",
        )


def retained_log_group(scope: Construct, id: str, name: str) -> logs.LogGroup:
    """A log group kept for LOG_RETENTION, and kept when the stack is deleted."""
    return logs.LogGroup(
        scope, id, log_group_name=name, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
    )


def baton_function(
    scope: Construct,
    id: str,
    deployment: FunctionDeployment,
    package: LambdaPackage,
    references: References,
    layers: list[lambda_.ILayerVersion] | None = None,
) -> lambda_.Function:
    """A function with its own role: its log group, X-Ray, and the manifest's grants."""
    log_group = retained_log_group(scope, f"{id}Logs", f"/aws/lambda/{deployment.function_name}")
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Baton: what {deployment.function_name} may do, and nothing else",
    )
    log_group.grant_write(role)
    acknowledge_service_wide(role)  # Tracing.ACTIVE: X-Ray
    function = lambda_.Function(
        scope,
        id,
        function_name=deployment.function_name,
        description=deployment.description,
        runtime=RUNTIME,
        architecture=ARCH,
        handler=deployment.handler,
        code=package.code,
        layers=[package.dependencies, *(layers or [])],
        memory_size=deployment.memory,
        timeout=Duration.seconds(deployment.timeout_seconds),
        reserved_concurrent_executions=deployment.reserved_concurrency,
        environment=environment_text(deployment.environment, references.resolve),
        role=role,
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
    )
    apply_grants(role, deployment.grants, references)
    return function


class AgentFunctions(Construct):
    """One function per agent of the registry; a `pool.warm` agent also gets its alias with
    provisioned concurrency, which its state machines invoke."""

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
        for name, deployment in manifest.agents.items():
            function = baton_function(self, name, deployment, package, references)
            references.functions[name] = function
            if deployment.alias:
                references.aliases[name] = lambda_.Alias(
                    self,
                    f"{name}Alias",
                    alias_name=deployment.alias,
                    version=function.current_version,
                    provisioned_concurrent_executions=deployment.provisioned_concurrency,
                )
