"""Kubernetes' JSON to API objects, with the server's field validation (fieldValidation=Strict,
Warn or Ignore): unknown fields named by their path, a value of the wrong type always an error
(podplane.apimachinery.codec)."""

from __future__ import annotations

import base64
import enum
import functools
import json
import re
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from podplane.apimachinery.codec.schema import (
    INLINE_JSON,
    INT32_TYPES,
    INT_TYPES,
    RAW_JSON_FORMATS,
    STRING_LIST,
    ProtoScalar,
    field_schema,
)
from podplane.apimachinery.json_types import JSONObject, JSONValue

M = TypeVar("M", bound=Message)


class DecodeError(ValueError):
    """A value that does not decode; `str()` names the field path."""

    def __init__(self, path: object, detail: str) -> None:
        path = str(path)  # a _LazyPath is spelled out here
        super().__init__(f"{path}: {detail}" if path else detail)
        self.path = path
        self.detail = detail


class UnknownFieldError(DecodeError):
    """Unknown fields in Strict mode: every one, as Kubernetes lists them."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        detail = ", ".join(f'unknown field "{p}"' for p in paths)
        super().__init__("", detail)


class FieldValidation(enum.Enum):
    """The request's fieldValidation: what an unknown field is (Kubernetes' default: Warn)."""

    STRICT = "Strict"
    WARN = "Warn"
    IGNORE = "Ignore"


@dataclass
class Decoded:
    unknown_fields: list[str] = field(default_factory=list)


def json_type_name(value: JSONValue) -> str:
    """JSON's name for a decoded value, as error messages call it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if value is None:
        return "null"
    return type(value).__name__


_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _base64(value: str, path: object) -> bytes:
    """Standard base64 with padding, line breaks ignored (Go's base64.StdEncoding)."""
    text = value.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII (Go counts UTF-8 bytes)
        data = text.encode()
        at = next((i for i, b in enumerate(data) if chr(b) not in _BASE64_ALPHABET), len(data))
        raise DecodeError(path, f"illegal base64 data at input byte {at}") from None


# RFC 3339 as Go's time.Parse(time.RFC3339, ...) takes it: a fraction of a second is allowed.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\Z"
)


@functools.cache
def _format(f: FieldDescriptor) -> str:
    return field_schema(f).format


def _time(value: str, micro: bool, path: object) -> str:
    """A metav1.Time (micro: MicroTime) as Kubernetes decodes and writes it again: in UTC, to
    the second (MicroTime: the microsecond). Anything but RFC 3339 is a decoding error."""
    if value == "":
        return ""  # the zero time, which is written as null
    m = _RFC3339.match(value)
    try:
        if m is None:
            raise ValueError(value)
        fraction = (m.group(7) or "")[:6].ljust(6, "0")
        t = datetime.fromisoformat(f"{value[:19]}.{fraction}{m.group(8).replace('Z', '+00:00')}")
    except ValueError:
        raise DecodeError(
            path, f'parsing time "{value}": not an RFC 3339 time (2006-01-02T15:04:05Z07:00)'
        ) from None
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def _string(value: JSONValue, fmt: str, path: object) -> str:
    """A string field's value: a string, but for quantities ("cpu: 1") and int-or-string ports
    ("port: 8080"), which may be numbers (an int-or-string a whole one), as in Go; free-form JSON
    (a RawExtension) is kept as its JSON text, whatever its type."""
    if fmt in RAW_JSON_FORMATS:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str):
        if fmt in ("date-time", "micro-time"):
            return _time(value, fmt == "micro-time", path)
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and fmt == "quantity":
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if number and fmt == "int-or-string":
        if isinstance(value, float) and not value.is_integer():
            raise DecodeError(path, f"expected integer or string, got {value}")
        return str(int(value))
    raise DecodeError(path, f"expected string, got {json_type_name(value)}")


def _scalar(
    f: FieldDescriptor, value: JSONValue, path: object, fmt: str | None = None
) -> ProtoScalar:
    """A scalar field's value from JSON; `fmt` is the format when it is not the field's own (a
    map's values take the map field's)."""
    t = f.type
    if t == FieldDescriptor.TYPE_STRING:
        return _string(value, _format(f) if fmt is None else fmt, path)
    if t in INT_TYPES:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DecodeError(path, f"expected integer, got {json_type_name(value)}")
        bits = 32 if t in INT32_TYPES else 64
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise DecodeError(path, f"value {value} out of range for a {bits}-bit integer")
        return value
    if t == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise DecodeError(path, f"expected boolean, got {json_type_name(value)}")
        return value
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DecodeError(path, f"expected number, got {json_type_name(value)}")
        return float(value)
    if t == FieldDescriptor.TYPE_BYTES:
        if not isinstance(value, str):
            raise DecodeError(path, f"expected string, got {json_type_name(value)}")
        return _base64(value, path)
    raise DecodeError(path, "unsupported field type")


# How a field decodes: a map of messages or of scalars, a list of messages or of scalars, a
# message, a scalar.
_MAP_OF_MESSAGES, _MAP_OF_SCALARS, _MESSAGES, _SCALARS, _MESSAGE, _SCALAR = range(6)


@dataclass(frozen=True)
class _Decoding:
    field: FieldDescriptor
    kind: int
    # A map's value field; for a message field, whether Go holds it by value (no presence).
    value_field: FieldDescriptor | None = None
    struct: bool = False
    format: str = ""


