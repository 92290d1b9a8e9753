"""Validation of Node, Namespace, Lease and Event."""

from __future__ import annotations

import ipaddress

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from apiserver.validation.pod import TAINT_EFFECTS
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity


def node(obj: core_pb2.Node) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=False)
    for cidr_path, cidr in [("spec.podCIDR", obj.spec.pod_cidr)] + [
        (f"spec.podCIDRs[{i}]", c) for i, c in enumerate(obj.spec.pod_cidrs)
    ]:
        if cidr:
            try:
                ipaddress.ip_network(cidr)
            except ValueError:
                errs.append(fields.invalid(cidr_path, cidr, "must be a valid CIDR"))
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
