"""Bearer tokens for the local API (`baton token TENANT`, `baton serve`): JWTs signed with a key
kept in the project (.baton/local-signing-key), carrying the tenant claim that a Cognito user
pool puts in the cloud (`custom:tenant`). For local use only: the key never leaves the machine.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from baton_service.tenants import TENANT_CLAIM, TENANT_SYNTAX, is_tenant

ISSUER = "baton-local"
ALGORITHM = "HS256"
KEY_FILE = Path(".baton") / "local-signing-key"
LIFETIME_SECONDS = 12 * 3600


class TokenError(ValueError):
    """A token the local API does not accept (the message says why)."""


def signing_key(root: Path) -> str:
    """The project's local signing key, created on first use (readable by its owner only)."""
    path = root / KEY_FILE
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def issue(tenant: str, key: str, *, lifetime: int = LIFETIME_SECONDS) -> str:
    if not is_tenant(tenant):
        raise TokenError(f"tenant {tenant!r}: {TENANT_SYNTAX}")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": f"local-{tenant}",
        TENANT_CLAIM: tenant,
        "token_use": "id",
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(authorization: str | None, key: str) -> dict[str, Any]:
    """The claims of a valid `Bearer <token>` header; TokenError otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise TokenError("an Authorization: Bearer <token> header is required (baton token TENANT)")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iss", TENANT_CLAIM]},
        )
    except jwt.PyJWTError as err:
        raise TokenError(f"the token is not valid here: {err}") from err
    return claims
