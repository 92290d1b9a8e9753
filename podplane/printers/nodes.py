"""The nodes table, as printNode."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"

_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More "
    "info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is "
    "declared as mergeable, but the merge key is not sufficiently unique, which can cause data "
    "corruption when it is merged. Callers should instead use a full-replacement patch. See "
    "https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change "
    "during the lifetime of a Node. However, there are some exceptions where this may not be "
    "possible, such as Pods that inherit a Node's address in its own status or consumers of the "
    "downward API (status.hostIP)."
)


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


def node_row(node: core_pb2.Node, now: datetime) -> list[Cell]:
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
        name_column(),
        Column("Status", "string", "The status of the node"),
        Column("Roles", "string", "The roles of the node"),
        age_column(),
        Column("Version", "string", "Kubelet Version reported by the node."),
        Column("Internal-IP", "string", _ADDRESSES_DOC, priority=1),
        Column("External-IP", "string", _ADDRESSES_DOC, priority=1),
        Column(
            "OS-Image",
            "string",
            "OS Image reported by the node from /etc/os-release (e.g. "
            "Debian GNU/Linux 7 (wheezy)).",
            priority=1,
        ),
        Column(
            "Kernel-Version",
            "string",
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            priority=1,
        ),
        Column(
            "Container-Runtime",
            "string",
            "ContainerRuntime Version reported by the node "
            "through runtime remote API (e.g. containerd://1.4.2).",
            priority=1,
        ),
    ),
    row=node_row,
)
