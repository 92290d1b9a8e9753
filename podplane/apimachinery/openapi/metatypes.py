"""The types every document refers to that no proto message declares: the meta/v1 shapes the REST
door answers with (Status, APIResourceList, WatchEvent), the request bodies (DeleteOptions,
Patch), the scalars with a name of their own (Time, MicroTime, IntOrString, Quantity) and the
autoscaling/v1 Scale of the scale subresources."""

from __future__ import annotations

from collections.abc import Callable

from podplane.apimachinery import resources
from podplane.apimachinery.openapi import jsonschemaprops
from podplane.apimachinery.openapi.schemas import (
    API_VERSION,
    FIELDS_V1,
    INT_OR_STRING,
    KIND,
    META,
    MICRO_TIME,
    QUANTITY,
    RAW_EXTENSION,
    TIME,
    Dialect,
    Schema,
    gvk,
)

STATUS = f"{META}.Status"
STATUS_DETAILS = f"{META}.StatusDetails"
STATUS_CAUSE = f"{META}.StatusCause"
DELETE_OPTIONS = f"{META}.DeleteOptions"
PRECONDITIONS = f"{META}.Preconditions"
LIST_META = f"{META}.ListMeta"
OBJECT_META = f"{META}.ObjectMeta"
WATCH_EVENT = f"{META}.WatchEvent"
PATCH = f"{META}.Patch"
API_RESOURCE_LIST = f"{META}.APIResourceList"
API_RESOURCE = f"{META}.APIResource"
SCALE = "io.k8s.api.autoscaling.v1.Scale"
SCALE_SPEC = "io.k8s.api.autoscaling.v1.ScaleSpec"
SCALE_STATUS = "io.k8s.api.autoscaling.v1.ScaleStatus"


def _string(description: str) -> Schema:
    return {"type": "string", "description": description}


def _integer(description: str, fmt: str = "int32") -> Schema:
    return {"type": "integer", "format": fmt, "description": description}


