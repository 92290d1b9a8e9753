"""YAML/JSON manifests <-> API objects. Decoding is strict like kubectl's: an unknown field or a
value of the wrong type is an error naming the field path (spec.containers[0].imagePullPolicy).
Bytes (a Secret's data, a ConfigMap's binaryData) are base64 strings, as in Kubernetes' JSON."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Iterator
from typing import Any, TypeVar, overload

import yaml
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource

M = TypeVar("M", bound=Message)

_INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
}


class ManifestError(ValueError):
    """A document that does not decode; `str()` is one line naming the field."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}" if path else detail)
        self.path = path
        self.detail = detail


@functools.cache
def _fields(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    by_name: dict[str, FieldDescriptor] = {}
    for f in descriptor.fields:
        by_name[f.json_name] = f
    return by_name


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
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
    return type(value).__name__


type_name = _type_name  # JSON's name for a decoded YAML value: what error messages call it


_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _base64(value: str, path: str) -> bytes:
    """Standard base64 with padding, line breaks ignored (Go's base64.StdEncoding, as
    Kubernetes)."""
    text = value.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        at = next((i for i, ch in enumerate(text) if ch not in _BASE64_ALPHABET), len(text))
        raise ManifestError(path, f"illegal base64 data at input byte {at}") from None


def _scalar(field: FieldDescriptor, value: object, path: str) -> str | int | float | bytes:
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        # Quantities ("cpu: 1") and int-or-string ports ("port: 8080") arrive as numbers.
        if isinstance(value, bool):
            raise ManifestError(path, f"expected string, got {_type_name(value)}")
        if isinstance(value, (int, float)):
            return str(value)
        if not isinstance(value, str):
            raise ManifestError(path, f"expected string, got {_type_name(value)}")
        return value
    if t in _INT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ManifestError(path, f"expected integer, got {_type_name(value)}")
        bits = (
            32
            if t
            in (
                FieldDescriptor.TYPE_INT32,
                FieldDescriptor.TYPE_SINT32,
                FieldDescriptor.TYPE_UINT32,
            )
            else 64
        )
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ManifestError(path, f"value {value} out of range for a {bits}-bit integer")
        return value
    if t == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise ManifestError(path, f"expected boolean, got {_type_name(value)}")
        return value
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ManifestError(path, f"expected number, got {_type_name(value)}")
        return float(value)
    if t == FieldDescriptor.TYPE_BYTES:
        if not isinstance(value, str):
            raise ManifestError(path, f"expected string, got {_type_name(value)}")
        return _base64(value, path)
    raise ManifestError(path, "unsupported field type")


def _fill(msg: Message, data: object, path: str) -> None:
    if not isinstance(data, dict):
        raise ManifestError(path, f"expected object, got {_type_name(data)}")
    fields = _fields(msg.DESCRIPTOR)
    for key, value in data.items():
        sub = _join(path, str(key))
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            raise ManifestError(sub, f'unknown field "{key}"')
        if value is None:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            if not isinstance(value, dict):
                raise ManifestError(sub, f"expected object, got {_type_name(value)}")
            target = getattr(msg, field.name)
            value_field = field.message_type.fields_by_name["value"]
            for k, v in value.items():
                entry_path = f"{sub}[{k}]"
                if value_field.message_type is not None:
                    _fill(target[str(k)], v, entry_path)
                else:
                    target[str(k)] = _scalar(value_field, v, entry_path)
        elif field.is_repeated:
            if not isinstance(value, list):
                raise ManifestError(sub, f"expected array, got {_type_name(value)}")
            target = getattr(msg, field.name)
            for i, item in enumerate(value):
                item_path = f"{sub}[{i}]"
                if field.message_type is not None:
                    _fill(target.add(), item, item_path)
                else:
                    if item is None:
                        raise ManifestError(item_path, "expected a value, got null")
                    target.append(_scalar(field, item, item_path))
        elif field.message_type is not None:
            child = getattr(msg, field.name)
            child.SetInParent()  # `emptyDir: {}` must read as present
            _fill(child, value, sub)
        else:
            setattr(msg, field.name, _scalar(field, value, sub))


@overload
def from_dict(data: Any, message: type[M]) -> M: ...


@overload
def from_dict(data: Any, message: None = None) -> Message: ...


def from_dict(data: Any, message: type[Message] | None = None) -> Message:
    """Decodes one document. With no `message`, the kind and apiVersion pick the resource."""
    if not isinstance(data, dict):
        raise ManifestError("", f"a manifest must be an object, got {_type_name(data)}")
    if message is None:
        message = resource_of(data).message
    msg = message()
    _fill(msg, data, "")
    return msg


def resource_of(data: dict[str, Any]) -> Resource:
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if not kind or not isinstance(kind, str):
        raise ManifestError("kind", "Required value: the document has no kind")
    if not api_version or not isinstance(api_version, str):
        raise ManifestError("apiVersion", "Required value: the document has no apiVersion")
    try:
        return resources.by_kind(kind, api_version)
    except KeyError as e:
        raise ManifestError("", str(e.args[0])) from None


def load_documents(text: str) -> Iterator[dict[str, Any]]:
    """The non-empty YAML (or JSON) documents of a stream; a `kind: List` is flattened into
    items."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ManifestError("", f"error parsing YAML{where}: {problem}") from None
    except RecursionError:  # PyYAML composes recursively: thousands of nested [ or {
        raise ManifestError("", "error parsing YAML: the document is nested too deeply") from None
    for doc in docs:
        if doc is None:
            continue
        if (
            isinstance(doc, dict)
            and doc.get("kind") == "List"
            and isinstance(doc.get("items"), list)
        ):
            yield from doc["items"]
        else:
            yield doc


def load_objects(text: str) -> list[Message]:
    """Every document of a manifest stream decoded; the first bad one raises, naming its index."""
    out: list[Message] = []
    for i, doc in enumerate(load_documents(text)):
        try:
            out.append(from_dict(doc))
        except ManifestError as e:
            name = ""
            if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
                name = str(doc["metadata"].get("name") or "")
            label = f"document {i + 1}" + (f" ({name})" if name else "")
            raise ManifestError(e.path, f"{e.detail} (in {label})") from None
    return out


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.message_type is not None:
        return to_dict(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    return value


def to_dict(msg: Message) -> dict[str, Any]:
    """The object as Kubernetes serializes it: camelCase keys, empty fields omitted, integers as
    numbers (protobuf's JSON mapping would quote 64-bit ones)."""
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.json_name] = {k: _value(value_field, v) for k, v in sorted(value.items())}
        elif field.is_repeated:
            out[field.json_name] = [_value(field, v) for v in value]
        else:
            out[field.json_name] = _value(field, value)
    return out


def to_yaml(msg: Message) -> str:
    return yaml.safe_dump(to_dict(msg), sort_keys=False, default_flow_style=False)


def to_json(msg: Message) -> str:
    return json.dumps(to_dict(msg), indent=2)
