"""The JSON Lines channel to the worker (executor-protocol.md §3).

This is the only module that writes to the process's real standard output: user prints are
captured elsewhere (``capture.py``) and become ``log`` messages sent through here. Reads and
writes go straight to file descriptors, so no Python-level buffer can hold protocol bytes across
a ``fork`` or get mixed with user output.

Messages are ASCII JSON with compact separators, one per line, written with a single flush.
Requests are synchronous, as in 0.12: ids count 1, 2, 3… per process, one outstanding request at
a time; a response for another id is stashed, and a message without an id while waiting is a
fatal protocol error.
"""

from __future__ import annotations

import json
import os
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii

import _thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_READ_SIZE = 65536


class ProtocolError(Exception):
    """A message does not have the shape the protocol requires."""


class ProtocolFailure(BaseException):
    """The channel is unusable (end of stream, or a message that breaks the exchange).

    A ``BaseException`` so that user code catching ``Exception`` cannot swallow it: the executor
    reports it on stderr and exits with status 1.
    """


class RequestError(RuntimeError):
    """The worker answered a request with an error (``RuntimeError("<code>: <message>")``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_DEFAULT = json.JSONEncoder().default  # raises "Object of type … is not JSON serializable"
_DECODER = json.JSONDecoder()
_JSON_WHITESPACE = " \t\n\r"


def dumps_compact(value: Any, ensure_ascii: bool = True) -> str:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=…, allow_nan=False)``.

    Calls the C encoder directly: ``dumps`` builds a ``JSONEncoder`` and runs four Python frames
    per call, and in a forked child every object they touch is a page copied from the template.
    """
    if c_make_encoder is None:  # no C accelerator (other Python implementations)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=False)
    encode_string = encode_basestring_ascii if ensure_ascii else encode_basestring
    encoder = c_make_encoder({}, _DEFAULT, encode_string, None, ":", ",", False, False, False)
    return "".join(encoder(value, 0))


def encode_message(message: dict[str, Any]) -> bytes:
    """One protocol line: ASCII JSON, compact separators, newline-terminated."""
    return dumps_compact(message).encode("ascii") + b"\n"


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to ``fd`` (``os.write`` may write partially on pipes and sockets)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_document(document: Any, fd: int = 1) -> None:
    """Write one JSON document (discovery output) to the real stdout."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
    write_all(fd, text.encode("ascii") + b"\n")


class LineReader:
    """Reads newline-terminated lines from a file descriptor with its own small buffer."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self.eof = False

    def pending_line(self) -> bytes | None:
        """A complete line already buffered (without its newline), else ``None``."""
        index = self._buffer.find(b"\n")
        if index < 0:
            return None
        line = bytes(self._buffer[:index])
        del self._buffer[: index + 1]
        return line

    def fill(self) -> bool:
        """Read once from the descriptor; ``False`` at end of stream."""
        chunk = os.read(self.fd, _READ_SIZE)
        if not chunk:
            self.eof = True
            return False
        self._buffer += chunk
        return True

    def read_line(self) -> bytes | None:
        """The next line, blocking; ``None`` at end of stream (a final unterminated line counts)."""
        while True:
            line = self.pending_line()
            if line is not None:
                return line
            if self.eof or not self.fill():
                if self._buffer:
                    line = bytes(self._buffer)
                    self._buffer.clear()
                    return line
                return None


