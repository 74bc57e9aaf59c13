"""Value encoding and decoding (values.md §2–§5, §10)."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import enum
import hashlib
import json
import os
import pickle
import uuid
from pathlib import Path

import pytest

from coflux import models, serialization
from coflux.serialization import decode, deserialize, encode, serialize


def compact(data) -> str:
    return json.dumps(data, separators=(",", ":"))


class Color(enum.IntEnum):
    RED = 1


class Name(str, enum.Enum):
    ALICE = "alice"


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (other.x, other.y) == (self.x, self.y)


Pair = collections.namedtuple("Pair", "a b")


# --- §2.6 examples, byte for byte ------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (42, "42"),
        ("hi", '"hi"'),
        (None, "null"),
        (True, "true"),
        (1.5, "1.5"),
        ([1, (2, 3)], '[1,{"type":"tuple","items":[2,3]}]'),
        ({"z": 1, "a": {2, 1}}, '{"type":"dict","items":["a",{"type":"set","items":[1,2]},"z",1]}'),
        (
            dt.datetime(2026, 5, 16, 12, 0, tzinfo=dt.timezone.utc),
            '{"type":"datetime","value":"2026-05-16T12:00:00+00:00"}',
        ),
        (dt.datetime(2026, 5, 16, 12, 30, 0, 250000), '{"type":"datetime","value":"2026-05-16T12:30:00.250000"}'),
        (dt.date(2026, 5, 16), '{"type":"date","value":"2026-05-16"}'),
        (dt.time(12, 30), '{"type":"time","value":"12:30:00"}'),
        (
            dt.time(12, 30, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            '{"type":"time","value":"12:30:00.500000+02:00"}',
        ),
        (dt.timedelta(minutes=1, seconds=30), '{"type":"duration","value":90.0}'),
        (dt.timedelta(days=-1), '{"type":"duration","value":-86400.0}'),
        (decimal.Decimal("0.10"), '{"type":"decimal","value":"0.10"}'),
        (decimal.Decimal("1E+3"), '{"type":"decimal","value":"1E+3"}'),
        (decimal.Decimal("NaN"), '{"type":"decimal","value":"NaN"}'),
        (uuid.UUID(int=1), '{"type":"uuid","value":"00000000-0000-0000-0000-000000000001"}'),
    ],
)
def test_encoding_examples(value, expected):
    data, references = encode(value)
    assert compact(data) == expected
    assert references == []


def test_ordering_rules():
    assert encode({"b": 1, "a": 2})[0]["items"] == ["a", 2, "b", 1]
    assert encode({10, 2, 3})[0]["items"] == [10, 2, 3]  # "10" < "2" < "3"
    assert encode({1: "x", "1": "y"})[0]["items"] == ["1", "y", 1, "x"]  # "'1'" < "1"
    assert encode(frozenset({"b", "a"}))[0] == {"type": "set", "items": ["a", "b"]}
    ordered = collections.OrderedDict([("z", 1), ("a", 2)])
    assert encode(ordered)[0]["items"] == ["z", 1, "a", 2]  # insertion order kept
    assert encode(collections.defaultdict(int, {"b": 1, "a": 2}))[0]["items"] == ["a", 2, "b", 1]
    assert encode(collections.Counter("bba"))[0]["items"] == ["a", 1, "b", 2]
    # Keys of any encodable type, sorted by repr.
    assert encode({(1, 2): "t", None: "n"})[0]["items"] == [
        {"type": "tuple", "items": [1, 2]}, "t", None, "n"
    ]


def test_subclasses_lose_their_class():
    assert encode(Color.RED) == (1, [])
    assert type(encode(Color.RED)[0]) is int
    assert encode(Name.ALICE)[0] == "alice" and type(encode(Name.ALICE)[0]) is str
    assert encode(Pair(1, 2))[0] == {"type": "tuple", "items": [1, 2]}
    assert compact(encode(True)[0]) == "true"


def test_non_finite_floats_raise():
    for value in (float("nan"), float("inf"), [1, float("-inf")]):
        with pytest.raises(ValueError, match="cannot serialise non-finite float"):
            encode(value)
    with pytest.raises(ValueError, match="non-finite float: nan"):
        serialize({"x": float("nan")})


def test_unpicklable_values_raise_type_error_except_for_logs(tmp_path):
    lock = __import__("threading").Lock()
    with pytest.raises(TypeError, match=r"cannot serialise value of type _thread\.lock: "):
        encode(lock, str(tmp_path))
    data, references = encode({"lock": lock, "n": float("nan")}, str(tmp_path), lenient=True)
    assert data["items"][0:2] == ["lock", repr(lock)]
    assert data["items"][2:4] == ["n", "nan"]
    assert references == []


def test_bytes_fragment(tmp_path):
    data, references = encode(b"\x00\x01", str(tmp_path))
    assert data == {"type": "ref", "index": 0}
    kind, format, path, size, metadata = references[0]
    assert (kind, format, size, metadata) == ("fragment", "bytes", 2, {})
    assert Path(path).parent == tmp_path and Path(path).name.startswith("coflux_")
    assert Path(path).read_bytes() == b"\x00\x01"
    assert decode(data, references) == b"\x00\x01"
    assert decode(*encode(bytearray(b"ab"), str(tmp_path))) == b"ab"


def test_pickle_fragment(tmp_path):
    data, references = encode(Point(1, 2), str(tmp_path))
    assert data == {"type": "ref", "index": 0}
    assert references[0][:2] == ["fragment", "pickle"]
    assert references[0][4] == {"type": "Point"}
    content = Path(references[0][2]).read_bytes()
    assert references[0][3] == len(content)
    assert pickle.loads(content) == Point(1, 2)
    assert decode(data, references) == Point(1, 2)


def test_handles_are_references(tmp_path):
    execution = models.Execution("RwD6:2:1", "app.flows", "fetch")
    data, references = encode({"job": execution, "again": [execution]})
    # Every occurrence is a new reference, in emitted (sorted) order.
    assert compact(data) == (
        '{"type":"dict","items":["again",[{"type":"ref","index":0}],"job",{"type":"ref","index":1}]}'
    )
    assert references == [["execution", "RwD6:2:1", "app.flows", "fetch"]] * 2
    decoded = decode(data, references)
    assert decoded["job"] == execution and decoded["job"].target == "fetch"

    asset = models.Asset("Ab3d", models.AssetMetadata("results", 3, 10752))
    assert encode(asset)[1] == [["asset", "Ab3d", "results", 3, 10752]]
    assert encode(models.Asset("Ab3d"))[1] == [["asset", "Ab3d", None, None, None]]
    restored = decode({"type": "ref", "index": 0}, [["asset", "Ab3d", "results", 3, 10752]])
    assert restored.id == "Ab3d" and restored.name == "results" and restored.metadata.total_size == 10752
    assert decode({"type": "ref", "index": 0}, [["asset", "Ab3d"]]).metadata.name is None

    assert encode(models.Input("RwD6/i1"))[1] == [["input", "RwD6/i1"]]
    assert decode({"type": "ref", "index": 0}, [["input", "RwD6/i1"]]).id == "RwD6/i1"


def test_local_execution_handles_cannot_cross_the_wire():
    with pytest.raises(TypeError, match="outside Coflux"):
        encode(models.Execution(None, "m", "t"))  # type: ignore[arg-type]


def test_invalid_references_decode_to_none():
    assert decode({"type": "ref", "index": 3}, []) is None
    assert decode({"type": "ref", "index": 0}, [["bogus", "x"]]) is None
    assert decode({"type": "ref", "index": 0}, ["not-a-list"]) is None
    assert decode({"type": "ref", "index": 0}, [["fragment", "unknown", "/x", 1, {}]]) is None
    assert decode({"type": "ref", "index": 0}, [["fragment", "bytes", None, 1, {}]]) is None


def test_decoding_tags_and_plain_objects():
    assert decode(1.0) == 1.0 and type(decode(1.0)) is float
    assert decode({"type": "dict", "items": ["a", 1, "a", 2]}) == {"a": 2}  # later duplicates win
    assert decode({"type": "set", "items": [1, 2]}) == {1, 2}
    assert decode({"type": "tuple", "items": [1, [2]]}) == (1, [2])
    assert decode({"type": "duration", "value": 90.5}) == dt.timedelta(seconds=90.5)
    assert decode({"type": "decimal", "value": "1.10"}) == decimal.Decimal("1.10")
    assert decode({"type": "uuid", "value": str(uuid.UUID(int=5))}) == uuid.UUID(int=5)
    assert decode({"type": "time", "value": "12:30:00.500000+02:00"}).utcoffset() == dt.timedelta(hours=2)
    # Objects without a known tag are returned as they are (input responses).
    assert decode({"name": "x", "nested": {"type": "dict"}}) == {"name": "x", "nested": {"type": "dict"}}
    assert decode([{"type": "admin"}]) == [{"type": "admin"}]
    with pytest.raises(ValueError, match="even length"):
        decode({"type": "dict", "items": ["a"]})


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, None, True], (1, "x"): {(2,): dt.date(2020, 1, 2)}, "f": frozenset({1})},
        [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), dt.time(1, 2, 3), dt.timedelta(0)],
        {"d": decimal.Decimal("-0.000"), "u": uuid.uuid4(), "s": set(), "t": ()},
        "ünïcödé ✓ \U0001f600 \x00\n",
        2**70,
    ],
)
def test_round_trip(value, tmp_path):
    assert deserialize(json.loads(json.dumps(serialize(value, str(tmp_path))))) == value


def test_values_over_64_kib_go_through_a_file(tmp_path):
    small = "x" * (65536 - 2)  # exactly 65 536 bytes of JSON
    assert serialize(small, str(tmp_path))["type"] == "inline"
    large = "x" * (65536 - 1)
    value = serialize(large, str(tmp_path))
    assert value["type"] == "file" and value["format"] == "json"
    assert Path(value["path"]).parent == tmp_path
    assert json.loads(Path(value["path"]).read_text()) == large
    assert deserialize(value) == large
    # The limit counts UTF-8 bytes, not characters.
    assert serialize("é" * 33000, str(tmp_path))["type"] == "file"


def test_file_values_from_the_worker_are_read_only(tmp_path):
    path = tmp_path / "blob"
    path.write_text('{"type":"dict","items":["n",1]}')
    os.chmod(path, 0o444)
    before = path.stat()
    assert deserialize({"type": "file", "format": "json", "path": str(path)}) == {"n": 1}
    assert deserialize({"type": "file", "format": "json", "path": str(path)}) == {"n": 1}
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_mode) == (before.st_mtime_ns, before.st_size, before.st_mode)


def test_inline_value_without_value_key_is_none():
    assert deserialize({"type": "inline", "format": "json"}) is None
    assert deserialize(None) is None


def test_legacy_pickle_format_values(tmp_path):
    import base64

    content = pickle.dumps({"a": 1})
    assert deserialize({"type": "inline", "format": "pickle", "value": base64.b64encode(content).decode()}) == {"a": 1}
    (tmp_path / "p").write_bytes(content)
    assert deserialize({"type": "file", "format": "pickle", "path": str(tmp_path / "p")}) == {"a": 1}
    with pytest.raises(ValueError, match="unsupported value format"):
        deserialize({"type": "inline", "format": "yaml", "value": ""})


def test_temp_dir_fallback_is_the_system_temp_dir():
    _, references = encode(b"z")
    path = Path(references[0][2])
    try:
        import tempfile

        assert path.parent == Path(tempfile.gettempdir())
    finally:
        path.unlink()


def test_json_fragment_without_model(tmp_path):
    (tmp_path / "f").write_text('{"a": [1]}')
    assert decode({"type": "ref", "index": 0}, [["fragment", "json", str(tmp_path / "f"), 10, {}]]) == {"a": [1]}


def test_value_journey(tmp_path):
    """values.md §10: the adapter's part of a value's journey."""
    value = {"rows": [1, 2], "when": dt.date(2026, 5, 16), "raw": b"\x00"}
    encoded = serialize(value, str(tmp_path))
    assert encoded["type"] == "inline"
    assert compact(encoded["value"]) == (
        '{"type":"dict","items":["raw",{"type":"ref","index":0},"rows",[1,2],'
        '"when",{"type":"date","value":"2026-05-16"}]}'
    )
    assert len(compact(encoded["value"])) == 113  # same length as the canonical text
    [reference] = encoded["references"]
    assert reference[:2] == ["fragment", "bytes"] and reference[3:] == [1, {}]
    assert hashlib.sha256(Path(reference[2]).read_bytes()).hexdigest().startswith("6e340b9c")
    # The worker hands the data back as a file in its blob cache, with the fragment downloaded.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data").write_text(compact(encoded["value"]))
    (cache / "6e340b9c").write_bytes(b"\x00")
    received = {
        "type": "file",
        "format": "json",
        "path": str(cache / "data"),
        "references": [["fragment", "bytes", str(cache / "6e340b9c"), 1, {}]],
    }
    assert deserialize(received) == value


def test_canonical_length_of_the_journey_value():
    data, references = encode({"rows": [1, 2], "when": dt.date(2026, 5, 16), "raw": b"\x00"})
    Path(references[0][2]).unlink()
    canonical = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert len(canonical.encode()) == 113
    assert canonical.startswith('{"items":[')


def test_serialization_module_does_not_import_optional_modules():
    import subprocess
    import sys

    from conftest import ADAPTER_DIR

    code = (
        "import sys; import coflux.serialization as s; s.serialize([1, {'a': (2,)}]);"
        "print(sorted(m for m in ('decimal', 'uuid', 'datetime', 'pickle', 'asyncio', 'typing', 'inspect') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(ADAPTER_DIR)!r}); {code}"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert out.strip() == "[]"


def test_temp_dir_is_created_on_first_use(tmp_path):
    # The worker names temp_dir but leaves creating it to the first transfer file.
    temp_dir = tmp_path / "coflux-xfer-1"
    _, references = encode(b"a", str(temp_dir))
    assert Path(references[0][2]).parent == temp_dir
    assert temp_dir.stat().st_mode & 0o777 == 0o700


def test_temp_dir_without_its_parent_is_an_error(tmp_path):
    # the worker's own directory is gone (it stopped): nothing is recreated
    with pytest.raises(FileNotFoundError):
        encode(b"a", str(tmp_path / "gone" / "coflux-xfer-1"))
    assert not (tmp_path / "gone").exists()


def test_fragment_paths_are_cleaned_up_by_caller(tmp_path):
    # The adapter writes into temp_dir and never deletes: the worker owns the directory.
    encode(b"a", str(tmp_path))
    encode(Point(0, 0), str(tmp_path))
    assert len(list(tmp_path.iterdir())) == 2
    assert serialization.INLINE_LIMIT == 65536


def test_pydantic_models_are_json_fragments(tmp_path):
    pydantic = pytest.importorskip("pydantic")

    global Model  # decoding imports the class by module and name

    class Model(pydantic.BaseModel):
        x: int
        tags: list[str] = []

    data, references = encode({"m": Model(x=1)}, str(tmp_path))
    [reference] = references
    assert reference[:2] == ["fragment", "json"]
    assert reference[4] == {"model": f"{__name__}.Model"}
    content = Path(reference[2]).read_bytes()
    assert content == b'{"x":1,"tags":[]}' and reference[3] == len(content)
    assert decode(data, references) == {"m": Model(x=1)}
    from coflux.models import Input

    assert Input[Model]("R/i1")._convert({"x": "2"}) == Model(x=2)
    from coflux.inputs import schema_for

    assert json.loads(schema_for(Model))["properties"]["x"] == {"title": "X", "type": "integer"}
