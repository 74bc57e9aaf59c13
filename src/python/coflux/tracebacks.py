"""Tracebacks as reported to the worker: user frames only (executor-protocol.md §5.6).

Frames inside this package are removed, unless that would remove every frame of a traceback.
The error's type is reported as ``<module>.<qualname>`` of its class.
"""

from __future__ import annotations

import os

from .errors import ExecutionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PACKAGE_PREFIX = os.path.dirname(__file__) + os.sep


def _is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_PREFIX)


def type_name(error: BaseException) -> str:
    """``module.qualname`` of the exception's class (a child's original type for re-raised
    ``ExecutionError``s whose class could not be imported)."""
    if isinstance(error, ExecutionError) and error.type:
        return error.type
    cls = type(error)
    return f"{cls.__module__}.{cls.__qualname__}"


def _strip(exception: Any, seen: set[int]) -> None:
    import traceback

    if exception is None or id(exception) in seen:
        return
    seen.add(id(exception))
    frames = [f for f in exception.stack if not _is_internal(f.filename)]
    if frames and len(frames) != len(exception.stack):
        exception.stack = traceback.StackSummary.from_list(frames)
    _strip(exception.__cause__, seen)
    _strip(exception.__context__, seen)
    for nested in getattr(exception, "exceptions", None) or ():
        _strip(nested, seen)


def format_exception(error: BaseException) -> str:
    """The traceback text of ``error`` without adapter frames."""
    import traceback

    try:
        summary = traceback.TracebackException.from_exception(error)
        _strip(summary, set())
        return "".join(summary.format())
    except Exception:  # never let formatting hide the original error
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def safe_message(error: BaseException) -> str:
    """``str(error)``, or a placeholder when ``__str__`` itself fails."""
    try:
        return str(error)
    except Exception:
        return f"<unprintable {type(error).__name__}>"
