"""YAML/JSON manifests <-> API objects. Decoding is strict like kubectl's: an unknown field or a
value of the wrong type is an error naming the field path (spec.containers[0].imagePullPolicy).
Bytes (a Secret's data, a ConfigMap's binaryData) are base64 strings, as in Kubernetes' JSON."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, TypeVar, overload

import yaml
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from podplane.apimachinery import codec, resources
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.resources import Resource

M = TypeVar("M", bound=Message)

# A document that does not decode: `str()` is one line naming the field. The manifest decoder is
# the REST door's (codec.decode in Strict mode), so a manifest reads the same to podctl, to the
# kubelet's static pods and to kubectl.
ManifestError = codec.DecodeError


@overload
def from_dict(data: JSONValue, message: type[M]) -> M: ...


@overload
def from_dict(data: JSONValue, message: None = None) -> Message: ...


def from_dict(data: JSONValue, message: type[Message] | None = None) -> Message:
    """Decodes one document. With no `message`, the kind and apiVersion pick the resource."""
    if not isinstance(data, dict):
        raise ManifestError("", f"a manifest must be an object, got {codec.json_type_name(data)}")
    if message is None:
        message = resource_of(data).message
    return codec.decode(message, data, codec.FieldValidation.STRICT)[0]


def resource_of(data: JSONObject) -> Resource:
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


def load_documents(text: str) -> Iterator[JSONValue]:
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


def _value(field: FieldDescriptor, value: Any) -> JSONValue:
    # `value` is a field's value as protobuf holds it: a message, bytes or a scalar.
    if field.message_type is not None:
        return to_dict(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    return value


def to_dict(msg: Message) -> JSONObject:
    """The object as Kubernetes serializes it: camelCase keys, empty fields omitted, integers as
    numbers (protobuf's JSON mapping would quote 64-bit ones)."""
    out: JSONObject = {}
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
