"""The machine and identity the node status tests describe."""

from __future__ import annotations

from kubelet.node.machine_info import MachineInfo
from kubelet.node.status import NodeIdentity

MACHINE = MachineInfo(
    cpus=4,
    memory_kib=16_000_000,
    ephemeral_storage_kib=0,
    kernel_version="6.1.0",
    os_image="Debian GNU/Linux 12 (bookworm)",
    architecture="amd64",
    machine_id="m",
    system_uuid="s",
    boot_id="b",
    hostname="node-1-host",
)
IDENTITY = NodeIdentity(
    name="node-1",
    pod_cidr="10.244.1.0/24",
    host_ip="172.18.0.3",
    kubelet_port=10250,
    labels={"zone": "a"},
)
