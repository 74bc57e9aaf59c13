"""``python -m coflux execute`` driven over pipes by a scripted fake worker (executor-protocol.md §4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import inline
from coflux import protocol

FLOWS = """
import os, sys
import coflux as cf

print("printed at import")  # captured during preload, never on the protocol stream

@cf.task(retries=2)
def add(a, b=2, c=3):
    return a + b + c

@cf.workflow()
def pipeline(x):
    print("starting", x)
    print("partial", end="")
    print("", file=sys.stderr)
    print("to stderr", file=sys.stderr)
    cf.log_info("got {x}", x=x, extra={"k": (1, 2)})
    with cf.group("adding"):
        job = add.submit(x, c=5)
    value = job.result()
    return {"value": value, "cwd": os.getcwd(), "isatty": sys.stdout.isatty()}
"""


@pytest.fixture
def run(app_dir, worker_factory, tmp_path):
    """Run one execution of ``flows.<target>``; returns (worker, ready, completion)."""
    xfer = tmp_path / "xfer"
    xfer.mkdir()
    work = tmp_path / "work"
    work.mkdir()

    def run_one(source, target, arguments=(), respond=None, *, mode="module", env=None, preload=True, **extra):
        app_dir.write("flows.py", source)
        environment = {"COFLUX_EXECUTOR_MODULES": "flows"} if preload else {}
        environment.update(env or {})
        worker = worker_factory(app_dir.path, mode=mode, env=environment)
        ready = worker.read()
        extra.setdefault("temp_dir", str(xfer))
        working_dir = extra.pop("working_dir", work)
        worker.execute("flows", target, [inline(a) if not isinstance(a, dict) else a for a in arguments], working_dir, **extra)
        completion = worker.run(respond)
        assert worker.finish() == 0
        return worker, ready, completion

    run_one.work = work
    run_one.xfer = xfer
    return run_one


def result_of(completion):
    assert completion["method"] == "execution_result", completion
    value = completion["params"]["result"]
    assert value["type"] == "inline"
    from coflux.serialization import deserialize

    return deserialize(value)


@pytest.mark.parametrize("mode", ["module", "isolated"])
def test_full_execution(run, mode):
    requests = []

    def respond(message):
        requests.append(message)
        if message["method"] == "submit_execution":
            return {"result": {"execution_id": "RwD6:2:1", "module": "flows", "target": "add"}}
        assert message["method"] == "select"
        return {"result": {"winner": 0, "status": "ok", "value": inline(10)}}

    worker, ready, completion = run(FLOWS, "pipeline", [3], respond, mode=mode)
    assert ready == {"method": "ready", "params": {
        "version": "0.12", "adapter": "coflux-python/0.12.0", "pid": worker.process.pid,
        "preloaded": ["flows"], "preload_failed": []}}
    assert result_of(completion) == {"value": 10, "cwd": str(run.work), "isatty": False}
    assert completion["params"]["execution_id"] == "RwD6:1:1"

    methods = [m.get("method") for m in worker.messages[1:]]
    assert methods == ["log", "log", "log", "register_group", "submit_execution", "select", "log", "execution_result"]
    logs = [m["params"] for m in worker.messages if m.get("method") == "log"]
    assert logs[0] == {"execution_id": "RwD6:1:1", "level": 1, "template": "starting 3"}
    assert logs[1] == {"execution_id": "RwD6:1:1", "level": 3, "template": "to stderr"}  # empty line dropped
    assert logs[2]["level"] == 2 and logs[2]["template"] == "got {x}"
    assert logs[2]["values"]["x"] == {"type": "inline", "format": "json", "value": 3, "references": []}
    assert logs[2]["values"]["extra"]["value"] == {"type": "dict", "items": ["k", {"type": "tuple", "items": [1, 2]}]}
    # The partial line is sent when capture stops, before the completion.
    assert logs[3] == {"execution_id": "RwD6:1:1", "level": 1, "template": "partial"}

    register = worker.messages[4]
    assert register["params"] == {"execution_id": "RwD6:1:1", "group_id": 0, "name": "adding"}
    submit, select = requests
    assert submit["id"] == 1 and select["id"] == 2
    assert submit["params"] == {
        "execution_id": "RwD6:1:1", "module": "flows", "target": "add", "type": "task",
        "arguments": [{"type": "inline", "format": "json", "value": v, "references": []} for v in (3, 2, 5)],
        "group_id": 0, "retries": {"limit": 2},
    }
    assert select["params"] == {
        "execution_id": "RwD6:1:1", "handles": [{"type": "execution", "id": "RwD6:2:1"}], "suspend": True}
    stderr = worker.process.stderr.read().decode()
    assert "printed at import" in stderr


def test_ready_without_preload_and_import_at_execute(run):
    worker, ready, completion = run(
        "import coflux as cf\nprint('import-time print')\n@cf.task()\ndef t():\n    return 'ok'\n", "t", preload=False
    )
    assert ready["params"]["preloaded"] == [] and "fork" not in ready["params"]
    assert result_of(completion) == "ok"
    # A module imported at execute time is imported inside the output capture.
    assert worker.messages[1]["params"]["template"] == "import-time print"


def test_error_with_user_only_traceback(run):
    source = """