def _strings(description: str) -> Schema:
    return {
        "type": "array",
        "items": {"type": "string", "default": ""},
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


def _object(
    description: str,
    properties: dict[str, Schema],
    required: tuple[str, ...] = (),
    kinds: list[dict[str, str]] | None = None,
) -> Schema:
    out: Schema = {
        "type": "object",
        "description": description,
        "properties": dict(sorted(properties.items())),
    }
    if required:
        out["required"] = list(required)
    if kinds:
        out["x-kubernetes-group-version-kind"] = kinds
    return out


def _every_group_version(kind: str) -> list[dict[str, str]]:
    """Kinds every group version serves, as Kubernetes lists them (DeleteOptions, WatchEvent)."""
    versions = sorted({r.api_version.rpartition("/")[::2] for r in resources.ALL_VERSIONS})
    return [gvk(group, version, kind) for group, version in versions]


def _time(dialect: Dialect) -> Schema:
    return {
        "type": "string",
        "format": "date-time",
        "description": "A point in time, written as an RFC 3339 string in UTC with second "
        "precision (2024-05-01T12:00:00Z); null when unset.",
    }


def _micro_time(dialect: Dialect) -> Schema:
    return {
        "type": "string",
        "format": "date-time",
        "description": "A point in time with microsecond precision, written as an RFC 3339 "
        "string in UTC (2024-05-01T12:00:00.000000Z).",
    }


def _int_or_string(dialect: Dialect) -> Schema:
    description = (
        "A value that is either an integer or a string: a port number or a named "
        'port, a count or a percentage ("25%"). Written as a JSON number when it '
        "holds an integer."
    )
    if dialect is Dialect.V2:
        return {"type": "string", "format": "int-or-string", "description": description}
    return {
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
        "description": description,
    }


def _quantity(dialect: Dialect) -> Schema:
    description = (
        "A fixed-point amount of a resource: a number with an optional binary suffix "
        "(Ki, Mi, Gi, Ti, Pi, Ei), decimal suffix (m, k, M, G, T, P, E) or exponent "
        '(1e3). CPU is counted in cores ("500m" is half a core), memory in bytes '
        '("64Mi").'
    )
    if dialect is Dialect.V2:
        return {"type": "string", "description": description}
    return {"oneOf": [{"type": "string"}, {"type": "number"}], "description": description}


def _status(dialect: Dialect) -> Schema:
    return _object(
        "The result of a call that returns no object: a failure's reason and message, or the "
        "success of a deletion.",
        {
            "apiVersion": _string(API_VERSION),
            "kind": _string(KIND),
            "metadata": dialect.property_ref(LIST_META, "Standard list metadata.", struct=True),
            "status": _string('"Success" or "Failure".'),
            "message": _string("A description of the outcome a person can read."),
            "reason": _string(
                "A machine-readable CamelCase reason for a failure (NotFound, "
                "AlreadyExists, Conflict, Invalid, ...); empty when there is none "
                "to give."
            ),
            "details": dialect.property_ref(
                STATUS_DETAILS,
                "Data about the reason: the object concerned and, for invalid "
                "requests, each offending field.",
            ),
            "code": _integer("The HTTP status code of the response."),
        },
        kinds=[gvk("", "v1", "Status")],
    )


def _status_details(dialect: Dialect) -> Schema:
    return _object(
        "The object a Status is about and the causes of its failure.",
        {
            "name": _string("The name of the object concerned, when there is a single one."),
            "group": _string("The API group of the object concerned."),
            "kind": _string("The kind of the object concerned."),
            "uid": _string("The UID of the object concerned, when known."),
            "causes": {
                "type": "array",
                "items": dialect.item_ref(STATUS_CAUSE, struct=True),
                "description": "Each cause of the failure; for validation errors, one "
                "per invalid field.",
                "x-kubernetes-list-type": "atomic",
            },
            "retryAfterSeconds": _integer("How long the client should wait before retrying."),
        },
    )


def _status_cause(dialect: Dialect) -> Schema:
    return _object(
        "One cause of a failure, such as an invalid field.",
        {
            "reason": _string("A machine-readable reason, such as FieldValueRequired."),
            "message": _string("A description of the cause a person can read."),
            "field": _string(
                "The path of the field that caused the failure, such as spec.containers[0].image."
            ),
        },
    )


def _delete_options(dialect: Dialect) -> Schema:
    return _object(
        "Options of a deletion, sent as the body of a DELETE request.",
        {
            "apiVersion": _string(API_VERSION),
            "kind": _string(KIND),
            "gracePeriodSeconds": _integer(
                "Seconds the object has to terminate before it is removed; 0 removes it at "
                "once. Unset: the kind's default.",
                "int64",
            ),
            "preconditions": dialect.property_ref(
                PRECONDITIONS, "Conditions the stored object must meet to be deleted."
            ),
            "orphanDependents": {
                "type": "boolean",
                "description": (
                    "Deprecated: use propagationPolicy. true is Orphan, false is Background."
                ),
            },
            "propagationPolicy": _string(
                "What happens to the objects this one owns: Orphan leaves them, Background "
                "deletes them after this object, Foreground deletes them first."
            ),
            "dryRun": _strings(
                "When present, the deletion is validated but not stored. The "
                "only accepted value is All."
            ),
        },
        kinds=_every_group_version("DeleteOptions"),
    )


def _watch_event(dialect: Dialect) -> Schema:
    return _object(
        "One change in a watch stream.",
        {
            "type": _string("ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."),
            "object": dialect.property_ref(
                RAW_EXTENSION,
                "The object as it is after the change; for DELETED, as it was "
                "last; for BOOKMARK, only its kind and resourceVersion; for "
                "ERROR, a Status.",
                struct=True,
            ),
        },
        required=("type", "object"),
        kinds=_every_group_version("WatchEvent"),
    )


def _raw_extension(dialect: Dialect) -> Schema:
    return {
        "type": "object",
        "description": "An embedded object of any kind, with its own apiVersion and kind.",
    }


def _fields_v1(dialect: Dialect) -> Schema:
    return {
        "type": "object",
        "description": (
            "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format."
        ),
    }


def _patch(dialect: Dialect) -> Schema:
    return {
        "type": "object",
        "description": "The body of a PATCH request: a JSON patch, a JSON merge patch, a "
        "strategic merge patch or an apply configuration, as its "
        "Content-Type says.",
    }


def _api_resource_list(dialect: Dialect) -> Schema:
    return _object(
        "The resources a group version serves.",
        {
            "apiVersion": _string(API_VERSION),
            "kind": _string(KIND),
            "groupVersion": _string("The group version the resources belong to, such as apps/v1."),
            "resources": {
                "type": "array",
                "items": dialect.item_ref(API_RESOURCE),
                "description": "The resources served.",
                "x-kubernetes-list-type": "atomic",
            },
        },
        required=("groupVersion", "resources"),
        kinds=[gvk("", "v1", "APIResourceList")],
    )


def _api_resource(dialect: Dialect) -> Schema:
    return _object(
        "A resource a group version serves, or one of its subresources.",
        {
            "name": _string("The plural name of the resource, or resource/subresource."),
            "singularName": _string("The singular name of the resource."),
            "namespaced": {
                "type": "boolean",
                "default": False,
                "description": "Whether the resource's objects live in namespaces.",
            },
            "group": _string(
                "The group of the resource's kind when it differs from the group "
                "version's (autoscaling for the scale subresources)."
            ),
            "version": _string(
                "The version of the resource's kind when it differs from the group version's."
            ),
            "kind": _string("The kind of the resource's objects."),
            "verbs": _strings(
                "The verbs the resource serves: get, list, watch, create, update, "
                "patch, delete, deletecollection."
            ),
            "shortNames": _strings("Abbreviations kubectl accepts for the resource."),
            "categories": _strings("Groups of resources this one belongs to, such as all."),
            "storageVersionHash": _string(
                "An opaque hash of the version the resource is stored in."
            ),
        },
        required=("name", "singularName", "namespaced", "kind", "verbs"),
    )


def _scale(dialect: Dialect) -> Schema:
    return _object(
        "The replica count of a scalable resource, read and written through its scale subresource.",
        {
            "apiVersion": _string(API_VERSION),
            "kind": _string(KIND),
            "metadata": dialect.property_ref(
                OBJECT_META, "The scaled object's metadata.", struct=True
            ),
            "spec": dialect.property_ref(SCALE_SPEC, "The desired replica count.", struct=True),
            "status": dialect.property_ref(SCALE_STATUS, "The current replica count."),
        },
        kinds=[gvk("autoscaling", "v1", "Scale")],
    )


def _scale_spec(dialect: Dialect) -> Schema:
    return _object(
        "The desired scale.",
        {
            "replicas": _integer("The desired number of replicas."),
        },
    )


def _scale_status(dialect: Dialect) -> Schema:
    return _object(
        "The observed scale.",
        {
            "replicas": {**_integer("The number of replicas observed."), "default": 0},
            "selector": _string(
                "The label selector of the replicas, as a string (app=web,tier in (front))."
            ),
        },
        required=("replicas",),
    )


# Definitions every document carries, whether or not an operation names them: the shapes any
# client of the REST API meets (a watch stream's events among them).
COMMON = (
    STATUS,
    DELETE_OPTIONS,
    LIST_META,
    OBJECT_META,
    TIME,
    MICRO_TIME,
    INT_OR_STRING,
    QUANTITY,
    WATCH_EVENT,
    PATCH,
    API_RESOURCE_LIST,
)

# Definition name -> its schema in a dialect.
DEFINITIONS: dict[str, Callable[[Dialect], Schema]] = {
    TIME: _time,
    MICRO_TIME: _micro_time,
    INT_OR_STRING: _int_or_string,
    QUANTITY: _quantity,
    STATUS: _status,
    STATUS_DETAILS: _status_details,
    STATUS_CAUSE: _status_cause,
    DELETE_OPTIONS: _delete_options,
    WATCH_EVENT: _watch_event,
    RAW_EXTENSION: _raw_extension,
    FIELDS_V1: _fields_v1,
    PATCH: _patch,
    API_RESOURCE_LIST: _api_resource_list,
    API_RESOURCE: _api_resource,
    SCALE: _scale,
    SCALE_SPEC: _scale_spec,
    SCALE_STATUS: _scale_status,
    **jsonschemaprops.DEFINITIONS,
}
