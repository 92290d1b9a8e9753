"""The OpenAPI documents as the REST door serves them (k8s.io/apiserver's routes/openapi.go and
the apiextensions-apiserver's OpenAPI controllers): the built-in kinds' documents, built once,
and those of the established custom resources, built again when the served resources change;
each with its hash as ETag, so kubectl's cache revalidates cheaply. /openapi/v2 answers JSON,
or the gnostic protobuf client-go asks for first (openapi_protobuf.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from apiserver.endpoints.rest.negotiation import accepts_openapi_protobuf
from apiserver.endpoints.rest.responses import json_response
from apiserver.endpoints.rest.status import not_acceptable, not_found_path
from apiserver.registry.served import CustomResourceVersion, ServedResources
from podplane.apimachinery import openapi
from podplane.apimachinery.apiextensions import openapi as custom
from podplane.apimachinery.apiextensions.openapi import CustomResourceDoc
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.openapi import openapi_v2_protobuf

# What client-go asks for (the deprecated spelling, which Go's mime package cannot parse) and
# the spelling kube-openapi answers with, whichever was asked for.
PROTOBUF_V2_ASKED = ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf",)
PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _doc(c: CustomResourceVersion) -> CustomResourceDoc:
    return CustomResourceDoc(
        c.resource, c.subresources, c.schema.structural if c.schema is not None else None
    )


@dataclass(frozen=True)
class _Document:
    data: bytes
    etag: str


@dataclass
class OpenAPIDocuments:
    """The documents of what `served` serves now, built at most once per change of it."""

    served: ServedResources
    _revision: int = -1
    _v2: _Document | None = None
    _v2_protobuf: _Document | None = None
    _v3: dict[tuple[str, str], _Document] = field(default_factory=dict)

    def _refresh(self) -> None:
        if self._revision == self.served.revision:
            return
        self._revision = self.served.revision
        self._v2 = self._v2_protobuf = None
        by_group_version: dict[tuple[str, str], list[CustomResourceDoc]] = {}
        for c in self.served.custom.values():
            if c.established:
                r = c.resource
                by_group_version.setdefault((r.group, r.version), []).append(_doc(c))
        self._docs = by_group_version
        self._v3 = {}
        for gv, docs in sorted(by_group_version.items()):
            document = custom.v3_document(docs)
            self._v3[gv] = _Document(
                openapi.canonical_json(document), openapi.document_hash(document)
            )

    def v2(self) -> _Document:
        self._refresh()
        if self._v2 is None:
            docs = [d for docs in self._docs.values() for d in docs]
            document = custom.v2_document(docs)
            self._v2 = _Document(openapi.canonical_json(document), openapi.document_hash(document))
            self._v2_document = document
        return self._v2

    def v2_protobuf(self) -> _Document:
        v2 = self.v2()
        if self._v2_protobuf is None:
            self._v2_protobuf = _Document(openapi_v2_protobuf.encode(self._v2_document), v2.etag)
        return self._v2_protobuf

    def v3(self, group: str, version: str) -> _Document | None:
        self._refresh()
        found = self._v3.get((group, version))
        if found is not None:
            return found
        data = openapi.v3_document_json(group, version)
        document = openapi.v3_document(group, version)
        if data is None or document is None:
            return None
        return _Document(data, openapi.document_hash(document))

    def v3_index(self) -> dict[str, object]:
        self._refresh()
        return openapi.v3_index_with({gv: d.data for gv, d in self._v3.items()})


def with_paths(index: JSONObject, aggregated: JSONObject) -> JSONObject:
    """The /openapi/v3 index with the aggregated servers' paths (podplane's own win a clash)."""
    own = index.get("paths")
    paths = {**aggregated, **(own if isinstance(own, dict) else {})}
    return {**index, "paths": dict(sorted(paths.items()))}


def _answer(request: web.Request, document: _Document, content_type: str) -> web.Response:
    quoted = f'"{document.etag}"'
    if request.headers.get("If-None-Match") == quoted:
        return web.Response(status=304, headers={"ETag": quoted})
    response = web.Response(
        body=document.data, headers={"ETag": quoted, "Cache-Control": "no-cache, private"}
    )
    response.content_type = content_type
    return response


def serve(request: web.Request, path: str, documents: OpenAPIDocuments) -> web.Response:
    if path == "/openapi/v2":
        accept = request.headers.get("Accept", "")
        if any(accepts_openapi_protobuf(accept, t) for t in (*PROTOBUF_V2_ASKED, PROTOBUF_V2)):
            return _answer(request, documents.v2_protobuf(), PROTOBUF_V2)
        if "json" not in accept and "*/*" not in accept and accept:
            raise not_acceptable()
        return _answer(request, documents.v2(), "application/json")
    if path == "/openapi/v3":
        return json_response(documents.v3_index())
    parts = path.removeprefix("/openapi/v3/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        found = documents.v3("", parts[1])
    elif parts[:1] == ["apis"] and len(parts) == 3:
        found = documents.v3(parts[1], parts[2])
    else:
        found = None
    if found is None:
        raise not_found_path()
    return _answer(request, found, "application/json")
