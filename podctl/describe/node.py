"""`describe node`: kubectl's describeNode layout."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from podctl.describe.common import format_time, write_annotations, write_events, write_labels
from podctl.describe.node_resources import write_node_resources
from podctl.describe.writer import LEVEL_0, LEVEL_1, PrefixWriter
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.printers.nodes import node_roles

NODE_LEASE_NAMESPACE = "kube-node-lease"


def taint_text(taint: core_pb2.Taint) -> str:
    if not taint.effect:
        return f"{taint.key}={taint.value}:" if taint.value else str(taint.key)
    if not taint.value:
        return f"{taint.key}:{taint.effect}"
    return f"{taint.key}={taint.value}:{taint.effect}"


def _write_taints(w: PrefixWriter, taints: Sequence[core_pb2.Taint]) -> None:
    w.write(LEVEL_0, "Taints:\t")
    if not taints:
        w.write_line("<none>")
        return
    for i, taint in enumerate(sorted(taints, key=lambda t: f"{t.effect},{t.key}")):
        if i:
            w.write(LEVEL_0, "\t")
        w.write(LEVEL_0, taint_text(taint) + "\n")


def _write_lease(w: PrefixWriter, lease: lease_pb2.Lease | None, lease_error: str) -> None:
    if lease is None:
        w.write(LEVEL_0, f"Lease:\tFailed to get lease: {lease_error}\n")
        return
    spec = lease.spec
    w.write(LEVEL_0, "Lease:\n")
    w.write(LEVEL_1, f"HolderIdentity:\t{spec.holder_identity or '<unset>'}\n")
    acquire = format_time(spec.acquire_time) if spec.acquire_time else "<unset>"
    w.write(LEVEL_1, f"AcquireTime:\t{acquire}\n")
    renew = format_time(spec.renew_time) if spec.renew_time else "<unset>"
    w.write(LEVEL_1, f"RenewTime:\t{renew}\n")


def _write_resource_list(w: PrefixWriter, title: str, values: Mapping[str, str]) -> None:
    if values:
        w.write(LEVEL_0, f"{title}:\n")
        for name in sorted(values):
            w.write(LEVEL_0, f"  {name}:\t{values[name]}\n")


def describe_node(
    node: core_pb2.Node,
    pods: Sequence[core_pb2.Pod],
    events: Iterable[core_pb2.Event] | None,
    lease: lease_pb2.Lease | None,
    lease_error: str,
    now: datetime,
) -> str:
    w = PrefixWriter()
    meta, spec, status = node.metadata, node.spec, node.status
    w.write(LEVEL_0, f"Name:\t{meta.name}\n")
    w.write(LEVEL_0, f"Roles:\t{','.join(node_roles(node)) or '<none>'}\n")
    write_labels(w, "Labels", meta.labels)
    write_annotations(w, "Annotations", meta.annotations)
    w.write(LEVEL_0, f"CreationTimestamp:\t{format_time(meta.creation_timestamp)}\n")
    _write_taints(w, spec.taints)
    w.write(LEVEL_0, f"Unschedulable:\t{'true' if spec.unschedulable else 'false'}\n")
    _write_lease(w, lease, lease_error)
    if status.conditions:
        w.write(
            LEVEL_0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        )
        w.write(LEVEL_1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in status.conditions:
            w.write(
                LEVEL_1,
                f"{c.type} \t{c.status} \t{format_time(c.last_heartbeat_time)} \t"
                f"{format_time(c.last_transition_time)} \t{c.reason} \t{c.message}\n",
            )
    w.write(LEVEL_0, "Addresses:\n")
    for address in status.addresses:
        w.write(LEVEL_1, f"{address.type}:\t{address.address}\n")
    _write_resource_list(w, "Capacity", status.capacity)
    _write_resource_list(w, "Allocatable", status.allocatable)
    info = status.node_info
    w.write(LEVEL_0, "System Info:\n")
    for label, value in (
        ("Machine ID", info.machine_id),
        ("System UUID", info.system_uuid),
        ("Boot ID", info.boot_id),
        ("Kernel Version", info.kernel_version),
        ("OS Image", info.os_image),
        ("Operating System", info.operating_system),
        ("Architecture", info.architecture),
        ("Container Runtime Version", info.container_runtime_version),
        ("Kubelet Version", info.kubelet_version),
    ):
        w.write(LEVEL_0, f"  {label}:\t{value}\n")
    if spec.pod_cidr:
        w.write(LEVEL_0, f"PodCIDR:\t{spec.pod_cidr}\n")
    if spec.pod_cidrs:
        w.write(LEVEL_0, f"PodCIDRs:\t{','.join(spec.pod_cidrs)}\n")
    if spec.provider_id:
        w.write(LEVEL_0, f"ProviderID:\t{spec.provider_id}\n")
    write_node_resources(w, node, pods, now)
    if events is not None:
        write_events(w, events, now)
    return w.text()
