"""The pod fields the sandbox and the containers' configs carry: the pod's /etc/hosts and
hostname, its RuntimeClass's handler (and what happens when there is none, or the runtime lacks
it), its user namespace, subPathExpr and recursiveReadOnly mounts, and what the status reports of
the mounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.pod.start_container import ContainerNode
from kubelet.runtime.types import ContainerRuntimeError, RuntimeHandler
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.node.v1 import node_pb2
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import EventLog, SyncHarness, state_of, status_of


class Classes:
    def __init__(self, **handlers: str) -> None:
        self.handlers = handlers

    async def runtime_class(self, name: str) -> node_pb2.RuntimeClass | None:
        if name not in self.handlers:
            return None
        return node_pb2.RuntimeClass(
            metadata=meta_pb2.ObjectMeta(name=name), handler=self.handlers[name]
        )


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    harness = SyncHarness(tmp_path)
    harness.syncer.recorder = EventLog()  # type: ignore[assignment]
    harness.syncer.runtime_classes.classes = Classes(runc="runc", kata="kata")
    harness.syncer.sandboxes.cluster_domain = "cluster.local"
    harness.syncer.starter.node = ContainerNode(
        cluster_domain="cluster.local", runtime_classes=harness.syncer.runtime_classes
    )
    return harness


def events(h: SyncHarness) -> EventLog:
    log = h.syncer.recorder
    assert isinstance(log, EventLog)
    return log


async def test_the_containers_get_the_pods_hosts_file_and_its_fqdn(h: SyncHarness) -> None:
    p = pod(
        "a",
        name="web-0",
        subdomain="web",
        set_hostname_as_fqdn=True,
        host_aliases=[core_pb2.HostAlias(ip="10.1.2.3", hostnames=["db"])],
    )
    await h.sync(p)
    [sandbox] = h.runtime.sandbox_configs.values()
    assert sandbox.hostname == "web-0.web.default.svc.cluster.local"
    [config] = h.runtime.configs.values()
    [hosts] = [m for m in config.mounts if m.container_path == "/etc/hosts"]
    text = Path(hosts.host_path).read_text()
    assert f"{p.status.pod_ip}\tweb-0.web.default.svc.cluster.local\tweb-0\n" in text
    assert text.endswith("\n# Entries added by HostAliases.\n10.1.2.3\tdb\n")


async def test_a_container_that_mounts_its_own_hosts_file_keeps_it(h: SyncHarness) -> None:
    own = container("a", volume_mounts=[core_pb2.VolumeMount(name="v", mount_path="/etc/hosts")])
    volumes = (core_pb2.Volume(name="v", empty_dir=core_pb2.EmptyDirVolumeSource()),)
    await h.sync(pod(own, volumes=volumes))
    [config] = h.runtime.configs.values()
    [hosts] = [m for m in config.mounts if m.container_path == "/etc/hosts"]
    assert "empty-dir" in hosts.host_path


async def test_the_runtime_class_handler_runs_the_pod(h: SyncHarness) -> None:
    await h.sync(pod("a", runtime_class_name="runc"))
    [sandbox] = h.runtime.sandbox_configs.values()
    assert sandbox.runtime_handler == "runc"
    assert h.created() == ["a"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"runtime_class_name": "gvisor"},
            'Failed to create pod sandbox: runtimeclass.node.k8s.io "gvisor" not found',
        ),
        (
            {"runtime_class_name": "kata"},
            'Failed to create pod sandbox: failed to get sandbox runtime: no runtime for "kata" '
            "is configured",
        ),
        (
            {"host_users": False},
            'Failed to create pod sandbox: RuntimeClass handler "" does not support user '
            "namespaces",
        ),
    ],
    ids=["no-class", "no-handler", "user-namespace"],
)
async def test_a_sandbox_that_cannot_be_made(
    h: SyncHarness, spec: dict[str, Any], message: str
) -> None:
    p = pod("a", **spec)
    with pytest.raises(ContainerRuntimeError):
        await h.sync(p)  # the pod worker backs off, then syncs again
    assert events(h).of("FailedCreatePodSandBox") == [message]
    p.status.CopyFrom(h.pods.written[-1].status)
    assert h.runtime.sandboxes == {} and state_of(p, "a") == "ContainerCreating"


async def test_a_handler_with_user_namespaces_runs_a_pod_without_host_users(
    h: SyncHarness,
) -> None:
    h.runtime.handlers = [RuntimeHandler("", user_namespaces=True)]
    await h.sync(pod("a", host_users=False))
    assert h.created() == ["a"]


def mounting(*mounts: core_pb2.VolumeMount, env: dict[str, str] | None = None) -> core_pb2.Pod:
    c = container(
        "a",
        volume_mounts=list(mounts),
        env=[core_pb2.EnvVar(name=k, value=v) for k, v in (env or {}).items()],
    )
    return pod(c, volumes=(core_pb2.Volume(name="v", empty_dir=core_pb2.EmptyDirVolumeSource()),))


async def test_sub_path_expr_is_expanded_from_the_containers_environment(h: SyncHarness) -> None:
    mount = core_pb2.VolumeMount(name="v", mount_path="/logs", sub_path_expr="logs/$(POD)")
    await h.sync(mounting(mount, env={"POD": "web-0"}))
    [config] = h.runtime.configs.values()
    [logs] = [m for m in config.mounts if m.container_path == "/logs"]
    assert logs.host_path.endswith("kubernetes.io~empty-dir/v/logs/web-0")
    assert Path(logs.host_path).is_dir()


@pytest.mark.parametrize(
    ("mount", "message"),
    [
        (
            core_pb2.VolumeMount(name="v", mount_path="/l", sub_path_expr="$(NOPE)/$(EMPTY)"),
            "missing value for EMPTY, NOPE",
        ),
        (
            core_pb2.VolumeMount(name="v", mount_path="/l", sub_path_expr="../$(POD)"),
            "unable to provision SubPath `../web-0`: must not contain '..'",
        ),
        (
            core_pb2.VolumeMount(
                name="v", mount_path="/l", read_only=True, recursive_read_only="Enabled"
            ),
            'failed to resolve recursive read-only mode: volume "v" requested recursive '
            "read-only mode, but it is not supported by the runtime",
        ),
    ],
    ids=["missing-variable", "backsteps", "recursive-read-only"],
)
async def test_a_mount_that_cannot_be_made(
    h: SyncHarness, mount: core_pb2.VolumeMount, message: str
) -> None:
    p = mounting(mount, env={"POD": "web-0", "EMPTY": ""})
    await h.sync(p)
    waiting = status_of(p, "a").state.waiting
    assert (waiting.reason, waiting.message) == ("CreateContainerConfigError", message)


async def test_recursive_read_only_if_possible_falls_back_and_is_reported(h: SyncHarness) -> None:
    mount = core_pb2.VolumeMount(
        name="v", mount_path="/ro", read_only=True, recursive_read_only="IfPossible"
    )
    p = mounting(mount, core_pb2.VolumeMount(name="v", mount_path="/rw"))
    await h.sync(p)
    [config] = h.runtime.configs.values()
    [ro] = [m for m in config.mounts if m.container_path == "/ro"]
    assert ro.read_only and not ro.recursive_read_only
    assert [
        (m.mount_path, m.read_only, m.recursive_read_only) for m in status_of(p, "a").volume_mounts
    ] == [("/ro", True, "Disabled"), ("/rw", False, "")]


async def test_a_handler_with_recursive_read_only_mounts_makes_them(h: SyncHarness) -> None:
    h.runtime.handlers = [RuntimeHandler(""), RuntimeHandler("runc", True)]
    mount = core_pb2.VolumeMount(
        name="v", mount_path="/ro", read_only=True, recursive_read_only="Enabled"
    )
    p = mounting(mount)
    p.spec.runtime_class_name = "runc"
    await h.sync(p)
    [config] = h.runtime.configs.values()
    assert [m.recursive_read_only for m in config.mounts if m.container_path == "/ro"] == [True]
    assert status_of(p, "a").volume_mounts[0].recursive_read_only == "Enabled"
