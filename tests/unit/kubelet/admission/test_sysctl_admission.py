"""The pod's sysctls against the kubelet's allowlist: Kubernetes 1.31's safe sysctls are allowed,
others only when --allowed-unsafe-sysctls names them (or a prefix of them), never a network
sysctl beside the host's network; a forbidden one fails the pod at once (SysctlForbidden), and the
allowed ones go to the pod's sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.admission.admitter import PodAdmitter
from kubelet.admission.rejection import Rejection
from kubelet.admission.sysctls import SysctlAllowlist, dotted, kernel_version, safe_sysctls
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import EventLog, SyncHarness

NODE = {"cpu": "1", "memory": "1Gi", "pods": "10"}


def with_sysctls(*names: str, host_network: bool = False) -> core_pb2.Pod:
    p = pod("a", host_network=host_network)
    for name in names:
        p.spec.security_context.sysctls.add(name=name, value="1")
    return p


def forbidden(message: str) -> Rejection:
    return Rejection("SysctlForbidden", f"forbidden sysctl: {message}")


SAFE = SysctlAllowlist(safe_sysctls((6, 1)))


@pytest.mark.parametrize(
    ("the_pod", "allowlist", "expected"),
    [
        (with_sysctls("net.ipv4.ip_local_port_range", "kernel.shm_rmid_forced"), SAFE, None),
        (with_sysctls("net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_fin_timeout"), SAFE, None),
        (with_sysctls("net/ipv4/ping_group_range"), SAFE, None),  # slashes are dots
        (
            with_sysctls("net.core.somaxconn"),
            SAFE,
            forbidden('"net.core.somaxconn" not allowlisted'),
        ),
        (
            with_sysctls("net.ipv4.tcp_syncookies", host_network=True),
            SAFE,
            forbidden('"net.ipv4.tcp_syncookies" not allowed with host net enabled'),
        ),
        (
            with_sysctls("net.core.somaxconn", "kernel.msgmax"),
            SysctlAllowlist(["net.core.somaxconn", "kernel.msg*"]),
            None,
        ),
    ],
    ids=["safe", "safe-since-1.29", "slashes", "unsafe", "host-network", "allowed-unsafe"],
)
def test_allowlist(
    the_pod: core_pb2.Pod, allowlist: SysctlAllowlist, expected: Rejection | None
) -> None:
    assert allowlist.admit(the_pod) == expected


def test_an_old_kernel_lacks_the_newer_safe_sysctls() -> None:
    assert "net.ipv4.tcp_fin_timeout" not in safe_sysctls(kernel_version("4.4.0-210-generic"))
    assert "net.ipv4.tcp_fin_timeout" in safe_sysctls(kernel_version("6.1.0-18-amd64"))
    assert len(safe_sysctls((6, 1))) == 10


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("vm.swappiness", 'the sysctl "vm.swappiness" are not known to be namespaced'),
        ("kernel.*", 'the sysctls "kernel.*" are not known to be namespaced'),
        ("Net.Core", 'sysctl "Net.Core" must have at most 253 characters and match regex'),
    ],
)
def test_unsafe_sysctls_the_kubelet_refuses(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("*", r"\*")):
        SysctlAllowlist([pattern])


def test_dotted_names() -> None:
    assert dotted("net/ipv4/conf/eth0.100/forwarding") == "net.ipv4.conf.eth0/100.forwarding"
    assert dotted("net.ipv4.ip_local_port_range") == "net.ipv4.ip_local_port_range"


async def test_a_forbidden_sysctl_fails_the_pod_and_an_allowed_one_reaches_the_sandbox(
    tmp_path: Path,
) -> None:
    h = SyncHarness(tmp_path)
    log = EventLog()
    h.syncer.recorder = log  # type: ignore[assignment]
    bad = with_sysctls("net.core.somaxconn")
    h.syncer.admitter = PodAdmitter(NODE, lambda: [bad], SAFE)
    await h.sync(bad)
    assert (bad.status.phase, bad.status.reason) == ("Failed", "SysctlForbidden")
    assert bad.status.message == (
        'Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowlisted'
    )
    assert log.of("SysctlForbidden") == ['forbidden sysctl: "net.core.somaxconn" not allowlisted']
    assert h.runtime.calls == []

    good = with_sysctls("net/ipv4/ip_local_port_range")
    good.metadata.uid = "uid-2"
    good.spec.security_context.sysctls[0].value = "1024 2000"
    h.syncer.admitter = PodAdmitter(NODE, lambda: [good], SAFE)
    await h.sync(good)
    [sandbox] = h.runtime.sandbox_configs.values()
    assert sandbox.sysctls == {"net.ipv4.ip_local_port_range": "1024 2000"}
