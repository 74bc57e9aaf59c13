"""Handles that cross execution boundaries: executions, inputs and assets (values.md §4).

Handles are plain identifiers: they can be passed to other executions, returned, logged or
stored. Their methods talk to the running execution's context, imported lazily so that this
module stays free of import cycles.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


def _context() -> Any:
    from . import context

    return context.require_context()


class _Handle:
    """Common waiting behaviour of execution and input handles."""

    _kind = ""
    id: str

    def result(self) -> Any:
        """Wait for the final result and return it (raising the failure, if any).

        Inside ``cf.suspense(t)`` the wait is limited to ``t`` seconds (and the caller may be
        suspended instead); ``TimeoutError`` is raised when nothing resolved in time.
        """
        return _context().wait(self)

    def poll(self, timeout: float | None = None, default: Any = None) -> Any:
        """Return the result if it is available within ``timeout`` seconds, else ``default``.

        ``timeout=None`` does not wait at all. Never suspends the caller.
        """
        return _context().poll(self, timeout, default)

    def cancel(self) -> None:
        """Cancel the execution or input (already-resolved handles are skipped silently)."""
        _context().cancel([self])

    def _wire(self) -> dict[str, str]:
        return {"type": self._kind, "id": self.id}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Handle) and other._kind == self._kind and other.id == self.id

    def __hash__(self) -> int:
        return hash((self._kind, self.id))


class Execution(_Handle):
    """A handle on a submitted execution (returned by ``task.submit(...)``).

    ``Execution[int]`` may be used in annotations. Example::

        job = fetch.submit("https://example.com")
        rows = job.result()
    """

    _kind = "execution"

    def __init__(self, id: str, module: str | None = None, target: str | None = None) -> None:
        self.id = id
        self.module = module
        self.target = target
        # Outcome of a call run locally (outside any execution): ("ok", value) or ("error", exc).
        self._local: tuple[str, Any] | None = None

    def __class_getitem__(cls, item: Any) -> type:
        return cls

    def result(self) -> Any:
        """Wait for the final result and return it (raising the failure, if any)."""
        if self._local is not None:
            return _local_result(self._local)
        return super().result()

    def poll(self, timeout: float | None = None, default: Any = None) -> Any:
        """Return the result if it is available within ``timeout`` seconds, else ``default``."""
        if self._local is not None:
            return _local_result(self._local)
        return super().poll(timeout, default)

    def cancel(self) -> None:
        """Cancel the execution (and its incomplete descendants)."""
        if self._local is None:
            super().cancel()

    def __repr__(self) -> str:
        return f"Execution({self.id!r}, {self.module!r}, {self.target!r})"


def _local_result(outcome: tuple[str, Any]) -> Any:
    status, value = outcome
    if status == "error":
        raise value
    return value


class Input(_Handle):
    """A handle on an input (prompt) submitted by an execution.

    ``Input[Model]`` in a parameter annotation makes ``.result()`` validate the response with the
    model (a Pydantic model class, or any callable such as ``int``).
    """

    _kind = "input"
    model: Any = None

    def __init__(self, id: str, model: Any = None) -> None:
        self.id = id
        if model is not None:
            self.model = model

    def __class_getitem__(cls, model: Any) -> type:
        return type(f"Input[{getattr(model, '__name__', model)}]", (cls,), {"model": model})

    def __repr__(self) -> str:
        return f"Input({self.id!r})"

    def _convert(self, value: Any) -> Any:
        """Validate a response with the handle's model, when it has one."""
        model = self.model
        if model is None or isinstance(model, str):
            return value
        validate = getattr(model, "model_validate", None)
        if validate is not None:
            return validate(value)
        if model in (bool, int, float, str, list, dict):
            if isinstance(value, bool) and model in (int, float):
                raise TypeError(f"expected {model.__name__}, got bool")
            if model is float and isinstance(value, int):
                return float(value)
            if model is int and isinstance(value, float) and value.is_integer():
                return int(value)  # JSON does not distinguish 7 from 7.0
            if not isinstance(value, model):
                raise TypeError(f"expected {model.__name__}, got {type(value).__name__}")
            return value
        return model(value) if callable(model) else value


class AssetMetadata:
    """Summary of an asset: name, number of entries and total size in bytes."""

    __slots__ = ("name", "total_count", "total_size")

    def __init__(
        self, name: str | None = None, total_count: int | None = None, total_size: int | None = None
    ) -> None:
        self.name = name
        self.total_count = total_count
        self.total_size = total_size

    def __repr__(self) -> str:
        return f"AssetMetadata({self.name!r}, {self.total_count!r}, {self.total_size!r})"


class AssetEntry:
    """One file of an asset: its path inside the asset, blob key, size and metadata."""

    __slots__ = ("asset_id", "path", "blob_key", "size", "metadata")

    def __init__(
        self, asset_id: str, path: str, blob_key: str, size: int, metadata: dict[str, Any]
    ) -> None:
        self.asset_id = asset_id
        self.path = path
        self.blob_key = blob_key
        self.size = size
        self.metadata = metadata

    def restore(self, at: str | os.PathLike[str] | None = None) -> Path:
        """Download this entry to ``<at>/<path>`` (default: the current directory)."""
        from . import assets

        return assets.restore_entry(self, at)

    def __repr__(self) -> str:
        return f"AssetEntry({self.asset_id!r}, {self.path!r}, size={self.size})"


class Asset:
    """A persisted set of files (``cf.asset(...)``), identified by its id.

    Example::

        report = cf.asset("out/")       # in one execution
        report.restore()                # in another: files reappear under ./out/
        report["out/summary.json"].restore(at="/tmp/x")
    """

    def __init__(self, id: str, metadata: AssetMetadata | None = None) -> None:
        self.id = id
        self.metadata = metadata if metadata is not None else AssetMetadata()
        self._entries: dict[str, AssetEntry] | None = None

    @property
    def name(self) -> str | None:
        """The asset's name, if it has one."""
        return self.metadata.name

    @property
    def entries(self) -> dict[str, AssetEntry]:
        """The asset's entries by path (fetched from the worker once)."""
        if self._entries is None:
            from . import assets

            self._entries = assets.fetch_entries(self)
        return self._entries

    def __getitem__(self, path: str) -> AssetEntry:
        return self.entries[path]

    def __iter__(self) -> Any:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def restore(
        self, at: str | os.PathLike[str] | None = None, *, match: str | None = None
    ) -> dict[str, Path]:
        """Download every entry (or those whose path matches the glob ``match``) under ``at``.

        Returns ``{entry path: local path}``.
        """
        from . import assets

        return assets.restore_asset(self, at, match)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Asset) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("asset", self.id))

    def __repr__(self) -> str:
        return f"Asset({self.id!r}, {self.metadata!r})"
