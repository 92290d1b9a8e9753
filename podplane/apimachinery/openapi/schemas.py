"""The API's messages as OpenAPI schemas, named as Kubernetes names its types
(io.k8s.api.core.v1.Pod, io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta), so `kubectl explain`
prints familiar type names and generated clients find the models they expect.

Each field's schema follows its `(meta.v1.k8s)` option, the rules the JSON codec
(podplane/apimachinery/codec/) writes objects by: required, defaults for the fields Go never
omits, timestamps, int-or-string and quantities as references to the named meta types, and the
strategic-merge-patch and server-side-apply extensions kubectl and client-go read."""

from __future__ import annotations

import enum
import functools
import json

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from podplane.api.admissionregistration.v1 import admissionregistration_pb2
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.authentication.v1 import authentication_pb2, token_request_pb2
from podplane.api.authorization.v1 import authorization_pb2
from podplane.api.autoscaling.v1 import autoscaling_pb2 as autoscaling_v1_pb2
from podplane.api.autoscaling.v2 import autoscaling_pb2 as autoscaling_v2_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2, quota_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.events.v1 import events_pb2
from podplane.api.flowcontrol.v1 import flowcontrol_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.api.node.v1 import node_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.api.storage.v1 import csi_pb2, storage_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.codec import STRING_LIST, field_schema, type_schema
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.openapi import comments

# An OpenAPI schema object, as it is served (JSON).
Schema = JSONObject

# Proto packages and the Go packages Kubernetes names their types after.
_PACKAGES = {
    "podplane.core.v1": "io.k8s.api.core.v1",
    "podplane.apps.v1": "io.k8s.api.apps.v1",
    "podplane.batch.v1": "io.k8s.api.batch.v1",
    "podplane.coordination.v1": "io.k8s.api.coordination.v1",
    "podplane.storage.v1": "io.k8s.api.storage.v1",
    "podplane.discovery.v1": "io.k8s.api.discovery.v1",
    "podplane.rbac.v1": "io.k8s.api.rbac.v1",
    "podplane.meta.v1": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "podplane.authorization.v1": "io.k8s.api.authorization.v1",
    "podplane.authentication.v1": "io.k8s.api.authentication.v1",
    "podplane.policy.v1": "io.k8s.api.policy.v1",
    "podplane.scheduling.v1": "io.k8s.api.scheduling.v1",
    "podplane.node.v1": "io.k8s.api.node.v1",
    "podplane.apiextensions.v1": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
    "podplane.certificates.v1": "io.k8s.api.certificates.v1",
    "podplane.apiregistration.v1": "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1",
    "podplane.admissionregistration.v1": "io.k8s.api.admissionregistration.v1",
    "podplane.autoscaling.v1": "io.k8s.api.autoscaling.v1",
    "podplane.autoscaling.v2": "io.k8s.api.autoscaling.v2",
    "podplane.networking.v1": "io.k8s.api.networking.v1",
    "podplane.events.v1": "io.k8s.api.events.v1",
    "podplane.flowcontrol.v1": "io.k8s.api.flowcontrol.v1",
}
_FILES = (
    core_pb2,
    quota_pb2,
    service_pb2,
    apps_pb2,
    batch_pb2,
    lease_pb2,
    storage_pb2,
    csi_pb2,
    discovery_pb2,
    rbac_pb2,
    token_request_pb2,
    meta_pb2,
    authorization_pb2,
    authentication_pb2,
    policy_pb2,
    scheduling_pb2,
    node_pb2,
    apiextensions_pb2,
    certificates_pb2,
    apiregistration_pb2,
    admissionregistration_pb2,
    autoscaling_v1_pb2,
    autoscaling_v2_pb2,
    networking_pb2,
    events_pb2,
    flowcontrol_pb2,
)

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
TIME = f"{META}.Time"
MICRO_TIME = f"{META}.MicroTime"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
FIELDS_V1 = f"{META}.FieldsV1"
# A CustomResourceDefinition version's schema, held as its JSON (openapi/jsonschemaprops.py).
JSON_SCHEMA_PROPS = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"

# A string field's format option and the named schema it refers to.
_NAMED_FORMATS = {
    "date-time": TIME,
    "micro-time": MICRO_TIME,
    "int-or-string": INT_OR_STRING,
    "quantity": QUANTITY,
    "raw-extension": RAW_EXTENSION,
    "fields-v1": FIELDS_V1,
    "json-schema-props": JSON_SCHEMA_PROPS,
}

