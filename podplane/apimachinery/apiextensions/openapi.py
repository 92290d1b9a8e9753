"""The OpenAPI of custom resources, as kube-apiserver's CRD OpenAPI builder publishes it
(k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder): each served version is a kind
named after its group reversed (stable.example.com/v1 CronTab: com.example.stable.v1.CronTab),
its definition the version's schema with apiVersion, kind and metadata added, a list kind
beside it, and the same paths and operations a built-in kind has. /openapi/v3 has one document
per custom group version; /openapi/v2 has them among the built-in kinds'."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.openapi import documents
from podplane.apimachinery.openapi.operations import Paths, discovery_path, resource_paths
from podplane.apimachinery.openapi.schemas import Dialect, Schema
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.structural import openapi_publishing
from podplane.apimachinery.structural.openapi_publishing import definition_name
from podplane.apimachinery.structural.schema import Structural

__all__ = ["CustomResourceDoc", "custom_definitions", "custom_paths", "definition_name"]


@dataclass(frozen=True)
class CustomResourceDoc:
    """What the OpenAPI of one served custom resource version is made of: the resource, its
    subresources and its structural schema (None: it has none)."""

    resource: Resource
    subresources: tuple[str, ...]
    schema: Structural | None


def custom_definitions(docs: Iterable[CustomResourceDoc], dialect: Dialect) -> dict[str, Schema]:
    """The kind's and the list kind's definition of each (the structural library's
    openapi_publishing)."""
    out: dict[str, Schema] = {}
    for doc in docs:
        r = doc.resource
        out.update(
            openapi_publishing.definitions(
                doc.schema, r.group, r.version, r.kind, r.list_kind, r.plural, dialect
            )
        )
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
