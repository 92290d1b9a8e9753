"""The kubelet's runtime types as CRI messages (kubelet/runtime/cri/convert.py): what containerd
is asked for, and what its answers become."""

from __future__ import annotations

from kubelet.runtime import labels as L
from kubelet.runtime.cri import convert
from kubelet.runtime.types import (
    UNCONFINED,
    ContainerConfig,
    ContainerState,
    DNSConfig,
    Mount,
    PodRef,
    SandboxConfig,
    SecurityProfile,
)
from podplane.api.cri import api_pb2 as cri

POD = PodRef(uid="u-1", name="web", namespace="shop")
NODE = {L.NODE_NAME: "n1"}


def test_a_sandbox_has_the_pods_metadata_log_directory_dns_and_namespaces() -> None:
    config = convert.sandbox_config(
        SandboxConfig(
            pod=POD,
            attempt=2,
            hostname="web",
            image="podplane/pause:3.9",
            dns=DNSConfig(servers=("10.96.0.10",), searches=("shop.svc.cluster.local",)),
            sysctls={"net.ipv4.ip_unprivileged_port_start": "80"},
            share_process_namespace=True,
            privileged=True,
            cgroup_parent="/kubepods/besteffort/podu-1",
        ),
        "/var/log/pods",
        NODE,
    )
    # The pod's cgroup, and kept where a restarted kubelet reads it back.
    assert config.linux.cgroup_parent == "/kubepods/besteffort/podu-1"
    assert config.annotations[convert.CGROUP_PARENT] == "/kubepods/besteffort/podu-1"
    assert (config.metadata.name, config.metadata.namespace, config.metadata.uid) == (
        "web",
        "shop",
        "u-1",
    )
    assert config.metadata.attempt == 2
    assert config.log_directory == "/var/log/pods/shop_web_u-1"
    assert config.hostname == "web"
    assert list(config.dns_config.servers) == ["10.96.0.10"]
    assert config.labels[L.POD_UID] == "u-1" and config.labels[L.NODE_NAME] == "n1"
    linux = config.linux
    assert linux.sysctls["net.ipv4.ip_unprivileged_port_start"] == "80"
    assert linux.security_context.privileged
    assert linux.security_context.namespace_options.pid == cri.POD
    assert linux.security_context.namespace_options.network == cri.POD


def test_a_host_network_sandbox_keeps_the_nodes_name_and_network() -> None:
    config = convert.sandbox_config(
        SandboxConfig(pod=POD, attempt=0, hostname="web", image="p", host_network=True),
        "/logs",
        {},
    )
    assert config.hostname == ""
    assert config.linux.security_context.namespace_options.network == cri.NODE
    assert not config.HasField("dns_config")


def test_a_container_has_its_command_resources_mounts_and_restart_count() -> None:
    config = convert.container_config(
        ContainerConfig(
            pod=POD,
            name="app",
            image="busybox:latest",
            restart_count=3,
            entrypoint=("sh", "-c"),
            cmd=("echo hi",),
            env=(("A", "1"),),
            mounts=(Mount("/var/lib/kubelet/x", "/data", read_only=True),),
            memory_limit=64 << 20,
            nano_cpus=500_000_000,
            cpu_shares=512,
            user="1000:3000",
            cap_add=("NET_ADMIN",),
            cap_drop=("ALL",),
            security_opt=("no-new-privileges",),
            pid_namespace_of="c0ffee",
            termination_grace_seconds=7,
        ),
        NODE,
    )
    assert (config.metadata.name, config.metadata.attempt) == ("app", 3)
    assert (list(config.command), list(config.args)) == (["sh", "-c"], ["echo hi"])
    assert [(e.key, e.value) for e in config.envs] == [("A", "1")]
    assert config.log_path == "app/3.log"
    assert [(m.host_path, m.container_path, m.readonly) for m in config.mounts] == [
        ("/var/lib/kubelet/x", "/data", True)
    ]
    resources = config.linux.resources
    assert (resources.cpu_period, resources.cpu_quota, resources.cpu_shares) == (100000, 50000, 512)
    assert resources.memory_limit_in_bytes == resources.memory_swap_limit_in_bytes == 64 << 20
    security = config.linux.security_context
    assert (security.run_as_user.value, security.run_as_group.value) == (1000, 3000)
    assert list(security.capabilities.add_capabilities) == ["NET_ADMIN"]
    assert list(security.capabilities.drop_capabilities) == ["ALL"]
    assert security.no_new_privs and not security.privileged
    assert security.namespace_options.pid == cri.TARGET
    assert security.namespace_options.target_id == "c0ffee"
    assert config.annotations[L.RESTART_COUNT] == "3"
    assert config.annotations[L.GRACE_PERIOD] == "7"
    assert config.labels[L.CONTAINER_NAME] == "app"


