"""Targets: functions decorated with ``@cf.task`` / ``@cf.workflow`` (executor-protocol.md §2.2).

A ``Target`` validates its function's signature and options when it is created, knows its
discovery definition, and turns calls into submissions when running inside an execution.
Outside any execution a call simply runs the function (handy in unit tests).
"""

from __future__ import annotations

import functools
import json
import sys

from . import context, models, options, schedules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08
_CO_COROUTINE = 0x80
_NO_DEFAULT: Any = object()


class Parameter:
    """One parameter of a target: name, annotation text and default."""

    __slots__ = ("name", "annotation", "default")

    def __init__(self, name: str, annotation: str | None, default: Any = _NO_DEFAULT) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default

    @property
    def has_default(self) -> bool:
        """Whether the parameter has a default value."""
        return self.default is not _NO_DEFAULT

    def definition(self) -> dict[str, Any]:
        """The discovery form: ``{"name", "annotation", "default"}`` (default as JSON text)."""
        default = None
        if self.has_default:
            default = json.dumps(self.default, separators=(",", ":"), allow_nan=False)
        return {"name": self.name, "annotation": self.annotation, "default": default}


def _annotation_text(annotation: Any) -> str | None:
    if isinstance(annotation, str):
        return annotation  # the source text under postponed evaluation
    return str(annotation)


def _parameters_from_code(fn: Any) -> list[Parameter]:
    code = fn.__code__
    if code.co_flags & _CO_VARARGS:
        raise TypeError(f"{fn.__qualname__}: *args parameters are not supported by targets")
    if code.co_flags & _CO_VARKEYWORDS:
        raise TypeError(f"{fn.__qualname__}: **kwargs parameters are not supported by targets")
    if code.co_posonlyargcount:
        raise TypeError(f"{fn.__qualname__}: positional-only parameters are not supported by targets")
    if code.co_kwonlyargcount:
        raise TypeError(f"{fn.__qualname__}: keyword-only parameters are not supported by targets")
    names = code.co_varnames[: code.co_argcount]
    defaults = fn.__defaults__ or ()
    first_default = len(names) - len(defaults)
    annotations = getattr(fn, "__annotations__", None) or {}
    result = []
    for i, name in enumerate(names):
        annotation = _annotation_text(annotations[name]) if name in annotations else None
        default = defaults[i - first_default] if i >= first_default else _NO_DEFAULT
        result.append(Parameter(name, annotation, default))
    return result


def _parameters_from_signature(fn: Any) -> list[Parameter]:
    import inspect

    result = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is not p.POSITIONAL_OR_KEYWORD:
            kind = str(p.kind).lower().replace("_", "-")
            raise TypeError(f"{fn!r}: {kind} parameter {p.name!r} is not supported by targets")
        annotation = None if p.annotation is p.empty else _annotation_text(p.annotation)
        default = _NO_DEFAULT if p.default is p.empty else p.default
        result.append(Parameter(p.name, annotation, default))
    return result


def analyse_parameters(fn: Any) -> list[Parameter]:
    """The function's parameters; raises for ``*args``/``**kwargs``/positional-only/keyword-only
    parameters and for defaults that are not JSON-serialisable."""
    if hasattr(fn, "__code__") and not hasattr(fn, "__wrapped__"):
        parameters = _parameters_from_code(fn)
    else:
        parameters = _parameters_from_signature(fn)
    for p in parameters:
        try:
            p.definition()
        except (TypeError, ValueError) as e:
            raise TypeError(f"default value of parameter {p.name!r} is not JSON-serialisable: {e}") from None
    return parameters


def _require_workflow(type: str) -> None:
    if type != "workflow":
        raise ValueError("resumes applies to workflows only: a task may have side effects, use retries")


def _clean_doc(doc: str | None) -> str | None:
    if not doc:
        return None
    import inspect

    return inspect.cleandoc(doc) or None