_SCALARS: dict[int, tuple[str, str | None]] = {
    FieldDescriptor.TYPE_STRING: ("string", None),
    FieldDescriptor.TYPE_BOOL: ("boolean", None),
    FieldDescriptor.TYPE_INT32: ("integer", "int32"),
    FieldDescriptor.TYPE_SINT32: ("integer", "int32"),
    FieldDescriptor.TYPE_UINT32: ("integer", "int32"),
    FieldDescriptor.TYPE_INT64: ("integer", "int64"),
    FieldDescriptor.TYPE_SINT64: ("integer", "int64"),
    FieldDescriptor.TYPE_UINT64: ("integer", "int64"),
    FieldDescriptor.TYPE_DOUBLE: ("number", "double"),
    FieldDescriptor.TYPE_FLOAT: ("number", "float"),
    FieldDescriptor.TYPE_BYTES: ("string", "byte"),
}
_ZERO: dict[str, JSONValue] = {"string": "", "boolean": False, "integer": 0, "number": 0}


class Dialect(enum.Enum):
    """Swagger 2.0 (/openapi/v2) or OpenAPI 3.0 (/openapi/v3): where definitions live and how a
    property that names one carries its own description."""

    V2 = "#/definitions/"
    V3 = "#/components/schemas/"

    def ref(self, name: str) -> Schema:
        return {"$ref": self.value + name}

    def property_ref(self, name: str, description: str = "", struct: bool = False) -> Schema:
        """A property of a named type. OpenAPI 3.0 ignores $ref's siblings, so v3 wraps the
        reference in allOf, with `default: {}` for a struct Go always writes (kube-openapi's
        shape, which kubectl's strategic merge patch resolves); v2 sets them beside $ref."""
        if self is Dialect.V3:
            out: Schema = {"allOf": [self.ref(name)]}
            if struct:
                out["default"] = {}
        else:
            out = self.ref(name)
        if description:
            out["description"] = description
        return out

    def item_ref(self, name: str, struct: bool = False) -> Schema:
        """The element schema of a list of a named type; v3 gives a struct `default: {}`."""
        if self is Dialect.V3 and struct:
            return {"allOf": [self.ref(name)], "default": {}}
        return self.ref(name)


def definition_name(full_name: str) -> str:
    """Kubernetes' name for a (top-level) message's type, by its full name:
    podplane.core.v1.PodSpec is io.k8s.api.core.v1.PodSpec."""
    package, _, name = full_name.rpartition(".")
    return f"{_PACKAGES[package]}.{name}"


def message_name(message: type[Message]) -> str:
    """Kubernetes' name for a message class's type."""
    return definition_name(message.DESCRIPTOR.full_name)


@functools.cache
def messages() -> dict[str, Descriptor]:
    """Every API message by its definition name."""
    return {
        definition_name(m.full_name): m
        for f in _FILES
        for m in f.DESCRIPTOR.message_types_by_name.values()
    }


def gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


@functools.cache
def _kinds() -> dict[str, list[dict[str, str]]]:
    """The x-kubernetes-group-version-kind of each served kind and its list."""
    out: dict[str, list[dict[str, str]]] = {}
    for r in resources.ALL_VERSIONS:
        group, _, version = r.api_version.rpartition("/")
        out[message_name(r.message)] = [gvk(group, version, r.kind)]
        out[message_name(r.list_message)] = [gvk(group, version, f"{r.kind}List")]
    for c in resources.CREATE_ONLY:
        group, _, version = c.api_version.rpartition("/")
        out[message_name(c.message)] = [gvk(group, version, c.kind)]
    for computed in resources.COMPUTED:
        gv = (computed.group, computed.version)
        out[message_name(computed.message)] = [gvk(*gv, computed.kind)]
        out[message_name(computed.list_message)] = [gvk(*gv, computed.list_kind)]
    out[message_name(core_pb2.Binding)] = [gvk("", "v1", "Binding")]
    out[message_name(token_request_pb2.TokenRequest)] = [
        gvk("authentication.k8s.io", "v1", "TokenRequest")
    ]
    out[message_name(policy_pb2.Eviction)] = [gvk("policy", "v1", "Eviction")]
    return out


