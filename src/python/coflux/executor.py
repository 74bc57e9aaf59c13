"""``python -m coflux execute``: one executor process (executor-protocol.md §4).

Lifecycle: preload ``COFLUX_EXECUTOR_MODULES`` (output captured and written to stderr, import
errors remembered), send ``ready``, receive one ``execute``, run it, send ``execution_result`` or
``execution_error``, exit 0. With ``COFLUX_FORK_SOCKET`` set, ``ready`` also says
``"fork": true`` and a ``fork`` message turns the process into a fork template (``fork.py``).

This path is kept lean: no asyncio (unless the target is ``async def``), no typing, no inspect.
"""

from __future__ import annotations

import io
import os
import sys

from . import context, models, serialization
from .capture import OutputCapture
from .protocol import Channel, ProtocolError, ProtocolFailure
from .target import Target
from .version import ADAPTER, API_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Preload:
    """Modules imported before ``ready``, and the ones that failed (name → exception)."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.failed: dict[str, BaseException] = {}

    def run(self, names: list[str]) -> None:
        """Import ``names`` in order with Python-level output captured; the captured text (and
        one line per failure) goes to the real stderr."""
        if not names:
            return
        buffer = io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = buffer
        try:
            for name in names:
                try:
                    __import__(name)
                    self.loaded.append(name)
                except (Exception, SystemExit) as e:
                    self.failed[name] = e
                    buffer.write(f"coflux: failed to preload {name}: {type(e).__name__}: {e}\n")
        finally:
            sys.stdout, sys.stderr = saved
        text = buffer.getvalue()
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()


def modules_from_environment() -> list[str]:
    """The distinct module names of ``COFLUX_EXECUTOR_MODULES``, in order."""
    value = os.environ.get("COFLUX_EXECUTOR_MODULES", "")
    return list(dict.fromkeys(m.strip() for m in value.split(",") if m.strip()))


def ready_params(preload: Preload, fork: bool = False) -> dict[str, Any]:
    """Parameters of the ``ready`` message (``fork`` only in a negotiating template)."""
    params: dict[str, Any] = {
        "version": API_VERSION,
        "adapter": ADAPTER,
        "pid": os.getpid(),
        "preloaded": list(preload.loaded),
        "preload_failed": list(preload.failed),
    }
    if fork:
        params["fork"] = True
    return params


def find_target(module_name: str, target_name: str) -> Target:
    """Import (or reuse) the module and find the target by its target name, falling back to the
    attribute of that name."""
    module = sys.modules.get(module_name)
    if module is None:
        __import__(module_name)
        module = sys.modules[module_name]
    attribute = getattr(module, target_name, None)
    if not isinstance(attribute, Target) or attribute.is_stub:
        attribute = None  # stubs stand for targets hosted elsewhere
    if attribute is not None and attribute.name == target_name:
        return attribute
    for value in list(vars(module).values()):
        if isinstance(value, Target) and not value.is_stub and value.name == target_name:
            return value
    if attribute is not None:
        return attribute
    raise ValueError(f"Target not found: {module_name}/{target_name}")


def decode_arguments(target: Target, arguments: list[dict[str, Any]]) -> list[Any]:
    """Decode the arguments; ``Input`` handles typed ``Input[Model]`` get their model."""
    values = [serialization.deserialize(a) for a in arguments]
    for index, value in enumerate(values):
        if isinstance(value, models.Input):
            model = target.input_model(index)
            if model is not None:
                value.model = model
    return values


def invoke(target: Target, arguments: list[Any]) -> Any:
    """Call the function; ``async def`` targets run on a fresh event loop."""
    if target.is_coroutine:
        import asyncio

        return asyncio.run(target.fn(*arguments))
    return target.fn(*arguments)


def error_payload(error: BaseException, target: Target | None) -> dict[str, Any]:
    """The ``error`` of ``execution_error``: type, message, user-only traceback and, when the
    target has a retry ``when`` predicate, ``retryable``."""
    from . import options, tracebacks

    when = target.retry_when if target is not None else None
    retryable = None
    if when is not None:
        try:
            retryable = options.matches_retry(when, error)
        except Exception as predicate_error:
            error, when = predicate_error, None  # report the predicate's failure instead
    payload: dict[str, Any] = {
        "type": tracebacks.type_name(error),
        "message": tracebacks.safe_message(error),
        "traceback": tracebacks.format_exception(error),
    }
    if when is not None:
        payload["retryable"] = retryable
    return payload


def _wait_for_end(channel: Channel, capture: OutputCapture) -> None:
    """After a successful ``suspend``: block until the worker kills us or closes stdin."""
    capture.stop()
    while channel.reader.read_line() is not None:
        pass
    os._exit(0)


def execute(channel: Channel, params: dict[str, Any]) -> int:
    """Run one ``execute`` message to completion (executor-protocol.md §4.5)."""
    execution_id = params.get("execution_id", "")
    module_name = params.get("module", "")
    target_name = params.get("target", "")

    def emitter(level: int) -> Any:
        return lambda line: channel.notify(
            "log", {"execution_id": execution_id, "level": level, "template": line}
        )

    capture = OutputCapture(emitter(context.LOG_STDOUT), emitter(context.LOG_STDERR))
    ctx = context.ExecutionContext(
        channel,
        execution_id,
        module=module_name,
        target=target_name,
        temp_dir=params.get("temp_dir") or None,
        working_dir=params.get("working_dir") or None,
        run_id=params.get("run_id"),
        workspace_id=params.get("workspace_id"),
        attempt=params.get("attempt"),
        on_suspended=lambda: _wait_for_end(channel, capture),
    )
    try:
        previous_dir: str | None = os.getcwd()
    except OSError:
        previous_dir = None
    target: Target | None = None
    try:
        context.install(ctx)
        capture.start()
        try:
            if ctx.working_dir:
                os.chdir(ctx.working_dir)
            target = find_target(module_name, target_name)
            value = invoke(target, decode_arguments(target, params.get("arguments") or []))
            completion = ("execution_result", {"execution_id": execution_id, "result": ctx.serialize(value)})
        except Exception as error:
            completion = ("execution_error", {"execution_id": execution_id, "error": error_payload(error, target)})
        capture.stop()  # pending output is sent before the completion, never after it
        channel.notify(*completion)
    finally:
        capture.stop()
        context.install(None)
        if previous_dir is not None:
            try:
                os.chdir(previous_dir)
            except OSError:
                pass
    return 0


def serve(channel: Channel, preload: Preload, fork_socket: str | None = None) -> int:
    """Announce ``ready`` and handle the first message; returns the exit status."""
    channel.notify("ready", ready_params(preload, fork=fork_socket is not None))
    try:
        message = channel.receive()
    except ProtocolError as e:
        print(f"coflux: {e}", file=sys.stderr)
        return 1
    if message is None:
        return 0  # an idle executor whose stdin was closed
    method = message.get("method")
    if method == "execute":
        return execute(channel, message.get("params") or {})
    if method == "fork" and fork_socket is not None:
        from . import fork

        return fork.run_template(channel, fork_socket, message, preload)
    print(f"Unknown method: {method}", file=sys.stderr)
    return 1


def _enable_faulthandler() -> None:
    """Make a fatal signal (a segfault in native code, an abort) print the Python stack to stderr
    first, so the worker's crash message can quote it (executor-protocol.md §10.4). Forked
    children inherit it; fd 2 is their stderr connection by then."""
    import faulthandler  # built in, and already imported by the interpreter's start-up

    if not faulthandler.is_enabled():
        try:
            faulthandler.enable()
        except (RuntimeError, ValueError, AttributeError, OSError):
            pass  # no usable stderr


def main() -> int:
    """Entry point of ``python -m coflux execute``."""
    _enable_faulthandler()
    preload = Preload()
    preload.run(modules_from_environment())
    try:
        return serve(Channel(0, 1), preload, os.environ.get("COFLUX_FORK_SOCKET") or None)
    except ProtocolFailure as e:
        print(f"coflux: protocol failure: {e}", file=sys.stderr)
        return 1
