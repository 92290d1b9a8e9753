"""A Service's cluster IP fields (kubernetes pkg/apis/core/validation:
ValidateServiceClusterIPsRelatedFields, validateUpgradeDowngradeClusterIPs and
validateUpgradeDowngradeIPFamilies): clusterIP and clusterIPs agree, each IP is of its family, and
an update never changes the primary IP or family."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.network import go_families, go_strings, valid_ip
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import (
    CLUSTER_IP_NONE,
    IPV4,
    IPV6,
    PREFER_DUAL_STACK,
    REQUIRE_DUAL_STACK,
    SINGLE_STACK,
)

IP_FAMILIES = (IPV4, IPV6)
IP_FAMILY_POLICIES = (PREFER_DUAL_STACK, REQUIRE_DUAL_STACK, SINGLE_STACK)
IMMUTABLE_ONCE_SET = "may not change once set"


def cluster_ips_related_fields(obj: service_pb2.Service) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields: clusterIP and clusterIPs agree, families and
    policy are known, at most one IP per family, each IP of its listed family."""
    spec = obj.spec
    if spec.type == svc_helper.EXTERNAL_NAME:
        return []
    errs: list[FieldError] = []
    ips = list(spec.cluster_ips)
    if spec.cluster_ip:
        if not ips:
            errs.append(fields.required("spec.clusterIPs"))
        elif ips[0] != spec.cluster_ip:
            errs.append(
                fields.invalid(
                    "spec.clusterIPs", go_strings(ips), "first value must match `clusterIP`"
                )
            )
    elif ips:
        errs.append(
            fields.invalid(
                "spec.clusterIPs",
                go_strings(ips),
                "must be empty when `clusterIP` is not specified",
            )
        )
    seen: set[str] = set()
    for i, family in enumerate(spec.ip_families):
        if family not in IP_FAMILIES:
            errs.append(fields.unsupported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
        if family in seen:
            errs.append(fields.duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(family)
    if spec.ip_family_policy and spec.ip_family_policy not in IP_FAMILY_POLICIES:
        errs.append(
            fields.unsupported("spec.ipFamilyPolicy", spec.ip_family_policy, IP_FAMILY_POLICIES)
        )
    bad_ips = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == CLUSTER_IP_NONE:
            if len(ips) > 1:
                bad_ips = True
                errs.append(
                    fields.invalid(
                        "spec.clusterIPs",
                        go_strings(ips),
                        "'None' must be the first and only value",
                    )
                )
            continue
        ip_errs = valid_ip(f"spec.clusterIPs[{i}]", ip)
        bad_ips = bad_ips or bool(ip_errs)
        errs += ip_errs
    if len(ips) > 2:
        errs.append(
            fields.invalid("spec.clusterIPs", go_strings(ips), "may only hold up to 2 values")
        )
    if bad_ips:
        return errs
    if len(ips) > 1 and len({svc_helper.ip_family(ip) for ip in ips}) != len(ips):
        errs.append(
            fields.invalid(
                "spec.clusterIPs",
                go_strings(ips),
                "may specify no more than one IP for each IP family",
            )
        )
    if not svc_helper.is_headless(obj) and ips and spec.ip_families:
        for i, (ip, family) in enumerate(zip(ips, spec.ip_families, strict=False)):
            if svc_helper.ip_family(ip) != family:
                errs.append(
                    fields.invalid(
                        f"spec.clusterIPs[{i}]",
                        ip,
                        f"expected an {family} value as indicated by `ipFamilies[{i}]`",
                    )
                )
    return errs


def upgrade_downgrade_cluster_ips(
    old: service_pb2.Service, new: service_pb2.Service
) -> list[FieldError]:
    """validateUpgradeDowngradeClusterIPs: the primary cluster IP never changes; a secondary one
    may be added, or removed with policy SingleStack."""
    if svc_helper.EXTERNAL_NAME in (new.spec.type, old.spec.type):
        return []
    if svc_helper.is_headless(old) and svc_helper.is_headless(new):
        return []
    old_ips, new_ips = list(old.spec.cluster_ips), list(new.spec.cluster_ips)
    shown = go_strings(new_ips)
    errs: list[FieldError] = []
    if len(old_ips) == len(new_ips):
        for i, ip in enumerate(old_ips):
            if ip != new_ips[i]:
                errs.append(fields.invalid(f"spec.clusterIPs[{i}]", shown, IMMUTABLE_ONCE_SET))
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            errs.append(
                fields.invalid("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset")
            )
        if old_ips and new_ips and new_ips[0] != old_ips[0]:
            errs.append(fields.invalid("spec.clusterIPs[0]", shown, IMMUTABLE_ONCE_SET))
        if len(new_ips) == 1 and new.spec.ip_family_policy != SINGLE_STACK:
            errs.append(
                fields.invalid(
                    "spec.ipFamilyPolicy",
                    new.spec.ip_family_policy or "null",
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                )
            )
    elif old_ips and new_ips[0] != old_ips[0]:
        errs.append(fields.invalid("spec.clusterIPs[0]", shown, IMMUTABLE_ONCE_SET))
    return errs


def upgrade_downgrade_ip_families(
    old: service_pb2.Service, new: service_pb2.Service
) -> list[FieldError]:
    """validateUpgradeDowngradeIPFamilies: the primary family never changes (but on a headless
    service)."""
    if svc_helper.EXTERNAL_NAME in (new.spec.type, old.spec.type):
        return []
    if svc_helper.is_headless(old) or svc_helper.is_headless(new):
        return []
    old_f, new_f = list(old.spec.ip_families), list(new.spec.ip_families)
    errs: list[FieldError] = []
    if len(old_f) == len(new_f):
        if old_f != new_f:
            errs.append(
                fields.invalid("spec.ipFamilies[0]", go_families(new_f), IMMUTABLE_ONCE_SET)
            )
    elif len(old_f) > len(new_f):
        ips = go_strings(new.spec.cluster_ips)
        if not new.spec.cluster_ips:
            errs.append(
                fields.invalid(
                    "spec.ipFamilies[0]", go_families(new_f), "primary ipFamily can not be unset"
                )
            )
        if new_f and new_f[0] != old_f[0]:
            errs.append(fields.invalid("spec.ipFamilies[0]", ips, IMMUTABLE_ONCE_SET))
        if len(new_f) == 1 and new.spec.ip_family_policy != SINGLE_STACK:
            errs.append(
                fields.invalid(
                    "spec.ipFamilyPolicy",
                    new.spec.ip_family_policy or "null",
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                )
            )
    elif old_f and new_f[0] != old_f[0]:
        errs.append(
            fields.invalid(
                "spec.ipFamilies[0]", go_strings(new.spec.cluster_ips), IMMUTABLE_ONCE_SET
            )
        )
    return errs
