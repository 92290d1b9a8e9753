"""A Service's IP family fields (kubernetes pkg/registry/core/service/storage/alloc.go
initIPFamilyFields): ipFamilyPolicy defaulted (from the stored object on an update), ipFamilies
inferred from the cluster IPs asked for or the cluster's family, a family the cluster does not
serve or dual-stack on a single-stack cluster refused. Settled before validation, as Kubernetes
settles them before it allocates."""

from __future__ import annotations

from apiserver import errors
from apiserver.validation import fields, service_ips
from apiserver.validation.fields import FieldError, invalid_error
from apiserver.validation.network import go_strings
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import (
    CLUSTER_IP_NONE,
    IPV4,
    IPV6,
    PREFER_DUAL_STACK,
    REQUIRE_DUAL_STACK,
    SINGLE_STACK,
)


def _invalid(svc: service_pb2.Service, errs: list[FieldError]) -> errors.APIError:
    return invalid_error(resources.SERVICE.kind, svc.metadata.name, errs)


def init_ip_family_fields(
    new: service_pb2.Service, old: service_pb2.Service | None, families: tuple[str, ...]
) -> None:
    """The IP family fields of `new` (`old`: the stored object of an update) on a cluster that
    serves `families` (its service ranges' families); APIError Invalid for what it cannot
    serve."""
    spec = new.spec
    if spec.type == svc_helper.EXTERNAL_NAME or _matching_prefer_dual_stack(new, old):
        return
    if not spec.ip_family_policy:
        if old is not None and old.spec.ip_family_policy:
            spec.ip_family_policy = old.spec.ip_family_policy
        elif spec.cluster_ip == CLUSTER_IP_NONE and not spec.selector:
            spec.ip_family_policy = REQUIRE_DUAL_STACK
        else:
            spec.ip_family_policy = SINGLE_STACK
    loose = service_ips.cluster_ips_related_fields(new)
    if loose:
        raise _invalid(new, loose)
    errs = _policy_errors(new, old)
    for i, ip in enumerate(list(spec.cluster_ips)):
        if ip == CLUSTER_IP_NONE:
            break
        family = svc_helper.ip_family(ip)
        if i >= len(spec.ip_families) and family is not None:
            if family not in families:
                errs.append(
                    fields.invalid(
                        f"spec.clusterIPs[{i}]",
                        go_strings(spec.cluster_ips),
                        f"{family} is not configured on this cluster",
                    )
                )
            else:
                spec.ip_families.append(family)
    if errs:
        raise _invalid(new, errs)
    if spec.cluster_ip == CLUSTER_IP_NONE and not spec.selector:
        # Headless without selector: any family the endpoints may have.
        if not spec.ip_families:
            spec.ip_families.append(families[0])
        if len(spec.ip_families) < 2 and spec.ip_family_policy != SINGLE_STACK:
            spec.ip_families.append(IPV6 if spec.ip_families[0] == IPV4 else IPV4)
        return
    if spec.ip_family_policy == REQUIRE_DUAL_STACK and len(families) < 2:
        errs.append(
            fields.invalid(
                "spec.ipFamilyPolicy",
                spec.ip_family_policy,
                "this cluster is not configured for dual-stack services",
            )
        )
    for i, family in enumerate(spec.ip_families):
        if family not in families:
            errs.append(
                fields.invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster")
            )
    if errs:
        raise _invalid(new, errs)
    if not spec.ip_families:
        spec.ip_families.append(families[0])


def _policy_errors(new: service_pb2.Service, old: service_pb2.Service | None) -> list[FieldError]:
    spec = new.spec
    errs: list[FieldError] = []
    policy = spec.ip_family_policy
    if old is not None:
        if policy == SINGLE_STACK:
            # Clear intent: the secondary IP and family go (the primary is immutable).
            if list(old.spec.cluster_ips) == list(spec.cluster_ips):
                del spec.cluster_ips[1:]
            if list(old.spec.ip_families) == list(spec.ip_families):
                del spec.ip_families[1:]
        else:
            if 0 < len(spec.cluster_ips) < len(old.spec.cluster_ips):
                errs.append(
                    fields.invalid(
                        "spec.ipFamilyPolicy",
                        policy,
                        "must be 'SingleStack' to release the secondary cluster IP",
                    )
                )
            if 0 < len(spec.ip_families) < len(old.spec.ip_families):
                errs.append(
                    fields.invalid(
                        "spec.ipFamilyPolicy",
                        policy,
                        "must be 'SingleStack' to release the secondary IP family",
                    )
                )
    if policy == SINGLE_STACK:
        if len(spec.cluster_ips) == 2:
            errs.append(
                fields.invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster "
                    "IPs are specified",
                )
            )
        if len(spec.ip_families) == 2:
            errs.append(
                fields.invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP "
                    "families are specified",
                )
            )
    return errs


def _matching_prefer_dual_stack(new: service_pb2.Service, old: service_pb2.Service | None) -> bool:
    """An update of a PreferDualStack Service that keeps its IPs and families is not re-allocated
    (a cluster that became dual-stack does not upgrade it on its own)."""
    return (
        old is not None
        and old.spec.type == new.spec.type
        and old.spec.ip_family_policy == PREFER_DUAL_STACK
        and new.spec.ip_family_policy == PREFER_DUAL_STACK
        and old.spec.cluster_ip == new.spec.cluster_ip
        and list(old.spec.cluster_ips) == list(new.spec.cluster_ips)
        and list(old.spec.ip_families) == list(new.spec.ip_families)
    )
