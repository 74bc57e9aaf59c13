"""Decorator options → discovery definitions (executor-protocol.md §2.2), validation, call-site
overrides and calls outside an execution."""

from __future__ import annotations

import datetime as dt

import pytest

import coflux as cf
from coflux.target import Target


def definition(fn=None, kind="task", **options):
    def target(a, b=1, c="x"):
        pass

    decorator = cf.workflow if kind == "workflow" else cf.task
    return decorator(**options)(fn or target).definition("app.flows")


BASE_KEYS = {"module", "name", "type", "parameters"}


def extra(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in BASE_KEYS}


def test_plain_task_definition():
    def fetch(url, limit: int = 100, tags: list[str] = ["a", "b"], name="x"):  # noqa: B006
        pass

    d = cf.task(fetch).definition("app.flows")
    assert d == {
        "module": "app.flows",
        "name": "fetch",
        "type": "task",
        "parameters": [
            {"name": "url", "annotation": None, "default": None},
            {"name": "limit", "annotation": "int", "default": "100"},
            {"name": "tags", "annotation": "list[str]", "default": '["a","b"]'},
            {"name": "name", "annotation": None, "default": '"x"'},
        ],
    }


def test_annotation_without_postponed_evaluation():
    namespace: dict = {}
    exec(compile("def f(a: int, b: 'str' = None): pass", "<test>", "exec", dont_inherit=True), namespace)
    d = cf.task(namespace["f"]).definition("m")
    assert d["parameters"] == [
        {"name": "a", "annotation": "<class 'int'>", "default": None},
        {"name": "b", "annotation": "str", "default": "null"},
    ]


def test_name_type_and_instruction():
    @cf.workflow(name="pipeline")
    def run(source):
        """Fetches data from `source`.

        Details:
            indented.
        """

    d = run.definition("app.flows")
    assert (d["name"], d["type"]) == ("pipeline", "workflow")
    assert d["instruction"] == "Fetches data from `source`.\n\nDetails:\n    indented."
    assert "instruction" not in cf.task(lambda: None).definition("m")


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"wait": False}, {}),
        ({"wait": True}, {"wait_for": [0, 1, 2]}),
        ({"wait": ["c", "a"]}, {"wait_for": [0, 2]}),
        ({"wait": "c, a"}, {"wait_for": [0, 2]}),
        ({"cache": False}, {}),
        ({"cache": True}, {"cache": {"params": True}}),
        ({"cache": 600}, {"cache": {"params": True, "max_age_ms": 600000}}),
        ({"cache": 1.0005}, {"cache": {"params": True, "max_age_ms": 1000}}),
        ({"cache": dt.timedelta(minutes=10)}, {"cache": {"params": True, "max_age_ms": 600000}}),
        ({"cache": cf.Cache()}, {"cache": {"params": True}}),
        (
            {"cache": cf.Cache(600, params=["c", "a"], namespace="pipelines", version="v2")},
            {"cache": {"params": [2, 0], "max_age_ms": 600000, "namespace": "pipelines", "version": "v2"}},
        ),
        ({"cache": cf.Cache(params="b")}, {"cache": {"params": [1]}}),
        ({"retries": 0}, {}),
        ({"retries": False}, {}),
        ({"retries": True}, {"retries": {"backoff_min_ms": 1000, "backoff_max_ms": 60000}}),
        ({"retries": 3}, {"retries": {"limit": 3}}),
        ({"retries": cf.Retries(3)}, {"retries": {"limit": 3, "backoff_min_ms": 1000, "backoff_max_ms": 60000}}),
        ({"retries": cf.Retries(3, backoff=(0.5, 5))}, {"retries": {"limit": 3, "backoff_min_ms": 500, "backoff_max_ms": 5000}}),
        ({"retries": cf.Retries(3, backoff=(0, 0))}, {"retries": {"limit": 3}}),
        ({"retries": cf.Retries()}, {"retries": {"backoff_min_ms": 1000, "backoff_max_ms": 60000}}),
        ({"retries": cf.Retries(None, backoff=(dt.timedelta(seconds=2), 4))}, {"retries": {"backoff_min_ms": 2000, "backoff_max_ms": 4000}}),
        ({"retries": cf.Retries(limit=0)}, {}),
        ({"retries": cf.Retries(2, when=KeyError)}, {"retries": {"limit": 2, "backoff_min_ms": 1000, "backoff_max_ms": 60000}}),
        ({"defer": False}, {}),
        ({"defer": True}, {"defer": {"params": True}}),
        ({"defer": cf.Defer()}, {"defer": {"params": True}}),
        ({"defer": cf.Defer(params=["b"])}, {"defer": {"params": [1]}}),
        ({"delay": 0}, {}),
        ({"delay": 5}, {"delay": 5000}),
        ({"delay": 0.0019}, {"delay": 1}),
        ({"delay": dt.timedelta(minutes=1)}, {"delay": 60000}),
        ({"timeout": 0}, {}),
        ({"timeout": 300}, {"timeout": 300000}),
        ({"timeout": dt.timedelta(seconds=1.5)}, {"timeout": 1500}),
        ({"memo": True}, {"memo": True}),
        ({"memo": False}, {}),
        ({"memo": ["c", "a"]}, {"memo": [2, 0]}),
        ({"memo": "b"}, {"memo": [1]}),
        ({"requires": {}}, {}),
        ({"requires": {"gpu": ["A100", "H100"]}}, {"requires": {"gpu": ["A100", "H100"]}}),
        ({"requires": {"region": "eu"}}, {"requires": {"region": ["eu"]}}),
        ({"requires": {"gpu": True, "arm": False}}, {"requires": {"gpu": ["true"], "arm": ["false"]}}),
        ({"recurrent": False}, {}),
        ({"recurrent": True}, {"recurrent": True}),
    ],
)
def test_option_mapping(options, expected):
    assert extra(definition(**options)) == expected


