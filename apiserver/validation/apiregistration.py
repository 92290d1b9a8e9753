"""APIService validation (kube-aggregator pkg/apis/apiregistration/validation): the name a URL
path segment that is `<version>.<group>` of the spec, the group a DNS subdomain (empty only for
v1, the core group), the version a DNS-1035 label, the priorities within their ranges; a local
APIService (no service) has no CA bundle and does not skip TLS verification, a service's names
its namespace and name. A status write may set only True, False or Unknown conditions."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.embedded_meta import path_segment_name
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import NameRule, object_meta
from podplane.api.apiregistration.v1 import apiregistration_pb2

APIService = apiregistration_pb2.APIService

MAX_GROUP_PRIORITY_MINIMUM = 20000
MAX_VERSION_PRIORITY = 1000
CONDITION_STATUSES = ("True", "False", "Unknown")


def _name_rule(required_name: str) -> NameRule:
    def rule(path: str, name: str) -> list[FieldError]:
        errs = path_segment_name(path, name)
        if errs:
            return errs
        if name != required_name:
            detail = f'must be `spec.version+"."+spec.group`: {fields.go_quote(required_name)}'
            return [fields.invalid(path, name, detail)]
        return []

    return rule


def api_service(obj: APIService) -> list[FieldError]:
    """ValidateAPIService."""
    spec = obj.spec
    errs = object_meta(
        obj.metadata, namespaced=False, name_rule=_name_rule(f"{spec.version}.{spec.group}")
    )
    if not spec.group and spec.version != "v1":
        errs.append(
            fields.required(
                "spec.group", "only v1 may have an empty group and it better be legacy kube"
            )
        )
    if spec.group:
        errs += fields.dns1123_subdomain("spec.group", spec.group)
    errs += fields.dns1035_label("spec.version", spec.version)
    if not 0 < spec.group_priority_minimum <= MAX_GROUP_PRIORITY_MINIMUM:
        errs.append(
            fields.invalid(
                "spec.groupPriorityMinimum",
                spec.group_priority_minimum,
                "must be positive and less than 20000",
            )
        )
    if not 0 < spec.version_priority <= MAX_VERSION_PRIORITY:
        errs.append(
            fields.invalid(
                "spec.versionPriority",
                spec.version_priority,
                "must be positive and less than 1000",
            )
        )
    return errs + _service(spec)


def _service(spec: apiregistration_pb2.APIServiceSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    if not spec.HasField("service"):
        if spec.ca_bundle:
            errs.append(
                fields.invalid(
                    "spec.caBundle",
                    f"{len(spec.ca_bundle)} bytes",
                    "local APIServices may not have a caBundle",
                )
            )
        if spec.insecure_skip_tls_verify:
            errs.append(
                fields.invalid(
                    "spec.insecureSkipTLSVerify",
                    True,
                    "local APIServices may not have insecureSkipTLSVerify",
                )
            )
        return errs
    if not spec.service.namespace:
        errs.append(fields.required("spec.service.namespace"))
    if not spec.service.name:
        errs.append(fields.required("spec.service.name"))
    if spec.insecure_skip_tls_verify and spec.ca_bundle:
        errs.append(
            fields.invalid(
                "spec.insecureSkipTLSVerify", True, "may not be true if caBundle is present"
            )
        )
    return errs


def api_service_update(new: APIService, old: APIService) -> list[FieldError]:
    """ValidateAPIServiceUpdate (the metadata's update rules are every kind's, the store's)."""
    return api_service(new)


def api_service_status_update(new: APIService, old: APIService) -> list[FieldError]:
    """ValidateAPIServiceStatusUpdate: each condition's status True, False or Unknown."""
    return [
        fields.unsupported(f"status.conditions[{i}].status", c.status, CONDITION_STATUSES)
        for i, c in enumerate(new.status.conditions)
        if c.status not in CONDITION_STATUSES
    ]
