"""Option objects (``Retries``, ``Cache``, ``Defer``, ``Limit``) and their wire forms (executor-protocol.md §2.2).

Every ``normalize_*`` function turns what a decorator or a ``with_*`` call accepts into the JSON
shape used both in discovery and in ``submit_execution``, or ``None`` when the option is off.
Unknown parameter names raise ``ValueError`` (at decoration time for decorators).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Sequence, Union

    Seconds = Union[int, float, "datetime.timedelta"]
    import datetime


class Retries:
    """Retry policy for a target.

    ``limit=None`` means unlimited; ``backoff=(min, max)`` in seconds (or timedeltas) spaces the
    retries; ``when`` (an exception class, a tuple of classes, or a callable taking the exception)
    decides inside the executor whether a failure may be retried at all. Example::

        @cf.task(retries=cf.Retries(5, backoff=(1, 30), when=TransientError))
        def call_api(): ...
    """

    def __init__(
        self,
        limit: int | None = None,
        backoff: tuple[Seconds, Seconds] = (1, 60),
        when: type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool] | None = None,
    ) -> None:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError("Retries limit must be a non-negative integer or None")
        if not isinstance(backoff, (tuple, list)) or len(backoff) != 2:
            raise ValueError("Retries backoff must be a (min, max) pair")
        self.limit = limit
        self.backoff = (backoff[0], backoff[1])
        self.when = when

    def __repr__(self) -> str:
        return f"Retries({self.limit!r}, backoff={self.backoff!r}, when={self.when!r})"


class Cache:
    """Caching configuration.

    ``max_age`` (seconds or timedelta; ``None`` = any age), ``params`` (parameter names — a list
    or ``"a, b"`` — or ``None`` for all), ``namespace`` (default ``"<module>:<target>"``) and
    ``version`` (change it to invalidate). Example::

        @cf.task(cache=cf.Cache(3600, params=["url"], version="v2"))
        def fetch(url, verbose=False): ...
    """

    def __init__(
        self,
        max_age: Seconds | None = None,
        *,
        params: Iterable[str] | str | None = None,
        namespace: str | None = None,
        version: str | None = None,
    ) -> None:
        self.max_age = max_age
        self.params = params
        self.namespace = namespace
        self.version = version

    def __repr__(self) -> str:
        return (
            f"Cache({self.max_age!r}, params={self.params!r}, namespace={self.namespace!r}, "
            f"version={self.version!r})"
        )


class Defer:
    """Deferral (debounce) configuration: ``params`` names the arguments that identify a call."""

    def __init__(self, *, params: Iterable[str] | str | None = None) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"Defer(params={self.params!r})"


class Limit:
    """A concurrency limit: at most ``limit`` executions with the same key run at once, across
    all workers of the workspace (an execution waiting on its children does not count).

    ``key`` is a template formatted with the call's arguments by parameter name when the call is
    submitted (``str.format`` syntax); ``None`` (the default) shares one limit between all calls
    of the target (key ``"<module>/<target>"``). A constant key shares a limit between targets.
    ``concurrency=N`` on a decorator is ``Limit(N)``. Example::

        @cf.task(concurrency=cf.Limit(2, key="{customer_id}"))
        def sync(customer_id: str, full: bool = False): ...
    """

    def __init__(self, limit: int, key: str | None = None) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError("Limit limit must be an int")
        if limit < 1:
            raise ValueError("Limit limit must be at least 1")
        if key is not None:
            if not isinstance(key, str):
                raise TypeError("Limit key must be a string or None")
            if not key:
                raise ValueError("Limit key must not be empty")
            _template_fields(key)  # raises ValueError for a malformed template
        self.limit = limit
        self.key = key

    def __repr__(self) -> str:
        return f"Limit({self.limit!r}, key={self.key!r})"


def to_milliseconds(value: Any, what: str) -> int:
    """Seconds (number) or a ``timedelta`` → integer milliseconds, truncated."""
    if value is None or value is False:
        return 0
    total = getattr(value, "total_seconds", None)
    if total is not None:
        seconds = total()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value
    else:
        raise TypeError(f"{what} must be a number of seconds or a timedelta")
    if seconds < 0:
        raise ValueError(f"{what} must not be negative")
    return int(seconds * 1000)


def parameter_indexes(names: Iterable[str] | str, parameters: Sequence[str], what: str) -> list[int]:
    """Map parameter names (an iterable, or a ``"a, b"`` string) to indexes, in the given order."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    indexes = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{what}: parameter names must be strings, got {name!r}")
        if name not in parameters:
            raise ValueError(f"{what}: unknown parameter {name!r}")
        index = parameters.index(name)
        if index not in indexes:
            indexes.append(index)
    return indexes


