"""A claim's data source (kubernetes pkg/apis/core/validation: validateDataSource,
validateDataSourceRef and their agreement in ValidatePersistentVolumeClaimSpec): the object a new
volume is filled from, another claim or, with an API group, a snapshot or a populator's object."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2

CLAIM_KIND = "PersistentVolumeClaim"


def _reference(
    path: str, ref: core_pb2.TypedLocalObjectReference | core_pb2.TypedObjectReference
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not ref.name:
        errs.append(fields.required(f"{path}.name"))
    if not ref.kind:
        errs.append(fields.required(f"{path}.kind"))
    api_group = ref.api_group if ref.HasField("api_group") else ""
    if not api_group and ref.kind != CLAIM_KIND:
        errs.append(
            fields.invalid(
                path,
                ref.kind,
                "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            )
        )
    if api_group:
        errs += fields.dns1123_subdomain(f"{path}.apiGroup", api_group)
    return errs


def data_sources(spec: core_pb2.PersistentVolumeClaimSpec, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if spec.HasField("data_source"):
        errs += _reference(f"{path}.dataSource", spec.data_source)
    if spec.HasField("data_source_ref"):
        ref = spec.data_source_ref
        errs += _reference(f"{path}.dataSourceRef", ref)
        if ref.namespace:
            errs += fields.dns1123_label(f"{path}.dataSourceRef.namespace", ref.namespace)
    if spec.HasField("data_source_ref") and spec.data_source_ref.namespace:
        if spec.HasField("data_source"):
            errs.append(
                fields.invalid(
                    path,
                    f"{path}.dataSource",
                    "may not be specified when dataSourceRef.namespace is specified",
                )
            )
    elif spec.HasField("data_source") and spec.HasField("data_source_ref"):
        source, ref = spec.data_source, spec.data_source_ref
        same = (
            source.HasField("api_group") == ref.HasField("api_group")
            and source.api_group == ref.api_group
            and source.kind == ref.kind
            and source.name == ref.name
        )
        if not same:
            errs.append(fields.invalid(path, f"{path}.dataSource", "must match dataSourceRef"))
    return errs