def test_workflow_memo_is_boolean_only():
    assert extra(definition(kind="workflow", memo=True)) == {"memo": True}
    with pytest.raises(ValueError, match="workflow memo"):
        definition(kind="workflow", memo=["a"])


def test_workflow_resumes():
    assert extra(definition(kind="workflow")) == {}  # None: the server's default
    assert extra(definition(kind="workflow", resumes=None)) == {}
    assert extra(definition(kind="workflow", resumes=0)) == {"resumes": 0}  # 0 disables: still sent
    assert extra(definition(kind="workflow", resumes=5)) == {"resumes": 5}
    with pytest.raises(ValueError, match="must not be negative"):
        definition(kind="workflow", resumes=-1)
    for wrong in (True, 1.5, "3"):
        with pytest.raises(TypeError, match="resumes must be an int or None"):
            definition(kind="workflow", resumes=wrong)


def test_tasks_take_no_resumes():
    with pytest.raises(TypeError, match="resumes"):
        definition(resumes=3)  # @cf.task has no such parameter
    with pytest.raises(ValueError, match="workflows only"):
        cf.stub("other.app", type="task", resumes=1)(lambda: None)
    assert cf.stub("other.app", type="workflow", resumes=1)(lambda: None)._options["resumes"] == 1


def test_with_resumes_overrides_the_decorator():
    @cf.workflow(resumes=2)
    def flow():
        return "ran"

    @cf.task()
    def job():
        pass

    call = flow.with_resumes(7)
    assert call._options["resumes"] == 7 and flow._options["resumes"] == 2
    assert flow.with_resumes(0).with_retries(1)._options["resumes"] == 0
    assert flow.with_resumes(None)._options["resumes"] is None
    assert call() == "ran"  # outside an execution it is still a plain call
    with pytest.raises(ValueError, match="must not be negative"):
        flow.with_resumes(-1)
    with pytest.raises(ValueError, match="workflows only"):
        job.with_resumes(1)
    with pytest.raises(ValueError, match="workflows only"):
        job.with_retries(1).with_resumes(1)