import coflux as cf

def helper(n):
    return 1 / n

@cf.task()
def divide(n):
    return helper(n)
"""
    _, _, completion = run(source, "divide", [0])
    assert completion["method"] == "execution_error"
    error = completion["params"]["error"]
    assert error["type"] == "builtins.ZeroDivisionError"
    assert error["message"] == "division by zero"
    assert "retryable" not in error
    traceback = error["traceback"]
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert 'flows.py", line 9, in divide' in traceback and "in helper" in traceback
    assert "coflux" not in traceback.replace("flows.py", "")
    assert traceback.rstrip().endswith("ZeroDivisionError: division by zero")


@pytest.mark.parametrize(
    "when, raised, expected",
    [
        ("KeyError", "ValueError('v')", False),
        ("KeyError", "KeyError('k')", True),
        ("(KeyError, ValueError)", "ValueError('v')", True),
        ("lambda e: 'retry' in str(e)", "RuntimeError('please retry')", True),
    ],
)
def test_retry_predicate_sets_retryable(run, when, raised, expected):
    source = f"import coflux as cf\n@cf.task(retries=cf.Retries(3, when={when}))\ndef t():\n    raise {raised}\n"
    _, _, completion = run(source, "t")
    assert completion["params"]["error"]["retryable"] is expected


def test_failing_retry_predicate_is_reported_instead(run):
    source = "import coflux as cf\n@cf.task(retries=cf.Retries(3, when=lambda e: e.missing))\ndef t():\n    raise KeyError('k')\n"
    _, _, completion = run(source, "t")
    error = completion["params"]["error"]
    assert error["type"] == "builtins.AttributeError" and "missing" in error["message"]
    assert "retryable" not in error


def test_child_errors_are_execution_errors_of_the_original_class(run):
    source = """
import coflux as cf

@cf.task()
def child():
    raise ValueError("bad input")

@cf.workflow()
def parent():
    try:
        child()
    except ValueError as e:
        return [isinstance(e, cf.ExecutionError), type(e).__name__, e.type, str(e), e.traceback,
                e.execution.id]
"""
    def respond(message):
        if message["method"] == "submit_execution":
            return {"result": {"execution_id": "RwD6:2:1", "module": "flows", "target": "child"}}
        return {"result": {"winner": 0, "status": "error", "error": {
            "type": "builtins.ValueError", "message": "bad input",
            "traceback": '  File "/app/t.py", line 3, in f\n    raise ValueError("bad input")'}}}

    _, _, completion = run(source, "parent", [], respond)
    assert result_of(completion) == [
        True, "ValueError", "builtins.ValueError", "bad input",
        '  File "/app/t.py", line 3, in f\n    raise ValueError("bad input")', "RwD6:2:1"]


def test_uncaught_child_error_keeps_the_original_type(run):
    source = "import coflux as cf\n@cf.task()\ndef c(): ...\n@cf.workflow()\ndef p():\n    return c()\n"

    def respond(message):
        if message["method"] == "submit_execution":
            return {"result": {"execution_id": "RwD6:2:1", "module": "flows", "target": "c"}}
        return {"result": {"winner": 0, "status": "error", "error": {"type": "nowhere.CustomError", "message": "x"}}}

    _, _, completion = run(source, "p", [], respond)
    error = completion["params"]["error"]
    assert (error["type"], error["message"]) == ("nowhere.CustomError", "x")


@pytest.mark.parametrize(
    "status, exception",
    [("cancelled", "ExecutionCancelled"), ("abandoned", "ExecutionAbandoned"), ("timeout", "ExecutionTimeout")],
)
def test_terminated_children(run, status, exception):
    source = f"""
