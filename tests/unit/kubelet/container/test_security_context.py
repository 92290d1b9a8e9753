"""Pod and container security contexts -> the runtime's user, capabilities, privileged mode and
read-only root; the container's fields win over the pod's."""

from __future__ import annotations

import pytest

from kubelet.container.config import build_container_config
from kubelet.container.env import ContainerConfigError, PodContext
from kubelet.container.security_context import (
    CAPABILITIES,
    NodeCapabilities,
    parse_cap_bnd,
    security_config,
)
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod

FULL = NodeCapabilities(bounding=(1 << 41) - 1, last_cap=40)
# A Docker-in-Docker node started with cap_add ALL, cap_drop SYS_RESOURCE (this project's nodes).
NO_SYS_RESOURCE = NodeCapabilities(bounding=0x000001FFFEFFFFFF, last_cap=40)


def pod_with(
    sc: core_pb2.SecurityContext | None = None, psc: core_pb2.PodSecurityContext | None = None
) -> core_pb2.Pod:
    return pod(container("a", security_context=sc), security_context=psc)


@pytest.mark.parametrize(
    ("psc", "sc", "user"),
    [
        (None, None, None),
        (core_pb2.PodSecurityContext(run_as_user=1000), None, "1000"),
        (core_pb2.PodSecurityContext(run_as_user=1000, run_as_group=3000), None, "1000:3000"),
        (
            core_pb2.PodSecurityContext(run_as_user=1000),
            core_pb2.SecurityContext(run_as_user=2000),
            "2000",
        ),
        (
            core_pb2.PodSecurityContext(run_as_group=3000),
            core_pb2.SecurityContext(run_as_user=0),
            "0:3000",
        ),
        (None, core_pb2.SecurityContext(run_as_group=5), "0:5"),
    ],
    ids=["none", "pod user", "pod user and group", "container wins", "mixed", "group only"],
)
def test_run_as_user_and_group(
    psc: core_pb2.PodSecurityContext | None, sc: core_pb2.SecurityContext | None, user: str | None
) -> None:
    p = pod_with(sc, psc)
    assert security_config(p, p.spec.containers[0], FULL).user == user


def test_run_as_non_root_refuses_user_0() -> None:
    p = pod_with(
        core_pb2.SecurityContext(run_as_user=0), core_pb2.PodSecurityContext(run_as_non_root=True)
    )
    with pytest.raises(ContainerConfigError, match="runAsUser breaks non-root policy"):
        security_config(p, p.spec.containers[0], FULL)


def test_capabilities_read_only_root_and_privileged_on_a_complete_node() -> None:
    p = pod_with(
        core_pb2.SecurityContext(
            capabilities=core_pb2.Capabilities(add=["NET_ADMIN", "CAP_SYS_TIME"], drop=["ALL"]),
            read_only_root_filesystem=True,
        )
    )
    sc = security_config(p, p.spec.containers[0], FULL)
    assert (sc.cap_add, sc.cap_drop, sc.read_only_rootfs, sc.privileged) == (
        ("NET_ADMIN", "SYS_TIME"),
        ("ALL",),
        True,
        False,
    )
    p = pod_with(core_pb2.SecurityContext(privileged=True))
    sc = security_config(p, p.spec.containers[0], FULL)
    assert (sc.privileged, sc.cap_add) == (True, ())


def test_privileged_on_a_node_missing_capabilities_gets_the_nodes_capabilities() -> None:
    p = pod_with(
        core_pb2.SecurityContext(
            privileged=True, capabilities=core_pb2.Capabilities(drop=["NET_RAW"])
        )
    )
    sc = security_config(p, p.spec.containers[0], NO_SYS_RESOURCE)
    assert not sc.privileged and sc.cap_drop == ()
    assert set(sc.cap_add) == set(CAPABILITIES) - {"SYS_RESOURCE"}
    assert "seccomp=unconfined" in sc.security_opt and sc.device_cgroup_rules == ("a *:* rwm",)
    # /proc as privileged has it: nothing masked, /proc/sys writable (kube-proxy's sysctls).
    assert sc.unmasked_proc
    assert not security_config(p, p.spec.containers[0], FULL).unmasked_proc  # the engine's own


def test_allow_privilege_escalation_false_is_no_new_privileges() -> None:
    p = pod_with(core_pb2.SecurityContext(allow_privilege_escalation=False))
    assert security_config(p, p.spec.containers[0], FULL).security_opt == ("no-new-privileges",)
    p = pod_with(core_pb2.SecurityContext(allow_privilege_escalation=True))
    assert security_config(p, p.spec.containers[0], FULL).security_opt == ()


def test_node_capabilities_from_proc_status() -> None:
    status = "Name:\tx\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n"
    assert parse_cap_bnd(status) == 0x1FFFEFFFFFF
    assert not NO_SYS_RESOURCE.complete and FULL.complete
    assert "SYS_RESOURCE" not in NO_SYS_RESOURCE.names() and "SYS_ADMIN" in NO_SYS_RESOURCE.names()


def test_the_container_config_carries_the_security_context() -> None:
    p = pod_with(
        core_pb2.SecurityContext(privileged=True, read_only_root_filesystem=True, run_as_user=7)
    )
    config = build_container_config(p, p.spec.containers[0], 0, [], PodContext(), NO_SYS_RESOURCE)
    assert (config.user, config.privileged, config.read_only_rootfs) == ("7", False, True)
    assert "SYS_ADMIN" in config.cap_add
    assert config.unmasked_proc