@pytest.mark.parametrize("kind", ["task", "workflow"])
def test_priority(kind):
    assert extra(definition(kind=kind)) == {}  # None: the caller's priority, 0 at the top
    assert extra(definition(kind=kind, priority=0)) == {"priority": 0}  # an explicit 0 is sent
    assert extra(definition(kind=kind, priority=10)) == {"priority": 10}
    assert extra(definition(kind=kind, priority=-3)) == {"priority": -3}
    for wrong in (True, 1.5, "high"):
        with pytest.raises(TypeError, match="priority must be an int or None"):
            definition(kind=kind, priority=wrong)
    with pytest.raises(ValueError, match="out of range"):
        definition(kind=kind, priority=2**53)


@pytest.mark.parametrize("kind", ["task", "workflow"])
def test_concurrency(kind):
    assert "concurrency" not in definition(kind=kind)
    assert extra(definition(kind=kind, concurrency=3)) == {"concurrency": {"limit": 3, "key": None}}
    assert extra(definition(kind=kind, concurrency=cf.Limit(1))) == {"concurrency": {"limit": 1, "key": None}}
    limited = definition(kind=kind, concurrency=cf.Limit(2, key="{a}-{c}"))
    assert limited["concurrency"] == {"limit": 2, "key": "{a}-{c}"}  # the template, resolved per call
    constant = definition(kind=kind, concurrency=cf.Limit(5, key="shared-api"))
    assert constant["concurrency"] == {"limit": 5, "key": "shared-api"}


@pytest.mark.parametrize(
    "concurrency, error, kind",
    [
        (0, "at least 1", ValueError),
        (-2, "at least 1", ValueError),
        (True, "concurrency must be an int, cf.Limit", TypeError),
        ("2", "concurrency must be an int, cf.Limit", TypeError),
        (2.0, "concurrency must be an int, cf.Limit", TypeError),
        (lambda: cf.Limit(0), "at least 1", ValueError),
        (lambda: cf.Limit(1.5), "limit must be an int", TypeError),
        (lambda: cf.Limit(1, key=3), "key must be a string or None", TypeError),
        (lambda: cf.Limit(1, key=""), "must not be empty", ValueError),
        (lambda: cf.Limit(1, key="{a"), "not a valid template", ValueError),
        (lambda: cf.Limit(1, key="a}"), "not a valid template", ValueError),
        (lambda: cf.Limit(1, key="{}"), "each field must name a parameter", ValueError),
        (lambda: cf.Limit(1, key="{0}"), "each field must name a parameter", ValueError),
        (cf.Limit(1, key="{nope}"), "unknown parameter 'nope'", ValueError),
        (cf.Limit(1, key="{a.x}-{nope[0]}"), "unknown parameter 'nope'", ValueError),
    ],
)
def test_invalid_concurrency_raises_at_decoration(concurrency, error, kind):
    with pytest.raises(kind, match=error):
        definition(concurrency=concurrency() if callable(concurrency) else concurrency)


def test_limit_is_public():
    assert "Limit" in cf.__all__
    limit = cf.Limit(2, key="{customer_id}")
    assert (limit.limit, limit.key) == (2, "{customer_id}")
    assert repr(limit) == "Limit(2, key='{customer_id}')"
    assert cf.Limit.__doc__ and "key=" in cf.Limit.__doc__


def test_with_priority_and_with_concurrency_override_the_decorator():
    @cf.task(priority=1, concurrency=2)
    def sync(customer_id, full=False):
        return "ran"

    call = sync.with_priority(9)
    assert call._options["priority"] == 9 and sync._options["priority"] == 1
    assert sync.with_priority(None)._options["priority"] is None
    assert sync.with_priority(-4).with_retries(1)._options["priority"] == -4
    limited = call.with_concurrency(cf.Limit(1, key="{customer_id}"))
    assert limited._options["concurrency"] == {"limit": 1, "key": "{customer_id}"}
    assert limited._options["priority"] == 9 and sync._options["concurrency"] == {"limit": 2, "key": None}
    assert sync.with_concurrency(4)._options["concurrency"] == {"limit": 4, "key": None}
    assert sync.with_concurrency(None)._options["concurrency"] is None
    assert limited("c1") == "ran"  # outside an execution it is still a plain call
    with pytest.raises(TypeError, match="priority must be an int"):
        sync.with_priority("9")
    with pytest.raises(ValueError, match="at least 1"):
        sync.with_concurrency(0)
    with pytest.raises(ValueError, match="unknown parameter 'customer'"):
        sync.with_concurrency(cf.Limit(1, key="{customer}"))


