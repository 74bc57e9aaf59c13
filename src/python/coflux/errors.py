"""Exceptions raised to user code.

``ExecutionError`` means the awaited execution raised; ``ExecutionTerminated`` and its
subclasses mean the server gave up on it (cancelled, timed out, abandoned).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs milliseconds per fresh process; annotations are lazy
if TYPE_CHECKING:
    from typing import Any


class ExecutionError(Exception):
    """An awaited execution failed with an exception.

    Instances are created dynamically as a subclass of both ``ExecutionError`` and the
    original exception class when that class can be imported, so
    ``except ValueError:`` catches a child's ``ValueError``::

        try:
            fetch(url)
        except ValueError as e:
            print(e.type, e.traceback)   # "builtins.ValueError", the child's traceback text

    Attributes: ``type`` (``module.qualname`` of the original class), ``message``,
    ``traceback`` (the child's traceback text, possibly empty) and ``execution`` (the
    handle of the failed execution, when known).
    """

    def __init__(
        self,
        message: str,
        *,
        type: str = "",
        traceback: str = "",
        execution: Any = None,
    ) -> None:
        # BaseException.__init__ directly: the MRO may contain the original class, whose
        # __init__ can require arguments we do not have.
        BaseException.__init__(self, message)
        self.message = message
        self.type = type
        self.traceback = traceback
        self.execution = execution

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:
        return (_rebuild_error, (self.message, self.type, self.traceback))


class ExecutionTerminated(Exception):
    """An awaited execution will never produce a value (the server gave up on it)."""

    def __init__(self, message: str = "", *, execution: Any = None) -> None:
        super().__init__(message)
        self.execution = execution


class ExecutionCancelled(ExecutionTerminated):
    """The awaited execution (or input) was cancelled."""


class ExecutionTimeout(ExecutionTerminated):
    """The awaited execution exceeded its own timeout and will not be retried."""


class ExecutionAbandoned(ExecutionTerminated):
    """The awaited execution was abandoned (its worker was lost) and will not be retried."""


class InputDismissed(Exception):
    """The awaited input was dismissed by the responder."""

    def __init__(self, message: str = "", *, input: Any = None) -> None:
        super().__init__(message)
        self.input = input


_error_classes: dict[str, type] = {}


def _find_class(type_name: str) -> type | None:
    """Import ``module.qualname`` and return the class if it is an ``Exception`` subclass."""
    # The qualname itself may contain dots (``app.errors.Outer.Inner``): try each split.
    parts = type_name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
        except Exception:
            continue
        obj: Any = module
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            continue
        if isinstance(obj, type) and issubclass(obj, Exception):
            return obj
        return None
    return None


def _error_class(type_name: str) -> type:
    """The dynamic ``ExecutionError`` subclass for an original exception type name."""
    cls = _error_classes.get(type_name)
    if cls is not None:
        return cls
    cls = ExecutionError
    original = _find_class(type_name) if type_name else None
    if original is not None and not issubclass(original, ExecutionError):
        try:
            cls = type(
                original.__name__,
                (ExecutionError, original),
                {"__module__": original.__module__, "__qualname__": original.__qualname__},
            )
        except TypeError:
            cls = ExecutionError  # incompatible layout: fall back to the plain class
    _error_classes[type_name] = cls
    return cls


def make_execution_error(
    type_name: str, message: str, traceback: str = "", execution: Any = None
) -> ExecutionError:
    """Build the ``ExecutionError`` raised for a failed child execution."""
    cls = _error_class(type_name)
    try:
        return cls(message, type=type_name, traceback=traceback, execution=execution)
    except Exception:
        # The original class's __new__ rejected our arguments.
        return ExecutionError(message, type=type_name, traceback=traceback, execution=execution)


def _rebuild_error(message: str, type_name: str, traceback: str) -> ExecutionError:
    return make_execution_error(type_name, message, traceback)
