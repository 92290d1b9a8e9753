"""seccomp and AppArmor profiles, SELinux labels and procMount: the container's fields win over
the pod's; unset seccomp is Unconfined (RuntimeDefault with --seccomp-default), as in Kubernetes
1.31; and what Docker is told of each (its security options, the masked /proc paths)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kubelet.container.config import build_container_config
from kubelet.container.env import ContainerConfigError, PodContext
from kubelet.container.security_profiles import NodeSecurity
from kubelet.runtime.docker.security import security_options, unmask_proc
from kubelet.runtime.types import (
    LOCALHOST,
    RUNTIME_DEFAULT,
    UNCONFINED,
    ContainerConfig,
    ContainerRuntimeError,
    SecurityProfile,
    SELinuxOptions,
)
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod

ROOT = "/var/lib/kubelet"


def config_of(
    sc: core_pb2.SecurityContext | None = None,
    psc: core_pb2.PodSecurityContext | None = None,
    security: NodeSecurity | None = None,
    annotations: dict[str, str] | None = None,
) -> ContainerConfig:
    p = pod(container("a", security_context=sc), security_context=psc)
    p.metadata.annotations.update(annotations or {})
    return build_container_config(
        p, p.spec.containers[0], 0, [], PodContext(), profiles=security or NodeSecurity(ROOT)
    )


def seccomp(kind: str, name: str | None = None) -> core_pb2.SeccompProfile:
    profile = core_pb2.SeccompProfile(type=kind)
    if name is not None:
        profile.localhost_profile = name
    return profile


@pytest.mark.parametrize(
    ("psc", "sc", "security", "expected"),
    [
        (None, None, None, SecurityProfile(UNCONFINED)),
        (None, None, NodeSecurity(ROOT, seccomp_default=True), SecurityProfile(RUNTIME_DEFAULT)),
        (
            core_pb2.PodSecurityContext(seccomp_profile=seccomp("RuntimeDefault")),
            None,
            None,
            SecurityProfile(RUNTIME_DEFAULT),
        ),
        (
            core_pb2.PodSecurityContext(seccomp_profile=seccomp("RuntimeDefault")),
            core_pb2.SecurityContext(seccomp_profile=seccomp("Unconfined")),
            None,
            SecurityProfile(UNCONFINED),
        ),
        (
            None,
            core_pb2.SecurityContext(seccomp_profile=seccomp("Localhost", "profiles/audit.json")),
            None,
            SecurityProfile(LOCALHOST, f"{ROOT}/seccomp/profiles/audit.json"),
        ),
    ],
    ids=["unset", "seccomp-default", "pod", "container-wins", "localhost"],
)
def test_seccomp_profile(
    psc: core_pb2.PodSecurityContext | None,
    sc: core_pb2.SecurityContext | None,
    security: NodeSecurity | None,
    expected: SecurityProfile,
) -> None:
    assert config_of(sc, psc, security).seccomp == expected


def test_a_localhost_seccomp_profile_needs_its_name() -> None:
    sc = core_pb2.SecurityContext(seccomp_profile=seccomp("Localhost"))
    with pytest.raises(ContainerConfigError, match="localhostProfile must be set"):
        config_of(sc)


def test_apparmor_selinux_and_proc_mount() -> None:
    sc = core_pb2.SecurityContext(
        app_armor_profile=core_pb2.AppArmorProfile(type="Localhost", localhost_profile="k8s-x"),
        se_linux_options=core_pb2.SELinuxOptions(type="spc_t", level="s0:c1,c2"),
        proc_mount="Unmasked",
    )
    psc = core_pb2.PodSecurityContext(
        app_armor_profile=core_pb2.AppArmorProfile(type="RuntimeDefault"),
        se_linux_options=core_pb2.SELinuxOptions(user="system_u"),
    )
    config = config_of(sc, psc)
    assert config.apparmor == SecurityProfile(LOCALHOST, "k8s-x")
    # The container's seLinuxOptions replace the pod's whole.
    assert config.selinux == SELinuxOptions(type="spc_t", level="s0:c1,c2")
    assert config.unmasked_proc
    assert config_of(psc=psc).apparmor == SecurityProfile(RUNTIME_DEFAULT)
    assert config_of().apparmor is None and not config_of().unmasked_proc
    annotated = config_of(
        psc=psc, annotations={"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}
    )
    assert annotated.apparmor == SecurityProfile(UNCONFINED)


def docker_options(**fields: Any) -> list[str]:
    base = ContainerConfig(pod=config_of().pod, name="a", image="busybox", restart_count=0)
    return security_options(replace(base, **fields))


def test_what_docker_is_told(tmp_path: Path) -> None:
    assert docker_options(seccomp=SecurityProfile(RUNTIME_DEFAULT)) == []
    assert docker_options(seccomp=SecurityProfile(UNCONFINED)) == ["seccomp=unconfined"]
    profile = tmp_path / "audit.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_LOG"}')
    assert docker_options(seccomp=SecurityProfile(LOCALHOST, str(profile))) == [
        'seccomp={"defaultAction": "SCMP_ACT_LOG"}'
    ]
    assert docker_options(
        apparmor=SecurityProfile(UNCONFINED), selinux=SELinuxOptions(user="u", level="s0")
    ) == ["apparmor=unconfined", "label=user:u", "label=level:s0"]
    assert docker_options(apparmor=SecurityProfile(LOCALHOST, "k8s-x")) == ["apparmor=k8s-x"]
    # The privileged stand-in's own unconfined profile is kept, not doubled.
    assert docker_options(
        security_opt=("seccomp=unconfined",), seccomp=SecurityProfile(UNCONFINED)
    ) == ["seccomp=unconfined"]
    host_config: dict[str, object] = {}
    unmask_proc(host_config)
    assert host_config == {"MaskedPaths": [], "ReadonlyPaths": []}


def test_a_missing_localhost_profile_fails_the_containers_creation(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")
    with pytest.raises(ContainerRuntimeError) as e:
        docker_options(seccomp=SecurityProfile(LOCALHOST, missing))
    assert str(e.value) == (
        f'cannot load seccomp profile "{missing}": open {missing}: no such file or directory'
    )
