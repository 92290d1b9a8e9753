"""The node's MemoryPressure, DiskPressure and PIDPressure conditions follow the kubelet's hard
eviction thresholds: memory.available < 100Mi, nodefs.available < 10%, pid.available < 10%."""

from __future__ import annotations

import pytest

from kubelet.node.machine_info import MachineInfo
from kubelet.node.pressure import (
    NodeStats,
    Pressure,
    memory_available_bytes,
    pressure,
    processes_from_loadavg,
    read_node_stats,
)
from kubelet.node.status import NodeIdentity, build_node

MI = 1024 * 1024
HEALTHY: dict[str, int | None] = dict(
    memory_available_bytes=2048 * MI,
    nodefs_available_bytes=50,
    nodefs_capacity_bytes=100,
    pid_max=32768,
    processes=500,
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, Pressure()),
        ({"memory_available_bytes": 100 * MI}, Pressure()),  # at the threshold: not below it
        ({"memory_available_bytes": 99 * MI}, Pressure(memory=True)),
        ({"nodefs_available_bytes": 10}, Pressure()),
        ({"nodefs_available_bytes": 9}, Pressure(disk=True)),
        ({"processes": 32768 - 3277}, Pressure()),
        ({"processes": 32768 - 3276}, Pressure(pid=True)),
        (
            {"memory_available_bytes": None, "nodefs_capacity_bytes": None, "pid_max": None},
            Pressure(),
        ),  # unknown figures never report pressure
    ],
)
def test_thresholds(change: dict[str, int | None], expected: Pressure) -> None:
    assert pressure(NodeStats(**{**HEALTHY, **change})) == expected


def test_proc_files_are_parsed() -> None:
    assert memory_available_bytes("MemTotal: 16000 kB\nMemAvailable:   2048 kB\n") == 2048 * 1024
    assert memory_available_bytes("MemTotal: 16000 kB\n") is None
    assert processes_from_loadavg("0.10 0.20 0.30 2/1234 5678\n") == 1234
    assert processes_from_loadavg("") is None


def test_this_host_has_figures() -> None:
    stats = read_node_stats("/")
    assert stats.memory_available_bytes and stats.nodefs_capacity_bytes and stats.pid_max
    assert stats.processes


def test_conditions_show_the_pressure() -> None:
    machine = MachineInfo(
        cpus=1,
        memory_kib=1,
        ephemeral_storage_kib=0,
        kernel_version="",
        os_image="",
        architecture="amd64",
        machine_id="",
        system_uuid="",
        boot_id="",
        hostname="h",
    )
    identity = NodeIdentity(
        name="n", pod_cidr="10.244.1.0/24", host_ip="10.0.0.1", kubelet_port=10250
    )
    calm = build_node(identity, machine, "docker://x", None, "t0")
    node = build_node(
        identity,
        machine,
        "docker://x",
        None,
        "t1",
        calm,
        Pressure(memory=True, disk=True, pid=True),
    )
    assert [
        (c.type, c.status, c.reason, c.last_transition_time) for c in node.status.conditions
    ] == [
        ("MemoryPressure", "True", "KubeletHasInsufficientMemory", "t1"),
        ("DiskPressure", "True", "KubeletHasDiskPressure", "t1"),
        ("PIDPressure", "True", "KubeletHasInsufficientPID", "t1"),
        ("Ready", "True", "KubeletReady", "t0"),
    ]