import coflux as cf
@cf.task()
def c(): ...
@cf.workflow()
def p():
    try:
        c()
    except cf.{exception} as e:
        return [isinstance(e, cf.ExecutionTerminated), e.execution.id]
"""
    def respond(message):
        if message["method"] == "submit_execution":
            return {"result": {"execution_id": "RwD6:2:1", "module": "flows", "target": "c"}}
        return {"result": {"winner": 0, "status": status}}

    _, _, completion = run(source, "p", [], respond)
    assert result_of(completion) == [True, "RwD6:2:1"]


def test_waiting_operations(run):
    source = """
import coflux as cf

@cf.task()
def c(n): ...

@cf.workflow()
def p():
    a = c.submit(1)
    b = c.submit(2)
    out = [a.poll(), a.poll(1.5, default="d")]
    with cf.suspense(2):
        try:
            b.result()
        except TimeoutError:
            out.append("timeout")
    with cf.suspense():
        winner = cf.select([a, b], cancel_remaining=True)
    out.append(winner.id)
    out.append(b.result())      # answered from the cache: no request
    b.cancel()
    cf.cancel([a])
    try:
        c.submit(3)
    except RuntimeError as e:
        out.append(str(e))
    return out
"""
    requests = []

    def respond(message):
        requests.append(message)
        method, params = message["method"], message["params"]
        if method == "submit_execution":
            n = params["arguments"][0]["value"]
            if n == 3:
                return {"result": None, "error": {"code": "submit_error", "message": "nope"}}
            return {"result": {"execution_id": f"R:{n + 1}:1", "module": "flows", "target": "c"}}
        if method == "select":
            if params.get("cancel_remaining"):
                return {"result": {"winner": 1, "status": "ok", "value": inline("B")}}
            return {"result": None}
        assert method == "cancel"
        return {"result": {}}

    _, _, completion = run(source, "p", [], respond)
    assert result_of(completion) == [None, "d", "timeout", "R:3:1", "B", "submit_error: nope"]
    selects = [r["params"] for r in requests if r["method"] == "select"]
    strip = lambda p: {k: v for k, v in p.items() if k != "execution_id"}  # noqa: E731
    assert [strip(p) for p in selects] == [
        {"handles": [{"type": "execution", "id": "R:2:1"}], "suspend": False, "timeout_ms": 0},
        {"handles": [{"type": "execution", "id": "R:2:1"}], "suspend": False, "timeout_ms": 1500},
        {"handles": [{"type": "execution", "id": "R:3:1"}], "suspend": True, "timeout_ms": 2000},
        {"handles": [{"type": "execution", "id": "R:2:1"}, {"type": "execution", "id": "R:3:1"}],
         "suspend": True, "timeout_ms": 0, "cancel_remaining": True},
    ]
    cancels = [r["params"]["handles"] for r in requests if r["method"] == "cancel"]
    assert cancels == [[{"type": "execution", "id": "R:3:1"}], [{"type": "execution", "id": "R:2:1"}]]
    assert [r["id"] for r in requests] == list(range(1, len(requests) + 1))


def test_call_site_overrides_are_sent(run):
    source = """
import datetime
import coflux as cf

@cf.task(memo=False, requires={"gpu": True}, cache=cf.Cache(60, params=["a"]))
def c(a, b=None): ...

@cf.workflow()
def p():
    c.submit(1)
    c.with_retries(cf.Retries(2, backoff=(1, 5))).with_delay(datetime.timedelta(seconds=3)) \\
        .with_timeout(10).with_wait(["a"]).with_memo(["b"]).with_defer(True) \\
        .with_requires({"region": []}).with_cache(False).with_recurrent().submit(b=2, a=1)