@functools.cache
def _decoding(descriptor: Descriptor) -> dict[str, _Decoding]:
    """Each field's decoding by its JSON name, worked out once per message type (an inline
    field has no name of its own in JSON: see _inline_field)."""
    out: dict[str, _Decoding] = {}
    for f in descriptor.fields:
        schema = field_schema(f)
        if schema.format == INLINE_JSON:
            continue
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            kind = _MAP_OF_MESSAGES if value.message_type is not None else _MAP_OF_SCALARS
            out[f.json_name] = _Decoding(f, kind, value, format=schema.format)
        elif f.is_repeated:
            out[f.json_name] = _Decoding(f, _MESSAGES if f.message_type is not None else _SCALARS)
        elif f.message_type is not None:
            out[f.json_name] = _Decoding(f, _MESSAGE, struct=schema.emit_empty)
        else:
            out[f.json_name] = _Decoding(f, _SCALAR)
    return out


@functools.cache
def _inline_field(descriptor: Descriptor) -> FieldDescriptor | None:
    """The message's inline-json field, which takes the keys no other field takes."""
    return next((f for f in descriptor.fields if _format(f) == INLINE_JSON), None)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fill(msg: Message, data: JSONValue, path: str, unknown: list[str]) -> None:
    """Fills `msg` from a JSON object; paths are built only for what is reported (an error, an
    unknown field): decoding a pod visits hundreds of keys."""
    if not isinstance(data, dict):
        raise DecodeError(path, f"expected object, got {json_type_name(data)}")
    fields = _decoding(msg.DESCRIPTOR)
    inline = _inline_field(msg.DESCRIPTOR)
    rest: JSONObject = {}
    for key, value in data.items():
        d = fields.get(key) if isinstance(key, str) else None
        if d is None:
            if inline is not None:
                rest[str(key)] = value
            else:
                unknown.append(_join(path, str(key)))
            continue
        if value is None:
            continue
        kind, f = d.kind, d.field
        if kind == _SCALAR:
            setattr(msg, f.name, _scalar(f, value, _LazyPath(path, key)))
        elif kind == _MESSAGE:
            child = getattr(msg, f.name)
            child.SetInParent()  # `emptyDir: {}` must read as present
            _fill(child, value, _join(path, key), unknown)
            if d.struct and not child.ByteSize():
                # A Go struct field (not a pointer) has no presence: `resources: {}` is the same
                # as no resources, as the object stored without them.
                msg.ClearField(f.name)
        elif kind == _MESSAGES or kind == _SCALARS:
            if not isinstance(value, list):
                raise DecodeError(_join(path, key), f"expected array, got {json_type_name(value)}")
            target = getattr(msg, f.name)
            for i, item in enumerate(value):
                if kind == _MESSAGES:
                    item_path = f"{_join(path, key)}[{i}]"
                    _fill(target.add(), item if item is not None else {}, item_path, unknown)
                elif item is None:
                    raise DecodeError(f"{_join(path, key)}[{i}]", "expected a value, got null")
                else:
                    target.append(_scalar(f, item, _LazyPath(path, key, i)))
        else:  # a map
            if not isinstance(value, dict):
                raise DecodeError(_join(path, key), f"expected object, got {json_type_name(value)}")
            target = getattr(msg, f.name)
            value_field = d.value_field
            assert value_field is not None
            for k, v in value.items():
                if kind == _MAP_OF_MESSAGES and d.format == STRING_LIST:
                    _fill_strings(target[str(k)].items, v, f"{_join(path, key)}[{k}]")
                elif kind == _MAP_OF_MESSAGES:
                    _fill(target[str(k)], v, f"{_join(path, key)}[{k}]", unknown)
                elif v is not None:
                    target[str(k)] = _scalar(value_field, v, _LazyPath(path, key, k), d.format)
    if inline is not None:
        setattr(msg, inline.name, inline_json(rest) if rest else "")


def inline_json(content: JSONObject) -> str:
    """An inline-json field's text: keys sorted at every level, as Go writes an unstructured
    object, so the same object is always the same text (and the same bytes in storage)."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _fill_strings(items: MutableSequence[str], value: JSONValue, path: str) -> None:
    """A "string-list" map's value: a JSON list of strings (null: none)."""
    if value is None:
        return
    if not isinstance(value, list):
        raise DecodeError(path, f"expected array, got {json_type_name(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DecodeError(f"{path}[{i}]", f"expected string, got {json_type_name(item)}")
        items.append(item)


class _LazyPath:
    """A field's path, spelled out only if an error names it."""

    __slots__ = ("_index", "_key", "_path")

    def __init__(self, path: str, key: str, index: object = None) -> None:
        self._path, self._key, self._index = path, key, index

    def __str__(self) -> str:
        joined = _join(self._path, self._key)
        return joined if self._index is None else f"{joined}[{self._index}]"


def decode_into(
    msg: M, data: JSONValue, validation: FieldValidation = FieldValidation.STRICT
) -> list[str]:
    """Fills `msg` from Kubernetes JSON (a decoded dict). Returns the unknown fields' paths when
    `validation` lets them pass (Warn, Ignore); raises UnknownFieldError for them in Strict mode
    and DecodeError for a value of the wrong type in any mode."""
    unknown: list[str] = []
    _fill(msg, data, "", unknown)
    if unknown and validation is FieldValidation.STRICT:
        raise UnknownFieldError(unknown)
    return unknown


def decode(
    message: type[M], data: JSONValue, validation: FieldValidation = FieldValidation.STRICT
) -> tuple[M, list[str]]:
    """A new `message` decoded from `data`, and the unknown fields' paths (see decode_into)."""
    msg = message()
    return msg, decode_into(msg, data, validation)
