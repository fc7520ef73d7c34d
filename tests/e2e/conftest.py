"""The server the console and API tests share in a module: `baton serve --real-waits`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_serve import start_server


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    process, endpoints = start_server("--real-waits")
    try:
        yield endpoints
    finally:
        process.terminate()
        process.wait(timeout=30)