def test_stubs_take_priority_and_concurrency():
    stub = cf.stub("other.app", name="sync", priority=2, concurrency=cf.Limit(1, key="{customer_id}"))(lambda customer_id: None)
    assert stub._options["priority"] == 2
    assert stub._options["concurrency"] == {"limit": 1, "key": "{customer_id}"}
    assert stub.concurrency_key(None, ["c1"]) == "other.app/sync"  # the default key names the target called
    with pytest.raises(ValueError, match="unknown parameter"):
        cf.stub("other.app", concurrency=cf.Limit(1, key="{x}"))(lambda customer_id: None)


def test_concurrency_key_by_parameter_name_with_defaults():
    @cf.task()
    def sync(customer_id, region="eu", options={"tier": "gold"}):  # noqa: B006
        pass

    assert sync.concurrency_key(None, ["c1"]) == f"{sync.module}/sync"
    assert sync.concurrency_key("{customer_id}", ["c1"]) == "c1"
    assert sync.concurrency_key("{region}/{customer_id}", ["c1"]) == "eu/c1"  # a default fills in
    assert sync.concurrency_key("{options[tier]}:{customer_id:>4}", ["c1", "us"]) == "gold:  c1"
    assert sync.concurrency_key("customer-{customer_id}", [42]) == "customer-42"


@pytest.mark.parametrize(
    "template, arguments, cause",
    [
        ("{customer_id.name}", [42], "AttributeError: 'int' object has no attribute 'name'"),
        ("{customer_id:d}", ["c1"], "ValueError: Unknown format code 'd'"),
        ("{options[plan]}", ["c1", "eu", {}], "KeyError: 'plan'"),
        ("{customer_id[3]}", [[1]], "IndexError"),
        ("{missing}", ["c1"], "the call has no argument 'missing'"),
    ],
)
def test_concurrency_key_errors_name_the_template_target_and_cause(template, arguments, cause):
    @cf.task()
    def sync(customer_id, region="eu", options=None):
        pass

    with pytest.raises(ValueError, match="cannot resolve the concurrency key") as raised:
        sync.concurrency_key(template, arguments)
    message = str(raised.value)
    assert repr(template) in message and f"{sync.module}/sync" in message and cause in message


def test_full_example_from_the_spec():
    @cf.workflow(
        wait=["source"],
        cache=cf.Cache(600, namespace="pipelines", version="v2", params=["source"]),
        retries=cf.Retries(3, backoff=(1, 60)),
        defer=True,
        delay=5,
        memo=True,
        requires={"gpu": ["A100", "H100"]},
        timeout=300,
        recurrent=True,
    )
    def pipeline(source, limit: int = 100):
        """Fetches data from `source`."""

    assert pipeline.definition("app.flows") == {
        "module": "app.flows", "name": "pipeline", "type": "workflow",
        "parameters": [{"name": "source", "annotation": None, "default": None},
                       {"name": "limit", "annotation": "int", "default": "100"}],
        "wait_for": [0],
        "cache": {"params": [0], "max_age_ms": 600000, "namespace": "pipelines", "version": "v2"},
        "retries": {"limit": 3, "backoff_min_ms": 1000, "backoff_max_ms": 60000},
        "defer": {"params": True},
        "delay": 5000,
        "memo": True,
        "requires": {"gpu": ["A100", "H100"]},
        "timeout": 300000,
        "recurrent": True,
        "instruction": "Fetches data from `source`.",
    }


@pytest.mark.parametrize(
    "options, error",
    [
        ({"wait": ["nope"]}, "unknown parameter 'nope'"),
        ({"cache": cf.Cache(params=["nope"])}, "unknown parameter 'nope'"),
        ({"defer": cf.Defer(params="a, nope")}, "unknown parameter 'nope'"),
        ({"memo": ["nope"]}, "unknown parameter 'nope'"),
        ({"delay": -1}, "must not be negative"),
        ({"timeout": "10"}, "number of seconds"),
        ({"requires": {"gpu": 1}}, "strings or booleans"),
        ({"retries": "many"}, "retries must be"),
        ({"name": ""}, "non-empty"),
    ],
)
def test_invalid_options_raise_at_decoration(options, error):
    with pytest.raises((ValueError, TypeError), match=error):
        definition(**options)


