"""The CRD schema rules of the x-kubernetes extensions (apiextensions-apiserver
pkg/apis/apiextensions/validation/validation.go): x-kubernetes-map-type and list-type on the
right types and with supported values, list-map keys that name required or defaulted scalar
properties of the items, set items atomic, and no nullable items in sets and maps."""

from __future__ import annotations

from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    forbidden,
    invalid,
    key,
    not_supported,
    required,
)
from podplane.apimachinery.structural.props import JSONSchemaProps


def _type_must_be(s: JSONSchemaProps, path: str, wanted: str, because: str) -> FieldError:
    detail = f"must be {wanted} if {because}"
    if not s.type:
        return required(child(path, "type"), detail)
    return invalid(child(path, "type"), s.type, detail)


def extension_rules(
    s: JSONSchemaProps, path: str, require_atomic_set_type: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if s.x_preserve_unknown_fields is False:
        errs.append(
            invalid(
                child(path, "x-kubernetes-preserve-unknown-fields"),
                False,
                "must be true or undefined",
            )
        )
    if s.x_map_type is not None and s.type != "object":
        errs.append(_type_must_be(s, path, "object", "x-kubernetes-map-type is specified"))
    if s.x_map_type is not None and s.x_map_type not in ("atomic", "granular"):
        errs.append(
            not_supported(
                child(path, "x-kubernetes-map-type"), s.x_map_type, ["atomic", "granular"]
            )
        )
    items = s.items
    if s.x_list_type is not None and s.type != "array":
        errs.append(_type_must_be(s, path, "array", "x-kubernetes-list-type is specified"))
    elif require_atomic_set_type and s.x_list_type == "set" and items is not None:
        set_item = "must be atomic as item of a list with x-kubernetes-list-type=set"
        if items.type == "array" and items.x_list_type not in (None, "atomic"):
            errs.append(
                invalid(child(path, "items", "x-kubernetes-list-type"), items.x_list_type, set_item)
            )
        elif items.type == "object" and items.x_map_type != "atomic":
            errs.append(
                invalid(child(path, "items", "x-kubernetes-map-type"), items.x_list_type, set_item)
            )
    if s.x_list_type is not None and s.x_list_type not in ("atomic", "set", "map"):
        errs.append(
            not_supported(
                child(path, "x-kubernetes-list-type"), s.x_list_type, ["atomic", "set", "map"]
            )
        )
    if s.x_list_map_keys:
        because = "must be map if x-kubernetes-list-map-keys is non-empty"
        if s.x_list_type is None:
            errs.append(required(child(path, "x-kubernetes-list-type"), because))
        elif s.x_list_type != "map":
            errs.append(invalid(child(path, "x-kubernetes-list-type"), s.x_list_type, because))
    if s.x_list_type == "map":
        errs += _list_map_rules(s, path)
    return errs


def _list_map_rules(s: JSONSchemaProps, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    keys_path = child(path, "x-kubernetes-list-map-keys")
    if not s.x_list_map_keys:
        errs.append(required(keys_path, "must not be empty if x-kubernetes-list-type is map"))
    if s.items is None and not s.items_array:
        errs.append(
            required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map")
        )
    if s.items is None and s.items_array:
        errs.append(
            invalid(
                child(path, "items"),
                "",
                "must only have a single schema if x-kubernetes-list-type is map",
            )
        )
    items = s.items
    if items is not None and items.type != "object":
        errs.append(
            invalid(
                child(path, "items", "type"),
                items.type,
                "must be object if parent array's x-kubernetes-list-type is map",
            )
        )
    if items is not None and items.type == "object":
        seen: set[str] = set()
        for name in s.x_list_map_keys:
            prop = items.properties.get(name)
            if prop is None:
                errs.append(
                    invalid(
                        keys_path,
                        list(s.x_list_map_keys),
                        "entries must all be names of item properties",
                    )
                )
            elif prop.type in ("array", "object"):
                errs.append(
                    invalid(
                        child(key(child(path, "items", "properties"), name), "type"),
                        items.type,
                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                    )
                )
            if name in seen:
                errs.append(
                    invalid(
                        keys_path, list(s.x_list_map_keys), "must not contain duplicate entries"
                    )
                )
            seen.add(name)
    return errs


def map_list_keys_map_set(s: JSONSchemaProps, path: str) -> list[FieldError]:
    """validateMapListKeysMapSet: set and map lists' items are not nullable; a map list's keys
    are required or defaulted, and not nullable."""
    items = s.items
    if items is None or s.x_list_type not in ("set", "map"):
        return []
    errs: list[FieldError] = []
    if items.nullable:
        errs.append(
            forbidden(
                child(path, "items", "nullable"),
                f"cannot be nullable when x-kubernetes-list-type is {s.x_list_type}",
            )
        )
    if s.x_list_type == "map":
        for name in s.x_list_map_keys:
            prop = items.properties.get(name)
            if prop is None:
                continue
            prop_path = key(child(path, "items", "properties"), name)
            if name not in items.required and not prop.has_default:
                errs.append(
                    required(
                        child(prop_path, "default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a "
                        "default or be a required property",
                    )
                )
            if prop.nullable:
                errs.append(
                    forbidden(
                        child(prop_path, "nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    )
                )
    return errs
