"""``cf.Schedule``: start a workflow on a cron schedule (ours, issue 11).

A workflow declared with ``schedule=`` is registered with its schedule (``coflux worker
--register`` or ``coflux manifests register``); the server then starts one run per due time, and
keeps doing so across its restarts. The cron is read by the server (five fields or a macro such
as ``@daily``); here only its shape is checked, and the arguments are bound to the workflow's
parameters so a mistake shows at import time rather than at 6 a.m.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Sequence

    from .target import Target

_CATCH_UP = ("once", "skip")
_OVERLAP = ("allow", "skip", "cancel")


class Schedule:
    """When and how a workflow is started by the server::

        @cf.workflow(schedule=cf.Schedule("0 6 * * 1-5", timezone="Europe/Paris", arguments={"region": "eu"}))
        def report(region: str, full: bool = False): ...

    ``cron``: five fields (minute, hour, day of month, month, day of week, with ranges, lists,
    steps and names) or a macro (``@hourly``, ``@daily``, ``@weekly``, ``@monthly``,
    ``@yearly``). ``timezone``: an IANA name (default UTC). ``arguments``: by parameter name (a
    dict) or position (a list), JSON-serialisable; parameters left out take their defaults.
    ``catch_up``: ``"once"`` (default: due times missed while the server was down start one run)
    or ``"skip"``. ``overlap``: what a due time does while the previous run is still active:
    ``"allow"`` (default) another run, ``"skip"`` none, ``"cancel"`` the previous one and start.
    A plain string (``schedule="@daily"``) is a ``Schedule`` with the defaults.
    """

    def __init__(
        self,
        cron: str,
        *,
        timezone: str | None = None,
        arguments: Mapping[str, Any] | Sequence[Any] | None = None,
        catch_up: str = "once",
        overlap: str = "allow",
    ) -> None:
        if not isinstance(cron, str) or not _is_cron_shaped(cron):
            raise ValueError(f"schedule cron must be five fields or a macro such as '@daily', got {cron!r}")
        if timezone is not None and (not isinstance(timezone, str) or not timezone):
            raise ValueError("schedule timezone must be an IANA name such as 'Europe/Paris'")
        if catch_up not in _CATCH_UP:
            raise ValueError(f"schedule catch_up must be one of {', '.join(_CATCH_UP)}")
        if overlap not in _OVERLAP:
            raise ValueError(f"schedule overlap must be one of {', '.join(_OVERLAP)}")
        self.cron = cron.strip()
        self.timezone = timezone
        self.arguments = arguments
        self.catch_up = catch_up
        self.overlap = overlap

    def __repr__(self) -> str:
        return (
            f"Schedule({self.cron!r}, timezone={self.timezone!r}, arguments={self.arguments!r}, "
            f"catch_up={self.catch_up!r}, overlap={self.overlap!r})"
        )


def _is_cron_shaped(cron: str) -> bool:
    text = cron.strip()
    return (text.startswith("@") and len(text) > 1 and " " not in text) or len(text.split()) == 5


def normalize_schedule(schedule: Any, target: Target) -> dict[str, Any] | None:
    """The discovery form of ``schedule=`` (``None`` when unset); raises for a task, a bad
    cron shape, or arguments that do not fit the workflow's parameters."""
    if schedule is None:
        return None
    if target.type != "workflow":
        raise ValueError("schedule applies to workflows only")
    if isinstance(schedule, str):
        schedule = Schedule(schedule)
    if not isinstance(schedule, Schedule):
        raise TypeError("schedule must be a cron string or a cf.Schedule")
    given = schedule.arguments
    if given is None:
        args, kwargs = (), {}
    elif isinstance(given, dict):
        args, kwargs = (), dict(given)
    elif isinstance(given, (list, tuple)):
        args, kwargs = tuple(given), {}
    else:
        raise TypeError("schedule arguments must be a dict (by name) or a list (by position)")
    try:
        values = target.bind(args, kwargs)
    except TypeError as e:
        raise TypeError(f"schedule arguments: {e}") from None
    texts = []
    for i, value in enumerate(values):
        try:
            texts.append(json.dumps(value, separators=(",", ":"), allow_nan=False))
        except (TypeError, ValueError) as e:
            raise TypeError(f"schedule argument {target.parameter_names[i]!r} is not JSON-serialisable: {e}") from None
    result: dict[str, Any] = {"cron": schedule.cron}
    if schedule.timezone is not None:
        result["timezone"] = schedule.timezone
    if texts:
        result["arguments"] = texts
    if schedule.catch_up != "once":
        result["catch_up"] = schedule.catch_up
    if schedule.overlap != "allow":
        result["overlap"] = schedule.overlap
    return result