def decode_line(line: bytes) -> dict[str, Any]:
    """Parse one protocol line (UTF-8) into a JSON object."""
    try:
        # json.loads without its encoding detection and wrapper frames (see dumps_compact)
        text = line.decode().strip(_JSON_WHITESPACE)
        message, end = _DECODER.raw_decode(text)
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except ValueError as e:
        raise ProtocolError(f"invalid JSON: {e}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message


class Channel:
    """The executor's side of the protocol over a pair of file descriptors."""

    def __init__(self, in_fd: int = 0, out_fd: int = 1) -> None:
        self.reader = LineReader(in_fd)
        self.out_fd = out_fd
        self._write_lock = _thread.allocate_lock()
        self._request_lock = _thread.RLock()
        self._next_id = 1
        self._stash: dict[int, dict[str, Any]] = {}

    def send(self, message: dict[str, Any]) -> None:
        """Write one message (thread-safe; one write per message)."""
        data = encode_message(message)
        with self._write_lock:
            try:
                write_all(self.out_fd, data)
            except OSError as e:
                raise ProtocolFailure(f"cannot write to the worker: {e}") from None

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification (never answered)."""
        self.send({"method": method, "params": params})

    def receive(self) -> dict[str, Any] | None:
        """The next message, skipping empty lines; ``None`` at end of stream."""
        while True:
            line = self.reader.read_line()
            if line is None:
                return None
            if line.strip():
                return decode_line(line)

    def request(self, method: str, params: dict[str, Any]) -> Any:
        """Send a request and wait for its response; returns ``result``.

        Raises ``RequestError`` for an error response and ``ProtocolFailure`` when the stream
        ends or an unexpected message arrives.
        """
        with self._request_lock:
            request_id = self._next_id
            self._next_id += 1
            self.send({"id": request_id, "method": method, "params": params})
            response = self._stash.pop(request_id, None)
            while response is None:
                try:
                    message = self.receive()
                except ProtocolError as e:
                    raise ProtocolFailure(f"bad message from the worker: {e}") from None
                if message is None:
                    raise ProtocolFailure(f"worker closed the channel while waiting for {method}")
                message_id = message.get("id")
                if "method" in message or not isinstance(message_id, int):
                    raise ProtocolFailure(
                        f"unexpected message while waiting for response {request_id}: "
                        f"{message.get('method')!r}"
                    )
                if message_id == request_id:
                    response = message
                else:
                    self._stash[message_id] = message
        error = response.get("error")
        if error:
            if isinstance(error, dict):
                raise RequestError(str(error.get("code", "error")), str(error.get("message", "")))
            raise RequestError("error", str(error))
        return response.get("result")


# --- Message validation (used by tests and the shared fixtures) -------------------------------

_S, _I, _L, _D, _B = str, int, list, dict, bool
_N = (int, float)

# method → (kind, required params, optional params); kind is "request" or "notification".
MESSAGES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "ready": (
        "notification",
        {"version": _S},
        {"adapter": _S, "pid": _I, "preloaded": _L, "preload_failed": _L, "fork": _B},
    ),
    "execute": (
        "notification",
        {"execution_id": _S, "module": _S, "target": _S, "arguments": _L, "working_dir": _S},
        {"run_id": _S, "workspace_id": _S, "attempt": _I, "timeout_ms": _I, "temp_dir": _S},
    ),
    "log": (
        "notification",
        {"execution_id": _S, "level": _I},
        {"template": (str, type(None)), "values": _D},
    ),
    "define_metric": ("notification", {"execution_id": _S, "key": _S, "definition": _D}, {}),
    "metric": ("notification", {"execution_id": _S, "key": _S, "value": _N}, {"at": _N}),
    "register_group": (
        "notification",
        {"execution_id": _S, "group_id": _I},
        {"name": (str, type(None))},
    ),
    "execution_result": ("notification", {"execution_id": _S}, {"result": (dict, type(None))}),
    "execution_error": ("notification", {"execution_id": _S, "error": _D}, {}),
    "submit_execution": (
        "request",
        {"execution_id": _S, "module": _S, "target": _S, "arguments": _L},
        {
            "type": _S, "wait_for": (list, bool), "group_id": _I, "cache": _D, "defer": _D,
            "memo": (bool, list), "delay": _N, "retries": _D, "recurrent": _B,
            "requires": _D, "timeout": _I, "resumes": _I, "priority": _I, "concurrency": _L,
        },
    ),
    "select": (
        "request",
        {"execution_id": _S, "handles": _L},
        {"timeout_ms": _I, "suspend": _B, "cancel_remaining": _B},
    ),
    "cancel": ("request", {"execution_id": _S, "handles": _L}, {}),
    "suspend": ("request", {"execution_id": _S}, {"execute_after": _I}),
    "persist_asset": (
        "request",
        {"execution_id": _S},
        {"paths": _L, "metadata": _D, "entries": _D, "files": _D},
    ),
    "get_asset": ("request", {"execution_id": _S, "asset_id": _S}, {}),
    "download_blob": ("request", {"execution_id": _S, "blob_key": _S, "target_path": _S}, {}),
    "upload_blob": ("request", {"execution_id": _S, "source_path": _S}, {}),
    "submit_input": (
        "request",
        {"execution_id": _S, "template": _S},
        {
            "placeholders": _D, "schema": _S, "key": _S, "title": _S, "actions": _L,
            "initial": object, "requires": _D,
        },
    ),
    # Fork template extension (ours): worker → template, template → worker, child → fork socket.
    "fork": ("notification", {"count": _I}, {}),
    "exited": ("notification", {"pid": _I, "status": _I}, {}),
    "hello": ("notification", {"pid": _I, "channel": _S}, {}),
}


def _check_type(method: str, name: str, value: Any, expected: Any) -> None:
    if expected is object:
        return
    if isinstance(value, bool) and expected in (_I, _N):
        raise ProtocolError(f"{method}.{name} must be a number, not a boolean")
    if not isinstance(value, expected):
        raise ProtocolError(f"{method}.{name} has the wrong type")


def check_value(value: Any, where: str) -> None:
    """Validate an executor-channel Value object (executor-protocol.md §8.1)."""
    if not isinstance(value, dict):
        raise ProtocolError(f"{where} is not a Value object")
    kind = value.get("type")
    if kind == "inline":
        pass  # a missing "value" means null (0.12)
    elif kind == "file":
        if not isinstance(value.get("path"), str):
            raise ProtocolError(f"{where}: file value without a path")
    else:
        raise ProtocolError(f"{where}: unknown value type {kind!r}")
    if not isinstance(value.get("format", "json"), str):
        raise ProtocolError(f"{where}: format must be a string")
    references = value.get("references", [])
    if not isinstance(references, list) or not all(isinstance(r, list) and r for r in references):
        raise ProtocolError(f"{where}: references must be a list of arrays")


def _check_values(method: str, params: dict[str, Any]) -> None:
    if method in ("execute", "submit_execution"):
        for i, argument in enumerate(params["arguments"]):
            check_value(argument, f"{method}.arguments[{i}]")
    elif method == "execution_result" and params.get("result") is not None:
        check_value(params["result"], "execution_result.result")
    elif method in ("log", "submit_input"):
        field = "values" if method == "log" else "placeholders"
        for name, value in (params.get(field) or {}).items():
            check_value(value, f"{method}.{field}.{name}")
    elif method == "execution_error":
        error = params["error"]
        if not isinstance(error.get("type"), str) or not isinstance(error.get("message"), str):
            raise ProtocolError("execution_error.error needs string type and message")


def _check_resumes(params: dict[str, Any]) -> None:
    # resumes (ours): the automatic resumption of an abandoned workflow; a task is never resumed
    resumes = params.get("resumes")
    if resumes is None:
        return
    if resumes < 0:
        raise ProtocolError("submit_execution.resumes must not be negative")
    if params.get("type", "task") != "workflow":
        raise ProtocolError("submit_execution.resumes applies to workflows only")


def _check_concurrency(params: dict[str, Any]) -> None:
    # concurrency (ours): [limit, key], the key already resolved from the call's arguments
    concurrency = params.get("concurrency")
    if concurrency is None:
        return
    if len(concurrency) != 2 or not isinstance(concurrency[1], str):
        raise ProtocolError("submit_execution.concurrency must be [limit, key]")
    limit = concurrency[0]
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ProtocolError("submit_execution.concurrency limit must be an integer of at least 1")


def parse_message(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Validate one message of the executor protocol and classify it.

    Returns ``{"kind": "notification"|"request"|"response", ...}`` with ``method``/``params``
    (notifications, requests) or ``id``/``result``/``error`` (responses). Unknown methods are
    accepted as notifications or requests without parameter checks (the protocol ignores or
    rejects them at a higher level).
    """
    message = decode_line(raw.encode() if isinstance(raw, str) else raw) if not isinstance(raw, dict) else raw
    message_id = message.get("id")
    if message_id is not None and (isinstance(message_id, bool) or not isinstance(message_id, int) or message_id <= 0):
        raise ProtocolError("id must be a positive integer")
    method = message.get("method")
    if method is None:
        if message_id is None:
            raise ProtocolError("message has neither method nor id")
        if "result" not in message:
            raise ProtocolError("response without result")
        error = message.get("error")
        if error is not None:
            if not isinstance(error, dict) or not isinstance(error.get("code"), str) or not isinstance(error.get("message"), str):
                raise ProtocolError("error must be {code, message}")
            if message["result"] is not None:
                raise ProtocolError("an error response has a null result")
        return {"kind": "response", "id": message_id, "result": message["result"], "error": error}
    if not isinstance(method, str):
        raise ProtocolError("method must be a string")
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise ProtocolError(f"params of {method} must be an object")
    kind = "request" if message_id is not None else "notification"
    spec = MESSAGES.get(method)
    if spec is not None:
        expected_kind, required, optional = spec
        if kind != expected_kind:
            raise ProtocolError(f"{method} must be a {expected_kind}")
        for name, expected in required.items():
            if name not in params:
                raise ProtocolError(f"{method} is missing {name}")
            _check_type(method, name, params[name], expected)
        for name, expected in optional.items():
            if name in params and params[name] is not None:
                _check_type(method, name, params[name], expected)
        _check_values(method, params)
        if method == "submit_execution":
            _check_resumes(params)
            _check_concurrency(params)
    result = {"kind": kind, "method": method, "params": params}
    if message_id is not None:
        result["id"] = message_id
    return result
