"""The OpenAPI documents: one OpenAPI 3.0 document per group version (/openapi/v3/api/v1,
/openapi/v3/apis/apps/v1, ...), their index (/openapi/v3) and the Swagger 2.0 document of the
whole API (/openapi/v2). Each is built once per process, from the operations (operations.py) and
the definitions they reach (schemas.py, metatypes.py).

A document's hash is the SHA-512 of its canonical JSON (keys sorted, no spaces), in upper-case
hex as Kubernetes writes it: the index links each group version's document with it
(?hash=...), and the HTTP layer serves it as the ETag."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping

from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.openapi import metatypes, schemas
from podplane.apimachinery.openapi.operations import (
    WATCH_STREAM,
    Operation,
    Parameter,
    Paths,
    Response,
    group_versions,
    paths,
)
from podplane.apimachinery.openapi.schemas import Dialect, Schema

# The Kubernetes release whose API podplane serves: apiserver/endpoints/rest/discovery.py's
# KUBERNETES_VERSION (machinery cannot import a service; a unit test holds the two equal).
KUBERNETES_VERSION = "v1.31.0"

_INFO = {"title": "Kubernetes", "version": KUBERNETES_VERSION}
_BEARER = {
    "type": "apiKey",
    "name": "authorization",
    "in": "header",
    "description": "A bearer token: `Authorization: Bearer <token>`.",
}


def canonical_json(doc: JSONObject) -> bytes:
    """The document as the bytes it is served and hashed as."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_hash(doc: JSONObject) -> str:
    """The document's hash: SHA-512 of its canonical JSON, upper-case hex."""
    return hashlib.sha512(canonical_json(doc)).hexdigest().upper()