def _params(params: Any, parameters: Sequence[str], what: str) -> bool | list[int]:
    if params is None or params is True:
        return True
    return parameter_indexes(params, parameters, what)


def normalize_wait(wait: Any, parameters: Sequence[str]) -> list[int] | None:
    """``wait=False/True/names`` → sorted indexes, or ``None``."""
    if wait is None or wait is False:
        return None
    if wait is True:
        indexes = list(range(len(parameters)))
    else:
        indexes = sorted(parameter_indexes(wait, parameters, "wait"))
    return indexes or None


def normalize_cache(cache: Any, parameters: Sequence[str]) -> dict[str, Any] | None:
    """``cache=False/True/seconds/timedelta/Cache(...)`` → CacheConfig or ``None``."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return {"params": True}
    if not isinstance(cache, Cache):
        max_age = to_milliseconds(cache, "cache")
        return {"params": True, "max_age_ms": max_age}
    config: dict[str, Any] = {"params": _params(cache.params, parameters, "cache params")}
    if cache.max_age is not None:
        config["max_age_ms"] = to_milliseconds(cache.max_age, "cache max_age")
    if cache.namespace is not None:
        config["namespace"] = str(cache.namespace)
    if cache.version is not None:
        config["version"] = str(cache.version)
    return config


def normalize_defer(defer: Any, parameters: Sequence[str]) -> dict[str, Any] | None:
    """``defer=False/True/Defer(params=...)`` → DeferConfig or ``None``."""
    if defer is None or defer is False:
        return None
    if defer is True:
        return {"params": True}
    if isinstance(defer, Defer):
        return {"params": _params(defer.params, parameters, "defer params")}
    raise TypeError("defer must be a bool or cf.Defer(...)")


def normalize_retries(retries: Any) -> tuple[dict[str, Any] | None, Any]:
    """``retries=0/False/True/n/Retries(...)`` → ``(RetriesConfig or None, when predicate)``."""
    if retries is None or retries is False or retries == 0:
        return None, None
    if retries is True:
        retries = Retries()
    elif isinstance(retries, int) and not isinstance(retries, bool):
        if retries < 0:
            raise ValueError("retries must not be negative")
        return {"limit": retries}, None
    if not isinstance(retries, Retries):
        raise TypeError("retries must be a bool, an int or cf.Retries(...)")
    if retries.limit == 0:
        return None, None
    config: dict[str, Any] = {}
    if retries.limit is not None:
        config["limit"] = retries.limit
    low = to_milliseconds(retries.backoff[0], "backoff")
    high = to_milliseconds(retries.backoff[1], "backoff")
    if high < low:
        raise ValueError("backoff maximum must not be below the minimum")
    if low:
        config["backoff_min_ms"] = low
    if high:
        config["backoff_max_ms"] = high
    return config, retries.when


def normalize_resumes(resumes: Any) -> int | None:
    """``resumes=None/n`` → ``None`` (the server's default) or a count; ``0`` disables resuming."""
    if resumes is None:
        return None
    if isinstance(resumes, bool) or not isinstance(resumes, int):
        raise TypeError("resumes must be an int or None")
    if resumes < 0:
        raise ValueError("resumes must not be negative")
    return resumes


# Integers beyond this lose precision as JSON numbers on the TypeScript side.
_MAX_SAFE_INTEGER = 2**53 - 1


def normalize_priority(priority: Any) -> int | None:
    """``priority=None/n`` → ``None`` (inherit the caller's, 0 at the top) or ``n``; higher runs first."""
    if priority is None:
        return None
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise TypeError("priority must be an int or None")
    if abs(priority) > _MAX_SAFE_INTEGER:
        raise ValueError("priority is out of range")
    return priority


def normalize_concurrency(concurrency: Any, parameters: Sequence[str]) -> dict[str, Any] | None:
    """``concurrency=None/n/Limit(...)`` → ``{"limit": n, "key": template or None}`` or ``None``.

    The template's fields must name parameters (``ValueError`` otherwise); it is resolved with
    the call's arguments when the call is submitted (``resolve_concurrency_key``).
    """
    if concurrency is None:
        return None
    if not isinstance(concurrency, Limit):
        if isinstance(concurrency, bool) or not isinstance(concurrency, int):
            raise TypeError("concurrency must be an int, cf.Limit(...) or None")
        concurrency = Limit(concurrency)
    if concurrency.key is not None:
        for name in _template_fields(concurrency.key):
            if name not in parameters:
                raise ValueError(f"concurrency key {concurrency.key!r}: unknown parameter {name!r}")
    return {"limit": concurrency.limit, "key": concurrency.key}


def resolve_concurrency_key(template: str, arguments: dict[str, Any], target: str) -> str:
    """A key template formatted with a call's arguments (by parameter name); ``ValueError``
    naming the template, the ``target`` and the cause when it cannot be (a missing name, a bad
    attribute, index or format spec)."""
    try:
        return template.format(**arguments)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as e:
        missing = isinstance(e, KeyError) and e.args and e.args[0] not in arguments
        if missing and e.args[0] in _template_fields(template):
            cause = f"the call has no argument {e.args[0]!r}"
        else:
            cause = f"{type(e).__name__}: {e}"
        raise ValueError(
            f"cannot resolve the concurrency key {template!r} of {target} from the call's arguments ({cause})"
        ) from None


def _template_fields(template: str) -> list[str]:
    """The parameter names a key template refers to (``"{a.b}-{c[0]}"`` → ``["a", "c"]``)."""
    import string  # only for key templates: keeps the import off the common path

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"concurrency key {template!r} is not a valid template: {e}") from None
    names = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        name = field.split(".", 1)[0].split("[", 1)[0]
        if not name or name.isdigit():
            raise ValueError(f"concurrency key {template!r}: each field must name a parameter, like {{customer_id}}")
        names.append(name)
    return names


