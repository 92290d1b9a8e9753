"""Validation of Node, Namespace, Lease and Event."""

from __future__ import annotations

import ipaddress

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import shown
from apiserver.validation.meta import object_meta
from apiserver.validation.network import go_strings
from apiserver.validation.pod import TAINT_EFFECTS
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity


def _pod_cidrs(spec: core_pb2.NodeSpec) -> list[str]:
    """podCIDRs, or the one podCIDR of an older writer."""
    return list(spec.pod_cidrs) or ([spec.pod_cidr] if spec.pod_cidr else [])


def node(obj: core_pb2.Node) -> list[FieldError]:
    """ValidateNode."""
    errs = object_meta(obj.metadata, namespaced=False)
    for cidr_path, cidr in [("spec.podCIDR", obj.spec.pod_cidr)] + [
        (f"spec.podCIDRs[{i}]", c) for i, c in enumerate(obj.spec.pod_cidrs)
    ]:
        if cidr:
            try:
                ipaddress.ip_network(cidr)
            except ValueError:
                errs.append(fields.invalid(cidr_path, cidr, "must be a valid CIDR"))
    cidrs = list(obj.spec.pod_cidrs)
    if len(cidrs) > 1:
        families = set()
        for cidr in cidrs:
            try:
                families.add(ipaddress.ip_network(cidr, strict=False).version)
            except ValueError:
                pass
        if len(families) != 2 or len(cidrs) > 2:
            errs.append(
                fields.invalid(
                    "spec.podCIDRs",
                    go_strings(cidrs),
                    "may specify no more than one CIDR for each IP family",
                )
            )
        seen: set[str] = set()
        for i, cidr in enumerate(cidrs):
            if cidr in seen:
                errs.append(fields.duplicate(f"spec.podCIDRs[{i}]", cidr))
            seen.add(cidr)
    for i, t in enumerate(obj.spec.taints):
        p = f"spec.taints[{i}]"
        if not t.key:
            errs.append(fields.required(f"{p}.key"))
        else:
            errs += fields.qualified_name(f"{p}.key", t.key)
        if t.effect not in TAINT_EFFECTS:
            errs.append(fields.unsupported(f"{p}.effect", t.effect, TAINT_EFFECTS))
    for kind in ("capacity", "allocatable"):
        for name, value in sorted(getattr(obj.status, kind).items()):
            try:
                quantity.parse(value)
            except quantity.QuantityError as e:
                errs.append(fields.invalid(f"status.{kind}[{name}]", value, str(e)))
    return errs


def _config_map_source(
    path: str, source: core_pb2.ConfigMapNodeConfigSource, in_status: bool
) -> list[FieldError]:
    """validateConfigMapNodeConfigSource and its spec and status rules (the deprecated dynamic
    kubelet configuration, kept valid as Kubernetes keeps it)."""
    errs: list[FieldError] = []
    if in_status:
        if not source.uid:
            errs.append(fields.required(f"{path}.uid", "uid must be set in status"))
        if not source.resource_version:
            errs.append(
                fields.required(f"{path}.resourceVersion", "resourceVersion must be set in status")
            )
    else:
        if source.uid:
            errs.append(fields.forbidden(f"{path}.uid", "uid must not be set in spec"))
        if source.resource_version:
            errs.append(
                fields.forbidden(
                    f"{path}.resourceVersion", "resourceVersion must not be set in spec"
                )
            )
    if not source.namespace:
        errs.append(fields.required(f"{path}.namespace", "namespace must be set"))
    else:
        errs += fields.dns1123_label(f"{path}.namespace", source.namespace)
    if not source.name:
        errs.append(fields.required(f"{path}.name", "name must be set"))
    else:
        errs += fields.dns1123_subdomain(f"{path}.name", source.name)
    if not source.kubelet_config_key:
        errs.append(fields.required(f"{path}.kubeletConfigKey", "kubeletConfigKey must be set"))
    return errs


def _config_source(
    path: str, source: core_pb2.NodeConfigSource, in_status: bool
) -> list[FieldError]:
    if not source.HasField("config_map"):
        return [
            fields.invalid(path, shown(source), "exactly one reference subfield must be non-nil")
        ]
    return _config_map_source(f"{path}.configMap", source.config_map, in_status)


def node_update(new: core_pb2.Node, old: core_pb2.Node) -> list[FieldError]:
    """ValidateNodeUpdate: podCIDRs and providerID are set once; externalID never changes."""
    errs = node(new)
    addresses: set[tuple[str, str]] = set()
    for i, address in enumerate(new.status.addresses):
        key = (address.type, address.address)
        if key in addresses:
            errs.append(fields.duplicate(f"status.addresses[{i}]", shown(address)))
        addresses.add(key)
    old_cidrs = _pod_cidrs(old.spec)
    if old_cidrs and old_cidrs != _pod_cidrs(new.spec):
        errs.append(
            fields.forbidden(
                "spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'
            )
        )
    if old.spec.provider_id and old.spec.provider_id != new.spec.provider_id:
        errs.append(
            fields.forbidden(
                "spec.providerID", 'node updates may not change providerID except from "" to valid'
            )
        )
    if new.spec.HasField("config_source"):
        errs += _config_source("spec.configSource", new.spec.config_source, in_status=False)
    config = new.status.config
    for name, json_name in (
        ("assigned", "assigned"),
        ("active", "active"),
        ("last_known_good", "lastKnownGood"),
    ):
        if config.HasField(name):
            errs += _config_source(f"status.config.{json_name}", getattr(config, name), True)
    if new.spec.external_id != old.spec.external_id:
        errs.append(fields.forbidden("spec.externalID", "may not be updated"))
    return errs


def namespace(obj: core_pb2.Namespace) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=False, name_rule=fields.dns1123_label)


def lease(obj: lease_pb2.Lease) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True)
    if obj.spec.HasField("lease_duration_seconds") and obj.spec.lease_duration_seconds <= 0:
        errs.append(
            fields.invalid(
                "spec.leaseDurationSeconds",
                obj.spec.lease_duration_seconds,
                "must be greater than 0",
            )
        )
    return errs


def event(obj: core_pb2.Event) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True)
    if not obj.involved_object.name and not obj.involved_object.kind:
        errs.append(fields.required("involvedObject"))
    if obj.type and obj.type not in ("Normal", "Warning"):
        errs.append(fields.unsupported("type", obj.type, ("Normal", "Warning")))
    if not obj.reason:
        errs.append(fields.required("reason"))
    return errs
