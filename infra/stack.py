"""The Baton stack: every construct, wired from one deployment manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from baton.deploy.manifest import Manifest
from infra.api import RestApi
from infra.functions import AgentFunctions, LambdaPackage
from infra.notifications import Notifications
from infra.references import References
from infra.schedules import Schedules
from infra.status_events import StatusEvents
from infra.tables import Tables
from infra.workflows import Workflows


class BatonStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        manifest: Manifest,
        functions_dir: Path,
        layer_dir: Path,
        build_dir: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        references = References(self, manifest)
        Tables(self, "Tables", manifest=manifest, references=references)
        Notifications(self, "Notifications", manifest=manifest, references=references)
        package = LambdaPackage(
            self,
            "Package",
            manifest=manifest,
            functions_dir=functions_dir,
            layer_dir=layer_dir,
            build_dir=build_dir,
        )
        AgentFunctions(self, "Agents", manifest=manifest, package=package, references=references)
        Workflows(self, "Workflows", manifest=manifest, references=references)
        StatusEvents(
            self, "StatusEvents", manifest=manifest, package=package, references=references
        )
        RestApi(self, "Api", manifest=manifest, package=package, references=references)
        Schedules(self, "Schedules", manifest=manifest, package=package, references=references)
        self.references = references
