"""Request and response bodies of the REST door: Kubernetes' JSON (and YAML) in, objects decoded
by the server's field validation (fieldValidation=Strict|Warn|Ignore, Warn by default: an unknown
field is a warning header, or in Strict mode a 400 naming it); objects, lists and tables out
(podplane.apimachinery.codec writes each field as Kubernetes' Go types do)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import grpc
import yaml
from aiohttp import web
from google.protobuf.message import Message

from apiserver import errors
from apiserver.endpoints.object_type import cannot_handle, check_object_type
from apiserver.endpoints.rest import protobuf_bodies
from apiserver.endpoints.rest.status import unsupported_media_type
from apiserver.objects import ListMessage, T
from podplane.apimachinery import codec, json_text
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.resources import ComputedResource, CreateOnlyResource, Resource

# A kind a body may be decoded as: a stored one, or a create-only one (an access review).
Kind = Resource | CreateOnlyResource

JSON_TYPES = frozenset({"application/json", ""})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml"})


def field_validation(query: Mapping[str, str]) -> FieldValidation:
    value = query.get("fieldValidation", "")
    if not value:
        return FieldValidation.WARN
    for mode in FieldValidation:
        if mode.value == value:
            return mode
    raise errors.bad_request(
        f'fieldValidation: Unsupported value: "{value}": supported values: '
        f'"Ignore", "Strict", "Warn"'
    )


def dry_run(query: Mapping[str, str]) -> bool:
    """dryRun=All: everything but the write; any other value is refused, as Kubernetes does."""
    values = [v for k, v in query.items() if k == "dryRun"]
    for value in values:
        if value != "All":
            raise errors.bad_request(
                f'dryRun: Unsupported value: "{value}": supported values: "All"'
            )
    return bool(values)


class _Duplicates(JSONObject):
    """A JSON object that remembers keys given twice (Strict mode refuses them)."""

    duplicates: list[str]


def _repeated(pairs: list[tuple[str, JSONValue]]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for key, _ in pairs:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return repeated


def parse_json(raw: bytes) -> tuple[JSONValue, list[str]]:
    """A JSON document, read as Go reads it (json_text.loads), and the paths of the keys it gives
    twice. Each object is built as a plain dict (in C); only a document with a repeated key,
    which is rare, is walked to name them."""
    repeats = False

    def pairs_hook(pairs: list[tuple[str, JSONValue]]) -> JSONObject:
        nonlocal repeats
        out = dict(pairs)
        if len(out) == len(pairs):
            return out
        repeats = True
        remembered = _Duplicates(out)
        remembered.duplicates = _repeated(pairs)
        return remembered

    data = json_text.loads(raw, object_pairs_hook=pairs_hook)
    return data, (_duplicates(data) if repeats else [])


def _duplicates(value: JSONValue, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        found += [f"{path}.{k}" if path else k for k in getattr(value, "duplicates", ())]
        for key, item in value.items():
            found += _duplicates(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _duplicates(item, f"{path}[{i}]")
    return found


async def read_document(
    request: web.Request, *, allow_yaml: bool = True
) -> tuple[JSONValue, list[str]]:
    """The request's body, decoded (JSON, YAML for application/yaml, or Kubernetes' protobuf read
    into the same JSON), and the fields it gives twice."""
    # No Content-Type reads as */*, which JSON satisfies (Kubernetes' NegotiateInputSerializer);
    # the official Python client sends none.
    content_type = request.content_type if request.headers.get("Content-Type") else ""
    raw = await request.read()
    if content_type in YAML_TYPES and allow_yaml:
        return decode_yaml(raw), []
    if content_type == protobuf_bodies.MEDIA_TYPE:
        return protobuf_bodies.decode(raw), []
    if content_type not in JSON_TYPES:
        raise unsupported_media_type(content_type)
    return decode_json(raw)


def decode_json(raw: bytes) -> tuple[JSONValue, list[str]]:
    """A JSON body and the paths of the fields it gives twice (the last one counts, as in Go)."""
    try:
        return parse_json(raw)
    except ValueError as e:
        raise errors.bad_request(f"the request body is not valid JSON: {e}") from None


def decode_yaml(raw: bytes) -> JSONValue:
    """A YAML body, refused as Go's YAML refuses it: an escaped surrogate is not a character,
    and nesting has json_text's limit."""
    try:
        data: JSONValue = yaml.safe_load(raw)
        json_text.check_depth(data)
    except RecursionError:
        raise errors.bad_request(f"error decoding YAML: {json_text.TooDeep()}") from None
    except (yaml.YAMLError, ValueError) as e:
        raise errors.bad_request(f"error decoding YAML: {json_text.scrub_text(str(e))}") from None
    if json_text.has_escaped_surrogate(raw):
        scrubbed = json_text.scrub(data)
        if scrubbed != data:
            raise errors.bad_request(
                "error converting YAML to JSON: yaml: found invalid Unicode character escape code"
            )
    return data


