"""Node allocatable: capacity minus --kube-reserved and --system-reserved (what the scheduler fits
pods into), never below zero; with nothing reserved it is the capacity."""

from __future__ import annotations

import pytest

from kubelet.config import parse_args
from kubelet.node.machine_info import MachineInfo
from kubelet.node.status import NodeIdentity, allocatable, build_node

CAPACITY = {"cpu": "4", "memory": "16000000Ki", "ephemeral-storage": "100Gi", "pods": "110"}
REQUIRED = ["--server", "127.0.0.1:6443", "--node-name", "n", "--pod-cidr", "10.244.1.0/24"]


@pytest.mark.parametrize(
    ("reservations", "expected"),
    [
        ((), CAPACITY),
        (
            ({"cpu": "500m", "memory": "1Gi"}, {"cpu": "250m", "ephemeral-storage": "10Gi"}),
            {"cpu": "3250m", "memory": "14601Mi", "ephemeral-storage": "90Gi", "pods": "110"},
        ),
        (({"cpu": "8"},), {**CAPACITY, "cpu": "0"}),
    ],
)
def test_allocatable_is_capacity_minus_reserved(
    reservations: tuple[dict[str, str], ...], expected: dict[str, str]
) -> None:
    assert allocatable(CAPACITY, reservations) == expected


def test_node_reports_allocatable() -> None:
    machine = MachineInfo(
        cpus=2,
        memory_kib=4 * 1024 * 1024,
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
    node = build_node(
        identity,
        machine,
        "docker://x",
        None,
        "t0",
        reservations=({"memory": "512Mi"}, {"cpu": "100m"}),
    )
    assert dict(node.status.capacity) == {"cpu": "2", "memory": "4194304Ki", "pods": "110"}
    assert dict(node.status.allocatable) == {"cpu": "1900m", "memory": "3584Mi", "pods": "110"}


def test_reserved_flags(capsys: pytest.CaptureFixture[str]) -> None:
    config = parse_args(
        [
            *REQUIRED,
            "--kube-reserved",
            "cpu=100m,memory=256Mi",
            "--system-reserved",
            "ephemeral-storage=1Gi",
        ]
    )
    assert config.kube_reserved == {"cpu": "100m", "memory": "256Mi"}
    assert config.system_reserved == {"ephemeral-storage": "1Gi"}
    assert parse_args(REQUIRED).kube_reserved == {}
    for bad in ("gpu=1", "memory=lots", "memory=-1Gi", "cpu"):
        with pytest.raises(SystemExit):
            parse_args([*REQUIRED, "--system-reserved", bad])
        assert "error: --system-reserved:" in capsys.readouterr().err