def _refs(value: JSONValue, dialect: Dialect) -> Iterator[str]:
    """The definition names every $ref in `value` points at."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item.removeprefix(dialect.value)
            else:
                yield from _refs(item, dialect)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item, dialect)


def _definition(name: str, dialect: Dialect) -> Schema:
    if name in metatypes.DEFINITIONS:
        return metatypes.DEFINITIONS[name](dialect)
    return schemas.message_schema(name, dialect)


def definitions(
    roots: Iterable[str], dialect: Dialect, known: Mapping[str, Schema] | None = None
) -> dict[str, Schema]:
    """The named definitions and every definition they reach, by name; `known` are those no
    message or meta type declares (the custom resources')."""
    out: dict[str, Schema] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in out:
            out[name] = known[name] if known and name in known else _definition(name, dialect)
            todo.extend(_refs(out[name], dialect))
    return dict(sorted(out.items()))


def _definitions(
    rendered_paths: JSONObject, dialect: Dialect, known: Mapping[str, Schema] | None = None
) -> dict[str, Schema]:
    """What a document defines: what its paths refer to and the common meta types."""
    return definitions([*metatypes.COMMON, *_refs(rendered_paths, dialect)], dialect, known)


# ------------------------------------------------------------------ OpenAPI 3.0


def _v3_parameter(p: Parameter) -> JSONObject:
    out: JSONObject = {
        "name": p.name,
        "in": p.location,
        "description": p.description,
        "schema": {"type": p.type},
    }
    if p.required:
        out["required"] = True
    return out


def _v3_content(definition: str | None, media_types: Iterable[str]) -> JSONObject:
    """The body in each media type; a watch stream's is a sequence of WatchEvents."""
    out: JSONObject = {}
    for media_type in media_types:
        if media_type == WATCH_STREAM:
            out[media_type] = {"schema": Dialect.V3.ref(metatypes.WATCH_EVENT)}
        elif definition:
            out[media_type] = {"schema": Dialect.V3.ref(definition)}
        else:
            out[media_type] = {"schema": {"type": "string"}}
    return out


def _v3_responses(responses: Iterable[Response], produces: Iterable[str]) -> JSONObject:
    out: JSONObject = {
        r.code: {"description": r.description, "content": _v3_content(r.definition, produces)}
        for r in responses
    }
    out["401"] = {"description": "Unauthorized"}
    return out


def _v3_operation(op: Operation) -> JSONObject:
    out: JSONObject = {
        "operationId": op.operation_id,
        "description": op.description,
        "tags": [op.tag],
        "parameters": [_v3_parameter(p) for p in op.parameters],
        "responses": _v3_responses(op.responses, op.produces),
    }
    if op.body:
        out["requestBody"] = {
            "content": _v3_content(op.body, op.consumes),
            "required": op.body_required,
        }
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.kind:
        out["x-kubernetes-group-version-kind"] = op.kind.as_json()
    return out


def _rendered(table: Paths, render: Callable[[Operation], JSONObject]) -> JSONObject:
    return {path: {method: render(op) for method, op in ops.items()} for path, ops in table.items()}


def v3_from(table: Paths, known: Mapping[str, Schema] | None = None) -> JSONObject:
    """The OpenAPI 3.0 document of these paths (`known`: the definitions no message declares)."""
    rendered = _rendered(table, _v3_operation)
    return {
        "openapi": "3.0.0",
        "info": _INFO,
        "paths": rendered,
        "components": {
            "schemas": _definitions(rendered, Dialect.V3, known),
            "securitySchemes": {"BearerToken": _BEARER},
        },
        "security": [{"BearerToken": []}],
    }


@functools.cache
def v3_document(group: str, version: str) -> JSONObject | None:
    """The OpenAPI 3.0 document of one group version ("" for the core group), or None when it
    is not served. Built once; callers must not modify it."""
    table = paths(group, version)
    if not table:
        return None
    return v3_from(table)


@functools.cache
def v3_document_json(group: str, version: str) -> bytes | None:
    """v3_document as served: its canonical JSON."""
    doc = v3_document(group, version)
    return None if doc is None else canonical_json(doc)


def v3_path(group: str, version: str) -> str:
    """The index's key of a group version: api/v1, apis/apps/v1."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


@functools.cache
def v3_index() -> JSONObject:
    """/openapi/v3: each group version's document, linked with its hash."""
    return v3_index_with({})


def v3_index_with(extra: Mapping[tuple[str, str], bytes]) -> JSONObject:
    """The index with the documents of `extra` group versions (the custom resources') too."""
    out: JSONObject = {}
    documents = {gv: v3_document_json(*gv) for gv in group_versions()}
    for (group, version), body in {**documents, **extra}.items():
        assert body is not None
        digest = hashlib.sha512(body).hexdigest().upper()
        key = v3_path(group, version)
        out[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": dict(sorted(out.items()))}


# ------------------------------------------------------------------ Swagger 2.0


def _v2_parameter(p: Parameter) -> JSONObject:
    out: JSONObject = {
        "name": p.name,
        "in": p.location,
        "description": p.description,
        "type": p.type,
    }
    if p.required:
        out["required"] = True
    return out


def _v2_operation(op: Operation) -> JSONObject:
    parameters = [_v2_parameter(p) for p in op.parameters]
    if op.body:
        parameters.insert(
            0,
            {
                "name": "body",
                "in": "body",
                "required": op.body_required,
                "schema": Dialect.V2.ref(op.body),
            },
        )
    responses: JSONObject = {
        r.code: {
            "description": r.description,
            "schema": Dialect.V2.ref(r.definition) if r.definition else {"type": "string"},
        }
        for r in op.responses
    }
    responses["401"] = {"description": "Unauthorized"}
    out: JSONObject = {
        "operationId": op.operation_id,
        "description": op.description,
        "tags": [op.tag],
        "consumes": list(op.consumes),
        "produces": list(op.produces),
        "schemes": ["https"],
        "parameters": parameters,
        "responses": responses,
    }
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.kind:
        out["x-kubernetes-group-version-kind"] = op.kind.as_json()
    return out


@functools.cache
def _builtin_paths() -> Paths:
    table: Paths = {}
    for group, version in group_versions():
        table.update(paths(group, version))
    return table


@functools.cache
def v2_document() -> JSONObject:
    """The Swagger 2.0 document of every group version (/openapi/v2). Built once; callers must
    not modify it."""
    return v2_document_with({}, {})


def v2_document_with(extra: Paths, known: Mapping[str, Schema]) -> JSONObject:
    """The Swagger 2.0 document with `extra` paths too (the custom resources', whose
    definitions are `known`)."""
    table = {**_builtin_paths(), **extra}
    rendered = _rendered(dict(sorted(table.items())), _v2_operation)
    return {
        "swagger": "2.0",
        "info": _INFO,
        "paths": rendered,
        "definitions": _definitions(rendered, Dialect.V2, known),
        "securityDefinitions": {"BearerToken": _BEARER},
        "security": [{"BearerToken": []}],
    }


@functools.cache
def v2_document_json() -> bytes:
    """v2_document as served: its canonical JSON."""
    return canonical_json(v2_document())
