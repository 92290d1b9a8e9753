"""Each field's Kubernetes rules, as the protos carry them (the `(meta.v1.k8s)` options,
protos/podplane/api/meta/v1/schema.proto): its JSON name, format and whether Go omits it when
empty; the formats of free-form JSON; the protobuf integer types."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from podplane.api.meta.v1 import schema_pb2

# A map field's format: its message values (one `repeated string items`) are plain JSON lists.
STRING_LIST = "string-list"
# A string field's formats for free-form JSON (a runtime.RawExtension, a managed fields entry's
# FieldsV1, a CustomResourceDefinition version's schema): the field holds the JSON text, and the
# object's JSON has the value itself.
JSON_SCHEMA_PROPS = "json-schema-props"
RAW_JSON_FORMATS = frozenset({"raw-extension", "fields-v1", JSON_SCHEMA_PROPS})
# A string field that holds the rest of the object as a JSON object's text (a custom object's
# spec, status and other top-level fields): written as the object's own fields, and given every
# key of the object that no other field of its message takes. A message has at most one.
INLINE_JSON = "inline-json"
# A message field Go holds as a pointer without omitempty: written as null when unset (an
# APIService's spec.service, null for a local one).
NULLABLE = "nullable"

# A scalar field's value as protobuf holds it.
ProtoScalar = str | int | float | bool | bytes

INT_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
    }
)
INT32_TYPES = frozenset(
    {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_UINT32}
)
INTEGER = re.compile(r"-?[0-9]+\Z")


# The generated stub types the extension as a plain FieldDescriptor, which the options' extension
# API does not take.
_K8S_OPTION: Any = schema_pb2.k8s


def field_schema(f: FieldDescriptor) -> schema_pb2.FieldSchema:
    """The field's Kubernetes schema option; an empty one when it has none."""
    options = f.GetOptions()
    if options.HasExtension(_K8S_OPTION):
        schema: schema_pb2.FieldSchema = options.Extensions[_K8S_OPTION]
        return schema
    return schema_pb2.FieldSchema()


_K8S_TYPE_OPTION: Any = schema_pb2.k8s_type


def type_schema(descriptor: Descriptor) -> schema_pb2.TypeSchema:
    """The message's Kubernetes schema option; an empty one when it has none."""
    options = descriptor.GetOptions()
    if options.HasExtension(_K8S_TYPE_OPTION):
        schema: schema_pb2.TypeSchema = options.Extensions[_K8S_TYPE_OPTION]
        return schema
    return schema_pb2.TypeSchema()
