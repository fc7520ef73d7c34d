"""What the manifest's references are offline: the names and ARNs of the offline AWS (moto)."""

from __future__ import annotations

from baton.deploy.manifest import WARM_ALIAS, Manifest, Ref


class LocalResources:
    def __init__(self, manifest: Manifest, region: str, account: str) -> None:
        self.manifest = manifest
        self.region, self.account = region, account

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def state_machine_arn(self, name: str) -> str:
        return self.arn("states", f"stateMachine:{name}")

    def function_arn(self, agent: str) -> str:
        return self.arn("lambda", f"function:{self.manifest.agents[agent].function_name}")

    def resolve(self, ref: Ref) -> str:
        """A Ref's offline value (names for `name`, ARNs otherwise)."""
        manifest = self.manifest
        if ref.kind == "table":
            name = manifest.tables[ref.key].name
            return name if ref.attribute == "name" else self.arn("dynamodb", f"table/{name}")
        if ref.kind == "function":
            return self.function_arn(ref.key)
        if ref.kind == "function_named":
            return self.arn("lambda", f"function:{manifest.function_named(ref.key)}")
        if ref.kind == "alias":
            return f"{self.function_arn(ref.key)}:{WARM_ALIAS}"
        if ref.kind == "bus":
            bus = manifest.event_bus
            return bus if ref.attribute == "name" else self.arn("events", f"event-bus/{bus}")
        if ref.kind == "topic":
            return self.arn("sns", manifest.topic)
        if ref.kind == "bucket":
            bucket = manifest.archive_bucket if ref.key == "archive" else manifest.payload_bucket
            return bucket if ref.attribute == "name" else f"arn:aws:s3:::{bucket}"
        if ref.kind == "state_machine":
            return self.state_machine_arn(manifest.workflows[ref.key].state_machine_name)
        if ref.kind == "state_machine_arn_prefix":
            return self.state_machine_arn("")
        if ref.kind == "service_secret":
            name = manifest.service_secret_name(ref.key)
            return self.arn("secretsmanager", f"secret:{name}")
        raise ValueError(f"{ref.kind} references have no offline value")