def _check_type(resource: Kind, data: JSONObject) -> None:
    """The body's apiVersion and kind, when it gives them, are the resource's (object_type)."""
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version or "", str) or not isinstance(kind or "", str):
        raise cannot_handle(resource, "apiVersion and kind must be strings")
    check_object_type(resource, str(api_version or ""), str(kind or ""))


def decode_object(
    resource: Resource[T] | CreateOnlyResource[T],
    data: JSONValue,
    duplicates: list[str],
    validation: FieldValidation,
    pruner: Callable[[T], list[str]] | None = None,
) -> tuple[T, list[str]]:
    """The object a body gives, with the warnings Warn mode answers; a body of another kind or
    version, a value of the wrong type, or in Strict mode an unknown or duplicate field, is a
    400. `pruner` drops what a custom resource's schema does not know, and names it (unknown
    fields, as the codec names those of a built-in kind)."""
    if not isinstance(data, dict):
        raise cannot_handle(resource, f"expected an object, got {codec.json_type_name(data)}")
    _check_type(resource, data)
    try:
        obj, unknown = codec.decode(resource.message, _reset_marked(data), FieldValidation.IGNORE)
        if pruner is not None:
            unknown += pruner(obj)
        if unknown and validation is FieldValidation.STRICT:
            raise codec.UnknownFieldError(unknown)
    except codec.UnknownFieldError as e:
        found = [f'unknown field "{p}"' for p in e.paths]
        found += [f'duplicate field "{p}"' for p in duplicates]
        raise cannot_handle(resource, "strict decoding error: " + ", ".join(found)) from None
    except codec.DecodeError as e:
        raise cannot_handle(resource, str(e)) from None
    if duplicates and validation is FieldValidation.STRICT:
        raise cannot_handle(
            resource,
            "strict decoding error: " + ", ".join(f'duplicate field "{p}"' for p in duplicates),
        )
    if validation is FieldValidation.IGNORE:
        return obj, []
    return obj, [f'unknown field "{p}"' for p in unknown] + [
        f'duplicate field "{p}"' for p in duplicates
    ]


def _reset_marked(data: JSONObject) -> JSONObject:
    """`managedFields: []` asks to clear an object's managed fields; protobuf cannot tell an
    empty list from none, so it reaches the registry as Kubernetes' other spelling of the same
    request, one empty entry."""
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return data
    entries = metadata.get("managedFields")
    if not isinstance(entries, list) or entries:
        return data
    return {**data, "metadata": {**metadata, "managedFields": [{}]}}


def encode_object(resource: Kind | ComputedResource, obj: Message) -> JSONObject:
    out = codec.encode(obj)
    # Every object carries its type, as Kubernetes' answers do (stored objects have it; a new
    # one in a dry run may not yet).
    out["apiVersion"] = resource.api_version
    out["kind"] = resource.kind
    return out


def encode_list(resource: Resource, listed: ListMessage[T]) -> JSONObject:
    meta: JSONObject = {"resourceVersion": listed.metadata.resource_version}
    if listed.metadata.continue_token:
        meta["continue"] = listed.metadata.continue_token
    if listed.metadata.HasField("remaining_item_count"):
        meta["remainingItemCount"] = listed.metadata.remaining_item_count
    return {
        "kind": resource.list_kind,
        "apiVersion": resource.api_version,
        "metadata": meta,
        "items": [codec.encode(item) for item in listed.items],
    }


def require_name_match(resource: Resource, obj: Message, name: str) -> None:
    meta = obj.metadata  # type: ignore[attr-defined]
    if meta.name and meta.name != name:
        raise errors.bad_request(
            f"the name of the object ({meta.name}) does not match the name on the URL ({name})"
        )
    meta.name = name


def require_namespace_match(resource: Kind, obj: Message, namespace: str) -> None:
    """The object's namespace is the URL's: another one is a 400, none takes the URL's."""
    if not resource.namespaced:
        return
    meta = obj.metadata  # type: ignore[attr-defined]
    if meta.namespace and namespace and meta.namespace != namespace:
        raise errors.APIError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        )
    meta.namespace = meta.namespace or namespace
