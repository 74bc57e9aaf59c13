"""Assets: persisting files from an execution and restoring them elsewhere (semantics.md §27,
executor-protocol.md §6.5–§6.7).

Entry paths keep their directory structure: files are named relative to ``at=`` (default: the
execution's working directory); files outside it keep their name (and, for a directory, the
directory's name). Restoring validates that every entry path stays inside the target directory.
"""

from __future__ import annotations

import os

from . import context
from .models import Asset, AssetEntry, AssetMetadata

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


class _Collector:
    """Gathers ``{entry path: file}`` and pre-resolved ``{entry path: [key, size, metadata]}``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.files: dict[str, str] = {}
        self.entries: dict[str, list[Any]] = {}

    def _claim(self, entry_path: str, source: Any) -> bool:
        entry_path = entry_path.replace(os.sep, "/")
        previous = self.files.get(entry_path, self.entries.get(entry_path))
        if previous is not None:
            if previous == source:
                return False
            raise ValueError(f"duplicate entry path {entry_path}")
        return True

    def add_file(self, entry_path: str, path: str) -> None:
        if self._claim(entry_path, path):
            self.files[entry_path.replace(os.sep, "/")] = path

    def add_entry(self, entry_path: str, entry: AssetEntry) -> None:
        value = [entry.blob_key, entry.size, entry.metadata]
        if self._claim(entry_path, value):
            self.entries[entry_path.replace(os.sep, "/")] = value

    def add_asset(self, asset: Asset, prefix: str = "") -> None:
        for path, entry in asset.entries.items():
            self.add_entry(f"{prefix}/{path}" if prefix else path, entry)

    def _relative(self, path: str, outside_root: str) -> str:
        relative = os.path.relpath(path, self.base)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            relative = os.path.relpath(path, os.path.dirname(outside_root))
        return relative

    def add_path(self, source: Any, entry_path: str | None = None) -> None:
        """A file or directory (absolute, or relative to the base directory)."""
        path = os.path.abspath(os.path.join(self.base, os.fspath(source)))
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    file_path = os.path.join(root, name)
                    if entry_path is not None:
                        self.add_file(f"{entry_path}/{os.path.relpath(file_path, path)}", file_path)
                    else:
                        self.add_file(self._relative(file_path, path), file_path)
        elif os.path.isfile(path):
            self.add_file(entry_path if entry_path is not None else self._relative(path, path), path)
        else:
            raise FileNotFoundError(f"no such file or directory: {source}")

    def add(self, item: Any, entry_path: str | None = None) -> None:
        if isinstance(item, Asset):
            self.add_asset(item, entry_path or "")
        elif isinstance(item, AssetEntry):
            self.add_entry(entry_path or item.path, item)
        elif isinstance(item, (str, os.PathLike)):
            self.add_path(item, entry_path)
        else:
            raise TypeError(f"cannot add {type(item).__name__} to an asset")


def asset(
    entries: Any = None,
    *,
    at: str | os.PathLike[str] | None = None,
    match: str | None = None,
    name: str | None = None,
) -> Asset:
    """Persist files as an asset and return its handle.

    ``entries`` may be omitted (every file under ``at``, default the working directory), a path
    (file or directory), a list of paths/assets/entries, or a dict ``{entry path: path | Asset |
    AssetEntry}``. ``match`` keeps only entry paths matching a glob. Example::

        cf.asset("out/", name="report")            # entries "out/…"
        cf.asset({"data.csv": "/tmp/export.csv"})  # explicit entry path
    """
    ctx = context.require_context()
    base = os.path.abspath(os.fspath(at)) if at is not None else os.getcwd()
    collector = _Collector(base)
    if entries is None:
        collector.add_path(base)
    elif isinstance(entries, dict):
        for entry_path, source in entries.items():
            collector.add(source, str(entry_path).strip("/"))
    elif isinstance(entries, (list, tuple, set, frozenset)):
        for item in entries:
            collector.add(item)
    else:
        collector.add(entries)
    files, existing = collector.files, collector.entries
    if match is not None:
        from fnmatch import fnmatchcase

        files = {p: f for p, f in files.items() if fnmatchcase(p, match)}
        existing = {p: e for p, e in existing.items() if fnmatchcase(p, match)}
    if not files and not existing:
        raise ValueError("No files found to create asset")
    params: dict[str, Any] = {"paths": list(dict.fromkeys(files.values()))}
    if name is not None:
        params["metadata"] = {"name": name}
    if existing:
        params["entries"] = existing
    params["files"] = files
    result = ctx.request("persist_asset", params)
    reference = result.get("reference") or []
    metadata = AssetMetadata(*reference[2:5]) if len(reference) >= 5 else AssetMetadata(name)
    return Asset(result["asset_id"], metadata)


def fetch_entries(handle: Asset) -> dict[str, AssetEntry]:
    """The asset's entries, from ``get_asset`` (records that this execution used the asset)."""
    result = context.require_context().request("get_asset", {"asset_id": handle.id})
    entries = {}
    for path, (blob_key, size, metadata) in (result.get("entries") or {}).items():
        entries[path] = AssetEntry(handle.id, path, blob_key, size, metadata or {})
    return entries


def safe_join(base: str, entry_path: str) -> str:
    """``base/entry_path``, refusing paths that would leave ``base``."""
    target = os.path.normpath(os.path.join(base, entry_path))
    if os.path.isabs(entry_path) or os.path.commonpath([base, target]) != base or target == base:
        raise ValueError(f"asset entry path escapes the target directory: {entry_path!r}")
    return target


def restore_entry(entry: AssetEntry, at: Any = None) -> Path:
    """Download one entry to ``<at>/<entry path>`` (default: the current directory)."""
    from pathlib import Path

    base = os.path.abspath(os.fspath(at)) if at is not None else os.getcwd()
    target = safe_join(base, entry.path)
    context.require_context().request(
        "download_blob", {"blob_key": entry.blob_key, "target_path": target}
    )
    return Path(target)


def restore_asset(handle: Asset, at: Any = None, match: str | None = None) -> dict[str, Path]:
    """Download every entry (optionally only those matching the glob ``match``)."""
    entries = handle.entries
    if match is not None:
        from fnmatch import fnmatchcase

        entries = {p: e for p, e in entries.items() if fnmatchcase(p, match)}
    return {path: restore_entry(entry, at) for path, entry in entries.items()}
