"""Page tokens of execution listings: opaque, tamper-evident, bound to one listing.

A token names where the next page starts (an execution id and its start time, both already in
the page the caller holds) and carries an HMAC-SHA256 over that and the listing it continues
(tenant, index, filter). A token altered, made up, or replayed on another tenant's or another
filter's listing is refused (InvalidPageTokenError); the table's key layout never leaves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

from baton_service.exceptions import InvalidPageTokenError

MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)
        """Without a key (one process, offline) a random one: tokens live as long as it."""

    @classmethod
    def from_secret(cls, client: Any, secret_id: str) -> PageTokens:
        """The deployment's key, shared by every API container (a generated secret)."""
        return cls(client.get_secret_value(SecretId=secret_id)["SecretString"].encode())

    def issue(self, listing: tuple[str, ...], execution_id: str, start_time: str) -> str:
        position = json.dumps([execution_id, start_time], separators=(",", ":")).encode()
        return f"{_b64(position)}.{_b64(self._mac(listing, position))}"

    def read(self, listing: tuple[str, ...], token: str) -> tuple[str, str]:
        """(execution id, start time) where the page starts; InvalidPageTokenError unless this
        very listing issued the token."""
        try:
            encoded, _, mac = token.partition(".")
            position = _unb64(encoded)
            valid = hmac.compare_digest(_unb64(mac), self._mac(listing, position))
            execution_id, start_time = json.loads(position) if valid else (None, None)
        except (ValueError, TypeError, binascii.Error, UnicodeError):
            raise InvalidPageTokenError() from None
        if not isinstance(execution_id, str) or not isinstance(start_time, str):
            raise InvalidPageTokenError()
        return execution_id, start_time

    def _mac(self, listing: tuple[str, ...], position: bytes) -> bytes:
        message = json.dumps(list(listing)).encode() + b"\n" + position
        return hmac.new(self.key, message, hashlib.sha256).digest()[:MAC_BYTES]