@functools.cache
def _list_kinds() -> frozenset[str]:
    lists = [r.list_message for r in resources.ALL_VERSIONS]
    return frozenset(
        message_name(m) for m in [*lists, *(c.list_message for c in resources.COMPUTED)]
    )


def _scalar(f: FieldDescriptor, fmt: str, dialect: Dialect, emit_empty: bool) -> Schema:
    if fmt in _NAMED_FORMATS:
        return dialect.property_ref(_NAMED_FORMATS[fmt])
    type_, format_ = _SCALARS[f.type]
    out: Schema = {"type": type_}
    if format_:
        out["format"] = format_
    if emit_empty and f.type != FieldDescriptor.TYPE_BYTES:
        out["default"] = _ZERO[type_]
    return out


def _empty_is_valid(message: Descriptor) -> bool:
    """Whether {} is a valid value of the message (none of its fields is required), and so may
    be its default: validators check a default against its schema."""
    return not any(field_schema(f).required for f in message.fields)


def _element(f: FieldDescriptor, fmt: str, dialect: Dialect) -> Schema:
    """The schema of a list element or a map value."""
    if f.message_type is not None:
        return dialect.item_ref(
            definition_name(f.message_type.full_name), struct=_empty_is_valid(f.message_type)
        )
    if fmt in _NAMED_FORMATS:
        return dialect.ref(_NAMED_FORMATS[fmt])
    return _scalar(f, fmt, dialect, emit_empty=True)


def property_schema(f: FieldDescriptor, dialect: Dialect) -> Schema:
    """The schema of one field, with its description and Kubernetes extensions."""
    option = field_schema(f)
    description = comments.of_field(f)
    out: Schema
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        # A map's format option (quantity) describes its values: resources' limits, capacity.
        value = f.message_type.fields_by_name["value"]
        if option.format == STRING_LIST:  # a user's extra: lists of strings
            strings: Schema = {"type": "array", "items": {"type": "string", "default": ""}}
            out = {"type": "object", "additionalProperties": strings}
        else:
            out = {
                "type": "object",
                "additionalProperties": _element(value, option.format, dialect),
            }
    elif f.is_repeated:
        out = {"type": "array", "items": _element(f, option.format, dialect)}
    elif f.message_type is not None:
        out = dialect.property_ref(
            definition_name(f.message_type.full_name),
            struct=option.emit_empty and _empty_is_valid(f.message_type),
        )
    else:
        out = _scalar(f, option.format, dialect, option.emit_empty)
    if description:
        out["description"] = description
    if option.list_type:
        out["x-kubernetes-list-type"] = option.list_type
    if option.list_map_keys:
        out["x-kubernetes-list-map-keys"] = list(option.list_map_keys)
    if option.patch_merge_key:
        out["x-kubernetes-patch-merge-key"] = option.patch_merge_key
    if option.patch_strategy:
        out["x-kubernetes-patch-strategy"] = option.patch_strategy
    if option.map_type:
        out["x-kubernetes-map-type"] = option.map_type
    if option.default_value:
        out["default"] = json.loads(option.default_value)
    return out


# What a list's apiVersion and kind are: the protos' list messages leave them to the encoder.
API_VERSION = (
    "APIVersion defines the versioned schema of this representation of an object. "
    "Servers convert recognized schemas to the latest internal value and may reject "
    "unrecognized values."
)
KIND = (
    "Kind is a string value naming the REST resource this object represents, in CamelCase. "
    "Servers may infer it from the endpoint the client submits requests to; it cannot be "
    "updated."
)


def message_schema(name: str, dialect: Dialect) -> Schema:
    """The definition of the API message `name` (a definition name)."""
    message = messages()[name]
    properties: dict[str, Schema] = {}
    if name in _list_kinds():
        properties["apiVersion"] = {"type": "string", "description": API_VERSION}
        properties["kind"] = {"type": "string", "description": KIND}
    for f in message.fields:
        properties[f.json_name] = property_schema(f, dialect)
    out: Schema = {"type": "object", "properties": dict(sorted(properties.items()))}
    if description := comments.of_message(message):
        out["description"] = description
    required = [f.json_name for f in message.fields if field_schema(f).required]
    if required:
        out["required"] = required
    if name in _kinds():
        out["x-kubernetes-group-version-kind"] = _kinds()[name]
    if map_type := type_schema(message).map_type:
        out["x-kubernetes-map-type"] = map_type
    return out