class _Invocable:
    """Behaviour shared by targets and call-site overrides (``target.with_retries(...)``)."""

    _target: Target
    _options: dict[str, Any]

    def _override(self, **changes: Any) -> TargetCall:
        merged = dict(self._options)
        merged.update(changes)
        return TargetCall(self._target, merged)

    def with_wait(self, wait: Any) -> TargetCall:
        """Override ``wait`` (``False``/``True``/parameter names) for this call."""
        return self._override(wait_for=options.normalize_wait(wait, self._target.parameter_names))

    def with_cache(self, cache: Any) -> TargetCall:
        """Override caching (``False``/``True``/seconds/``cf.Cache(...)``) for this call."""
        return self._override(cache=options.normalize_cache(cache, self._target.parameter_names))

    def with_retries(self, retries: Any) -> TargetCall:
        """Override retries for this call (a ``when`` predicate given here is not evaluated)."""
        return self._override(retries=options.normalize_retries(retries)[0])

    def with_defer(self, defer: Any) -> TargetCall:
        """Override deferral for this call."""
        return self._override(defer=options.normalize_defer(defer, self._target.parameter_names))

    def with_delay(self, delay: Any) -> TargetCall:
        """Delay this call by ``delay`` seconds (or a timedelta)."""
        return self._override(delay=options.to_milliseconds(delay, "delay"))

    def with_timeout(self, timeout: Any) -> TargetCall:
        """Override the timeout (seconds or timedelta; 0 = none) for this call."""
        return self._override(timeout=options.to_milliseconds(timeout, "timeout"))

    def with_memo(self, memo: Any) -> TargetCall:
        """Override memoisation; ``False`` opts out of a run-level memo."""
        value = options.normalize_memo(memo, self._target.parameter_names, self._target.type == "workflow")
        return self._override(memo=value)

    def with_requires(self, requires: Any) -> TargetCall:
        """Replace the routing tags for this call (an empty list removes a run-level tag)."""
        return self._override(requires=options.normalize_requires(requires))

    def with_recurrent(self, recurrent: bool = True) -> TargetCall:
        """Make this call recurrent (or not)."""
        return self._override(recurrent=bool(recurrent))

    def with_resumes(self, resumes: int | None) -> TargetCall:
        """Override how often this workflow call is resumed after its worker dies (``None``: the
        server's default, ``0``: never). Workflows only: a task is not resumed, it may have side
        effects (use ``with_retries``)::

            pipeline.with_resumes(10).submit(source)
        """
        _require_workflow(self._target.type)
        return self._override(resumes=options.normalize_resumes(resumes))

    def with_priority(self, priority: int | None) -> TargetCall:
        """Override the priority of this call (higher runs first; ``None``: the caller's)::

            report.with_priority(10).submit(customer_id)
        """
        return self._override(priority=options.normalize_priority(priority))

    def with_concurrency(self, concurrency: Any) -> TargetCall:
        """Override the concurrency limit of this call: ``N``, ``cf.Limit(N, key="{param}")``
        or ``None`` (no limit)::

            sync.with_concurrency(cf.Limit(1, key="{customer_id}")).submit(customer_id)
        """
        value = options.normalize_concurrency(concurrency, self._target.parameter_names)
        return self._override(concurrency=value)

    def submit(self, *args: Any, **kwargs: Any) -> models.Execution:
        """Submit the call and return its ``Execution`` handle without waiting.

        Outside any execution the function runs immediately and the handle holds its outcome.
        """
        target = self._target
        ctx = context.current_context()
        if ctx is None:
            handle = models.Execution(None, target.module, target.name)  # type: ignore[arg-type]
            try:
                handle._local = ("ok", target.fn(*args, **kwargs))
            except Exception as e:
                handle._local = ("error", e)
            return handle
        return ctx.submit(target, self._options, target.bind(args, kwargs))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Inside an execution: submit and wait for the result. Outside: call the function."""
        if context.current_context() is None:
            return self._target.fn(*args, **kwargs)
        return self.submit(*args, **kwargs).result()


class Target(_Invocable):
    """A task or workflow. Created by ``@cf.task``, ``@cf.workflow`` or ``@cf.stub``."""

    def __init__(
        self,
        fn: Callable[..., Any],
        type: str,
        *,
        name: str | None = None,
        module: str | None = None,
        wait: Any = False,
        cache: Any = False,
        retries: Any = 0,
        defer: Any = False,
        delay: Any = 0,
        timeout: Any = 0,
        memo: Any = None,
        requires: Any = None,
        recurrent: bool = False,
        resumes: Any = None,
        priority: Any = None,
        concurrency: Any = None,
        schedule: Any = None,
        is_stub: bool = False,
    ) -> None:
        if not callable(fn):
            raise TypeError("a target must be a function")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError("name must be a non-empty string")
        self.fn = fn
        self.type = type
        self.parameters = analyse_parameters(fn)
        name = name or getattr(fn, "__name__", None)
        if not name:
            raise ValueError(f"{fn!r} has no __name__: pass name=")
        self.name = name
        self.module = module or getattr(fn, "__module__", None) or "__main__"
        self.is_stub = is_stub
        self.parameter_names = [p.name for p in self.parameters]
        names = self.parameter_names
        retries_config, self.retry_when = options.normalize_retries(retries)
        if resumes is not None:
            _require_workflow(type)
        self._target = self
        self._options = {
            "wait_for": options.normalize_wait(wait, names),
            "cache": options.normalize_cache(cache, names),
            "defer": options.normalize_defer(defer, names),
            "delay": options.to_milliseconds(delay, "delay"),
            "retries": retries_config,
            "recurrent": bool(recurrent),
            "timeout": options.to_milliseconds(timeout, "timeout"),
            "requires": options.normalize_requires(requires),
            "memo": options.normalize_memo(memo, names, type == "workflow"),
            "resumes": options.normalize_resumes(resumes),
            "priority": options.normalize_priority(priority),
            "concurrency": options.normalize_concurrency(concurrency, names),
        }
        # after the parameters: its arguments are bound to them
        self.schedule = schedules.normalize_schedule(schedule, self)
        # Name, docstring and __wrapped__ (so inspect.signature(target) shows the function's).
        functools.update_wrapper(self, fn, updated=())  # type: ignore[arg-type]

    @property
    def is_coroutine(self) -> bool:
        """Whether the function is ``async def`` (run with ``asyncio.run``)."""
        code = getattr(self.fn, "__code__", None)
        if code is not None:
            return bool(code.co_flags & _CO_COROUTINE)
        import inspect

        return inspect.iscoroutinefunction(self.fn)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """Map a call's arguments to positional order (keyword arguments work; gaps before
        the last given argument are filled with defaults, trailing defaults are left out)."""
        parameters = self.parameters
        if len(args) > len(parameters):
            raise TypeError(
                f"{self.name}() takes {len(parameters)} arguments but {len(args)} were given"
            )
        values = list(args)
        if kwargs:
            given: dict[int, Any] = {}
            for key, value in kwargs.items():
                if key not in self.parameter_names:
                    raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
                index = self.parameter_names.index(key)
                if index < len(args):
                    raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
                given[index] = value
            for index in range(len(args), max(given) + 1):
                if index in given:
                    values.append(given[index])
                elif parameters[index].has_default:
                    values.append(parameters[index].default)
                else:
                    raise TypeError(f"{self.name}() missing argument {parameters[index].name!r}")
        missing = [p.name for p in parameters[len(values) :] if not p.has_default]
        if missing:
            raise TypeError(f"{self.name}() missing argument(s): {', '.join(map(repr, missing))}")
        return values

    def concurrency_key(self, template: str | None, arguments: list[Any]) -> str:
        """The key of a concurrency limit for one call (``arguments`` as ``bind`` returns them):
        ``template`` formatted with the arguments by parameter name, defaults included, or
        ``"<module>/<target>"`` without a template. ``ValueError`` when it can't be formatted."""
        if template is None:
            return f"{self.module}/{self.name}"
        named = {}
        for i, p in enumerate(self.parameters):
            if i < len(arguments):
                named[p.name] = arguments[i]
            elif p.has_default:
                named[p.name] = p.default
        return options.resolve_concurrency_key(template, named, f"{self.module}/{self.name}")

    def input_model(self, index: int) -> Any:
        """The model of an ``Input[Model]`` annotation on parameter ``index``, if any."""
        annotations = getattr(self.fn, "__annotations__", None) or {}
        annotation = annotations.get(self.parameter_names[index]) if index < len(self.parameters) else None
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, getattr(self.fn, "__globals__", {}))  # noqa: S307
            except Exception:
                return None
        if isinstance(annotation, type) and issubclass(annotation, models.Input):
            return annotation.model
        return None

    def definition(self, module: str | None = None) -> dict[str, Any]:
        """The discovery definition (executor-protocol.md §2.2) under the scanned ``module``."""
        o = self._options
        result: dict[str, Any] = {
            "module": module or self.module,
            "name": self.name,
            "type": self.type,
            "parameters": [p.definition() for p in self.parameters],
        }
        if o["wait_for"]:
            result["wait_for"] = o["wait_for"]
        if o["cache"]:
            result["cache"] = o["cache"]
        if o["retries"]:
            result["retries"] = o["retries"]
        if o["defer"]:
            result["defer"] = o["defer"]
        if o["delay"] > 0:
            result["delay"] = o["delay"]
        if o["memo"] is True or (isinstance(o["memo"], list) and o["memo"]):
            result["memo"] = o["memo"]
        if o["requires"]:
            result["requires"] = o["requires"]
        if o["timeout"] > 0:
            result["timeout"] = o["timeout"]
        if o["recurrent"]:
            result["recurrent"] = True
        if o["resumes"] is not None:
            result["resumes"] = o["resumes"]
        if o["priority"] is not None:
            result["priority"] = o["priority"]
        if o["concurrency"] is not None:
            result["concurrency"] = o["concurrency"]
        if self.schedule is not None:
            result["schedule"] = self.schedule
        instruction = _clean_doc(getattr(self.fn, "__doc__", None))
        if instruction:
            result["instruction"] = instruction
        return result

    def __reduce__(self) -> Any:
        # Pickled (e.g. passed as a value) by reference to the module attribute it decorates.
        return (_import_target, (self.fn.__module__, self.fn.__qualname__))

    def __repr__(self) -> str:
        return f"<{self.type} {self.module}/{self.name}>"


def _import_target(module: str, qualname: str) -> Any:
    __import__(module)
    obj: Any = sys.modules[module]
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class TargetCall(_Invocable):
    """A target with call-site overrides, as returned by ``target.with_*(...)``."""

    def __init__(self, target: Target, call_options: dict[str, Any]) -> None:
        self._target = target
        self._options = call_options

    def __repr__(self) -> str:
        return f"<call of {self._target!r}>"
