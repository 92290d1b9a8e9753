"""One served version of a custom resource, as apiextensions-apiserver's handler treats its
objects: `CustomResourceSchema.from_json(openAPIV3Schema)` once per version, then

- `normalize(obj)` on every decoded request body and every object read from etcd
  (unstructuredSchemaCoercer then the defaulter): prune unknown fields, drop the nulls of
  fields neither nullable nor defaulted, rewrite metadata as ObjectMeta, apply defaults. It
  returns the pruned fields' paths for the `unknown field "spec.foo"` warnings and for
  fieldValidation=Strict's errors;
- `validate(obj, old)` on create and update (customResourceStrategy.Validate/ValidateUpdate
  without the apiserver's own TypeMeta and ObjectMeta checks): the OpenAPI schema, embedded
  resources' metadata, list-type set/map uniqueness, then the CEL rules, unless an earlier
  error blocks them;
- `validate_status(obj, old)` for the status subresource, against properties.status."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural import cel_rules, defaulting, listtype, objectmeta, pruning
from podplane.apimachinery.structural.field import ErrorType, FieldError, invalid
from podplane.apimachinery.structural.openapi_validation import NO_OLD, validate_value
from podplane.apimachinery.structural.props import JSONSchemaProps, decode_props
from podplane.apimachinery.structural.schema import Structural, new_structural

_BLOCKING = {
    ErrorType.NOT_SUPPORTED,
    ErrorType.REQUIRED,
    ErrorType.TOO_LONG,
    ErrorType.TOO_MANY,
    ErrorType.TYPE_INVALID,
}
_BLOCKED_RULES = (
    "some validation rules were not checked because the object was invalid; correct the "
    "existing errors to complete validation"
)


@dataclass
class CustomResourceSchema:
    props: JSONSchemaProps
    structural: Structural
    rules: cel_rules.RuleValidator

    @classmethod
    def from_json(cls, schema: JSONObject) -> CustomResourceSchema:
        """From a version's openAPIV3Schema, already accepted by crd_schema.validate_schema."""
        props = decode_props(schema)
        structural = new_structural(props)
        return cls(props, structural, cel_rules.RuleValidator(structural, is_resource_root=True))

    # -------------------------------------------------------------- reads and writes
    def normalize(self, obj: JSONObject, drop_invalid_metadata: bool = True) -> list[str]:
        """Prune, drop non-nullable nulls, coerce metadata and default `obj` in place; the
        paths of the unknown fields it dropped (metadata's included), sorted. A malformed
        metadata field is dropped, or (drop_invalid_metadata=False) raises MetaDecodeError."""
        unknown = pruning.prune(obj, self.structural, True)
        defaulting.prune_non_nullable_nulls(obj, self.structural)
        if "metadata" in obj:
            meta, meta_unknown = objectmeta.decode_object_meta(
                obj["metadata"], drop_invalid_metadata
            )
            obj["metadata"] = meta
            unknown += meta_unknown
        err, embedded_unknown = objectmeta.coerce(
            None, obj, self.structural, False, drop_invalid_metadata
        )
        if err is not None:
            raise objectmeta.MetaDecodeError(str(err))
        defaulting.apply_defaults(obj, self.structural)
        return sorted(unknown + embedded_unknown)

    def apply_defaults(self, obj: JSONValue) -> None:
        defaulting.apply_defaults(obj, self.structural)

    # -------------------------------------------------------------- validation
    def validate(
        self,
        obj: JSONObject,
        old: JSONObject | None = None,
        meta_validator: objectmeta.MetaValidator | None = None,
    ) -> list[FieldError]:
        """The field errors of a created (`old` None) or updated custom resource."""
        errs = validate_value(self.props, obj, None, NO_OLD if old is None else old)
        errs += objectmeta.validate_meta("", obj, self.structural, False, meta_validator)
        if old is None or not listtype.validate_lists("", self.structural, old):
            errs += listtype.validate_lists("", self.structural, obj)
        return self._with_rules(errs, obj, old, ratchet=True)

    def _with_rules(
        self, errs: list[FieldError], obj: JSONObject, old: JSONObject | None, ratchet: bool
    ) -> list[FieldError]:
        """The CEL rules run only when no earlier error blocks them (hasBlockingErr)."""
        if not self.rules.has_rules:
            return errs
        if any(e.type in _BLOCKING for e in errs):
            return [*errs, invalid("<nil>", None, _BLOCKED_RULES)]
        return errs + self.rules.validate(None, obj, old, ratchet)

    def validate_status(self, obj: JSONObject, old: JSONObject) -> list[FieldError]:
        """statusStrategy.ValidateUpdate's schema part: status against properties.status (no
        ratcheting there), lists, and the CEL rules."""
        errs: list[FieldError] = []
        status_schema = self.props.properties.get("status")
        if "status" in obj and status_schema is not None:
            errs += validate_value(status_schema, obj["status"], "status")
        new_list_errs = listtype.validate_lists("", self.structural, obj)
        if new_list_errs and not listtype.validate_lists("", self.structural, old):
            errs += new_list_errs
        return self._with_rules(errs, obj, old, ratchet=False)
