"""The OpenAPI of custom resources, as kube-apiserver's CRD OpenAPI builder publishes it
(k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder): each served version is a kind
named after its group reversed (stable.example.com/v1 CronTab: com.example.stable.v1.CronTab),
its definition the version's schema with apiVersion, kind and metadata added, a list kind
beside it, and the same paths and operations a built-in kind has. /openapi/v3 has one document
per custom group version; /openapi/v2 has them among the built-in kinds'."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.openapi import documents, metatypes
from podplane.apimachinery.openapi.operations import Paths, discovery_path, resource_paths
from podplane.apimachinery.openapi.schemas import API_VERSION, KIND, Dialect, Schema, gvk
from podplane.apimachinery.resources import Resource

OBJECT_METADATA = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
LIST_METADATA = (
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


@dataclass(frozen=True)
class CustomResourceDoc:
    """What the OpenAPI of one served custom resource version is made of: the resource, its
    subresources and its schema as /openapi/v3 and /openapi/v2 publish it (None: it has
    none)."""

    resource: Resource
    subresources: tuple[str, ...]
    schema_v3: JSONObject | None
    schema_v2: JSONObject | None


def definition_name(group: str, version: str, kind: str) -> str:
    """util.ToRESTFriendlyName("<group>/<version>/<kind>"): the group's parts reversed."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _kind_schema(doc: CustomResourceDoc, dialect: Dialect) -> Schema:
    r = doc.resource
    v2 = dialect is Dialect.V2
    base = doc.schema_v2 if v2 else doc.schema_v3
    if base is None or (v2 and base.get("x-kubernetes-preserve-unknown-fields")):
        # Without properties: kubectl would otherwise refuse every field but these.
        out: Schema = {"type": "object"}
    else:
        out = copy.deepcopy(base)
        properties = out.setdefault("properties", {})
        properties["apiVersion"] = {"type": "string", "description": API_VERSION}
        properties["kind"] = {"type": "string", "description": KIND}
        properties["metadata"] = dialect.property_ref(metatypes.OBJECT_META, OBJECT_METADATA)
    out["x-kubernetes-group-version-kind"] = [gvk(r.group, r.version, r.kind)]
    return out


def _list_schema(doc: CustomResourceDoc, dialect: Dialect) -> Schema:
    r = doc.resource
    item = definition_name(r.group, r.version, r.kind)
    return {
        "type": "object",
        "description": f"{r.list_kind} is a list of {r.kind}",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": API_VERSION},
            "kind": {"type": "string", "description": KIND},
            "items": {
                "type": "array",
                "items": dialect.ref(item),
                "description": f"List of {r.plural}. More info: "
                "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                "api-conventions.md",
            },
            "metadata": dialect.property_ref(metatypes.LIST_META, LIST_METADATA),
        },
        "x-kubernetes-group-version-kind": [gvk(r.group, r.version, r.list_kind)],
    }


def custom_definitions(docs: Iterable[CustomResourceDoc], dialect: Dialect) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for doc in docs:
        r = doc.resource
        out[definition_name(r.group, r.version, r.kind)] = _kind_schema(doc, dialect)
        out[definition_name(r.group, r.version, r.list_kind)] = _list_schema(doc, dialect)
    return out


def custom_paths(docs: Sequence[CustomResourceDoc]) -> Paths:
    out: Paths = {}
    for doc in docs:
        r = doc.resource
        out.update(
            resource_paths(
                r,
                definition_name(r.group, r.version, r.kind),
                definition_name(r.group, r.version, r.list_kind),
                doc.subresources,
            )
        )
    return out


def v3_document(docs: Sequence[CustomResourceDoc]) -> JSONObject:
    """The OpenAPI 3.0 document of one custom group version (its served resources' docs)."""
    first = docs[0].resource
    table = {**discovery_path(first.group, first.version, first), **custom_paths(docs)}
    return documents.v3_from(dict(sorted(table.items())), custom_definitions(docs, Dialect.V3))


def v2_document(docs: Sequence[CustomResourceDoc]) -> JSONObject:
    """The Swagger 2.0 document of the whole API, the custom resources' among the rest."""
    if not docs:
        return documents.v2_document()
    return documents.v2_document_with(custom_paths(docs), custom_definitions(docs, Dialect.V2))
