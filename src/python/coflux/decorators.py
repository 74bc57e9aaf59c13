"""The ``@cf.task``, ``@cf.workflow`` and ``@cf.stub`` decorators."""

from __future__ import annotations

from .target import Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def _decorate(fn: Callable[..., Any] | None, type: str, kwargs: dict[str, Any]) -> Any:
    if fn is None:
        return lambda f: Target(f, type, **kwargs)
    return Target(fn, type, **kwargs)


def task(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    wait: Any = False,
    cache: Any = False,
    retries: Any = 0,
    defer: Any = False,
    delay: Any = 0,
    timeout: Any = 0,
    memo: Any = None,
    requires: dict[str, Any] | None = None,
    recurrent: bool = False,
    priority: int | None = None,
    concurrency: Any = None,
) -> Any:
    """Declare a task. Usable bare (``@cf.task``) or with options::

        @cf.task(retries=cf.Retries(3, backoff=(1, 10)), cache=3600, requires={"gpu": True})
        def train(dataset, epochs=10): ...

    Options (executor-protocol.md §2.2): ``name``; ``wait`` (``True`` or parameter names whose
    execution references must resolve first); ``cache`` (``True``, seconds, a timedelta or
    ``cf.Cache``); ``retries`` (``True``, a count or ``cf.Retries``); ``defer`` (``True`` or
    ``cf.Defer``); ``delay`` and ``timeout`` (seconds or timedelta); ``memo`` (``True``, ``False``
    or parameter names); ``requires`` (``{tag: str | bool | list[str]}``); ``recurrent``;
    ``priority`` (an int, higher runs first; ``None``, the default, takes the caller's priority,
    0 at the top of a run); ``concurrency`` (``N`` or ``cf.Limit(N, key="{param}")``: at most N
    executions with that key run at once in the workspace; the key is formatted with each call's
    arguments, default ``"<module>/<target>"``). Invalid options and unsupported signatures raise
    immediately::

        @cf.task(priority=5, concurrency=cf.Limit(2, key="{customer_id}"))
        def sync(customer_id: str): ...
    """
    return _decorate(
        fn,
        "task",
        dict(name=name, wait=wait, cache=cache, retries=retries, defer=defer, delay=delay,
             timeout=timeout, memo=memo, requires=requires, recurrent=recurrent, priority=priority,
             concurrency=concurrency),
    )


def workflow(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    wait: Any = False,
    cache: Any = False,
    retries: Any = 0,
    defer: Any = False,
    delay: Any = 0,
    timeout: Any = 0,
    memo: bool | None = None,
    requires: dict[str, Any] | None = None,
    recurrent: bool = False,
    resumes: int | None = None,
    priority: int | None = None,
    concurrency: Any = None,
    schedule: Any = None,
) -> Any:
    """Declare a workflow (a target that can be submitted as a run). Options as for ``task``;
    ``memo=True`` makes memoisation the default for every call in the run::

        @cf.workflow(memo=True, resumes=5)
        def pipeline(source: str, limit: int = 100): ...

    ``resumes`` (workflows only): how many times an execution abandoned because its worker died
    or lost its session is resumed by a new attempt that re-attaches its children; ``None`` (the
    default) leaves it to the server (3), ``0`` disables. Independent of ``retries``, which apply
    to errors. Tasks have no such option: a task may have side effects.

    ``priority`` and ``concurrency`` as for ``task``; on a workflow they also apply to runs
    submitted from outside (``coflux submit``), whose priority the run's calls inherit, and a
    workflow-level limit caps how many of its runs execute at once.

    ``schedule`` (workflows only, ours): a cron string or ``cf.Schedule`` (time zone, arguments,
    catch-up and overlap policies); once registered, the server starts a run at each due time::

        @cf.workflow(schedule=cf.Schedule("0 6 * * 1-5", timezone="Europe/Paris"))
        def report(region: str = "eu"): ...
    """
    return _decorate(
        fn,
        "workflow",
        dict(name=name, wait=wait, cache=cache, retries=retries, defer=defer, delay=delay,
             timeout=timeout, memo=memo, requires=requires, recurrent=recurrent, resumes=resumes,
             priority=priority, concurrency=concurrency, schedule=schedule),
    )


def stub(
    module: str,
    *,
    name: str | None = None,
    type: str = "task",
    wait: Any = False,
    cache: Any = False,
    retries: Any = 0,
    defer: Any = False,
    delay: Any = 0,
    timeout: Any = 0,
    memo: Any = None,
    requires: dict[str, Any] | None = None,
    recurrent: bool = False,
    resumes: int | None = None,
    priority: int | None = None,
    concurrency: Any = None,
) -> Callable[[Callable[..., Any]], Target]:
    """Reference a target hosted elsewhere (another module or worker) by its signature::

        @cf.stub("other.app", name="resize")
        def resize(path: str, width: int): ...

    Stubs are never discovered; calling one inside an execution submits to ``module``/``name``
    with these options (``resumes`` only for ``type="workflow"``).
    Outside an execution the body runs as a plain function.
    """
    if type not in ("task", "workflow"):
        raise ValueError("type must be 'task' or 'workflow'")

    def decorate(fn: Callable[..., Any]) -> Target:
        return Target(
            fn, type, name=name, module=module, wait=wait, cache=cache, retries=retries,
            defer=defer, delay=delay, timeout=timeout, memo=memo, requires=requires,
            recurrent=recurrent, resumes=resumes, priority=priority, concurrency=concurrency,
            is_stub=True,
        )

    return decorate
