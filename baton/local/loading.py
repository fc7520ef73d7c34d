"""What the offline AWS loads at start-up: only what a run uses, and each file once.

- moto.batch's package `__init__` imports its models, and with them EC2's (1.5 s of region,
  zone and instance-type tables), while the Step Functions interpreter needs only an enum from
  `moto.batch.utils`. The package is registered without running its `__init__`; its models
  load on first use of one of their names (moto's backend lookup asks for `batch_backends`).
- botocore gives each session a loader of its own, so every boto3 session (moto makes one per
  service backend, the agents' runtime its own) parsed the same JSON models and endpoint rules
  again. One loader per data path serves them all, as one loader serves every client of a
  session. moto's own loader (models plus moto's extras) was even created anew for every model
  it loads, listing botocore's data directories each time (0.05 s a call); it is made once.

`lighten()` runs when `baton.local` is imported, before anything imports moto.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

LAZY_PACKAGES = {"moto.batch": "moto.batch.models"}
"""moto packages whose `__init__` only re-exports their models: name → the models module."""


def _lazy_package(name: str, models: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    package: ModuleType = importlib.util.module_from_spec(spec)

    def __getattr__(attribute: str) -> Any:  # PEP 562: only for names the package lacks
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(importlib.import_module(models), attribute)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package


def _once(module: ModuleType, name: str = "create_loader") -> None:
    factory = getattr(module, name)
    if not hasattr(factory, "cache_info"):
        setattr(module, name, functools.cache(factory))


def _share_loaders() -> None:
    import botocore.loaders
    import botocore.session
    import moto.core.utils

    _once(botocore.loaders)
    botocore.session.create_loader = botocore.loaders.create_loader
    _once(moto.core.utils)


def lighten() -> None:
    """Make later imports of moto, and every botocore session, load less (idempotent)."""
    for name, models in LAZY_PACKAGES.items():
        _lazy_package(name, models)
    _share_loaders()
