"""CustomResourceDefinitions (k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation),
with Kubernetes' messages and field paths. Kubernetes validates its internal form, into which a
v1 definition's per-version schema, subresources, printer columns and selectable fields are
moved up to spec.validation, spec.subresources, ... when every version has the same: errors
about them are named there then, as kube-apiserver names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from apiserver.validation import fields
from apiserver.validation.apiextensions_conversion import conversion
from apiserver.validation.apiextensions_versions import (
    printer_column,
    selectable_fields,
    subresources,
)
from apiserver.validation.embedded_meta import embedded_object_meta
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown, immutable
from apiserver.validation.meta import object_meta
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import structural
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD, Version


def from_structural(e: structural.FieldError) -> FieldError:
    """The structural library's field error as the apiserver's (it prints the same)."""
    return FieldError(e.path, e.label, e.shown_value(), e.detail)


def _identical(versions: Sequence[Version], part: Callable[[Version], object]) -> bool:
    """Whether every version has the same (v1's conversion moves it up to spec then)."""
    return len(versions) > 0 and all(part(v) == part(versions[0]) for v in versions)


def _schema_part(v: Version) -> object:
    return (v.HasField("schema"), v.schema.SerializeToString(deterministic=True))


def _subresources_part(v: Version) -> object:
    return (v.HasField("subresources"), v.subresources.SerializeToString(deterministic=True))


def _columns_part(v: Version) -> object:
    return [c.SerializeToString(deterministic=True) for c in v.additional_printer_columns]


def _selectable_part(v: Version) -> object:
    return [f.json_path for f in v.selectable_fields]


def custom_resource_definition(crd: CRD) -> list[FieldError]:
    return _definition(crd, None)


def _definition(crd: CRD, old: CRD | None) -> list[FieldError]:
    spec = crd.spec
    errs = object_meta(crd.metadata, namespaced=False, name_rule=_name_rule(crd))
    errs += _spec(spec)
    errs += names(crd.status.accepted_names, "status.acceptedNames")
    errs += stored_versions(crd)
    errs += api_approval(crd, old)
    errs += conversion(crd, old)
    return errs


APPROVAL_ANNOTATION = "api-approved.kubernetes.io"
_APPROVAL_LINK = "see https://github.com/kubernetes/enhancements/pull/1111"


def _approval(annotations: Mapping[str, str]) -> tuple[str, str]:
    """apihelpers.GetAPIApprovalState: missing, bypassed, approved or invalid, and why."""
    value = annotations.get(APPROVAL_ANNOTATION, "")
    if not value:
        return "missing", (
            f'protected groups must have approval annotation "{APPROVAL_ANNOTATION}", '
            + _APPROVAL_LINK
        )
    if value.startswith("unapproved"):
        return "bypassed", f'not approved: "{value}"'
    parsed = urlsplit(value)
    if parsed.scheme and parsed.netloc:
        return "approved", f"approved in {value}"
    return "invalid", (
        f'protected groups must have approval annotation "{APPROVAL_ANNOTATION}" with either a '
        f'URL or a reason starting with "unapproved", {_APPROVAL_LINK}'
    )


def api_approval(crd: CRD, old: CRD | None) -> list[FieldError]:
    """A group of Kubernetes' own (k8s.io, kubernetes.io) needs the API approval annotation."""
    group = crd.spec.group
    if not (group in ("k8s.io", "kubernetes.io") or group.endswith((".k8s.io", ".kubernetes.io"))):
        return []
    state, reason = _approval(crd.metadata.annotations)
    if old is not None and _approval(old.metadata.annotations)[0] == state:
        return []
    path = f"metadata.annotations[{APPROVAL_ANNOTATION}]"
    if state == "missing":
        return [fields.required(path, reason)]
    if state == "invalid":
        return [fields.invalid(path, crd.metadata.annotations[APPROVAL_ANNOTATION], reason)]
    return []


def custom_resource_definition_update(new: CRD, old: CRD) -> list[FieldError]:
    errs = _definition(new, old)
    if definitions.is_true(old, definitions.ESTABLISHED):
        errs += immutable("spec.scope", new.spec.scope, old.spec.scope)
        errs += immutable("spec.names.kind", new.spec.names.kind, old.spec.names.kind)
    errs += immutable("spec.group", new.spec.group, old.spec.group)
    errs += immutable("spec.names.plural", new.spec.names.plural, old.spec.names.plural)
    return errs


def custom_resource_definition_status_update(new: CRD, old: CRD) -> list[FieldError]:
    return names(new.status.accepted_names, "status.acceptedNames")


def _name_rule(crd: CRD) -> Callable[[str, str], list[FieldError]]:
    required = f"{crd.spec.names.plural}.{crd.spec.group}"

    def rule(path: str, name: str) -> list[FieldError]:
        errs = fields.dns1123_subdomain(path, name)
        if name != required:
            errs.append(fields.invalid(path, name, 'must be spec.names.plural+"."+spec.group'))
        return errs

    return rule


def stored_versions(crd: CRD) -> list[FieldError]:
    path = "status.storedVersions"
    stored = list(crd.status.stored_versions)
    shown = Shown("[]string{" + ", ".join(f'"{v}"' for v in stored) + "}")
    if not stored:
        return [
            fields.invalid(path, Shown("[]string(nil)"), "must have at least one stored version")
        ]
    errs: list[FieldError] = []
    remaining = dict.fromkeys(stored)
    for v in crd.spec.versions:
        if v.storage and v.name not in remaining:
            errs.append(fields.invalid(path, shown, "must have the storage version " + v.name))
        remaining.pop(v.name, None)
    for name in remaining:
        errs.append(
            fields.invalid(f"{path}[{stored.index(name)}]", name, "must appear in spec.versions")
        )
    return errs


def _spec(spec: apiextensions_pb2.CustomResourceDefinitionSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    if not spec.group:
        errs.append(fields.required("spec.group"))
    elif group_errs := fields.dns1123_subdomain("spec.group", spec.group):
        errs += group_errs
    elif len(spec.group.split(".")) < 2:
        errs.append(
            fields.invalid("spec.group", spec.group, "should be a domain with at least one dot")
        )
    errs += _enum("spec.scope", spec.scope, (definitions.CLUSTER, definitions.NAMESPACED))
    versions = list(spec.versions)
    hoisted_schema = _identical(versions, _schema_part)
    hoisted_subresources = _identical(versions, _subresources_part)
    hoisted_columns = _identical(versions, _columns_part)
    hoisted_selectable = _identical(versions, _selectable_part)
    if not hoisted_schema or not versions[0].schema.open_apiv3_schema:
        for i, v in enumerate(versions):
            if not v.schema.open_apiv3_schema:
                path = f"spec.versions[{i}].schema.openAPIV3Schema"
                errs.append(fields.required(path, "schemas are required"))
    if spec.preserve_unknown_fields:
        errs.append(
            fields.invalid(
                "spec.preserveUnknownFields",
                True,
                "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                "spec.versions[*].schema instead",
            )
        )
    storage, seen, unique = 0, set(), True
    for i, v in enumerate(versions):
        path = f"spec.versions[{i}]"
        storage += v.storage
        if v.name in seen:
            unique = False
        seen.add(v.name)
        errs += fields.dns1035_label(f"{path}.name", v.name)
        errs += _version(
            v,
            path,
            schema_path=None if hoisted_schema else f"{path}.schema",
            subresources_path=None if hoisted_subresources else f"{path}.subresources",
            columns_path=None if hoisted_columns else f"{path}.additionalPrinterColumns",
            selectable_path=None if hoisted_selectable else f"{path}.selectableFields",
        )
    if versions:
        first = versions[0]
        errs += _version_parts(
            first,
            schema_path="spec.validation" if hoisted_schema else None,
            subresources_path="spec.subresources" if hoisted_subresources else None,
            columns_path="spec.additionalPrinterColumns" if hoisted_columns else None,
            selectable_path="spec.selectableFields" if hoisted_selectable else None,
            status_enabled=any(definitions.has_status(v) for v in versions),
        )
    if not unique:
        errs.append(
            fields.invalid(
                "spec.versions", _shown_versions(versions), "must contain unique version names"
            )
        )
    if storage != 1:
        errs.append(
            fields.invalid(
                "spec.versions",
                _shown_versions(versions),
                "must have exactly one version marked as storage version",
            )
        )
    n = spec.names
    for field_name, value in (
        ("plural", n.plural),
        ("singular", n.singular),
        ("kind", n.kind),
        ("listKind", n.list_kind),
    ):
        if not value:
            errs.append(fields.required(f"spec.names.{field_name}"))
    errs += names(n, "spec.names")
    return errs


def _shown_versions(versions: Sequence[Version]) -> Shown:
    return Shown(
        "[]apiextensions.CustomResourceDefinitionVersion{"
        + ", ".join(
            f'{{Name:"{v.name}", Served:{str(v.served).lower()}, Storage:{str(v.storage).lower()}}}'
            for v in versions
        )
        + "}"
    )


def _version(
    v: Version,
    path: str,
    *,
    schema_path: str | None,
    subresources_path: str | None,
    columns_path: str | None,
    selectable_path: str | None,
) -> list[FieldError]:
    errs: list[FieldError] = []
    warning = v.deprecation_warning if v.HasField("deprecation_warning") else None
    for detail in _deprecation_warning(v.deprecated, warning):
        errs.append(fields.invalid(f"{path}.deprecationWarning", warning, detail))
    errs += _version_parts(
        v,
        schema_path=schema_path,
        subresources_path=subresources_path,
        columns_path=columns_path,
        selectable_path=selectable_path,
        status_enabled=definitions.has_status(v),
    )
    return errs


def _version_parts(
    v: Version,
    *,
    schema_path: str | None,
    subresources_path: str | None,
    columns_path: str | None,
    selectable_path: str | None,
    status_enabled: bool,
) -> list[FieldError]:
    """The schema, subresources, printer columns and selectable fields of a version, each under
    the path it is named by (None: checked elsewhere, moved up to spec)."""
    errs: list[FieldError] = []
    try:
        version_schema = definitions.schema_json(v) if v.schema.open_apiv3_schema else None
    except ValueError:  # JSON text over gRPC that is not JSON: REST bodies cannot say that
        at = f"{schema_path or 'spec.validation'}.openAPIV3Schema"
        return [fields.invalid(at, "", "must be a JSON object")]
    if schema_path is not None and version_schema is not None:
        at = f"{schema_path}.openAPIV3Schema"
        try:
            found = structural.validate_schema(
                version_schema, at, status_enabled, meta_validator=embedded_object_meta
            )
        except structural.SchemaDecodeError as e:  # a REST body is refused as it is decoded
            return [fields.invalid(at, "", str(e))]
        errs += [from_structural(e) for e in found]
    if subresources_path is not None and v.HasField("subresources"):
        errs += subresources(v.subresources, subresources_path)
    if columns_path is not None:
        for i, column in enumerate(v.additional_printer_columns):
            errs += printer_column(column, f"{columns_path}[{i}]")
    if selectable_path is not None and v.selectable_fields:
        if version_schema is None:
            errs.append(
                fields.invalid(
                    selectable_path,
                    "",
                    "selectableFields may only be set when version.schema.openAPIV3Schema is "
                    "not included",
                )
            )
        else:
            errs += selectable_fields(v, selectable_path)
    return errs


def _deprecation_warning(deprecated: bool, warning: str | None) -> list[str]:
    if not deprecated and warning is not None:
        return ["can only be set for deprecated versions"]
    if warning is None:
        return []
    out = []
    if len(warning.encode()) > 256:
        out.append("must be <= 256 characters long")
    if not warning:
        out.append("must not be an empty string")
    for i, ch in enumerate(warning):
        if not ch.isprintable():
            out.append(
                "must only contain printable UTF-8 characters; non-printable character found at "
                f"index {i}"
            )
            break
    return out


_DNS1035 = fields.dns1035_label


def names(n: apiextensions_pb2.CustomResourceDefinitionNames, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if n.plural:
        errs += _joined(_DNS1035(f"{path}.plural", n.plural))
    if n.singular:
        errs += _joined(_DNS1035(f"{path}.singular", n.singular))
    if n.kind and (kind_errs := _DNS1035(f"{path}.kind", n.kind.lower())):
        errs.append(_mixed_case(f"{path}.kind", n.kind, kind_errs))
    if n.list_kind and (list_errs := _DNS1035(f"{path}.listKind", n.list_kind.lower())):
        errs.append(_mixed_case(f"{path}.listKind", n.list_kind, list_errs))
    for i, short in enumerate(n.short_names):
        errs += _joined(_DNS1035(f"{path}.shortNames[{i}]", short))
    if n.kind and n.kind == n.list_kind:
        errs.append(
            fields.invalid(f"{path}.listKind", n.list_kind, "kind and listKind may not be the same")
        )
    for i, category in enumerate(n.categories):
        errs += _joined(_DNS1035(f"{path}.categories[{i}]", category))
    return errs


def _joined(errs: list[FieldError]) -> list[FieldError]:
    """IsDNS1035Label's messages as one error (Kubernetes joins them with commas)."""
    if len(errs) <= 1:
        return errs
    return [FieldError(errs[0].path, errs[0].type, errs[0].value, ",".join(e.detail for e in errs))]


def _mixed_case(path: str, value: str, errs: list[FieldError]) -> FieldError:
    detail = "may have mixed case, but should otherwise match: " + ",".join(e.detail for e in errs)
    return fields.invalid(path, value, detail)


def _enum(path: str, value: str, accepted: Sequence[str]) -> list[FieldError]:
    if not value:
        return [fields.required(path)]
    if value not in accepted:
        return [fields.unsupported(path, value, accepted)]
    return []
