"""ObjectMeta rules shared by every kind."""

from __future__ import annotations

from collections.abc import Callable

from apiserver.validation import field_manager, fields
from apiserver.validation.fields import FieldError
from podplane.api.meta.v1 import meta_pb2

NameRule = Callable[[str, str], list[FieldError]]


def object_meta(
    meta: meta_pb2.ObjectMeta,
    *,
    namespaced: bool,
    name_rule: NameRule = fields.dns1123_subdomain,
    path: str = "metadata",
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not meta.name:
        if not meta.generate_name:
            errs.append(fields.required(f"{path}.name", "name or generateName is required"))
    else:
        errs += name_rule(f"{path}.name", meta.name)
    if namespaced:
        if meta.namespace:
            errs += fields.dns1123_label(f"{path}.namespace", meta.namespace)
    elif meta.namespace:
        errs.append(fields.forbidden(f"{path}.namespace", "not allowed on this type"))
    errs += field_manager.managed_fields(meta.managed_fields, f"{path}.managedFields")
    errs += fields.label_map(f"{path}.labels", meta.labels)
    errs += fields.annotation_map(f"{path}.annotations", meta.annotations)
    for i, ref in enumerate(meta.owner_references):
        p = f"{path}.ownerReferences[{i}]"
        if not ref.api_version:
            errs.append(fields.required(f"{p}.apiVersion", "version must not be empty"))
        if not ref.kind:
            errs.append(fields.required(f"{p}.kind", "kind must not be empty"))
        if not ref.name:
            errs.append(fields.required(f"{p}.name", "name must not be empty"))
        if not ref.uid:
            errs.append(fields.required(f"{p}.uid", "uid must not be empty"))
    if sum(1 for r in meta.owner_references if r.HasField("controller") and r.controller) > 1:
        errs.append(
            fields.invalid(
                f"{path}.ownerReferences", "", "Only one reference can have Controller set to true"
            )
        )
    return errs
