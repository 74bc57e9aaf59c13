"""Fork template mode (our negotiated extension): a template forks children that connect to a
Unix socket the worker (here: the test) listens on; each runs one execution."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile

import pytest

from conftest import inline

FLOWS = """
import os, sys
import coflux as cf

PRELOAD_PID = os.getpid()

@cf.task()
def probe(x):
    os.write(2, b"native stderr line\\n")       # fd 2 is the child's stderr stream
    print("captured print")
    job = cf.Execution("RwD6:9:1").poll(default=None)
    return {"x": x, "pid": os.getpid(), "sid": os.getsid(0), "ppid": os.getppid(),
            "preload_pid": PRELOAD_PID, "job": job, "cwd": os.getcwd()}
"""


class Peer:
    """One accepted connection from a child, as a line reader/writer."""

    def __init__(self, connection: socket.socket):
        connection.settimeout(20)
        self.connection = connection
        self.file = connection.makefile("rwb")
        self.hello = self.read()

    def read(self) -> dict | None:
        line = self.file.readline()
        return json.loads(line) if line else None

    def send(self, message: dict) -> None:
        self.file.write(json.dumps(message).encode() + b"\n")
        self.file.flush()

    def rest(self) -> bytes:
        return self.file.read()

    def close(self) -> None:
        self.file.close()
        self.connection.close()


@pytest.fixture
def fork_socket():
    directory = tempfile.mkdtemp(prefix="cf-fork-", dir="/tmp")  # short path for AF_UNIX
    path = os.path.join(directory, "fork.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    server.settimeout(20)
    yield path, server
    server.close()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("mode", ["module", "isolated"])
def test_template_forks_children_that_each_run_one_execution(app_dir, worker_factory, fork_socket, tmp_path, mode):
    path, server = fork_socket
    app_dir.write("flows.py", FLOWS)
    template = worker_factory(
        app_dir.path, mode=mode, env={"COFLUX_EXECUTOR_MODULES": "flows", "COFLUX_FORK_SOCKET": path}
    )
    ready = template.read()
    assert ready["params"]["fork"] is True
    assert ready["params"]["version"] == "0.12" and ready["params"]["preloaded"] == ["flows"]
    template_pid = ready["params"]["pid"]

    template.send({"method": "fork", "params": {"count": 2}})
    peers = [Peer(server.accept()[0]) for _ in range(4)]
    streams = {(p.hello["params"]["pid"], p.hello["params"]["channel"]): p for p in peers}
    pids = sorted({pid for pid, _ in streams})
    assert len(pids) == 2 and template_pid not in pids
    assert set(streams) == {(pid, channel) for pid in pids for channel in ("stderr", "protocol")}
    assert all(p.hello["method"] == "hello" for p in peers)

    results = {}
    for index, pid in enumerate(pids):
        protocol = streams[(pid, "protocol")]
        child_ready = protocol.read()
        assert child_ready == {"method": "ready", "params": {
            "version": "0.12", "adapter": "coflux-python/0.12.0", "pid": pid,
            "preloaded": ["flows"], "preload_failed": []}}  # no "fork" field
        work = tmp_path / f"work{index}"
        work.mkdir()
        protocol.send({"method": "execute", "params": {
            "execution_id": f"RwD6:{index + 2}:1", "module": "flows", "target": "probe",
            "arguments": [inline(index)], "working_dir": str(work), "temp_dir": str(tmp_path)}})
        log = protocol.read()
        assert log == {"method": "log", "params": {
            "execution_id": f"RwD6:{index + 2}:1", "level": 1, "template": "captured print"}}
        select = protocol.read()
        assert select["id"] == 1 and select["method"] == "select"
        protocol.send({"id": 1, "result": {"winner": 0, "status": "ok", "value": inline("done")}})
        completion = protocol.read()
        assert completion["method"] == "execution_result"
        from coflux.serialization import deserialize

        results[pid] = (deserialize(completion["params"]["result"]), work)
        assert protocol.read() is None  # the child exits after one execution

    for pid, (result, work) in results.items():
        assert result["pid"] == pid and result["sid"] == pid  # setsid()
        assert result["ppid"] == template_pid and result["preload_pid"] == template_pid  # inherited
        assert result["job"] == "done" and result["cwd"] == str(work)
        assert streams[(pid, "stderr")].rest() == b"native stderr line\n"

    exits = [template.read(), template.read()]
    assert sorted(e["params"]["pid"] for e in exits) == pids
    assert all(e == {"method": "exited", "params": {"pid": e["params"]["pid"], "status": 0}} for e in exits)

    # A second fork request works too; a killed child is reported with -signal.
    template.send({"method": "fork", "params": {"count": 1}})
    late = [Peer(server.accept()[0]) for _ in range(2)]
    late_pid = late[0].hello["params"]["pid"]
    protocol = next(p for p in late if p.hello["params"]["channel"] == "protocol")
    assert protocol.read()["params"]["pid"] == late_pid
    os.kill(late_pid, 9)
    assert template.read() == {"method": "exited", "params": {"pid": late_pid, "status": -9}}

    assert template.finish() == 0  # end of input: the template exits 0
    for peer in peers + late:
        peer.close()


def test_child_exit_status_and_preload_failures_are_inherited(app_dir, worker_factory, fork_socket, tmp_path):
    path, server = fork_socket
    app_dir.write("flows.py", "raise ImportError('cannot preload')\n")
    app_dir.write("other.py", "import coflux as cf\n@cf.task()\ndef t():\n    raise SystemExit(3)\n")
    template = worker_factory(
        app_dir.path, env={"COFLUX_EXECUTOR_MODULES": "flows,other", "COFLUX_FORK_SOCKET": path}
    )
    ready = template.read()["params"]
    assert ready["preloaded"] == ["other"] and ready["preload_failed"] == ["flows"]
    template.send({"method": "fork", "params": {"count": 2}})
    peers = [Peer(server.accept()[0]) for _ in range(4)]
    protocols = [p for p in peers if p.hello["params"]["channel"] == "protocol"]
    first, second = protocols
    assert first.read()["params"]["preload_failed"] == ["flows"]
    first.send({"method": "execute", "params": {
        "execution_id": "R:1:1", "module": "flows", "target": "t", "arguments": [], "working_dir": str(tmp_path)}})
    error = first.read()["params"]["error"]
    assert error["type"] == "builtins.ImportError" and error["message"] == "cannot preload"

    second.read()
    second.send({"method": "execute", "params": {
        "execution_id": "R:2:1", "module": "other", "target": "t", "arguments": [], "working_dir": str(tmp_path)}})
    assert second.read() is None  # SystemExit is not caught: no completion
    statuses = {}
    for _ in range(2):
        message = template.read()["params"]
        statuses[message["pid"]] = message["status"]
    assert statuses == {first.hello["params"]["pid"]: 0, second.hello["params"]["pid"]: 3}
    assert template.finish() == 0
    for peer in peers:
        peer.close()


def test_without_fork_socket_fork_is_an_unknown_method(app_dir, worker_factory):
    app_dir.write("flows.py", "x = 1\n")
    worker = worker_factory(app_dir.path)
    assert "fork" not in worker.read()["params"]
    worker.send({"method": "fork", "params": {"count": 1}})
    assert worker.process.wait(10) == 1
    assert "Unknown method: fork" in worker.process.stderr.read().decode()


def test_template_can_still_run_a_normal_execution(app_dir, worker_factory, fork_socket, tmp_path):
    path, _ = fork_socket
    app_dir.write("flows.py", "import coflux as cf\n@cf.task()\ndef t():\n    return 'plain'\n")
    worker = worker_factory(app_dir.path, env={"COFLUX_FORK_SOCKET": path})
    assert worker.read()["params"]["fork"] is True
    worker.execute("flows", "t", [], tmp_path)
    assert worker.run()["params"]["result"]["value"] == "plain"
    assert worker.finish() == 0


def test_child_exit_runs_atexit_and_waits_for_threads(app_dir, worker_factory, fork_socket, tmp_path):
    path, server = fork_socket
    marker = tmp_path / "marker"
    app_dir.write("flows.py", f"""
