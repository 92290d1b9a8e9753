"""Custom objects in etcd as Kubernetes keeps them: JSON, in the definition's storage version,
under /registry/<group>/<plural>/[<namespace>/]<name>. Every served version reads and writes the
same keys; with conversion None, reading an object in another version only rewrites its
apiVersion; with a conversion webhook, an object is read at the version it was stored at and the
store's converter (conversion.py) converts it. Objects are defaulted when read, as
kube-apiserver defaults what it decodes from etcd, so a default added to a schema shows on
objects stored before it."""

from __future__ import annotations

import json

from apiserver import errors
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.structural import CustomResourceSchema


def key_prefix(group: str, plural: str) -> str:
    return f"/registry/{group}/{plural}/"


def content_of(obj: CustomObject) -> dict[str, object]:
    """The object's fields other than apiVersion, kind and metadata, as JSON; a 400 for content
    that is not a JSON object (what a gRPC client may send: a REST body cannot)."""
    if not obj.content:
        return {}
    try:
        parsed = json.loads(obj.content)
    except ValueError as e:
        raise errors.bad_request(f"content: Invalid value: not JSON: {e}") from None
    if not isinstance(parsed, dict):
        raise errors.bad_request("content: Invalid value: must be a JSON object")
    content: dict[str, object] = parsed
    return content


def set_content(obj: CustomObject, content: dict[str, object]) -> None:
    obj.content = codec.inline_json(content) if content else ""


# How many objects a codec keeps between writing them and its watch cache reading them back.
_WRITTEN = 256
_WRITTEN_MAX_BYTES = 64 * 1024


class JSONCodec:
    """A custom resource version's storage codec (apiserver.registry.generic.codec.StorageCodec).

    The bytes it encodes come back to it at once: its version's watch cache decodes every write
    from etcd's watch. Decoding the JSON into the object again (its metadata field by field)
    costs more than anything else a custom object's create does beyond a built-in kind's, so
    the codec keeps what it encoded, keyed by the bytes, and a decode of those bytes starts
    from that object instead: the same object the bytes hold (the codec's JSON round-trips the
    metadata, and the content is re-read and defaulted as any decode does). Each kept object is
    used once; bytes it did not write, or no longer keeps, are decoded from the JSON. Without
    `api_version` (a conversion webhook's definition) objects keep the version they were stored
    at and are not defaulted here: the converter does both."""

    def __init__(
        self,
        storage_api_version: str,
        api_version: str | None,
        schema: CustomResourceSchema | None,
    ) -> None:
        self.storage_api_version = storage_api_version
        self.api_version = api_version
        self.schema = schema
        self._written: dict[bytes, CustomObject] = {}

    def encode(self, obj: CustomObject) -> bytes:
        data = codec.encode(obj)
        data["apiVersion"] = self.storage_api_version
        meta = data.get("metadata")
        if isinstance(meta, dict):
            meta.pop("resourceVersion", None)
        encoded = json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        if len(encoded) <= _WRITTEN_MAX_BYTES:
            kept = CustomObject()
            kept.CopyFrom(obj)
            kept.metadata.resource_version = ""
            self._written[encoded] = kept
            if len(self._written) > _WRITTEN:
                del self._written[next(iter(self._written))]
        return encoded

    def decode(self, data: bytes) -> CustomObject:
        obj = self._written.pop(data, None)
        if obj is None:
            document = json.loads(data)
            obj, _ = codec.decode(CustomObject, document, FieldValidation.IGNORE)
        if self.api_version is not None:  # conversion None; a webhook's converter does the rest
            obj.api_version = self.api_version
        defaulted(obj, self.schema)
        return obj


def defaulted(obj: CustomObject, schema: CustomResourceSchema | None) -> None:
    """The content as a decode leaves it: defaulted by the schema, in its canonical text."""
    content = content_of(obj)
    if schema is not None:
        document = {"apiVersion": obj.api_version, "kind": obj.kind, **content}
        schema.apply_defaults(document)
        content = {k: v for k, v in document.items() if k not in ("apiVersion", "kind")}
    set_content(obj, content)
