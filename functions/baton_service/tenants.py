"""Tenant names: one syntax, with no key separator (`#`) in it, so no tenant's keys can reach
another's (`acme` and `acme#corp` are not both tenants; `acme` and `acme-corp` are)."""

from __future__ import annotations

import re

TENANT_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})$")
TENANT_CLAIM = "custom:tenant"
"""The verified identity's claim naming its tenant (a Cognito user pool's custom attribute)."""
TENANT_SYNTAX = "1 to 63 lowercase letters, digits or '-', starting with a letter or digit"


def is_tenant(value: object) -> bool:
    return isinstance(value, str) and TENANT_PATTERN.match(value) is not None
