"""A kubelet on the real Docker engine, with the real apiserver over real etcd: containers get
their configuration from ConfigMaps and Secrets (env and files), wait until a missing one exists
(in ContainerCreating with FailedMount for a volume's, in CreateContainerConfigError for an
environment variable's), back off pulling an image no registry has, and run with their resource
limits and security contexts (OOMKilled, read-only root, privileged)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from apiserver.server import APIServer
from kubelet.container.security_context import CAPABILITIES, parse_cap_bnd
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.kubelet_docker import running_kubelet
from tests.support import eventually


@pytest_asyncio.fixture
async def kubelet(
    apiserver: APIServer,
    client: Client,
    docker_runtime: DockerRuntime,
    tmp_path: Path,
    pod_namespace: str,
) -> AsyncIterator[Kubelet]:
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    async with running_kubelet(apiserver, client, docker_runtime, str(tmp_path)) as kubelet:
        yield kubelet
    for uid in kubelet.volumes.pod_uids_on_disk():  # unmounts the pods' tmpfs volumes
        await kubelet.volumes.teardown(uid)


async def create_pod(
    client: Client,
    kubelet: Kubelet,
    namespace: str,
    name: str,
    script: str,
    image: str = "busybox:latest",
    volumes: list[dict[str, Any]] | None = None,
    **container: Any,
) -> core_pb2.Pod:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
                "volumes": volumes or [],
                "containers": [
                    {
                        "name": "main",
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", script],
                        **container,
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return await client.pods.create(pod)


async def create_config(client: Client, namespace: str) -> None:
    await client.configmaps.create(
        core_pb2.ConfigMap(
            metadata=meta_pb2.ObjectMeta(name="settings", namespace=namespace),
            data={"mode": "fast", "app.conf": "listen 8080\n"},
        )
    )
    await client.secrets.create(
        core_pb2.Secret(
            metadata=meta_pb2.ObjectMeta(name="creds", namespace=namespace),
            data={"password": b"s3cret"},
        )
    )


async def finished(client: Client, namespace: str, name: str, timeout: float = 60) -> core_pb2.Pod:
    async def check() -> core_pb2.Pod | None:
        pod = await client.pods.get(name, namespace)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    return await eventually(check, timeout=timeout, what=f"pod {name} to finish")


async def logs(client: Client, namespace: str, name: str) -> str:
    return b"".join([c.data async for c in client.pod_logs(namespace, name)]).decode()


async def waiting_reason(
    client: Client, namespace: str, name: str, reason: str, timeout: float = 30
) -> core_pb2.ContainerStateWaiting:
    async def check() -> core_pb2.ContainerStateWaiting | None:
        pod = await client.pods.get(name, namespace)
        statuses = pod.status.container_statuses
        if statuses and statuses[0].state.waiting.reason == reason:
            return statuses[0].state.waiting
        return None

    return await eventually(check, timeout=timeout, what=f"pod {name} waiting with {reason}")


async def test_config_map_and_secret_volumes_are_files(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_config(client, pod_namespace)
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "files",
        "cat /etc/app/app.conf /etc/app/mode; cat /etc/creds/pw; echo; "
        "stat -Lc %a /etc/creds/pw; touch /etc/app/x 2>/dev/null || echo read-only; "
        "grep ' /etc/creds ' /proc/mounts | cut -d' ' -f3",
        volumes=[
            {"name": "cfg", "configMap": {"name": "settings"}},
            {
                "name": "sec",
                "secret": {
                    "secretName": "creds",
                    "items": [{"key": "password", "path": "pw", "mode": 0o400}],
                },
            },
        ],
        volumeMounts=[
            {"name": "cfg", "mountPath": "/etc/app"},
            {"name": "sec", "mountPath": "/etc/creds", "readOnly": True},
        ],
    )
    pod = await finished(client, pod_namespace, "files")
    assert pod.status.phase == "Succeeded", pod.status
    assert (
        await logs(client, pod_namespace, "files") == "listen 8080\nfast"
        "s3cret\n400\nread-only\ntmpfs\n"
    )  # secrets never touch the disk


async def test_memory_empty_dir_is_a_size_limited_tmpfs_and_host_paths_are_made(
    kubelet: Kubelet, client: Client, pod_namespace: str, tmp_path: Path
) -> None:
    host_dir = tmp_path / "host" / "made"
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "vols",
        "grep ' /cache ' /proc/mounts | cut -d' ' -f3; "
        "dd if=/dev/zero of=/cache/f bs=1k count=2048 2>&1 | grep -o 'No space left on device'; "
        "echo hi >/host/file; touch /ro/x 2>/dev/null || echo read-only",
        volumes=[
            {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
            {"name": "host", "hostPath": {"path": str(host_dir), "type": "DirectoryOrCreate"}},
        ],
        volumeMounts=[
            {"name": "cache", "mountPath": "/cache"},
            {"name": "host", "mountPath": "/host"},
            {"name": "host", "mountPath": "/ro", "readOnly": True},
        ],
    )
    pod = await finished(client, pod_namespace, "vols")
    assert pod.status.phase == "Succeeded", pod.status
    assert (
        await logs(client, pod_namespace, "vols") == "tmpfs\nNo space left on device\nread-only\n"
    )
    assert (host_dir / "file").read_text() == "hi\n"


async def test_env_from_config_map_and_secret(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_config(client, pod_namespace)
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "env",
        'echo "$MODE $PASSWORD $CFG_mode $POD"',
        env=[
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
            {
                "name": "PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
            },
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        envFrom=[{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
    )
    pod = await finished(client, pod_namespace, "env")
    assert pod.status.phase == "Succeeded", pod.status
    assert await logs(client, pod_namespace, "env") == "fast s3cret fast env\n"


async def test_a_missing_config_map_volume_waits_until_it_exists(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "late",
        "cat /etc/late/k",
        volumes=[{"name": "cfg", "configMap": {"name": "late"}}],
        volumeMounts=[{"name": "cfg", "mountPath": "/etc/late"}],
    )

    # As Kubernetes' volume manager: ContainerCreating, the set-up's error in FailedMount events,
    # and the set-up tried again (after 0.5 s, doubling).
    async def failed_mount() -> list[str] | None:
        events = await client.events.list(
            pod_namespace, field_selector="involvedObject.name=late,reason=FailedMount"
        )
        return [e.message for e in events.items] or None

    assert await eventually(failed_mount, timeout=30, what="a FailedMount event") == [
        'MountVolume.SetUp failed for volume "cfg" : configmap "late" not found'
    ]
    waiting = await waiting_reason(client, pod_namespace, "late", "ContainerCreating")
    assert waiting.message == ""
    await client.configmaps.create(
        core_pb2.ConfigMap(
            metadata=meta_pb2.ObjectMeta(name="late", namespace=pod_namespace), data={"k": "v"}
        )
    )
    pod = await finished(client, pod_namespace, "late")
    assert pod.status.phase == "Succeeded", pod.status
    assert await logs(client, pod_namespace, "late") == "v"


async def test_a_missing_config_map_key_in_env_waits_until_it_exists(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "late-env",
        "echo $K",
        env=[{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "late", "key": "k"}}}],
    )
    waiting = await waiting_reason(client, pod_namespace, "late-env", "CreateContainerConfigError")
    assert waiting.message == 'configmap "late" not found'
    await client.configmaps.create(
        core_pb2.ConfigMap(
            metadata=meta_pb2.ObjectMeta(name="late", namespace=pod_namespace), data={"k": "v"}
        )
    )
    pod = await finished(client, pod_namespace, "late-env", timeout=30)  # looks again in 10 s
    assert pod.status.phase == "Succeeded", pod.status
    assert await logs(client, pod_namespace, "late-env") == "v\n"


async def test_an_image_no_registry_has_goes_err_image_pull_then_back_off(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_pod(client, kubelet, pod_namespace, "nopull", "true", image="nosuch/image:1")
    # ErrImagePull shows until the next sync, which finds the pull backing off.
    backoff = await waiting_reason(client, pod_namespace, "nopull", "ImagePullBackOff")
    assert backoff.message == 'Back-off pulling image "nosuch/image:1"'
    pod = await client.pods.get("nopull", pod_namespace)
    assert pod.status.phase == "Pending"

    async def events() -> dict[str, list[str]] | None:
        found: dict[str, list[str]] = {}
        for e in (
            await client.events.list(pod_namespace, field_selector="involvedObject.name=nopull")
        ).items:
            found.setdefault(e.reason, []).append(e.message)
        return found if {"Failed", "BackOff"} <= set(found) else None

    seen = await eventually(events, timeout=30, what="Failed and BackOff events")
    assert any(m.startswith('Failed to pull image "nosuch/image:1": ') for m in seen["Failed"])
    assert 'Back-off pulling image "nosuch/image:1"' in seen["BackOff"]


async def test_a_container_over_its_memory_limit_is_oom_killed(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "oom",
        "dd if=/dev/zero of=/dev/null bs=256M count=1",
        resources={"limits": {"memory": "32Mi"}},
    )
    pod = await finished(client, pod_namespace, "oom")
    terminated = pod.status.container_statuses[0].state.terminated
    # The reason is the runtime's word: containerd 1.7's shim loses now and then the OOM event of
    # a process the OOM killer ends at once (containerd#8893; under load, 7 of 36 such containers
    # here), and Docker then records exit code 137 without OOMKilled; so does the kubelet then,
    # as Kubernetes' does ("Error").
    container_id = terminated.container_id.removeprefix("docker://")
    inspected = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.OOMKilled}}", container_id],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    reason = "OOMKilled" if inspected == "true" else "Error"
    assert (pod.status.phase, terminated.reason, terminated.exit_code) == ("Failed", reason, 137)


async def test_read_only_root_filesystem_refuses_writes(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "ro",
        "touch /written 2>&1; echo rc=$?; id -u",
        securityContext={"readOnlyRootFilesystem": True, "runAsUser": 65534},
    )
    pod = await finished(client, pod_namespace, "ro")
    assert pod.status.phase == "Succeeded", pod.status
    out = await logs(client, pod_namespace, "ro")
    assert "Read-only file system" in out and "rc=1" in out and out.endswith("65534\n")


async def test_privileged_sees_the_nodes_capabilities(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create_pod(
        client,
        kubelet,
        pod_namespace,
        "priv",
        "grep CapEff /proc/self/status",
        securityContext={"privileged": True},
    )
    await create_pod(client, kubelet, pod_namespace, "plain", "grep CapEff /proc/self/status")
    for name in ("priv", "plain"):
        pod = await finished(client, pod_namespace, name)
        assert pod.status.phase == "Succeeded", pod.status
    node_caps = parse_cap_bnd(Path("/proc/self/status").read_text())
    known = (1 << len(CAPABILITIES)) - 1  # what every engine can grant by name
    priv = int((await logs(client, pod_namespace, "priv")).split()[1], 16)
    plain = int((await logs(client, pod_namespace, "plain")).split()[1], 16)
    assert priv & known == node_caps & known
    assert plain != priv and plain & ~node_caps == 0
