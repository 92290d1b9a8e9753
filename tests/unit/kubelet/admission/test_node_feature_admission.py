"""What else the node checks before it takes a pod: that the pod is for its OS (spec.os and the
kubernetes.io/os label), that it can enforce the AppArmor profiles asked for (this host has no
AppArmor: such a pod fails, as on a kind node), and that the pod's overhead fits beside the
others' requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.admission.admitter import PodAdmitter
from kubelet.admission.apparmor import AppArmorAdmission, apparmor_enabled
from kubelet.admission.pod_os import os_rejection
from kubelet.admission.rejection import Rejection
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import pod_resources
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import SyncHarness

NODE = {"cpu": "1", "memory": "1Gi", "pods": "10"}


def for_os(name: str = "", label: str = "") -> core_pb2.Pod:
    p = pod("a")
    if name:
        p.spec.os.name = name
    if label:
        p.metadata.labels["kubernetes.io/os"] = label
    return p


@pytest.mark.parametrize(
    ("the_pod", "expected"),
    [
        (for_os("linux", "linux"), None),
        (for_os(), None),
        (
            for_os("windows"),
            Rejection(
                "PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS"
            ),
        ),
        (
            for_os(label="windows"),
            Rejection(
                "PodOSSelectorNodeLabelDoesNotMatch",
                "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
            ),
        ),
    ],
    ids=["linux", "unset", "windows-field", "windows-label"],
)
def test_pod_os(the_pod: core_pb2.Pod, expected: Rejection | None) -> None:
    assert os_rejection(the_pod) == expected


async def test_a_windows_pod_fails_on_a_linux_node(tmp_path: Path) -> None:
    h = SyncHarness(tmp_path)
    p = for_os("windows")
    h.syncer.admitter = PodAdmitter(NODE, lambda: [p])
    await h.sync(p)
    assert (p.status.phase, p.status.reason) == ("Failed", "PodOSNotSupported")
    assert p.status.message == (
        "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS"
    )
    assert h.runtime.calls == []


def with_apparmor(kind: str, where: str = "pod") -> core_pb2.Pod:
    p = pod("a")
    profile = core_pb2.AppArmorProfile(type=kind)
    if where == "pod":
        p.spec.security_context.app_armor_profile.CopyFrom(profile)
    elif where == "container":
        p.spec.containers[0].security_context.app_armor_profile.CopyFrom(profile)
    else:
        value = "runtime/default" if kind == "RuntimeDefault" else kind.lower()
        p.metadata.annotations["container.apparmor.security.beta.kubernetes.io/a"] = value
    return p


@pytest.mark.parametrize(
    ("the_pod", "rejected"),
    [
        (pod("a"), False),
        (with_apparmor("Unconfined"), False),
        (with_apparmor("Unconfined", "annotation"), False),
        (with_apparmor("RuntimeDefault"), True),
        (with_apparmor("RuntimeDefault", "container"), True),
        (with_apparmor("RuntimeDefault", "annotation"), True),
    ],
    ids=["none", "unconfined", "unconfined-annotation", "pod", "container", "annotation"],
)
def test_apparmor_on_a_host_without_it(the_pod: core_pb2.Pod, rejected: bool) -> None:
    expected = Rejection("AppArmor", "Cannot enforce AppArmor: AppArmor is not enabled on the host")
    assert AppArmorAdmission(host_enabled=False).admit(the_pod) == (expected if rejected else None)
    assert AppArmorAdmission(host_enabled=True).admit(the_pod) is None


def test_apparmor_is_read_from_the_kernel(tmp_path: Path) -> None:
    assert not apparmor_enabled(str(tmp_path))
    (tmp_path / "module/apparmor/parameters").mkdir(parents=True)
    (tmp_path / "module/apparmor/parameters/enabled").write_text("Y\n")
    (tmp_path / "kernel/security/apparmor").mkdir(parents=True)
    assert apparmor_enabled(str(tmp_path))


def with_overhead(uid: str, cpu: str, overhead: str) -> core_pb2.Pod:
    c = container("a", resources=core_pb2.ResourceRequirements(requests={"cpu": cpu}))
    p = pod(c, uid=uid, name=uid)
    p.spec.overhead["cpu"] = overhead
    return p


def test_the_overhead_is_part_of_the_pods_requests() -> None:
    p = with_overhead("p", "400m", "250m")
    assert pod_resources.pod_requests(p)["cpu"] == 650
    p.spec.containers[0].resources.limits["cpu"] = "500m"
    assert pod_resources.pod_limits(p)["cpu"] == 750
    # No memory limit: the overhead adds none.
    p.spec.overhead["memory"] = "64Mi"
    assert "memory" not in pod_resources.pod_limits(p)


def test_a_pod_whose_overhead_does_not_fit_is_rejected() -> None:
    first, second = with_overhead("p1", "400m", "100m"), with_overhead("p2", "400m", "150m")
    admitter = PodAdmitter(NODE, lambda: [first, second])
    assert admitter.admit(first, started=False) is None
    assert admitter.admit(second, started=False) == Rejection(
        "OutOfcpu",
        "Node didn't have enough resource: cpu, requested: 550, used: 500, capacity: 1000",
    )
