"""The running execution's context, and the ``cf.*`` functions that talk to it.

One execution runs per process, so the context is a process-wide global (threads started by user
code see it too). Outside any execution ``current_context()`` is ``None``: logging, groups and
``suspense`` then do nothing, and calls run locally (see ``target.py``).
"""

from __future__ import annotations

import time

import _thread

from . import errors, models, serialization

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

    from .protocol import Channel
    from .target import Target

_current: ExecutionContext | None = None

LOG_DEBUG, LOG_STDOUT, LOG_INFO, LOG_STDERR, LOG_WARNING, LOG_ERROR = range(6)


def current_context() -> ExecutionContext | None:
    """The running execution's context, or ``None`` outside an execution."""
    return _current


def require_context() -> ExecutionContext:
    """The running execution's context; raises ``RuntimeError`` outside an execution."""
    if _current is None:
        raise RuntimeError("not running inside a Coflux execution")
    return _current


def install(ctx: ExecutionContext | None) -> None:
    """Make ``ctx`` the current context (``None`` clears it)."""
    global _current
    _current = ctx


class ExecutionContext:
    """State of one execution: its channel, groups, wait timeouts and resolved handles."""

    def __init__(
        self,
        channel: Channel,
        execution_id: str,
        *,
        module: str = "",
        target: str = "",
        temp_dir: str | None = None,
        working_dir: str | None = None,
        run_id: str | None = None,
        workspace_id: str | None = None,
        attempt: int | None = None,
        on_suspended: Callable[[], None] | None = None,
    ) -> None:
        self.channel = channel
        self.execution_id = execution_id
        self.module = module
        self.target = target
        self.temp_dir = temp_dir
        self.working_dir = working_dir
        self.run_id = run_id
        self.workspace_id = workspace_id
        self.attempt = attempt
        self.on_suspended = on_suspended
        self.metrics: dict[str, Any] = {}  # state of metrics.py, per execution
        self._lock = _thread.RLock()
        self._groups: list[int] = []
        self._next_group = 0
        self._suspense: list[int] = []
        self._resolved: dict[tuple[str, str], dict[str, Any]] = {}

    # --- Channel helpers ---------------------------------------------------------------------

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification on behalf of this execution."""
        self.channel.notify(method, {"execution_id": self.execution_id, **params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        """Send a request on behalf of this execution and return its result."""
        return self.channel.request(method, {"execution_id": self.execution_id, **params})

    def serialize(self, value: Any, *, lenient: bool = False) -> dict[str, Any]:
        """Encode a value, writing transfer files into this execution's ``temp_dir``."""
        return serialization.serialize(value, self.temp_dir, lenient=lenient)

    # --- Submitting ----------------------------------------------------------------------------

    def submit(self, target: Target, call_options: dict[str, Any], arguments: list[Any]) -> models.Execution:
        """Send ``submit_execution`` for a call and return the new handle."""
        o = call_options
        # resolved first: a key that can't be formatted fails the call before anything is sent
        limit = o.get("concurrency")
        concurrency = [limit["limit"], target.concurrency_key(limit["key"], arguments)] if limit else None
        params: dict[str, Any] = {
            "module": target.module,
            "target": target.name,
            "type": target.type,
            "arguments": [self.serialize(a) for a in arguments],
        }
        if o.get("wait_for"):
            params["wait_for"] = o["wait_for"]
        if self._groups:
            params["group_id"] = self._groups[-1]
        for key in ("cache", "defer", "retries", "requires"):
            if o.get(key):
                params[key] = o[key]
        if o.get("memo") is not None:
            params["memo"] = o["memo"]  # an explicit False opts out of run-level memo
        if o.get("delay"):
            params["delay"] = o["delay"]
        if o.get("recurrent"):
            params["recurrent"] = True
        if o.get("timeout"):
            params["timeout"] = o["timeout"]
        if o.get("resumes") is not None:
            params["resumes"] = o["resumes"]  # workflows only; 0 (never resume) is sent too
        if o.get("priority") is not None:
            params["priority"] = o["priority"]  # absent: the server gives the caller's
        if concurrency:
            params["concurrency"] = concurrency
        result = self.request("submit_execution", params)
        return models.Execution(
            result["execution_id"], result.get("module", target.module), result.get("target", target.name)
        )

    # --- Waiting -----------------------------------------------------------------------------

    def _wait_timeout(self) -> int | None:
        return self._suspense[-1] if self._suspense else None

    def select_handles(
        self, handles: list[Any], *, suspend: bool, timeout_ms: int | None, cancel_remaining: bool = False
    ) -> int | None:
        """Send ``select``; remember the winner's answer and return its index (``None`` if nothing
        resolved)."""
        params: dict[str, Any] = {"handles": [h._wire() for h in handles], "suspend": suspend}
        if timeout_ms is not None:
            params["timeout_ms"] = timeout_ms
        if cancel_remaining:
            params["cancel_remaining"] = True
        result = self.request("select", params)
        if result is None:
            return None
        winner = result["winner"]
        handle = handles[winner]
        self._resolved[(handle._kind, handle.id)] = result
        return winner

    def _answer(self, handle: Any) -> Any:
        """Turn a remembered ``select`` answer into the value, or raise the failure."""
        result = self._resolved[(handle._kind, handle.id)]
        status = result.get("status")
        if status == "ok":
            value = serialization.deserialize(result.get("value"))
            return handle._convert(value) if isinstance(handle, models.Input) else value
        if status == "error":
            error = result.get("error") or {}
            raise errors.make_execution_error(
                str(error.get("type", "")), str(error.get("message", "")), error.get("traceback") or "", handle
            )
        if status == "cancelled":
            raise errors.ExecutionCancelled(f"{handle.id} was cancelled", execution=handle)
        if status == "dismissed":
            raise errors.InputDismissed(f"input {handle.id} was dismissed", input=handle)
        if status == "abandoned":
            raise errors.ExecutionAbandoned(f"{handle.id} was abandoned", execution=handle)
        if status == "timeout":
            raise errors.ExecutionTimeout(f"{handle.id} timed out", execution=handle)
        raise RuntimeError(f"unexpected select status {status!r} for {handle.id}")

    def wait(self, handle: Any) -> Any:
        """``handle.result()``: wait (possibly suspending) for the handle's final outcome."""
        if (handle._kind, handle.id) not in self._resolved:
            if self.select_handles([handle], suspend=True, timeout_ms=self._wait_timeout()) is None:
                raise TimeoutError(f"{handle.id} did not resolve in time")
        return self._answer(handle)

    def poll(self, handle: Any, timeout: float | None, default: Any) -> Any:
        """``handle.poll(timeout, default)``: wait at most ``timeout`` seconds, never suspend."""
        if (handle._kind, handle.id) not in self._resolved:
            timeout_ms = _milliseconds(timeout) if timeout else 0
            if self.select_handles([handle], suspend=False, timeout_ms=timeout_ms) is None:
                return default
        return self._answer(handle)

    def select(self, handles: list[Any], cancel_remaining: bool) -> Any:
        """``cf.select``: the first handle (in the given order) to resolve."""
        for handle in handles:
            if (handle._kind, handle.id) in self._resolved:
                if cancel_remaining:
                    others = [h for h in handles if h is not handle and isinstance(h, models.Execution)]
                    if others:
                        self.cancel(others)
                return handle
        winner = self.select_handles(
            handles, suspend=True, timeout_ms=self._wait_timeout(), cancel_remaining=cancel_remaining
        )
        if winner is None:
            raise TimeoutError("none of the handles resolved in time")
        return handles[winner]

    def cancel(self, handles: list[Any]) -> None:
        """Cancel executions and inputs."""
        self.request("cancel", {"handles": [h._wire() for h in handles]})

    def suspend(self, execute_after_ms: int | None) -> None:
        """Ask to be suspended (resumed from the start at ``execute_after_ms``, or as soon as
        possible); does not return."""
        params = {} if execute_after_ms is None else {"execute_after": execute_after_ms}
        self.request("suspend", params)
        if self.on_suspended is not None:
            self.on_suspended()
        raise SystemExit(0)

    # --- Presentation ------------------------------------------------------------------------

    def log(self, level: int, template: str | None, values: dict[str, Any] | None = None) -> None:
        """Send one log entry; values that cannot be encoded are logged as their repr."""
        params: dict[str, Any] = {"level": level, "template": template}
        if values:
            params["values"] = {k: self.serialize(v, lenient=True) for k, v in values.items()}
        self.notify("log", params)

    def enter_group(self, name: str | None) -> int:
        """Allocate the next group id, register it and make it the innermost group."""
        with self._lock:
            group_id = self._next_group
            self._next_group += 1
        self.notify("register_group", {"group_id": group_id, "name": name})
        self._groups.append(group_id)
        return group_id

    def exit_group(self, group_id: int) -> None:
        """Leave a group entered with ``enter_group``."""
        if group_id in self._groups:
            self._groups.remove(group_id)

    def push_suspense(self, timeout_ms: int) -> None:
        """Start a ``suspense`` block."""
        self._suspense.append(timeout_ms)

    def pop_suspense(self) -> None:
        """End the innermost ``suspense`` block."""
        if self._suspense:
            self._suspense.pop()