"""
    submits = []

    def respond(message):
        submits.append({k: v for k, v in message["params"].items() if k not in ("execution_id", "arguments")})
        return {"result": {"execution_id": "R:2:1", "module": "flows", "target": "c"}}

    run(source, "p", [], respond)
    assert submits == [
        {"module": "flows", "target": "c", "type": "task", "cache": {"params": [0], "max_age_ms": 60000},
         "requires": {"gpu": ["true"]}, "memo": False},
        {"module": "flows", "target": "c", "type": "task", "wait_for": [0], "defer": {"params": True},
         "retries": {"limit": 2, "backoff_min_ms": 1000, "backoff_max_ms": 5000}, "requires": {"region": []},
         "memo": [1], "delay": 3000,
         "recurrent": True, "timeout": 10000},
    ]


def test_workflow_resumes_are_sent_only_when_set(run):
    source = """
import coflux as cf

@cf.workflow(resumes=4)
def child(): ...

@cf.workflow()
def plain(): ...

@cf.workflow()
def p():
    child.submit()
    child.with_resumes(0).submit()
    plain.submit()
    plain.with_resumes(9).submit()
"""
    submits = []

    def respond(message):
        assert protocol.parse_message(message)["kind"] == "request"
        submits.append((message["params"]["target"], message["params"].get("resumes")))
        return {"result": {"execution_id": "R:2:1", "module": "flows", "target": message["params"]["target"]}}

    run(source, "p", [], respond)
    assert submits == [("child", 4), ("child", 0), ("plain", None), ("plain", 9)]


def test_priority_and_resolved_concurrency_keys_go_over_the_channel(run):
    source = """
import coflux as cf

@cf.task(priority=2, concurrency=cf.Limit(1, key="customer-{customer_id}"))
def sync(customer_id, full=False): ...

@cf.workflow()
def p():
    sync.submit(42)
    sync.with_priority(-1).with_concurrency(3).submit("c7", full=True)
"""
    submits = []

    def respond(message):
        assert protocol.parse_message(message)["kind"] == "request"
        params = message["params"]
        submits.append((params.get("priority"), params.get("concurrency")))
        return {"result": {"execution_id": "R:2:1", "module": "flows", "target": params["target"]}}

    run(source, "p", [], respond)
    assert submits == [(2, [1, "customer-42"]), (-1, [3, "flows/sync"])]


def test_large_values_travel_as_files(run):
    source = "import coflux as cf\n@cf.task()\ndef t(data):\n    return data * 2\n"
    argument_file = run.xfer.parent / "blob"
    argument_file.write_text(json.dumps("y" * 70000))
    os.chmod(argument_file, 0o444)
    _, _, completion = run(source, "t", [{"type": "file", "format": "json", "path": str(argument_file)}])
    result = completion["params"]["result"]
    assert result["type"] == "file" and result["format"] == "json"
    assert Path(result["path"]).parent == run.xfer
    assert json.loads(Path(result["path"]).read_text()) == "y" * 140000
    assert argument_file.read_text() == json.dumps("y" * 70000)  # untouched


def test_fragments_go_to_temp_dir(run):
    source = "import coflux as cf\n@cf.task()\ndef t():\n    return {'raw': b'\\x00\\x01'}\n"
    _, _, completion = run(source, "t")
    [reference] = completion["params"]["result"]["references"]
    assert reference[:2] == ["fragment", "bytes"] and Path(reference[2]).parent == run.xfer
    assert Path(reference[2]).read_bytes() == b"\x00\x01"


def test_unserialisable_result_is_an_error(run):
    _, _, completion = run("import coflux as cf\n@cf.task()\ndef t():\n    return float('nan')\n", "t")
    error = completion["params"]["error"]
    assert error["type"] == "builtins.ValueError" and error["message"] == "cannot serialise non-finite float: nan"


def test_preload_failure_is_reported_at_execute(run):
    worker, ready, completion = run("import coflux as cf\nraise RuntimeError('broken module')\n", "t")
    assert ready["params"]["preload_failed"] == ["flows"] and ready["params"]["preloaded"] == []
    error = completion["params"]["error"]
    assert error["type"] == "builtins.RuntimeError" and error["message"] == "broken module"
    assert 'flows.py", line 2' in error["traceback"]
    assert "failed to preload flows" in worker.process.stderr.read().decode()


def test_target_lookup(run):
    source = "import coflux as cf\n@cf.task(name='renamed')\ndef original():\n    return 'found'\n"
    assert result_of(run(source, "renamed")[2]) == "found"
    _, _, completion = run(source, "missing")
    assert completion["params"]["error"]["type"] == "builtins.ValueError"
    assert completion["params"]["error"]["message"] == "Target not found: flows/missing"
    # Every frame is inside the adapter here, so none is removed.
    assert "coflux/executor.py" in completion["params"]["error"]["traceback"]


def test_async_targets_and_lean_imports(run):
    source = """
