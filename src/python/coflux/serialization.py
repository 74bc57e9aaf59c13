"""Value encoding and decoding (values.md §2–§5, executor-protocol.md §8).

A Python value becomes *data* (JSON with tagged objects) plus a list of *references*
(executions, inputs, assets and fragments stored in files). The data is wrapped in an
executor-channel Value: inline, or a file in the transfer directory when its compact JSON is
larger than 64 KiB.

Modules such as ``datetime``, ``decimal``, ``uuid``, ``pickle`` and ``pydantic`` are only looked
up in ``sys.modules`` when encoding (a value of one of their types implies the module is loaded)
and imported on demand when decoding, which keeps the executor's start-up cheap.
"""

from __future__ import annotations

import json
import os
import sys
from collections import OrderedDict

from . import models
from .protocol import dumps_compact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INLINE_LIMIT = 65536
_INF = float("inf")


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def default_temp_dir() -> str:
    """The system temporary directory (fallback when no ``temp_dir`` was given)."""
    import tempfile

    return tempfile.gettempdir()


def write_temp_file(content: bytes, temp_dir: str | None = None) -> str:
    """Write ``content`` to a new ``coflux_*`` file in ``temp_dir``; returns its absolute path.

    The worker names ``temp_dir`` without creating it (most executions write no transfer file):
    it is created here, on first use.
    """
    directory = os.path.abspath(temp_dir or default_temp_dir())
    is_created = False
    while True:
        path = os.path.join(directory, "coflux_" + os.urandom(8).hex())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except FileNotFoundError:
            # only the directory itself: without its parent (the worker's) the worker is gone
            if not temp_dir or is_created:
                raise
            is_created = True
            try:
                os.mkdir(directory, 0o700)
            except FileExistsError:
                pass
            continue
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return path


def _sort_key(item: tuple[Any, Any]) -> str:
    return repr(item[0])


