"""API objects <-> Kubernetes' JSON, by the rules its Go types give each field (their json tags,
carried by the protos as the `(meta.v1.k8s)` option, protos/podplane/api/meta/v1/schema.proto).

Protobuf's JSON mapping drops every zero value; Kubernetes' does not. A field is written when it
is set, and also when empty if its Go field has no `omitempty` or is a struct: `restartCount: 0`,
`ready: false`, `status: {}`, `lastProbeTime: null`. Clients generated from the OpenAPI schema
(the official Python client among them) refuse an object whose required field is missing.
Int-or-string fields are written as numbers when they hold one; bytes are base64; 64-bit integers
are JSON numbers; map keys are sorted, as Go's encoder sorts them.

Decoding is the server's field validation (fieldValidation=Strict|Warn|Ignore): an unknown field
is an error in Strict mode and a warning otherwise, named by its path
(`spec.containers[0].imagePullPolicyy`); a value of the wrong type is always an error."""

from __future__ import annotations

import base64
import enum
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from podplane.api.meta.v1 import schema_pb2
from podplane.apimachinery.json_types import JSONObject, JSONValue

M = TypeVar("M", bound=Message)

# A map field's format: its message values (one `repeated string items`) are plain JSON lists.
STRING_LIST = "string-list"
# A string field's formats for free-form JSON (a runtime.RawExtension, a managed fields entry's
# FieldsV1, a CustomResourceDefinition version's schema): the field holds the JSON text, and the
# object's JSON has the value itself.
JSON_SCHEMA_PROPS = "json-schema-props"
RAW_JSON_FORMATS = frozenset({"raw-extension", "fields-v1", JSON_SCHEMA_PROPS})
# A string field that holds the rest of the object as a JSON object's text (a custom object's
# spec, status and other top-level fields): written as the object's own fields, and given every
# key of the object that no other field of its message takes. A message has at most one.
INLINE_JSON = "inline-json"

# A scalar field's value as protobuf holds it.
ProtoScalar = str | int | float | bool | bytes

_INT_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
    }
)
_INT32_TYPES = frozenset(
    {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_UINT32}
)
_INTEGER = re.compile(r"-?[0-9]+\Z")


# The generated stub types the extension as a plain FieldDescriptor, which the options' extension
# API does not take.
_K8S_OPTION: Any = schema_pb2.k8s


def field_schema(f: FieldDescriptor) -> schema_pb2.FieldSchema:
    """The field's Kubernetes schema option; an empty one when it has none."""
    options = f.GetOptions()
    if options.HasExtension(_K8S_OPTION):
        schema: schema_pb2.FieldSchema = options.Extensions[_K8S_OPTION]
        return schema
    return schema_pb2.FieldSchema()


_K8S_TYPE_OPTION: Any = schema_pb2.k8s_type


def type_schema(descriptor: Descriptor) -> schema_pb2.TypeSchema:
    """The message's Kubernetes schema option; an empty one when it has none."""
    options = descriptor.GetOptions()
    if options.HasExtension(_K8S_TYPE_OPTION):
        schema: schema_pb2.TypeSchema = options.Extensions[_K8S_TYPE_OPTION]
        return schema
    return schema_pb2.TypeSchema()


# ------------------------------------------------------------------ encoding


class _Kind(enum.Enum):
    MAP = 1
    REPEATED_MESSAGE = 2
    REPEATED_SCALAR = 3
    MESSAGE = 4
    SCALAR = 5
    INLINE = 6


@dataclass(frozen=True)
class _FieldPlan:
    name: str
    json_name: str
    kind: _Kind
    emit_empty: bool
    has_presence: bool
    # What a scalar becomes in JSON (bytes to base64, int-or-string to a number, ...).
    convert: Callable[[Any], JSONValue] | None
    # What an empty, emit_empty scalar is written as (None: JSON null).
    empty: JSONValue
    message: Descriptor | None = None
    value_is_message: bool = False
    value_convert: Callable[[Any], JSONValue] | None = None
    # A map whose message values are written as their `items` list (format "string-list").
    string_lists: bool = False


def _int_or_string(value: str) -> int | str:
    return int(value) if _INTEGER.match(value) else value


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _raw_json(value: str) -> JSONValue:
    parsed: JSONValue = json.loads(value)
    return parsed


def _convert(f: FieldDescriptor, fmt: str) -> Callable[[Any], JSONValue] | None:
    if f.type == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if fmt == "int-or-string":
        return _int_or_string
    if fmt in RAW_JSON_FORMATS:
        return _raw_json
    return None


def _empty(f: FieldDescriptor, fmt: str) -> JSONValue:
    """What Go writes for the zero value of a field it never omits."""
    if fmt in ("date-time", "micro-time"):
        return None  # metav1.Time's zero value marshals as null
    if fmt == "quantity":
        return "0"
    if fmt == "int-or-string":
        return 0
    if fmt in RAW_JSON_FORMATS:
        return None
    if f.type == FieldDescriptor.TYPE_BOOL:
        return False
    if f.type in _INT_TYPES:
        return 0
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 0.0
    return ""


