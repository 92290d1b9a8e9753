"""The nodes table, as kubectl's printNode."""

from __future__ import annotations

from datetime import datetime

from podctl.printers.table import Column, TableSpec
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"


def node_status(node: core_pb2.Node) -> str:
    """Ready / NotReady / Unknown (no Ready condition yet), then ,SchedulingDisabled when
    cordoned."""
    status = []
    ready = [c for c in node.status.conditions if c.type == "Ready"]
    if ready:
        status.append("Ready" if ready[-1].status == "True" else "NotReady")
    else:
        status.append("Unknown")
    if node.spec.unschedulable:
        status.append("SchedulingDisabled")
    return ",".join(status)


def node_roles(node: core_pb2.Node) -> list[str]:
    """From node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted."""
    roles = set()
    for key, value in node.metadata.labels.items():
        if key.startswith(NODE_ROLE_PREFIX) and key[len(NODE_ROLE_PREFIX) :]:
            roles.add(key[len(NODE_ROLE_PREFIX) :])
        elif key == NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def node_address(node: core_pb2.Node, address_type: str) -> str:
    for address in node.status.addresses:
        if address.type == address_type:
            return str(address.address)
    return "<none>"


def node_row(node: core_pb2.Node, now: datetime) -> list[str]:
    info = node.status.node_info
    return [
        node.metadata.name,
        node_status(node),
        ",".join(node_roles(node)) or "<none>",
        human_age(node.metadata.creation_timestamp, now),
        info.kubelet_version,
        node_address(node, "InternalIP"),
        node_address(node, "ExternalIP"),
        info.os_image or "<unknown>",
        info.kernel_version or "<unknown>",
        info.container_runtime_version or "<unknown>",
    ]


NODE_TABLE = TableSpec(
    columns=(
        Column("Name"),
        Column("Status"),
        Column("Roles"),
        Column("Age"),
        Column("Version"),
        Column("Internal-IP", wide=True),
        Column("External-IP", wide=True),
        Column("OS-Image", wide=True),
        Column("Kernel-Version", wide=True),
        Column("Container-Runtime", wide=True),
    ),
    row=node_row,
)
