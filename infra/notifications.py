"""Where Baton's outcomes go: its event bus, the notification topic, the archive bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from baton.deploy.manifest import PAYLOADS, Manifest
from baton_agent.payloads import RETENTION_TAG
from infra.references import References


class Notifications(Construct):
    def __init__(
        self, scope: Construct, id: str, *, manifest: Manifest, references: References
    ) -> None:
        super().__init__(scope, id)
        references.bus = events.EventBus(self, "Bus", event_bus_name=manifest.event_bus)
        references.topic = sns.Topic(
            self,
            "Topic",
            topic_name=manifest.topic,
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        self.access_logs = s3.Bucket(
            self,
            "ArchiveAccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        references.buckets["archive"] = self._expiring_bucket(
            "Archive", manifest, versioned=True, logs_prefix="archive/"
        )
        # content addressed (a key names its content): nothing is ever overwritten with other
        # data, so no versions to keep
        references.buckets[PAYLOADS] = self._expiring_bucket(
            "Payloads", manifest, versioned=False, logs_prefix="payloads/"
        )

    def _expiring_bucket(
        self, id: str, manifest: Manifest, *, versioned: bool, logs_prefix: str
    ) -> s3.Bucket:
        """A private bucket whose objects live as long as their workflow's retention (the
        RETENTION_TAG they carry), no longer."""
        return s3.Bucket(
            self,
            id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=versioned,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=logs_prefix,
            lifecycle_rules=[
                *(
                    s3.LifecycleRule(
                        id=f"retention-{days}d",
                        tag_filters={RETENTION_TAG: str(days)},
                        expiration=Duration.days(days),
                        noncurrent_version_expiration=Duration.days(1) if versioned else None,
                    )
                    for days in manifest.archive_retention_days()
                ),
                s3.LifecycleRule(
                    id="cleanup",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                    expired_object_delete_marker=versioned or None,
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
