"""The JSON Lines channel and the shared message fixtures (test/fixtures/protocol/executor.jsonl)."""

from __future__ import annotations

import json
import os
import threading

import pytest

from conftest import FIXTURES
from coflux import protocol
from coflux.protocol import Channel, ProtocolError, ProtocolFailure, RequestError, parse_message

FIXTURE_FILE = FIXTURES / "protocol" / "executor.jsonl"
LINES = [line for line in FIXTURE_FILE.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("line", LINES, ids=[f"line{i + 1}" for i in range(len(LINES))])
def test_every_fixture_line_parses(line):
    message = parse_message(line)
    assert message["kind"] in ("notification", "request", "response")
    assert line.isascii()
    # Our encoder writes the same bytes back (compact, ASCII).
    assert protocol.encode_message(json.loads(line)) == line.encode() + b"\n"


def test_fixtures_cover_every_message_kind():
    methods = set()
    kinds = set()
    for line in LINES:
        message = parse_message(line)
        kinds.add(message["kind"])
        if "method" in message:
            methods.add(message["method"])
        elif message["error"]:
            kinds.add("error response")
    assert methods == set(protocol.MESSAGES)
    assert kinds == {"notification", "request", "response", "error response"}


def _submit(**params):
    base = {"execution_id": "x", "module": "m", "target": "w", "arguments": []}
    return json.dumps({"id": 1, "method": "submit_execution", "params": {**base, **params}})


def test_submit_priority_and_concurrency_may_be_absent_or_null():
    assert parse_message(_submit(priority=None, concurrency=None))["kind"] == "request"
    params = parse_message(_submit(priority=-2, concurrency=[2, "customer-42"]))["params"]
    assert (params["priority"], params["concurrency"]) == (-2, [2, "customer-42"])


def test_submit_resumes_may_be_absent_or_null():
    assert parse_message(_submit(type="workflow", resumes=None))["kind"] == "request"
    assert parse_message(_submit(type="workflow", resumes=0))["params"]["resumes"] == 0


@pytest.mark.parametrize(
    "raw, error",
    [
        ("[1]", "not a JSON object"),
        ("{bad", "invalid JSON"),
        ('{"params": {}}', "neither method nor id"),
        ('{"id": 0, "result": null}', "positive integer"),
        ('{"id": true, "result": null}', "positive integer"),
        ('{"id": 1}', "without result"),
        ('{"id": 1, "result": 1, "error": {"code": "x", "message": "y"}}', "null result"),
        ('{"id": 1, "result": null, "error": {"code": 1}}', "code, message"),
        ('{"method": "ready", "params": {}}', "missing version"),
        ('{"method": "ready", "params": []}', "must be an object"),
        ('{"id": 1, "method": "ready", "params": {"version": "0.12"}}', "must be a notification"),
        ('{"method": "select", "params": {"execution_id": "x", "handles": []}}', "must be a request"),
        ('{"method": "log", "params": {"execution_id": "x", "level": true}}', "not a boolean"),
        ('{"method": "execution_result", "params": {"execution_id": "x", "result": {"type": "blob"}}}', "unknown value type"),
        ('{"method": "execute", "params": {"execution_id": "x", "module": "m", "target": "t", "working_dir": "/", "arguments": [{"type": "file"}]}}', "without a path"),
        (_submit(type="workflow", resumes=-1), "resumes must not be negative"),
        (_submit(type="workflow", resumes=1.5), "resumes has the wrong type"),
        (_submit(type="workflow", resumes=True), "resumes must be a number"),
        (_submit(type="task", resumes=2), "resumes applies to workflows only"),
        (_submit(resumes=0), "resumes applies to workflows only"),
        (_submit(priority=1.5), "priority has the wrong type"),
        (_submit(priority=True), "priority must be a number"),
        (_submit(concurrency=2), "concurrency has the wrong type"),
        (_submit(concurrency=[2]), r"concurrency must be \[limit, key\]"),
        (_submit(concurrency=[2, None]), r"concurrency must be \[limit, key\]"),
        (_submit(concurrency=[0, "k"]), "concurrency limit must be an integer of at least 1"),
        (_submit(concurrency=[True, "k"]), "concurrency limit must be an integer of at least 1"),
        (_submit(concurrency=[1.5, "k"]), "concurrency limit must be an integer of at least 1"),
    ],
)
def test_invalid_messages_are_rejected(raw, error):
    with pytest.raises(ProtocolError, match=error):
        parse_message(raw)


def test_unknown_methods_are_accepted_without_checks():
    assert parse_message('{"id": 3, "method": "future_thing"}')["kind"] == "request"


def make_channel():
    """A Channel over two pipes, with the far ends returned for the test to play the worker."""
    to_executor_r, to_executor_w = os.pipe()
    from_executor_r, from_executor_w = os.pipe()
    channel = Channel(to_executor_r, from_executor_w)
    worker_in = os.fdopen(from_executor_r, "rb")
    worker_out = os.fdopen(to_executor_w, "wb", buffering=0)
    return channel, worker_in, worker_out


def test_requests_are_synchronous_with_increasing_ids():
    channel, worker_in, worker_out = make_channel()
    results = []

    def executor_side():
        results.append(channel.request("cancel", {"handles": []}))
        try:
            channel.request("get_asset", {"asset_id": "A"})
        except RequestError as e:
            results.append((str(e), e.code))
        results.append(channel.request("select", {}))

    thread = threading.Thread(target=executor_side)
    thread.start()
    first = json.loads(worker_in.readline())
    assert first == {"id": 1, "method": "cancel", "params": {"handles": []}}
    worker_out.write(b'\n{"id":1,"result":{}}\n')  # empty lines are ignored
    second = json.loads(worker_in.readline())
    assert second["id"] == 2
    # A response for another id arrives first: it is stashed, then used for request 3.
    worker_out.write(b'{"id":3,"result":"third"}\n{"id":2,"result":null,"error":{"code":"get_asset_error","message":"not_found"}}\n')
    third = json.loads(worker_in.readline())
    assert third["id"] == 3
    thread.join(5)
    assert results == [{}, ("get_asset_error: not_found", "get_asset_error"), "third"]


def test_fatal_conditions_while_waiting():
    channel, worker_in, worker_out = make_channel()
    errors = []

    def request():
        try:
            channel.request("select", {})
        except ProtocolFailure as e:
            errors.append(str(e))

    thread = threading.Thread(target=request)
    thread.start()
    worker_in.readline()
    worker_out.write(b'{"method":"execute","params":{}}\n')
    thread.join(5)
    assert errors and "unexpected message" in errors[0]

    thread = threading.Thread(target=request)
    thread.start()
    worker_in.readline()
    worker_out.close()
    thread.join(5)
    assert "closed the channel" in errors[1]
    assert issubclass(ProtocolFailure, BaseException) and not issubclass(ProtocolFailure, Exception)


def test_messages_are_ascii_single_lines():
    channel, worker_in, _ = make_channel()
    channel.notify("log", {"template": "héllo\nworld ✓"})
    line = worker_in.readline()
    assert line.isascii() and line.count(b"\n") == 1
    assert json.loads(line)["params"]["template"] == "héllo\nworld ✓"
    with pytest.raises(ValueError):
        protocol.encode_message({"value": float("nan")})


@pytest.mark.parametrize(
    "value",
    [None, 1, -2.5, True, "é ✓ \U0001f600", "\ud800", [], {}, {"b": [1, {"a": None}], 1: "x", None: 2}, [[[]]]],
)
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_dumps_compact_is_json_dumps(value, ensure_ascii):
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=False)
    assert protocol.dumps_compact(value, ensure_ascii=ensure_ascii) == expected


@pytest.mark.parametrize(
    "value, error",
    [(float("inf"), ValueError), ({1.5j: 1}, TypeError), (object(), TypeError), ([float("nan")], ValueError)],
)
def test_dumps_compact_rejects_what_json_dumps_rejects(value, error):
    with pytest.raises(error):
        protocol.dumps_compact(value)
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular"):
        protocol.dumps_compact(circular)


def test_decode_line_accepts_surrounding_whitespace_only():
    assert protocol.decode_line(b' \t{"method": "x"}\r ') == {"method": "x"}
    assert protocol.decode_line('{"t":"é"}'.encode()) == {"t": "é"}
    for line in (b'{"a": 1} {"b": 2}', b'{"a": 1}x', b"", b"\xff{}"):
        with pytest.raises(ProtocolError, match="invalid JSON"):
            protocol.decode_line(line)


def test_large_messages_are_written_whole():
    channel, worker_in, _ = make_channel()
    payload = "x" * (3 * 1024 * 1024)
    thread = threading.Thread(target=channel.notify, args=("log", {"template": payload}))
    thread.start()
    message = json.loads(worker_in.readline())
    thread.join(5)
    assert message["params"]["template"] == payload