class Encoder:
    """Encodes Python values into data, collecting references in encounter order.

    ``lenient`` is for log values: a value that cannot be pickled (or a non-finite float) is
    replaced by its ``repr`` instead of raising, so that logging never fails an execution.
    """

    def __init__(self, temp_dir: str | None = None, lenient: bool = False) -> None:
        self.temp_dir = temp_dir
        self.lenient = lenient
        self.references: list[list[Any]] = []

    def reference(self, reference: list[Any]) -> dict[str, Any]:
        """Append a reference and return the data that points at it."""
        self.references.append(reference)
        return {"type": "ref", "index": len(self.references) - 1}

    def fragment(self, format: str, content: bytes, metadata: dict[str, Any]) -> dict[str, Any]:
        """Store ``content`` in a file and reference it as a fragment."""
        path = write_temp_file(content, self.temp_dir)
        return self.reference(["fragment", format, path, len(content), metadata])

    def encode(self, value: Any) -> Any:
        """Encode one value (values.md §2.2; the order of the checks matters)."""
        cls = type(value)
        if value is None or cls is str or cls is int or cls is bool:
            return value
        if cls is float:
            return self._float(value)
        if cls is list:
            return [self.encode(v) for v in value]
        if cls is dict:
            return self._dict(sorted(value.items(), key=_sort_key))
        return self._other(value)

    def _float(self, value: float) -> Any:
        if value != value or value == _INF or value == -_INF:
            if self.lenient:
                return repr(value)
            raise ValueError(f"cannot serialise non-finite float: {value!r}")
        return value

    def _dict(self, items: Any) -> dict[str, Any]:
        encoded = []
        for key, item in items:
            encoded.append(self.encode(key))
            encoded.append(self.encode(item))
        return {"type": "dict", "items": encoded}

    def _other(self, value: Any) -> Any:
        # 1. Subclasses of scalars lose their class (IntEnum → int, StrEnum → str).
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int.__index__(value)
        if isinstance(value, float):
            return self._float(float.__float__(value))
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, dict):
            if isinstance(value, OrderedDict):
                return self._dict(value.items())
            return self._dict(sorted(value.items(), key=_sort_key))
        if isinstance(value, (set, frozenset)):
            return {"type": "set", "items": [self.encode(v) for v in sorted(value, key=repr)]}
        if isinstance(value, tuple):
            return {"type": "tuple", "items": [self.encode(v) for v in value]}
        encoded = self._temporal(value)
        if encoded is not None:
            return encoded
        if isinstance(value, (bytes, bytearray)):
            return self.fragment("bytes", bytes(value), {})
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(value, decimal.Decimal):
            return {"type": "decimal", "value": str(value)}
        uuid = sys.modules.get("uuid")
        if uuid is not None and isinstance(value, uuid.UUID):
            return {"type": "uuid", "value": str(value)}
        handle = self._handle(value)
        if handle is not None:
            return handle
        pydantic = sys.modules.get("pydantic")
        if pydantic is not None and isinstance(value, getattr(pydantic, "BaseModel", ())):
            model = type(value)
            content = value.model_dump_json().encode("utf-8")
            return self.fragment("json", content, {"model": f"{model.__module__}.{model.__name__}"})
        return self._pickle(value)

    def _temporal(self, value: Any) -> dict[str, Any] | None:
        datetime = sys.modules.get("datetime")
        if datetime is None:
            return None
        if isinstance(value, datetime.datetime):
            return {"type": "datetime", "value": value.isoformat()}
        if isinstance(value, datetime.date):
            return {"type": "date", "value": value.isoformat()}
        if isinstance(value, datetime.time):
            return {"type": "time", "value": value.isoformat()}
        if isinstance(value, datetime.timedelta):
            return {"type": "duration", "value": value.total_seconds()}
        return None

    def _handle(self, value: Any) -> dict[str, Any] | None:
        if isinstance(value, models.Execution):
            if value.id is None:
                raise TypeError("cannot serialise a handle of a call that ran outside Coflux")
            return self.reference(["execution", value.id, value.module, value.target])
        if isinstance(value, models.Input):
            return self.reference(["input", value.id])
        if isinstance(value, models.Asset):
            meta = value.metadata
            return self.reference(["asset", value.id, meta.name, meta.total_count, meta.total_size])
        return None

    def _pickle(self, value: Any) -> Any:
        import pickle

        try:
            content = pickle.dumps(value)
        except Exception as e:
            if self.lenient:
                return _safe_repr(value)
            raise TypeError(
                f"cannot serialise value of type {_qualified_name(type(value))}: {e}"
            ) from None
        return self.fragment("pickle", content, {"type": type(value).__name__})


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{_qualified_name(type(value))}>"


def encode(value: Any, temp_dir: str | None = None, *, lenient: bool = False) -> tuple[Any, list[Any]]:
    """Encode a value into ``(data, references)``."""
    encoder = Encoder(temp_dir, lenient)
    data = encoder.encode(value)
    return data, encoder.references


def serialize(value: Any, temp_dir: str | None = None, *, lenient: bool = False) -> dict[str, Any]:
    """Encode a value as an executor-channel Value (inline, or a file above 64 KiB)."""
    data, references = encode(value, temp_dir, lenient=lenient)
    text = dumps_compact(data, ensure_ascii=False)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: keep them as JSON escapes
        raw = dumps_compact(data).encode("ascii")
    if len(raw) > INLINE_LIMIT:
        path = write_temp_file(raw, temp_dir)
        return {"type": "file", "format": "json", "path": path, "references": references}
    return {"type": "inline", "format": "json", "value": data, "references": references}


# --- Decoding ----------------------------------------------------------------------------------


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _import_attribute(path: str) -> Any:
    module_name, _, name = path.rpartition(".")
    __import__(module_name)
    return getattr(sys.modules[module_name], name)


def decode_fragment(format: Any, path: Any, metadata: Any) -> Any:
    """Read a fragment file (values.md §3); unknown formats and missing paths give ``None``."""
    if not isinstance(path, str) or not path:
        return None
    metadata = metadata if isinstance(metadata, dict) else {}
    if format == "bytes":
        return _read_bytes(path)
    if format == "json":
        content = _read_bytes(path)
        model = metadata.get("model")
        if isinstance(model, str) and model:
            return _import_attribute(model).model_validate_json(content)
        return json.loads(content)
    if format == "pickle":
        import pickle

        return pickle.loads(_read_bytes(path))
    return None


