"""The ObjectMeta rules of a custom resource's embedded resources (x-kubernetes-embedded-resource):
apiextensions-apiserver's objectmeta.Validate runs ValidateObjectMeta(meta, namespaced,
path.ValidatePathSegmentName, path) on each one's metadata, `namespaced` being whether it names a
namespace. The structural library calls it as its MetaValidator, on the objects and on the
definitions' defaults."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec, structural
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural.field import OMIT, ErrorType

# path.NameMayNotBe and NameMayNotContain.
_MAY_NOT_BE = (".", "..")
_MAY_NOT_CONTAIN = ("/", "%")
_TYPES = {t.label: t for t in ErrorType}


def path_segment_name(path: str, name: str) -> list[FieldError]:
    """path.ValidatePathSegmentName: a name that can be one segment of a URL path."""
    if name in _MAY_NOT_BE:
        return [fields.invalid(path, name, f"may not be '{name}'")]
    return [
        fields.invalid(path, name, f"may not contain '{c}'") for c in _MAY_NOT_CONTAIN if c in name
    ]


def embedded_object_meta(
    meta: JSONObject, namespaced: bool, path: str
) -> list[structural.FieldError]:
    """The field errors of an embedded resource's metadata (decoded already: ObjectMeta's
    fields only, of their types)."""
    message, _ = codec.decode(meta_pb2.ObjectMeta, meta, codec.FieldValidation.IGNORE)
    errs = object_meta(message, namespaced=namespaced, name_rule=path_segment_name, path=path)
    return [structural.FieldError(e.path, _TYPES[e.type], _value(e.value), e.detail) for e in errs]


def _value(value: object) -> JSONValue:
    """The apiserver's error value as the structural library's (None: none shown)."""
    if value is None:
        return OMIT
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
