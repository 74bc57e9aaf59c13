"""A scripted executor speaking executor-protocol.md, for the worker's tests.

`<python> fake_adapter.py execute` sends `ready` (shaped by FAKE_READY / FAKE_VERSION; held back
until the file FAKE_READY_GATE exists), waits for
`execute`, then acts according to the target name (see TARGETS). Standard library only.
"""
import json
import os
import sys
import time

out = sys.stdout
next_id = 0


def send(message):
    out.write(json.dumps(message) + "\n")
    out.flush()


def receive():
    line = sys.stdin.readline()
    if not line:
        return None
    return json.loads(line)


def request(method, params):
    global next_id
    next_id += 1
    send({"id": next_id, "method": method, "params": params})
    while True:
        message = receive()
        if message is None:
            sys.exit(0)
        if message.get("id") == next_id:
            return message


def value(v):
    return {"type": "inline", "format": "json", "value": v, "references": []}


def read_arg(arg):
    if arg["type"] == "inline":
        return arg.get("value")
    with open(arg["path"]) as f:
        return json.load(f)


def main():
    ready = os.environ.get("FAKE_READY", "ready")
    gate = os.environ.get("FAKE_READY_GATE")
    while gate and not os.path.exists(gate):
        time.sleep(0.01)
    if ready == "silent":
        time.sleep(3600)
    if ready == "exit":
        sys.exit(0)
    if ready == "other":
        send({"method": "log", "params": {}})
    else:
        params = {"version": os.environ.get("FAKE_VERSION", "0.12")}
        if params["version"] == "none":
            params = {}
        if ready == "noparams":
            send({"method": "ready"})
        else:
            send({"method": "ready", "params": params})
    sys.stderr.write("warm stderr line\n")
    sys.stderr.flush()
    message = receive()
    if message is None:
        return 0
    p = message["params"]
    eid = p["execution_id"]
    args = [read_arg(a) for a in p["arguments"]]
    target = p["target"]
    if target == "echo":
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(args[0] if args else None)}})
    elif target == "info":
        info = {k: p[k] for k in ("working_dir", "temp_dir", "run_id", "workspace_id", "attempt", "timeout_ms", "module")}
        info["cwd"] = os.getcwd()
        # the worker creates working_dir; temp_dir is the adapter's to create, on first use
        info["dirs_exist"] = os.path.isdir(p["working_dir"]) and not os.path.exists(p["temp_dir"])
        os.makedirs(p["temp_dir"])
        with open(os.path.join(p["temp_dir"], "coflux_transfer"), "w") as f:
            f.write("x")
        info["env_modules"] = os.environ.get("COFLUX_EXECUTOR_MODULES")
        info["env_session"] = os.environ.get("COFLUX_SESSION")
        info["arguments"] = p["arguments"]
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(info)}})
    elif target == "fail":
        tb = 'Traceback (most recent call last):\n  File "/app/flows.py", line 10, in fetch\n    return 1 / 0\n           ~~^~~\nZeroDivisionError: division by zero\n'
        send({"method": "execution_error", "params": {"execution_id": eid, "error": {"type": "builtins.ZeroDivisionError", "message": "division by zero", "traceback": tb, "retryable": False}}})
    elif target == "crash":
        sys.stderr.write("about to crash\nreally\n")
        sys.stderr.flush()
        os._exit(3)
    elif target == "crash_captured":
        # what the real adapter makes of print(..., file=sys.stderr), then a faulthandler dump
        send({"method": "log", "params": {"execution_id": eid, "level": 3, "template": "captured line"}})
        send({"method": "log", "params": {"execution_id": eid, "level": 2, "template": "not stderr"}})
        sys.stderr.write('Fatal Python error: Segmentation fault\n  File "/app/flows.py", line 3 in crash\n')
        sys.stderr.write('  File "/x/coflux/executor.py", line 116 in invoke\n  File "<frozen runpy>", line 88 in _run_code\n')
        sys.stderr.flush()
        os._exit(3)
    elif target == "sleep":
        time.sleep(args[0])
        send({"method": "execution_result", "params": {"execution_id": eid}})
    elif target == "request":
        spec = args[0]
        params = dict(spec.get("params", {}))
        params.setdefault("execution_id", eid)
        response = request(spec["method"], params)
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(response)}})
    elif target == "submit":
        send({"method": "register_group", "params": {"execution_id": eid, "group_id": 0, "name": "g"}})
        response = request("submit_execution", {"execution_id": eid, "module": "app", "target": "child", "type": "task", "arguments": [value(1), value("x" * 200)], "group_id": 0, "wait_for": [0], "cache": {"params": True, "max_age_ms": 600000}, "retries": {"limit": 3, "backoff_min_ms": 1000}, "delay": 1500.7, "timeout": 0})
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(response)}})
    elif target == "asset":
        os.makedirs(os.path.join(p["working_dir"], "out"))
        report = os.path.join(p["working_dir"], "out", "report.csv")
        with open(report, "w") as f:
            f.write("a,b\n")
        response = request("persist_asset", {"execution_id": eid, "paths": [report] + args[0]})
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(response)}})
    elif target == "garbage":
        out.write("this is not protocol\n")
        out.write('{"also": "not protocol"}\n')
        out.flush()
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(1)}})
    elif target == "nan":
        out.write('{"method": "execution_result", "params": {"execution_id": "%s", "result": {"type": "inline", "format": "json", "value": NaN}}}\n' % eid)
        out.flush()
    elif target == "nan_request":
        global next_id
        next_id += 1
        out.write('{"id": %d, "method": "cancel", "params": {"execution_id": "%s", "handles": [], "x": Infinity}}\n' % (next_id, eid))
        out.flush()
        response = receive()
        send({"method": "execution_result", "params": {"execution_id": eid, "result": value(response)}})
    elif target == "log":
        send({"method": "log", "params": {"execution_id": eid, "level": 2, "template": "hello {name}", "values": {"name": value("world"), "big": value("y" * 300)}}})
        send({"method": "log", "params": {"execution_id": "other:1:1", "level": 2, "template": "not mine"}})
        sys.stderr.write("captured stderr\n")
        sys.stderr.flush()
        time.sleep(0.2)
        send({"method": "execution_result", "params": {"execution_id": eid}})
    elif target == "metrics":
        send({"method": "define_metric", "params": {"execution_id": eid, "key": "loss", "definition": {"throttle": 1, "upper": 1.0}}})
        for i in range(5):
            send({"method": "metric", "params": {"execution_id": eid, "key": "loss", "value": i, "at": i}})
        send({"method": "metric", "params": {"execution_id": eid, "key": "free", "value": 7}})
        send({"method": "execution_result", "params": {"execution_id": eid}})
    elif target == "suspend":
        answer = request("suspend", {"execution_id": eid, "execute_after": args[0] if args else None})
        sys.stderr.write("suspend answered: %s\n" % json.dumps(answer))
        sys.stderr.flush()
        if receive() is None:  # as the adapter does: block until killed or end of input
            sys.stderr.write("input closed\n")
            sys.stderr.flush()
        sys.exit(0)
    elif target == "exit0":
        sys.exit(0)
    else:
        send({"method": "execution_error", "params": {"execution_id": eid, "error": {"type": "builtins.ValueError", "message": "unknown target " + target}}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