@pytest.mark.parametrize(
    "source, error",
    [
        ("def f(*args): pass", r"\*args"),
        ("def f(**kwargs): pass", r"\*\*kwargs"),
        ("def f(a, /, b): pass", "positional-only"),
        ("def f(a, *, b): pass", "keyword-only"),
        ("def f(a=object()): pass", "not JSON-serialisable"),
        ("def f(a=float('nan')): pass", "not JSON-serialisable"),
    ],
)
def test_unsupported_signatures_raise_at_decoration(source, error):
    namespace: dict = {}
    exec(compile(source, "<test>", "exec", dont_inherit=True), namespace)
    with pytest.raises(TypeError, match=error):
        cf.task(namespace["f"])


def test_wrapped_functions_use_their_signature():
    import functools

    def inner(x, y=2):
        return x + y

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        return inner(*args, **kwargs)

    d = cf.task(wrapper).definition("m")
    assert [p["name"] for p in d["parameters"]] == ["x", "y"]
    with pytest.raises(TypeError, match="keyword-only"):
        cf.task(functools.partial(lambda a, *, b: None, b=1))


def test_bare_and_called_decorators_make_targets():
    @cf.task
    def a():
        return 1

    @cf.task()
    def b():
        return 2

    assert isinstance(a, Target) and isinstance(b, Target)
    assert a.__name__ == "a" and a.__wrapped__ is a.fn


def test_targets_run_as_plain_functions_outside_an_execution():
    @cf.task(retries=3)
    def add(a, b=10):
        return a + b

    @cf.workflow()
    def flow(x):
        job = add.submit(x, b=1)
        return add(x) + job.result() + cf.select([job]).result()

    assert add(1) == 11
    assert add(b=2, a=1) == 3
    assert add.with_retries(0).with_cache(True)(5) == 15
    assert flow(1) == 11 + 2 + 2
    assert add.submit(1).poll() == 11

    @cf.task()
    def fail():
        raise KeyError("k")

    handle = fail.submit()
    with pytest.raises(KeyError):
        handle.result()


def test_logging_and_groups_are_harmless_outside_an_execution():
    cf.log_info("x {y}", y=1)
    with cf.group("g"), cf.suspense(1):
        cf.metric("m", 1.0)
        assert list(cf.progress(iter([1, 2]))) == [1, 2]
    with pytest.raises(RuntimeError, match="not running inside a Coflux execution"):
        cf.suspend()
    with pytest.raises(RuntimeError, match="not running inside"):
        cf.asset()


def test_bind_maps_keywords_to_positions():
    @cf.task()
    def f(a, b=2, c=3, d=4):
        pass

    assert f.bind((1,), {}) == [1]
    assert f.bind((1,), {"c": 30}) == [1, 2, 30]  # the gap is filled with b's default
    assert f.bind((), {"d": 4, "a": 1}) == [1, 2, 3, 4]
    with pytest.raises(TypeError, match="unexpected keyword argument 'e'"):
        f.bind((1,), {"e": 1})
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        f.bind((1,), {"a": 1})
    with pytest.raises(TypeError, match="missing argument"):
        f.bind((), {"b": 1})
    with pytest.raises(TypeError, match="takes 4 arguments but 5"):
        f.bind((1, 2, 3, 4, 5), {})


def test_stubs_are_targets_in_another_module():
    @cf.stub("other.app", name="resize")
    def resize(path, width=100):
        return "local"

    assert resize.is_stub and resize.module == "other.app" and resize.name == "resize"
    assert resize("p") == "local"


@cf.task()
def module_level_target(x):
    return x * 2


def test_targets_pickle_by_reference():
    import pickle

    assert pickle.loads(pickle.dumps(module_level_target)) is module_level_target