def _milliseconds(seconds: Any) -> int:
    """A wait timeout in seconds (number or timedelta) as non-negative integer milliseconds."""
    if hasattr(seconds, "total_seconds"):
        seconds = seconds.total_seconds()
    return max(0, int(seconds * 1000))


# --- Public functions --------------------------------------------------------------------------


def _log(level: int, template: Any, values: dict[str, Any]) -> None:
    ctx = _current
    if ctx is not None:
        ctx.log(level, None if template is None else str(template), values)


def log_debug(template: str | None = None, **values: Any) -> None:
    """Log at debug level: ``cf.log_debug("fetched {n} rows", n=len(rows))``."""
    _log(LOG_DEBUG, template, values)


def log_info(template: str | None = None, **values: Any) -> None:
    """Log at info level; ``{name}`` placeholders refer to the keyword values."""
    _log(LOG_INFO, template, values)


def log_warning(template: str | None = None, **values: Any) -> None:
    """Log at warning level."""
    _log(LOG_WARNING, template, values)


def log_error(template: str | None = None, **values: Any) -> None:
    """Log at error level."""
    _log(LOG_ERROR, template, values)


class group:
    """Group the calls made inside the block under a name (presentation only)::

        with cf.group("Process chapters"):
            for chapter in chapters:
                process.submit(chapter)
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._id: int | None = None

    def __enter__(self) -> group:
        ctx = _current
        if ctx is not None:
            self._id = ctx.enter_group(None if self.name is None else str(self.name))
        return self

    def __exit__(self, *exc: Any) -> None:
        ctx = _current
        if ctx is not None and self._id is not None:
            ctx.exit_group(self._id)


class suspense:
    """Limit waits inside the block to ``timeout`` seconds (0 when omitted); a wait that runs out
    lets the server suspend this execution, to be resumed when the awaited result exists::

        with cf.suspense(30):
            value = job.result()
    """

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout_ms = 0 if timeout is None else _milliseconds(timeout)
        self._active = False

    def __enter__(self) -> suspense:
        ctx = _current
        if ctx is not None:
            ctx.push_suspense(self.timeout_ms)
            self._active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        ctx = _current
        if ctx is not None and self._active:
            ctx.pop_suspense()
            self._active = False


def select(handles: Iterable[Any], *, cancel_remaining: bool = False) -> Any:
    """Wait for the first of several executions or inputs to resolve and return that handle
    (its ``.result()`` then answers without another round trip)::

        winner = cf.select([fast.submit(x), slow.submit(x)], cancel_remaining=True)
        value = winner.result()

    Raises ``TimeoutError`` when a ``suspense`` timeout expires first.
    """
    handles = list(handles)
    if not handles:
        raise ValueError("select needs at least one handle")
    for handle in handles:
        if not isinstance(handle, (models.Execution, models.Input)):
            raise TypeError(f"cannot select on {type(handle).__name__}")
    local = [h for h in handles if isinstance(h, models.Execution) and h._local is not None]
    if local:
        return local[0]
    return require_context().select(handles, cancel_remaining)


def cancel(handles: Iterable[Any] | Any) -> None:
    """Cancel executions and/or inputs (with their incomplete descendants)."""
    if isinstance(handles, (models.Execution, models.Input)):
        handles = [handles]
    remote = [h for h in handles if not (isinstance(h, models.Execution) and h._local is not None)]
    if remote:
        require_context().cancel(remote)


def _execute_after(delay: Any) -> int | None:
    if delay is None:
        return None
    if hasattr(delay, "timestamp"):  # datetime (naive values are local time)
        return int(delay.timestamp() * 1000)
    seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else delay
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError("suspend delay must be a positive number of seconds, a timedelta or a datetime")
    return int((time.time() + seconds) * 1000)


def suspend(delay: Any = None) -> None:
    """Suspend this execution now; it is run again from the start after ``delay`` (seconds, a
    timedelta or a datetime), or as soon as possible. Does not return."""
    require_context().suspend(_execute_after(delay))
