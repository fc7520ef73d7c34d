"""IAM from the manifest's grants: exactly the actions on exactly the resources it names."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_iam as iam

from baton.deploy.manifest import Grant
from infra.acknowledgements import acknowledge_patterns
from infra.references import References


def apply_grants(role: iam.IRole, grants: Iterable[Grant], references: References) -> None:
    """Add the grants to the role; acknowledge (with its reason) each that is a pattern."""
    grants = tuple(grants)
    acknowledge_patterns(role, grants, references)
    for grant in grants:
        resource = references.resolve(grant.resource) + grant.suffix
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(grant.actions), resources=[resource])
        )