def test_the_privileged_stand_in_is_the_cris_privileged_mode() -> None:
    security = convert.container_config(
        ContainerConfig(
            pod=POD,
            name="proxy",
            image="i",
            restart_count=0,
            cap_add=("NET_ADMIN", "SYS_ADMIN"),
            security_opt=("seccomp=unconfined", "apparmor=unconfined"),
            device_cgroup_rules=("a *:* rwm",),
            unmasked_proc=True,
        ),
        {},
    ).linux.security_context
    assert security.privileged
    assert not security.capabilities.add_capabilities
    assert not security.HasField("seccomp")


def test_unconfined_profiles_are_the_cris_unconfined() -> None:
    security = convert.container_config(
        ContainerConfig(
            pod=POD, name="c", image="i", restart_count=0, seccomp=SecurityProfile(UNCONFINED)
        ),
        {},
    ).linux.security_context
    assert security.seccomp.profile_type == cri.SecurityProfile.Unconfined
    assert not security.HasField("run_as_user")


def test_statuses_read_back_as_the_kubelets() -> None:
    container = cri.Container(
        id="c1",
        pod_sandbox_id="s1",
        metadata=cri.ContainerMetadata(name="app", attempt=1),
        state=cri.CONTAINER_EXITED,
        created_at=1_714_557_600_000_000_000,
        labels={**L.pod_labels(POD), L.CONTAINER_NAME: "app"},
        annotations={L.RESTART_COUNT: "1", L.GRACE_PERIOD: "5"},
        image=cri.ImageSpec(image="busybox:latest"),
    )
    status = cri.ContainerStatus(
        id="c1",
        state=cri.CONTAINER_EXITED,
        created_at=1_714_557_600_000_000_000,
        started_at=1_714_557_601_500_000_000,
        finished_at=1_714_557_602_000_000_000,
        exit_code=3,
        reason="Error",
        image_ref="sha256:abc",
    )
    got = convert.container_status(container, status)
    assert (got.pod, got.name, got.sandbox_id, got.restart_count) == (POD, "app", "s1", 1)
    assert got.state == ContainerState.EXITED and got.exit_code == 3
    assert got.reason == ""  # "Error" is containerd's word for a non-zero exit
    assert (got.created_at, got.started_at, got.finished_at) == (
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:01Z",
        "2024-05-01T10:00:02Z",
    )
    assert (got.image, got.image_ref, got.termination_grace_seconds) == (
        "busybox:latest",
        "sha256:abc",
        5,
    )
    oom = convert.container_status(
        container, cri.ContainerStatus(state=cri.CONTAINER_EXITED, reason="OOMKilled")
    )
    assert oom.reason == "OOMKilled"
    sandbox = convert.sandbox_status(
        cri.PodSandbox(
            id="s1",
            metadata=cri.PodSandboxMetadata(name="web", namespace="shop", uid="u-1", attempt=4),
            state=cri.SANDBOX_READY,
            labels=L.pod_labels(POD),
        ),
        "10.88.0.5",
    )
    assert (sandbox.pod, sandbox.attempt, sandbox.ready, sandbox.ip) == (POD, 4, True, "10.88.0.5")
