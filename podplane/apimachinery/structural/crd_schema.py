"""A CRD version's `schema.openAPIV3Schema` checked as kube-apiserver checks it when the CRD is
created or updated (validateCustomResourceDefinitionValidation): what the root may hold when
the status subresource is on, no nullable root, a structural schema with valid defaults, the
OpenAPI rules of crd_rules.py, and the x-kubernetes-validations rules compiled."""

from __future__ import annotations

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural import cel_rules, crd_rules
from podplane.apimachinery.structural.default_validation import validate_defaults
from podplane.apimachinery.structural.field import FieldError, child, forbidden, invalid
from podplane.apimachinery.structural.objectmeta import MetaValidator
from podplane.apimachinery.structural.props import JSONSchemaProps, decode_props
from podplane.apimachinery.structural.schema import NotStructuralError, new_structural
from podplane.apimachinery.structural.structural_validation import validate_structural

# The JSONSchemaProps fields allowed at the root when the status subresource is enabled, by
# their Go names (the message lists them so).
_ALLOWED_AT_ROOT = [
    "Description", "Type", "Format", "Title", "Maximum", "ExclusiveMaximum", "Minimum",
    "ExclusiveMinimum", "MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems",
    "UniqueItems", "MultipleOf", "Required", "Items", "Properties", "ExternalDocs", "Example",
    "XPreserveUnknownFields", "XValidations",
]  # fmt: skip
# The fields not allowed there, by their attribute here, in the order of Go's struct.
_NOT_ALLOWED_AT_ROOT = (
    "id", "schema", "ref", "nullable", "has_default", "enum", "max_properties",
    "min_properties", "items_array", "all_of", "one_of", "any_of", "not_",
    "additional_properties", "pattern_properties", "dependencies", "additional_items",
    "definitions", "x_embedded_resource", "x_int_or_string", "x_list_map_keys", "x_list_type",
    "x_map_type",
)  # fmt: skip


def _status_root_errors(props: JSONSchemaProps, schema: JSONObject, path: str) -> list[FieldError]:
    """With the status subresource, status's schema is read as properties[status]: the root may
    hold only what keeps applying so."""
    if props.type and props.type != "object":
        return [
            invalid(
                child(path, "type"),
                props.type,
                'only "object" is allowed as the type at the root of the schema if the status '
                "subresource is enabled",
            )
        ]
    for attr in _NOT_ALLOWED_AT_ROOT:
        if getattr(props, attr) not in (None, False, "", [], {}):
            allowed = " ".join(_ALLOWED_AT_ROOT)
            return [
                invalid(
                    path,
                    schema,
                    f"only [{allowed}] fields are allowed at the root of the schema if the "
                    "status subresource is enabled",
                )
            ]
    return []


def validate_schema(
    schema: JSONObject,
    path: str,
    status_enabled: bool = False,
    options: crd_rules.SchemaOptions = crd_rules.CREATE_OPTIONS,
    meta_validator: MetaValidator | None = None,
) -> list[FieldError]:
    """The field errors of a CRD version's openAPIV3Schema at `path`
    (`spec.versions[0].schema.openAPIV3Schema`), as Kubernetes words them. Raises
    props.SchemaDecodeError when the JSON does not decode into a JSONSchemaProps (a 400 Bad
    Request in Kubernetes, before any validation). `meta_validator` is the apiserver's
    ObjectMeta validation, for defaults of embedded resources' metadata."""
    props = decode_props(schema, "")
    errs: list[FieldError] = []
    if status_enabled:
        errs += _status_root_errors(props, schema, path)
    if props.nullable:
        errs.append(forbidden(child(path, "nullable"), "nullable cannot be true at the root"))
    init_errs: list[FieldError] = []
    cel = None
    if options.require_structural_schema:
        try:
            structural = new_structural(props)
        except NotStructuralError as e:
            init_errs.append(invalid(path, "", str(e)))
        else:
            structural_errs = validate_structural(path, structural)
            if structural_errs:
                errs += structural_errs
            else:
                default_errs = validate_defaults(
                    path,
                    structural,
                    options.require_pruned_defaults,
                    meta_validator,
                    cel_rules.default_checker,
                )
                errs += default_errs
                if not default_errs:
                    cel = cel_rules.schema_checker
    errs += crd_rules.validate_openapi_schema(props, path, options, cel)
    if not errs:
        errs += init_errs
    return errs