@functools.cache
def _plan(descriptor: Descriptor) -> tuple[_FieldPlan, ...]:
    plans = []
    for f in descriptor.fields:
        schema = field_schema(f)
        fmt = schema.format
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    _Kind.MAP,
                    schema.emit_empty,
                    False,
                    None,
                    None,
                    message=value.message_type,
                    value_is_message=value.message_type is not None,
                    value_convert=_convert(value, field_schema(value).format),
                    string_lists=fmt == STRING_LIST,
                )
            )
        elif f.is_repeated:
            kind = _Kind.REPEATED_MESSAGE if f.message_type is not None else _Kind.REPEATED_SCALAR
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    kind,
                    schema.emit_empty,
                    False,
                    _convert(f, fmt),
                    None,
                    message=f.message_type,
                )
            )
        elif f.message_type is not None:
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    _Kind.MESSAGE,
                    schema.emit_empty,
                    True,
                    None,
                    None,
                    message=f.message_type,
                )
            )
        elif fmt == INLINE_JSON:
            plans.append(_FieldPlan(f.name, f.json_name, _Kind.INLINE, False, False, None, None))
        else:
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    _Kind.SCALAR,
                    schema.emit_empty,
                    f.has_presence,
                    _convert(f, fmt),
                    _empty(f, fmt),
                )
            )
    return tuple(plans)


@functools.cache
def _encoding(descriptor: Descriptor) -> tuple[dict[int, _FieldPlan], tuple[_FieldPlan, ...]]:
    """A message's field plans by field number, and those written even when empty."""
    plans = _plan(descriptor)
    by_number = {f.number: plan for f, plan in zip(descriptor.fields, plans, strict=True)}
    return by_number, tuple(plan for plan in plans if plan.emit_empty)


def _empty_value(plan: _FieldPlan) -> JSONValue:
    """What Go writes for a field it never omits when the field is empty."""
    kind = plan.kind
    if kind is _Kind.SCALAR:
        return plan.empty
    if kind is _Kind.MESSAGE:
        return _encode_empty(plan.message)
    if kind is _Kind.MAP:
        return {}
    return []


def _encode_empty(descriptor: Descriptor | None) -> JSONObject:
    if descriptor is None:
        return {}
    return {plan.json_name: _empty_value(plan) for plan in _encoding(descriptor)[1]}


def _field_json(plan: _FieldPlan, value: Any) -> JSONValue:
    """A set field's value as Kubernetes' JSON has it."""
    kind = plan.kind
    if kind is _Kind.SCALAR:
        return plan.convert(value) if plan.convert else value
    if kind is _Kind.MESSAGE:
        return encode(value)
    if kind is _Kind.REPEATED_MESSAGE:
        return [encode(item) for item in value]
    if kind is _Kind.REPEATED_SCALAR:
        convert = plan.convert
        return [convert(v) for v in value] if convert else list(value)
    if plan.string_lists:
        return {k: list(value[k].items) for k in sorted(value)}
    if plan.value_is_message:  # a map
        return {k: encode(value[k]) for k in sorted(value)}
    if plan.value_convert:
        return {k: plan.value_convert(value[k]) for k in sorted(value)}
    return dict(sorted(value.items()))


def encode(msg: Message) -> JSONObject:
    """The object as Kubernetes' JSON encoder writes it (a dict, ready for json.dumps).

    Only the fields protobuf lists as set (one C call) are visited, then the empty ones Go writes
    anyway: objects are mostly empty fields, and visiting every field of every message cost a
    REST create a third of a millisecond."""
    by_number, empties = _encoding(msg.DESCRIPTOR)
    out: JSONObject = {}
    for f, value in msg.ListFields():
        plan = by_number[f.number]
        kind = plan.kind  # the two commonest kinds inline: a call per field costs
        if kind is _Kind.SCALAR:
            out[plan.json_name] = plan.convert(value) if plan.convert else value
        elif kind is _Kind.MESSAGE:
            out[plan.json_name] = encode(value)
        elif kind is _Kind.INLINE:
            _merge_inline(out, value)
        else:
            out[plan.json_name] = _field_json(plan, value)
    for plan in empties:
        if plan.json_name not in out:
            out[plan.json_name] = _empty_value(plan)
    return out


def encode_substituting(msg: Message, substitutes: dict[int, JSONValue]) -> JSONObject:
    """encode(msg), but the top-level fields numbered in `substitutes` hold the values given for
    them (what the field manager compares two objects with: a field both have alike is one
    placeholder, not encoded twice)."""
    by_number, empties = _encoding(msg.DESCRIPTOR)
    out: JSONObject = {}
    for f, value in msg.ListFields():
        number = f.number
        plan = by_number[number]
        kind = plan.kind
        if kind is _Kind.INLINE:
            _merge_inline(out, value)
        elif number in substitutes:
            out[plan.json_name] = substitutes[number]
        elif kind is _Kind.SCALAR:  # the commonest kinds inline, as in encode()
            out[plan.json_name] = plan.convert(value) if plan.convert else value
        elif kind is _Kind.MESSAGE:
            out[plan.json_name] = encode(value)
        else:
            out[plan.json_name] = _field_json(plan, value)
    for plan in empties:
        if plan.json_name not in out:
            out[plan.json_name] = _empty_value(plan)
    return out


def _merge_inline(out: JSONObject, value: str) -> None:
    """An inline JSON field's keys as the object's own (a custom object's untyped content)."""
    inline = json.loads(value)
    if isinstance(inline, dict):
        for k, v in inline.items():
            out.setdefault(k, v)  # a typed field wins over a key it shadows


# ------------------------------------------------------------------ decoding


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
    if t in _INT_TYPES:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DecodeError(path, f"expected integer, got {json_type_name(value)}")
        bits = 32 if t in _INT32_TYPES else 64
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


def _fill_strings(items: Any, value: JSONValue, path: str) -> None:
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