import sys
import coflux as cf

@cf.task()
def sync_target():
    return [m for m in ("asyncio", "inspect", "typing", "traceback") if m in sys.modules]

@cf.task()
async def async_target(x):
    import asyncio
    await asyncio.sleep(0)
    return x + 1
"""
    assert result_of(run(source, "sync_target", mode="isolated")[2]) == []
    assert result_of(run(source, "async_target", [1])[2]) == 2


def test_input_arguments_are_typed_from_annotations(run):
    source = """
from __future__ import annotations
import coflux as cf

@cf.task()
def t(approval: cf.Input[int], other):
    return [approval.result(), approval.id, type(other).__name__]
"""
    def respond(message):
        assert message["params"]["handles"] == [{"type": "input", "id": "RwD6/i1"}]
        return {"result": {"winner": 0, "status": "ok", "value": inline(7.0)}}

    ref = {"type": "inline", "format": "json", "value": {"type": "ref", "index": 0}, "references": [["input", "RwD6/i1"]]}
    _, _, completion = run(source, "t", [ref, ref], respond)
    assert result_of(completion) == [7, "RwD6/i1", "Input"]


def test_suspend_waits_for_the_end(run, app_dir, worker_factory):
    app_dir.write("flows.py", """
import coflux as cf
@cf.workflow()
def p():
    print("before")
    cf.suspend(60)
    print("never")
""")
    worker = worker_factory(app_dir.path, env={"COFLUX_EXECUTOR_MODULES": "flows"})
    worker.read()
    worker.execute("flows", "p", [], run.work)
    assert worker.read()["params"]["template"] == "before"
    request = worker.read()
    assert request["method"] == "suspend"
    import time

    assert abs(request["params"]["execute_after"] - (time.time() + 60) * 1000) < 5000
    worker.send({"id": request["id"], "result": {}})
    with pytest.raises(Exception):
        worker.process.wait(0.3)  # still alive, waiting to be killed
    assert worker.finish() == 0
    assert worker.process.stdout.read() == b""


def test_protocol_edge_cases(app_dir, worker_factory, run):
    app_dir.write("flows.py", "import coflux as cf\n@cf.task()\ndef t():\n    return cf.Execution('x').result()\n")
    # End of input before execute: exit 0 silently.
    worker = worker_factory(app_dir.path)
    assert worker.read()["method"] == "ready"
    assert worker.finish() == 0
    # Unknown first message (0.12 behaviour).
    worker = worker_factory(app_dir.path)
    worker.read()
    worker.send({"method": "bogus", "params": {}})
    assert worker.process.wait(10) == 1
    assert "Unknown method: bogus" in worker.process.stderr.read().decode()
    # A message without an id while waiting for a response is fatal.
    worker = worker_factory(app_dir.path)
    worker.read()
    worker.execute("flows", "t", [], run.work)
    assert worker.read()["method"] == "select"
    worker.send({"method": "execute", "params": {}})
    assert worker.process.wait(10) == 1
    assert "protocol failure" in worker.process.stderr.read().decode()


def test_responses_for_other_ids_are_stashed(app_dir, worker_factory, run):
    app_dir.write("flows.py", "import coflux as cf\n@cf.task()\ndef t():\n    return cf.Execution('x').poll(default=5)\n")
    worker = worker_factory(app_dir.path)
    worker.read()
    worker.execute("flows", "t", [], run.work)
    request = worker.read()
    worker.send({"id": 99, "result": "stray"})
    worker.send({"id": request["id"], "result": None})
    assert result_of(worker.run()) == 5


def test_missing_working_dir_is_an_execution_error(run, tmp_path):
    _, _, completion = run("import coflux as cf\n@cf.task()\ndef t(): ...\n", "t", working_dir=str(tmp_path / "gone"))
    error = completion["params"]["error"]
    assert error["type"] == "builtins.FileNotFoundError" and "gone" in error["message"]
