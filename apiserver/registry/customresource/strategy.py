"""A custom resource version's strategy, made from its definition (k8s.io/apiextensions-apiserver/
pkg/registry/customresource/strategy.go, status_strategy.go, validator.go): objects pruned to the
schema and defaulted by it, validated against it with Kubernetes' messages; with the status
subresource, a create drops status, an update keeps the stored status and a status update
changes nothing else; metadata.generation moves on any change but to metadata (status aside,
with the subresource); field selectors on metadata.name, metadata.namespace and the version's
selectableFields."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.registry.customresource.storage import content_of, set_content
from apiserver.registry.strategies.base import Strategy
from apiserver.validation import fields
from apiserver.validation.apiextensions import from_structural
from apiserver.validation.embedded_meta import embedded_object_meta
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec, jsonpath
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD, Version
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.resources import CustomResource
from podplane.apimachinery.structural import CustomResourceSchema

_TYPE_META = ("apiVersion", "kind")
# How many of the contents it normalized last a strategy remembers, and up to what size.
_RECENT = 64
_RECENT_MAX_BYTES = 64 * 1024

MAX_INT32 = 2**31 - 1


def normalized(schema: CustomResourceSchema | None, obj: CustomObject) -> list[str]:
    """Prunes the object to the schema, drops its non-nullable nulls and defaults it, in place
    (the structural library's normalize, metadata aside: it is typed already); the paths of the
    unknown fields dropped."""
    if schema is None:
        return []
    document: JSONObject = {"apiVersion": obj.api_version, "kind": obj.kind, **content_of(obj)}
    unknown = schema.normalize(document)
    set_content(obj, {k: v for k, v in document.items() if k not in _TYPE_META})
    return unknown


def _selector_value(value: JSONValue) -> str:
    """A selectable field's value as a field selector compares it (fmt.Sprint)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _go_type(value: JSONValue) -> str:
    """The Go type an unstructured value decodes to, as accessor errors name it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "<nil>"


class CustomResourceStrategy:
    """The rules of one served version of a definition; `strategy()` is them as the generic
    store takes them."""

    def __init__(self, crd: CRD, v: Version, resource: CustomResource) -> None:
        self.resource = resource
        self.schema = definitions.version_schema(v)
        # Contents normalized last, oldest first (see _normalized).
        self._recent: dict[str, None] = {}
        self.status_enabled = definitions.has_status(v)
        self.scale = definitions.scale(v)
        self.selectable = {
            f.json_path.lstrip("."): jsonpath.parse(f.json_path) for f in v.selectable_fields
        }

    def strategy(self) -> Strategy[CustomObject]:
        return Strategy(
            self.resource,
            self.validate,
            self.validate_update,
            fields=self.fields,
            default=self.default,
            prepare_for_create=self.prepare_for_create,
            selectable=frozenset(self.selectable),
            keep_status=self.keep_status,
            take_status=self.take_status,
            generation_changed=self.generation_changed,
            prune=self.prune,
        )

    # ------------------------------------------------------------------ decoding
    def prune(self, obj: CustomObject) -> list[str]:
        """Drops the fields the schema does not specify (and defaults what it leaves); their
        paths (fieldValidation's unknown fields)."""
        return self._normalized(obj)

    def default(self, obj: CustomObject) -> None:
        self._normalized(obj)

    def _normalized(self, obj: CustomObject) -> list[str]:
        """normalized(), once per content: a door prunes what it decodes and the store then
        defaults it; a content normalize made is normalized already (the rules are idempotent),
        so the second finds it among the recent ones and leaves it as it is."""
        if obj.content in self._recent:
            return []
        unknown = normalized(self.schema, obj)
        if len(obj.content) <= _RECENT_MAX_BYTES:
            self._recent[obj.content] = None
            if len(self._recent) > _RECENT:
                del self._recent[next(iter(self._recent))]
        return unknown

    # ------------------------------------------------------------------ writes
    def prepare_for_create(self, obj: CustomObject) -> None:
        if self.status_enabled:
            content = content_of(obj)
            if "status" in content:
                del content["status"]
                set_content(obj, content)

    def keep_status(self, new: CustomObject, stored: CustomObject) -> None:
        if not self.status_enabled:
            return  # status is a field like any other
        self._set_status(new, content_of(stored))

    def take_status(self, new: CustomObject, request: CustomObject) -> None:
        if self.status_enabled:
            self._set_status(new, content_of(request))
        new.metadata.ClearField("managed_fields")
        new.metadata.managed_fields.extend(request.metadata.managed_fields)

    @staticmethod
    def _set_status(obj: CustomObject, source: Mapping[str, JSONValue]) -> None:
        content = content_of(obj)
        if "status" in source:
            content["status"] = source["status"]
        else:
            content.pop("status", None)
        set_content(obj, content)

    @staticmethod
    def generation_changed(new: CustomObject, stored: CustomObject) -> bool:
        return content_of(new) != content_of(stored)

    # ------------------------------------------------------------------ validation
    def validate(self, obj: CustomObject) -> list[FieldError]:
        return self._validate(obj, None)

    def validate_update(self, new: CustomObject, old: CustomObject) -> list[FieldError]:
        return self._validate(new, old)

    def _validate(self, obj: CustomObject, old: CustomObject | None) -> list[FieldError]:
        """ObjectMeta's rules, then the schema's (with ratcheting and transition rules on an
        update), then the scale subresource's replicas."""
        errs = object_meta(obj.metadata, namespaced=self.resource.namespaced)
        if self.schema is not None:
            found = self.schema.validate(
                codec.encode(obj),
                codec.encode(old) if old is not None else None,
                embedded_object_meta,
            )
            errs += [from_structural(e) for e in found]
        errs += self._scale_errors(content_of(obj))
        return errs

    def _scale_errors(self, content: dict[str, JSONValue]) -> list[FieldError]:
        """The replicas the scale subresource reads must be integers it can serve
        (validator.go ValidateScaleSpec, ValidateScaleStatus)."""
        if self.scale is None:
            return []
        errs: list[FieldError] = []
        for path in (self.scale.spec_replicas_path, self.scale.status_replicas_path):
            found = jsonpath.find(path, content)
            if not found:
                continue
            value = found[0]
            if isinstance(value, bool) or not isinstance(value, int):
                detail = f"{path} accessor error: {value} is of the type {_go_type(value)}, "
                detail += "expected int64"
                errs.append(fields.invalid(path, 0, detail))  # NestedInt64's value on error
            elif value < 0:
                errs.append(fields.invalid(path, value, "should be a non-negative integer"))
            elif value > MAX_INT32:
                errs.append(
                    fields.invalid(path, value, f"should be less than or equal to {MAX_INT32}")
                )
        return errs

    # ------------------------------------------------------------------ selectors
    def fields(self, obj: CustomObject) -> dict[str, str]:
        out = {"metadata.name": obj.metadata.name}
        if self.resource.namespaced:
            out["metadata.namespace"] = obj.metadata.namespace
        if self.selectable:
            content = content_of(obj)
            for name, steps in self.selectable.items():
                found = list(jsonpath.evaluate(steps, content))
                out[name] = _selector_value(found[0] if found else None)
        return out
