"""Where a secret may be sent: the hosts a workflow definition or an agent's registry entry
allows (`allowedHosts`), never a host that only the run's input names.

An entry is a host name (`portal.example.com`), optionally with a port (`127.0.0.1:8080`), or
a wildcard for the subdomains of a domain (`*.example.com`, not the domain itself). Without a
port an entry allows any port.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_PATTERN = re.compile(rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?$")
HOST_SYNTAX = "a lowercase host name, optionally `:port`, or `*.domain` for its subdomains"


def destination(url_or_host: str) -> tuple[str, int | None]:
    """(host, port) of a URL (`https://h:8443/p`) or a bare `host[:port]`; port None if absent."""
    parts = urlsplit(url_or_host if "//" in url_or_host else f"//{url_or_host}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower().rstrip("."), port


def host_allowed(url_or_host: str, allowed: Iterable[str]) -> bool:
    host, port = destination(url_or_host)
    if not host:
        return False
    for entry in allowed:
        name, _, wanted_port = entry.lower().partition(":")
        if wanted_port and (port is None or int(wanted_port) != port):
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) and host != name[2:]:
                return True
        elif host == name:
            return True
    return False