import atexit, os, threading, time
import coflux as cf

atexit.register(lambda: os.write(2, b"preload atexit\\n"))   # registered in the template

@cf.task()
def t():
    atexit.register(lambda: os.write(2, b"execution atexit\\n"))
    def slow():
        time.sleep(0.2)
        open({str(marker)!r}, "w").write("thread finished")
    threading.Thread(target=slow).start()
    return "returned"
""")
    template = worker_factory(app_dir.path, env={"COFLUX_EXECUTOR_MODULES": "flows", "COFLUX_FORK_SOCKET": path})
    template.read()
    template.send({"method": "fork", "params": {"count": 1}})
    peers = {p.hello["params"]["channel"]: p for p in (Peer(server.accept()[0]) for _ in range(2))}
    protocol = peers["protocol"]
    protocol.read()
    protocol.send({"method": "execute", "params": {
        "execution_id": "R:1:1", "module": "flows", "target": "t", "arguments": [], "working_dir": str(tmp_path)}})
    assert protocol.read()["params"]["result"]["value"] == "returned"
    assert template.read()["params"]["status"] == 0
    assert marker.read_text() == "thread finished"  # the non-daemon thread was waited for
    assert peers["stderr"].rest() == b"execution atexit\npreload atexit\n"
    assert template.finish() == 0
    for peer in peers.values():
        peer.close()


def test_child_streams_are_utf8_whatever_the_templates(app_dir, worker_factory, fork_socket, tmp_path):
    path, server = fork_socket
    app_dir.write("flows.py", """
import sys
import coflux as cf

@cf.task()
def streams():
    sys.__stderr__.write("h\\u00e9llo \\u20ac \\udcff\\n")  # sent at once: line-buffered
    std = (sys.__stdin__, sys.__stdout__, sys.__stderr__)
    return {"streams": [[s.fileno(), s.encoding, s.errors] for s in std], "line": std[2].line_buffering}
""")
    env = {"COFLUX_EXECUTOR_MODULES": "flows", "COFLUX_FORK_SOCKET": path, "PYTHONIOENCODING": "latin-1:replace"}
    template = worker_factory(app_dir.path, env=env)
    template.read()
    template.send({"method": "fork", "params": {"count": 1}})
    peers = {p.hello["params"]["channel"]: p for p in (Peer(server.accept()[0]) for _ in range(2))}
    protocol = peers["protocol"]
    protocol.read()
    protocol.send({"method": "execute", "params": {
        "execution_id": "R:1:1", "module": "flows", "target": "streams", "arguments": [], "working_dir": str(tmp_path)}})
    from coflux.serialization import deserialize

    result = deserialize(protocol.read()["params"]["result"])
    assert result == {"streams": [[0, "utf-8", "strict"], [1, "utf-8", "strict"], [2, "utf-8", "backslashreplace"]],
                      "line": True}
    assert peers["stderr"].rest() == "h\u00e9llo \u20ac \\udcff\n".encode()
    assert template.read()["params"]["status"] == 0
    assert template.finish() == 0
    for peer in peers.values():
        peer.close()
