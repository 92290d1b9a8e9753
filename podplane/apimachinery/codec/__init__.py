"""API objects <-> Kubernetes' JSON, by the rules its Go types give each field (their json tags,
carried by the protos as the `(meta.v1.k8s)` option, protos/podplane/api/meta/v1/schema.proto).

Protobuf's JSON mapping drops every zero value; Kubernetes' does not. A field is written when it
is set, and also when empty if its Go field has no `omitempty` or is a struct: `restartCount: 0`,
`ready: false`, `status: {}`, `lastProbeTime: null`. Clients generated from the OpenAPI schema
(the official Python client among them) refuse an object whose required field is missing.
Int-or-string fields are written as numbers when they hold one; bytes are base64; 64-bit integers
are JSON numbers; map keys are sorted, as Go's encoder sorts them.

Decoding is the server's field validation (fieldValidation=Strict|Warn|Ignore): an unknown field
is an error in Strict mode and a warning otherwise, named by its path
(`spec.containers[0].imagePullPolicyy`); a value of the wrong type is always an error.

The parts: schema.py (each field's rules), encoding.py, decoding.py; this module names what the
rest of podplane uses."""

from podplane.apimachinery.codec.decoding import (
    Decoded,
    DecodeError,
    FieldValidation,
    UnknownFieldError,
    decode,
    decode_into,
    inline_json,
    json_type_name,
)
from podplane.apimachinery.codec.encoding import encode, encode_substituting
from podplane.apimachinery.codec.schema import (
    INLINE_JSON,
    JSON_SCHEMA_PROPS,
    RAW_JSON_FORMATS,
    STRING_LIST,
    field_schema,
    type_schema,
)

__all__ = [
    "INLINE_JSON",
    "JSON_SCHEMA_PROPS",
    "RAW_JSON_FORMATS",
    "STRING_LIST",
    "DecodeError",
    "Decoded",
    "FieldValidation",
    "UnknownFieldError",
    "decode",
    "decode_into",
    "encode",
    "encode_substituting",
    "field_schema",
    "inline_json",
    "json_type_name",
    "type_schema",
]
