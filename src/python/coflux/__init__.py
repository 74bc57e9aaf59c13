"""Coflux: orchestrate workflows written in plain Python.

Declare targets with decorators and call them like functions; inside a running workflow each
call becomes a step scheduled by Coflux::

    import coflux as cf

    @cf.task(retries=2)
    def fetch(url: str) -> str: ...

    @cf.workflow()
    def pipeline(urls: list[str]) -> int:
        pages = [fetch.submit(u) for u in urls]
        return sum(len(p.result()) for p in pages)

Outside an execution (for example in unit tests) a target simply runs as a plain function.
"""

from __future__ import annotations

from .assets import asset
from .context import (
    cancel,
    group,
    log_debug,
    log_error,
    log_info,
    log_warning,
    select,
    suspend,
    suspense,
)
from .decorators import stub, task, workflow
from .errors import (
    ExecutionAbandoned,
    ExecutionCancelled,
    ExecutionError,
    ExecutionTerminated,
    ExecutionTimeout,
    InputDismissed,
)
from .inputs import Prompt
from .metrics import Metric, MetricGroup, MetricScale, metric, progress
from .models import Asset, AssetEntry, AssetMetadata, Execution, Input
from .options import Cache, Defer, Limit, Retries
from .schedules import Schedule
from .target import Target
from .version import __version__

__all__ = [
    "Asset",
    "AssetEntry",
    "AssetMetadata",
    "Cache",
    "Defer",
    "Execution",
    "ExecutionAbandoned",
    "ExecutionCancelled",
    "ExecutionError",
    "ExecutionTerminated",
    "ExecutionTimeout",
    "Input",
    "InputDismissed",
    "Limit",
    "Metric",
    "MetricGroup",
    "MetricScale",
    "Prompt",
    "Retries",
    "Schedule",
    "Target",
    "__version__",
    "asset",
    "cancel",
    "group",
    "log_debug",
    "log_error",
    "log_info",
    "log_warning",
    "metric",
    "progress",
    "select",
    "stub",
    "suspend",
    "suspense",
    "task",
    "workflow",
]