def normalize_memo(memo: Any, parameters: Sequence[str], is_workflow: bool) -> bool | list[int] | None:
    """``memo=True/False/names`` → ``True``, ``False`` (explicit opt-out), indexes or ``None``."""
    if memo is None:
        return None
    if memo is True or memo is False:
        return memo
    if is_workflow:
        raise ValueError("workflow memo must be True or False (it sets the run-level default)")
    return parameter_indexes(memo, parameters, "memo")


def normalize_requires(requires: Any) -> dict[str, list[str]] | None:
    """``{key: str | bool | list[str]}`` → ``{key: [str, …]}`` (booleans as ``"true"``/``"false"``)."""
    if requires is None:
        return None
    if not isinstance(requires, dict):
        raise TypeError("requires must be a dict")
    result: dict[str, list[str]] = {}
    for key, value in requires.items():
        if not isinstance(key, str):
            raise TypeError("requires keys must be strings")
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        result[key] = [_tag_value(v, key) for v in values]
    return result


def _tag_value(value: Any, key: str) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    raise TypeError(f"requires[{key!r}] values must be strings or booleans, got {value!r}")


def matches_retry(when: Any, error: BaseException) -> bool:
    """Evaluate a retry ``when`` predicate (executor-protocol.md §5.6)."""
    if isinstance(when, (type, tuple)):
        return isinstance(error, when)  # a class or a tuple of classes
    return bool(when(error))
