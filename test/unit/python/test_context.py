"""The ``cf.*`` API inside an execution, with a fake channel (inputs, metrics, assets, errors)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import coflux as cf
from coflux import context, errors, inputs


class FakeChannel:
    """Records messages; ``answers[method]`` (a value or a callable) answers requests."""

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []
        self.answers: dict = {}

    def notify(self, method, params):
        self.sent.append((method, params))

    def request(self, method, params):
        self.sent.append((method, params))
        answer = self.answers[method]
        return answer(params) if callable(answer) else answer

    def methods(self):
        return [m for m, _ in self.sent]


@pytest.fixture
def channel(tmp_path, monkeypatch):
    fake = FakeChannel()
    xfer = tmp_path / "xfer"
    xfer.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    ctx = context.ExecutionContext(fake, "RwD6:1:1", temp_dir=str(xfer), working_dir=str(work))
    context.install(ctx)
    fake.work = work
    fake.xfer = xfer
    yield fake
    context.install(None)


# --- Inputs ------------------------------------------------------------------------------------


def test_prompt_submission_and_default_key(channel):
    channel.answers["submit_input"] = {"input_id": "RwD6/i1"}
    channel.answers["select"] = {"winner": 0, "status": "ok", "value": {"type": "inline", "format": "json", "value": True}}
    prompt = cf.Prompt("Approve deployment of {service}?", model=bool, title="Deployment",
                       actions=["Approve", "Reject"], initial=True, requires={"role": "release-manager"},
                       service="api")
    assert prompt() is True
    method, params = channel.sent[0]
    assert method == "submit_input"
    placeholders = {"service": {"type": "inline", "format": "json", "value": "api", "references": []}}
    assert params == {
        "execution_id": "RwD6:1:1",
        "template": "Approve deployment of {service}?",
        "placeholders": placeholders,
        "schema": '{"type": "boolean"}',
        "title": "Deployment",
        "actions": ["Approve", "Reject"],
        "initial": True,
        "requires": {"role": ["release-manager"]},
        "key": hashlib.sha256(
            ("Approve deployment of {service}?" + json.dumps(placeholders, sort_keys=True)
             + '{"type": "boolean"}' + "Deployment" + '["Approve", "Reject"]').encode()
        ).hexdigest()[:16],
    }
    assert channel.sent[1] == ("select", {
        "execution_id": "RwD6:1:1", "handles": [{"type": "input", "id": "RwD6/i1"}], "suspend": True})


def test_default_key_is_stable_across_temporary_paths(channel, tmp_path):
    channel.answers["submit_input"] = {"input_id": "RwD6/i1"}
    cf.Prompt("Look at {data}", data=b"\x01\x02").submit()
    cf.Prompt("Look at {data}", data=b"\x01\x02").submit()
    cf.Prompt("Look at {data}", data=b"\x01\x03").submit()
    first, second, third = (params for _, params in channel.sent)
    assert first["placeholders"]["data"]["references"][0][2] != second["placeholders"]["data"]["references"][0][2]
    assert first["key"] == second["key"] != third["key"]
    assert len(first["key"]) == 16
    assert cf.Prompt("x", key="mine").submit() and channel.sent[-1][1]["key"] == "mine"
    assert inputs.default_key("t", None, None, None, None) == hashlib.sha256(b"t").hexdigest()[:16]


def test_input_outcomes(channel):
    outcomes = iter([
        {"winner": 0, "status": "dismissed"},
        {"winner": 0, "status": "cancelled"},
        None,
        {"winner": 0, "status": "ok", "value": {"type": "inline", "format": "json", "value": {"name": "x"}}},
    ])
    channel.answers["select"] = lambda params: next(outcomes)
    with pytest.raises(cf.InputDismissed):
        cf.Input("R/i1").result()
    with pytest.raises(cf.ExecutionCancelled):
        cf.Input("R/i2").result()
    assert cf.Input("R/i3").poll(default="none") == "none"
    assert cf.Input("R/i4").result() == {"name": "x"}  # plain JSON object, not decoded further
    assert cf.Input[int]("R/i5").model is int


def test_prompt_validation():
    with pytest.raises(ValueError, match="actions"):
        cf.Prompt("x", actions=["only one"])
    with pytest.raises(TypeError, match="schema"):
        cf.Prompt("x", model=object)
    assert cf.Prompt("x", schema={"type": "string"}).schema == '{"type": "string"}'
    assert cf.Prompt("x", placeholders={"a": 1}, b=2).placeholders == {"a": 1, "b": 2}


# --- Metrics -----------------------------------------------------------------------------------


def test_metric_defined_once_before_points(channel):
    loss = cf.Metric("loss", group=cf.MetricGroup("training", units="epoch", lower=0, upper=100),
                     scale="error", units="", lower=0, upper=1)
    loss.record(0.5, at=1)
    loss.record(0.25, at=2)
    cf.metric("lr", 0.1)
    assert channel.sent == [
        ("define_metric", {"execution_id": "RwD6:1:1", "key": "loss", "definition": {
            "throttle": 10, "group": "training", "group_units": "epoch", "group_lower": 0,
            "group_upper": 100, "scale": "error", "units": "", "lower": 0, "upper": 1}}),
        ("metric", {"execution_id": "RwD6:1:1", "key": "loss", "value": 0.5, "at": 1}),
        ("metric", {"execution_id": "RwD6:1:1", "key": "loss", "value": 0.25, "at": 2}),
        ("define_metric", {"execution_id": "RwD6:1:1", "key": "lr", "definition": {"throttle": 10}}),
        ("metric", {"execution_id": "RwD6:1:1", "key": "lr", "value": 0.1}),
    ]


def test_metric_redefinition_raises(channel):
    cf.Metric("a", group="g", scale=cf.MetricScale("s", units="ms")).define()
    cf.Metric("a", group="g", scale=cf.MetricScale("s", units="ms")).define()  # identical: fine
    with pytest.raises(ValueError, match="metric 'a'"):
        cf.Metric("a", units="s").record(1)
    with pytest.raises(ValueError, match="group 'g'"):
        cf.Metric("b", group=cf.MetricGroup("g", units="epoch")).define()
    with pytest.raises(ValueError, match="scale 's'"):
        cf.Metric("c", group="g", scale="s", units="s").define()
    cf.Metric("d", group="other", scale="s", units="s").define()  # scales are per group
    with pytest.raises(ValueError, match="finite"):
        cf.metric("x", float("inf"))
    with pytest.raises(TypeError):
        cf.metric("x", True)
    assert channel.methods().count("define_metric") == 2


def test_progress(channel):
    items = list(cf.progress(x for x in "abc"))
    assert items == ["a", "b", "c"]
    assert channel.sent[0] == ("define_metric", {"execution_id": "RwD6:1:1", "key": "progress", "definition": {
        "throttle": 10, "progress": True, "lower": 0, "upper": 3}})
    assert [p["value"] for _, p in channel.sent[1:]] == [1, 2, 3]
    list(cf.progress([1], key="other"))
    assert channel.sent[-1][1]["key"] == "other"


# --- Assets ------------------------------------------------------------------------------------


def persist_answer(params):
    count = len(params.get("files", {})) + len(params.get("entries", {}))
    return {"asset_id": "Ab3d", "reference": ["asset", "Ab3d", (params.get("metadata") or {}).get("name"), count, 99]}


def test_asset_from_working_directory_keeps_relative_paths(channel):
    channel.answers["persist_asset"] = persist_answer
    work = channel.work
    (work / "out" / "deep").mkdir(parents=True)
    (work / "out" / "report.csv").write_text("a")
    (work / "out" / "deep" / "x.json").write_text("{}")
    (work / "top.txt").write_text("t")
    handle = cf.asset(name="results")
    assert (handle.id, handle.name, handle.metadata.total_count) == ("Ab3d", "results", 3)
    _, params = channel.sent[-1]
    assert params["files"] == {
        "out/deep/x.json": str(work / "out" / "deep" / "x.json"),
        "out/report.csv": str(work / "out" / "report.csv"),
        "top.txt": str(work / "top.txt"),
    }
    assert params["paths"] == list(params["files"].values())
    assert params["metadata"] == {"name": "results"}

    cf.asset("out", match="*.csv")
    assert channel.sent[-1][1]["files"] == {"out/report.csv": str(work / "out" / "report.csv")}
    cf.asset(at="out")
    assert set(channel.sent[-1][1]["files"]) == {"deep/x.json", "report.csv"}


def test_asset_from_explicit_paths(channel, tmp_path):
    channel.answers["persist_asset"] = persist_answer
    outside = tmp_path / "elsewhere"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "f.bin").write_bytes(b"1")
    (outside / "single.txt").write_text("s")
    cf.asset([outside / "single.txt", str(outside / "sub")])
    assert channel.sent[-1][1]["files"] == {
        "single.txt": str(outside / "single.txt"), "sub/f.bin": str(outside / "sub" / "f.bin")}
    cf.asset({"data/one.txt": outside / "single.txt", "tree": outside / "sub"})
    assert channel.sent[-1][1]["files"] == {
        "data/one.txt": str(outside / "single.txt"), "tree/f.bin": str(outside / "sub" / "f.bin")}
    with pytest.raises(ValueError, match="No files found to create asset"):
        cf.asset(outside / "sub", match="*.txt")
    with pytest.raises(FileNotFoundError):
        cf.asset("missing.txt")
    (channel.work / "single.txt").write_text("other")
    with pytest.raises(ValueError, match="duplicate entry path single.txt"):
        cf.asset([outside / "single.txt", "single.txt"])


def test_asset_entries_and_restore(channel, tmp_path):
    key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    channel.answers["get_asset"] = {"entries": {
        "out/report.csv": [key, 10, {"type": "text/csv"}], "notes.txt": [key, 1, {}]}}
    channel.answers["download_blob"] = {}
    channel.answers["persist_asset"] = persist_answer
    asset = cf.Asset("Ab3d", cf.AssetMetadata("results", 2, 11))
    assert sorted(asset.entries) == ["notes.txt", "out/report.csv"]
    assert asset["out/report.csv"].metadata == {"type": "text/csv"}
    restored = asset.restore(match="out/*")
    assert restored == {"out/report.csv": channel.work / "out" / "report.csv"}
    target = tmp_path / "restore-here"
    assert asset["notes.txt"].restore(at=target) == target / "notes.txt"
    downloads = [p for m, p in channel.sent if m == "download_blob"]
    assert downloads == [
        {"execution_id": "RwD6:1:1", "blob_key": key, "target_path": str(channel.work / "out" / "report.csv")},
        {"execution_id": "RwD6:1:1", "blob_key": key, "target_path": str(target / "notes.txt")},
    ]
    assert channel.methods().count("get_asset") == 1  # entries are fetched once
    # Existing entries can be re-used in a new asset, under new paths.
    cf.asset({"copy.csv": asset["out/report.csv"], "all": asset})
    assert channel.sent[-1][1]["entries"] == {
        "copy.csv": [key, 10, {"type": "text/csv"}],
        "all/out/report.csv": [key, 10, {"type": "text/csv"}],
        "all/notes.txt": [key, 1, {}],
    }


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../b", "."])
def test_restore_refuses_paths_outside_the_target(channel, path):
    from coflux.models import AssetEntry

    with pytest.raises(ValueError, match="escapes"):
        AssetEntry("A", path, "k", 1, {}).restore()


# --- Errors and logs ---------------------------------------------------------------------------


class CustomError(Exception):
    def __init__(self, a, b):  # an __init__ our error cannot call
        super().__init__(a, b)


def test_execution_errors_subclass_the_original():
    error = errors.make_execution_error("builtins.KeyError", "'k'", "tb")
    assert isinstance(error, KeyError) and isinstance(error, cf.ExecutionError)
    assert str(error) == "'k'" and error.traceback == "tb"
    custom = errors.make_execution_error(f"{__name__}.CustomError", "boom")
    assert isinstance(custom, CustomError) and custom.message == "boom"
    nested = errors.make_execution_error("json.decoder.JSONDecodeError", "bad")
    assert isinstance(nested, json.JSONDecodeError)
    unknown = errors.make_execution_error("nowhere.Missing", "m")
    assert type(unknown) is cf.ExecutionError and unknown.type == "nowhere.Missing"
    not_exception = errors.make_execution_error("builtins.len", "m")
    assert type(not_exception) is cf.ExecutionError
    import pickle

    assert isinstance(pickle.loads(pickle.dumps(error)), KeyError)


def test_log_values_never_fail(channel):
    import threading

    lock = threading.Lock()
    cf.log_warning("{lock} and {n}", lock=lock, n=float("nan"))
    cf.log_debug(x=1)
    cf.log_error()
    assert channel.methods() == ["log", "log", "log"]
    p1, p2, p3 = (params for _, params in channel.sent)
    assert p1["level"] == 4 and p1["values"]["lock"]["value"] == repr(lock)
    assert p1["values"]["n"]["value"] == "nan"
    assert p2 == {"execution_id": "RwD6:1:1", "level": 0, "template": None,
                  "values": {"x": {"type": "inline", "format": "json", "value": 1, "references": []}}}
    assert p3 == {"execution_id": "RwD6:1:1", "level": 5, "template": None}


def test_groups_nest_and_number_in_order(channel):
    channel.answers["submit_execution"] = lambda p: {"execution_id": f"R:{len(channel.sent)}:1"}

    @cf.task()
    def t():
        pass

    with cf.group("outer"):
        t.submit()
        with cf.group():
            t.submit()
        t.submit()
    t.submit()
    groups = [p for m, p in channel.sent if m == "register_group"]
    assert groups == [{"execution_id": "RwD6:1:1", "group_id": 0, "name": "outer"},
                      {"execution_id": "RwD6:1:1", "group_id": 1, "name": None}]
    submits = [p.get("group_id") for m, p in channel.sent if m == "submit_execution"]
    assert submits == [0, 1, 0, None]


def test_suspend_request(channel):
    import datetime as dt

    channel.answers["suspend"] = {}
    suspended = []
    context.current_context().on_suspended = lambda: suspended.append(True)
    with pytest.raises(SystemExit):
        cf.suspend()
    when = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(SystemExit):
        cf.suspend(when)
    assert [p.get("execute_after") for _, p in channel.sent] == [None, int(when.timestamp() * 1000)]
    assert suspended == [True, True]
    with pytest.raises(ValueError):
        cf.suspend(-1)


def test_handles_are_usable_as_values(channel):
    a = cf.Execution("R:1:1", "m", "t")
    assert a == cf.Execution("R:1:1") and len({a, cf.Execution("R:1:1")}) == 1
    assert a != cf.Input("R:1:1")
    assert repr(a) == "Execution('R:1:1', 'm', 't')"
    assert Path(__file__).exists()


# --- Priority and concurrency --------------------------------------------------------------------


def test_submit_sends_priority_and_the_resolved_concurrency_key(channel):
    channel.answers["submit_execution"] = lambda p: {"execution_id": "R:2:1", "module": p["module"], "target": p["target"]}

    @cf.task(priority=3, concurrency=cf.Limit(2, key="{region}/{customer_id}"))
    def sync(customer_id, region="eu"):
        pass

    @cf.task(concurrency=1)
    def plain(x):
        pass

    sync.submit("c1")
    sync.submit(region="us", customer_id=42)
    sync.with_priority(0).with_concurrency(None).submit("c2")
    plain.submit(1)
    plain.with_priority(-1).submit(2)
    submits = [p for m, p in channel.sent if m == "submit_execution"]
    assert [(p.get("priority"), p.get("concurrency")) for p in submits] == [
        (3, [2, "eu/c1"]),  # the default fills in
        (3, [2, "us/42"]),  # keyword arguments by name
        (0, None),  # an explicit 0 is sent; no limit: no field
        (None, [1, f"{plain.module}/plain"]),  # the default key names the target
        (-1, [1, f"{plain.module}/plain"]),
    ]
    assert "concurrency" not in submits[2] and "priority" not in submits[3]  # unset: absent, not null


def test_an_unresolvable_key_fails_the_call_in_the_caller(channel):
    channel.answers["submit_execution"] = {"execution_id": "R:2:1"}

    @cf.task(concurrency=cf.Limit(1, key="{customer.id}"))
    def sync(customer):
        pass

    with pytest.raises(ValueError, match=r"cannot resolve the concurrency key '\{customer.id\}' of .*/sync .*AttributeError"):
        sync.submit({"id": 1})
    with pytest.raises(ValueError, match="cannot resolve the concurrency key"):
        sync({"id": 1})  # a call inside an execution submits too
    assert channel.sent == []  # nothing was sent
