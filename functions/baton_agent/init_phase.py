"""Lambda's init phase without the cyclic garbage collector's full passes.

A cold start creates hundreds of thousands of objects that live as long as the container (the
modules, botocore's service models, the clients). Each of them makes CPython's collector run,
and its full passes walk every object made so far: in a fresh interpreter they took most of an
agent module's import (a pass of 60 ms landed in one import after the DynamoDB client existed).
So in Lambda the collector is held while Baton's modules load and the clients are made, then
the objects made so far are frozen (the collector never walks them again: they live as long as
the container anyway) and collection resumes, at the end of the init phase: once an agent's
module has declared its agent (`@agent`: baton_agent.runtime), and at the end of each service
function's module. A Lambda module of one's own that imports baton_agent without declaring an
agent calls `release()` at its end.

Outside Lambda nothing changes. Lambda is known by AWS_LAMBDA_RUNTIME_API, which only a Lambda
runtime sets (to fetch its invocations), not by AWS_LAMBDA_FUNCTION_NAME, which test suites often
set for Powertools: their collector must never wait for an agent they might not declare.
"""

from __future__ import annotations

import gc
import os

_held = False


def hold() -> None:
    """In a Lambda container, pause the cyclic collector until `release`."""
    global _held
    if os.environ.get("AWS_LAMBDA_RUNTIME_API") and gc.isenabled() and not _held:
        gc.disable()
        _held = True


def release() -> None:
    """End of the init phase: freeze what it made and resume collection (no-op unless held)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