def decode_reference(reference: Any) -> Any:
    """Resolve an executor-channel reference (values.md §4.3); malformed entries give ``None``."""
    if not isinstance(reference, list) or len(reference) < 2 or not isinstance(reference[1], str):
        return None
    kind = reference[0]
    if kind == "execution":
        module = reference[2] if len(reference) > 2 else None
        target = reference[3] if len(reference) > 3 else None
        return models.Execution(reference[1], module, target)
    if kind == "input":
        return models.Input(reference[1])
    if kind == "asset":
        if len(reference) >= 5:
            return models.Asset(reference[1], models.AssetMetadata(*reference[2:5]))
        return models.Asset(reference[1])
    if kind == "fragment" and len(reference) >= 3:
        metadata = reference[4] if len(reference) > 4 else {}
        return decode_fragment(reference[1], reference[2], metadata)
    return None


class Decoder:
    """Decodes data into Python values (values.md §2.5)."""

    def __init__(self, references: list[Any] | None = None) -> None:
        self.references = references or []

    def decode(self, data: Any) -> Any:
        """Decode one piece of data."""
        cls = type(data)
        if cls is list:
            return [self.decode(v) for v in data]
        if cls is dict:
            return self._tagged(data)
        return data

    def _tagged(self, data: dict[str, Any]) -> Any:
        tag = data.get("type")
        if tag in ("dict", "set", "tuple"):
            items = data.get("items")
            if not isinstance(items, list):
                return data
            if tag == "dict":
                if len(items) % 2:
                    raise ValueError("dict items must have an even length")
                decode = self.decode
                return {decode(items[i]): decode(items[i + 1]) for i in range(0, len(items), 2)}
            if tag == "set":
                return {self.decode(v) for v in items}
            return tuple(self.decode(v) for v in items)
        if tag == "ref":
            index = data.get("index")
            if type(index) is not int or not 0 <= index < len(self.references):
                return None
            return decode_reference(self.references[index])
        value = data.get("value")
        if tag in ("datetime", "date", "time") and isinstance(value, str):
            import datetime

            return getattr(datetime, tag).fromisoformat(value)
        if tag == "duration" and isinstance(value, (int, float)):
            import datetime

            return datetime.timedelta(seconds=value)
        if tag == "decimal" and isinstance(value, str):
            import decimal

            return decimal.Decimal(value)
        if tag == "uuid" and isinstance(value, str):
            import uuid

            return uuid.UUID(value)
        # Any other object (input responses, data from outside Python) is returned as it is.
        return data


def decode(data: Any, references: list[Any] | None = None) -> Any:
    """Decode ``(data, references)`` into a Python value."""
    return Decoder(references).decode(data)


def deserialize(value: dict[str, Any] | None) -> Any:
    """Decode an executor-channel Value (``None`` or a missing ``value`` mean ``None``).

    Files named by the worker are only read, never modified or deleted.
    """
    if value is None:
        return None
    kind = value.get("type")
    format = value.get("format", "json")
    references = value.get("references") or []
    if format == "json":
        if kind == "file":
            data = json.loads(_read_bytes(value["path"]))
        else:
            data = value.get("value")
        return decode(data, references)
    if format == "pickle":
        import pickle

        if kind == "file":
            return pickle.loads(_read_bytes(value["path"]))
        import base64

        return pickle.loads(base64.b64decode(value.get("value") or ""))
    if format == "pydantic":
        metadata = value.get("metadata") or {}
        model = _import_attribute(f"{metadata['model_module']}.{metadata['model_class']}")
        if kind == "file":
            return model.model_validate_json(_read_bytes(value["path"]))
        return model.model_validate(value.get("value"))
    if format == "parquet" and kind == "file":
        import pandas  # type: ignore[import-not-found]

        return pandas.read_parquet(value["path"])
    raise ValueError(f"unsupported value format: {format!r} ({kind})")
