"""Metrics (semantics.md §25, executor-protocol.md §5.2–§5.3).

A metric is defined once per execution and key (``define_metric``) before its first point
(``metric``). Metrics in the same *group* share an x-axis; metrics with the same named *scale*
in a group share a y-axis. Redefining a key, a group or a named scale with a different
configuration in the same execution raises ``ValueError``. Example::

    loss = cf.Metric("loss", group=cf.MetricGroup("training", units="epoch"), scale="error")
    for epoch in range(10):
        loss.record(train_one(epoch), at=epoch)

    for item in cf.progress(items):     # a progress bar towards len(items)
        handle(item)
"""

from __future__ import annotations

from . import context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Iterator, TypeVar

    T = TypeVar("T")

DEFAULT_THROTTLE = 10  # points per second per key, applied by the worker

_INF = float("inf")


class MetricGroup:
    """A shared x-axis: ``name``, ``units`` and the axis bounds."""

    def __init__(
        self, name: str, *, units: str | None = None, lower: float | None = None, upper: float | None = None
    ) -> None:
        self.name = name
        self.units = units
        self.lower = lower
        self.upper = upper


class MetricScale:
    """A named y-axis shared by the metrics of a group: ``units`` and bounds."""

    def __init__(
        self, name: str, *, units: str | None = None, lower: float | None = None, upper: float | None = None
    ) -> None:
        self.name = name
        self.units = units
        self.lower = lower
        self.upper = upper


def _check_number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}")
    if value != value or value in (_INF, -_INF):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


class Metric:
    """A metric of the running execution, identified by ``key``.

    ``group`` (a name or ``MetricGroup``), ``scale`` (a name or ``MetricScale``; ``None`` for a
    private y-axis), ``units``, ``progress`` (render as progress towards ``upper``), ``lower``,
    ``upper`` and ``throttle`` (points per second kept by the worker; ``None`` for all).
    """

    def __init__(
        self,
        key: str,
        *,
        group: str | MetricGroup | None = None,
        scale: str | MetricScale | None = None,
        units: str | None = None,
        progress: bool = False,
        lower: float | None = None,
        upper: float | None = None,
        throttle: float | None = DEFAULT_THROTTLE,
    ) -> None:
        if not isinstance(key, str) or not key:
            raise ValueError("metric key must be a non-empty string")
        if throttle is not None and (_check_number(throttle, "throttle") <= 0):
            raise ValueError("throttle must be positive")
        self.key = key
        self.group = MetricGroup(group) if isinstance(group, str) else group
        self.scale = MetricScale(scale) if isinstance(scale, str) else scale
        if isinstance(self.scale, MetricScale):
            units = units if units is not None else self.scale.units
            lower = lower if lower is not None else self.scale.lower
            upper = upper if upper is not None else self.scale.upper
        self.units = units
        self.progress = bool(progress)
        self.lower = lower
        self.upper = upper
        self.throttle = throttle

    def definition(self) -> dict[str, Any]:
        """The ``define_metric`` definition (only fields that are set)."""
        d: dict[str, Any] = {}
        if self.throttle is not None:
            d["throttle"] = self.throttle
        if self.group is not None:
            d["group"] = self.group.name
            for field in ("units", "lower", "upper"):
                value = getattr(self.group, field)
                if value is not None:
                    d[f"group_{field}"] = value
        if self.scale is not None:
            d["scale"] = self.scale.name
        if self.units is not None:
            d["units"] = self.units
        if self.progress:
            d["progress"] = True
        if self.lower is not None:
            d["lower"] = self.lower
        if self.upper is not None:
            d["upper"] = self.upper
        return d

    def define(self) -> None:
        """Send the definition now (done automatically before the first point)."""
        ctx = context.current_context()
        if ctx is not None:
            _define(ctx, self.key, self.definition())

    def record(self, value: float, *, at: float | None = None) -> None:
        """Record a point; ``at`` is the x value (default: seconds since the execution started)."""
        _check_number(value, "metric value")
        if at is not None:
            _check_number(at, "at")
        ctx = context.current_context()
        if ctx is None:
            return
        _define(ctx, self.key, self.definition())  # sends once; raises if the key differs
        _send_point(ctx, self.key, value, at)


def _state(ctx: Any) -> dict[str, dict[Any, Any]]:
    state = ctx.metrics
    if not state:
        state.update(keys={}, groups={}, scales={})
    return state


def _define(ctx: Any, key: str, definition: dict[str, Any]) -> None:
    state = _state(ctx)
    existing = state["keys"].get(key)
    if existing is not None:
        if existing != definition:
            raise ValueError(f"metric {key!r} is already defined with a different configuration")
        return
    group = definition.get("group")
    if group is not None:
        config = {k: v for k, v in definition.items() if k.startswith("group_")}
        previous = state["groups"].setdefault(group, config)
        if previous != config:
            raise ValueError(f"metric group {group!r} is already defined with a different configuration")
    scale = definition.get("scale")
    if scale is not None:
        config = {k: definition.get(k) for k in ("units", "lower", "upper", "progress")}
        previous = state["scales"].setdefault((group, scale), config)
        if previous != config:
            raise ValueError(f"metric scale {scale!r} is already defined with a different configuration")
    state["keys"][key] = definition
    ctx.notify("define_metric", {"key": key, "definition": definition})


def _send_point(ctx: Any, key: str, value: float, at: float | None) -> None:
    params: dict[str, Any] = {"key": key, "value": value}
    if at is not None:
        params["at"] = at
    ctx.notify("metric", params)


def metric(key: str, value: float, *, at: float | None = None) -> None:
    """Record a point for ``key`` (defined with default settings if it is new)."""
    _check_number(value, "metric value")
    if at is not None:
        _check_number(at, "at")
    ctx = context.current_context()
    if ctx is None:
        return
    if key not in _state(ctx)["keys"]:
        _define(ctx, key, Metric(key).definition())
    _send_point(ctx, key, value, at)


def progress(iterable: Iterable[T], key: str = "progress") -> Iterator[T]:
    """Iterate while reporting progress: a progress metric with ``upper = len(iterable)`` (the
    iterable is materialised when it has no length) and the count consumed after each item."""
    try:
        total = len(iterable)  # type: ignore[arg-type]
    except TypeError:
        iterable = list(iterable)
        total = len(iterable)
    tracker = Metric(key, progress=True, lower=0, upper=total)
    tracker.define()
    return _track(iterable, tracker)


def _track(iterable: Iterable[T], tracker: Metric) -> Iterator[T]:
    count = 0
    for item in iterable:
        yield item
        count += 1
        tracker.record(count)
