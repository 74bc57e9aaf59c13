"""Output capture: ``print`` during an execution becomes log lines (executor-protocol.md §9.1).

Each complete, non-empty line written to ``sys.stdout``/``sys.stderr`` is sent as a ``log`` with
level 1 or 3; ``flush()`` sends a pending partial line, and whatever remains is sent when
capture stops. Only Python-level writes are captured, not writes to file descriptors 1 and 2.
"""

from __future__ import annotations

import io
import sys

import _thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, TextIO


class LineCapture(io.TextIOBase):
    """A text stream that hands every complete non-empty line to ``emit``."""

    def __init__(self, emit: Callable[[str], None], original: TextIO | None) -> None:
        super().__init__()
        self._emit = emit
        self._original = original
        self._pending = ""
        self._lock = _thread.RLock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        if self._original is None:
            raise io.UnsupportedOperation("fileno")
        return self._original.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            if "\n" not in text:
                self._pending += text
                return len(text)
            lines = (self._pending + text).split("\n")
            self._pending = lines.pop()
            for line in lines:
                if line:
                    self._emit(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                line, self._pending = self._pending, ""
                self._emit(line)


class OutputCapture:
    """Replaces ``sys.stdout``/``sys.stderr`` with line captures between ``start`` and ``stop``."""

    def __init__(self, emit_stdout: Callable[[str], None], emit_stderr: Callable[[str], None]) -> None:
        self._emit_stdout = emit_stdout
        self._emit_stderr = emit_stderr
        self._saved: tuple[Any, Any] | None = None
        self._streams: tuple[LineCapture, LineCapture] | None = None

    def start(self) -> None:
        """Install the capture streams."""
        self._saved = (sys.stdout, sys.stderr)
        self._streams = (
            LineCapture(self._emit_stdout, sys.stdout),
            LineCapture(self._emit_stderr, sys.stderr),
        )
        sys.stdout, sys.stderr = self._streams

    def flush(self) -> None:
        """Send pending partial lines."""
        if self._streams is not None:
            for stream in self._streams:
                stream.flush()

    def stop(self) -> None:
        """Send what remains and restore the original streams."""
        if self._saved is None:
            return
        try:
            self.flush()
        finally:
            sys.stdout, sys.stderr = self._saved
            self._saved = None
            self._streams = None
