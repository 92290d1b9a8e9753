"""Sidecars on the real Docker engine, driven by the kubelet's pod syncer: a log shipper starts
before the app and reads what the app writes to a shared emptyDir; a sidecar that crashes is
restarted while the app keeps running, under restartPolicy Never; a Job-like pod completes when
its app does, its sidecar stopped then."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from tests.integration.kubelet_docker import make_pod
from tests.integration.syncer_node import Node
from tests.support import eventually

BUSYBOX = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}


def status(pod: core_pb2.Pod, name: str) -> core_pb2.ContainerStatus:
    for s in (*pod.status.init_container_statuses, *pod.status.container_statuses):
        if s.name == name:
            return s
    raise AssertionError(f"no status for {name}: {pod.status}")


def has_status(pod: core_pb2.Pod, name: str) -> bool:
    names = [s.name for s in (*pod.status.init_container_statuses, *pod.status.container_statuses)]
    return name in names


def sidecar(name: str, script: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        **BUSYBOX,
        "restartPolicy": "Always",
        "command": ["sh", "-c", script],
        **fields,
    }


def app(name: str, script: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **BUSYBOX, "command": ["sh", "-c", script], **fields}


async def test_a_log_shipper_sidecar_starts_first_and_reads_what_the_app_writes(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    logs = [{"name": "logs", "mountPath": "/var/log/app"}]
    pod = make_pod(
        pod_namespace,
        "shipper",
        {
            "volumes": [{"name": "logs", "emptyDir": {}}],
            "initContainers": [
                sidecar(
                    "shipper",
                    "touch /var/log/app/.shipper-started /var/log/app/app.log;"
                    " exec tail -n +1 -F /var/log/app/app.log",
                    volumeMounts=logs,
                )
            ],
            "containers": [
                app(
                    "app",
                    "cd /var/log/app; if [ -e .shipper-started ]; then echo after > .app-started;"
                    " else echo before > .app-started; fi;"
                    " i=0; while true; do i=$((i+1)); echo line $i >> /var/log/app/app.log;"
                    " sleep 0.2; done",
                    volumeMounts=logs,
                )
            ],
        },
    )
    await node.sync_until(
        pod,
        lambda p: p.status.phase == "Running" and has_status(p, "app") and status(p, "app").ready,
        "the app to run beside its sidecar",
    )
    shipper = status(pod, "shipper")
    assert shipper.started and shipper.ready and shipper.state.HasField("running")
    assert [c.type for c in pod.status.conditions if c.status == "True"] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
    ]
    volume = tmp_path / "pods" / pod.metadata.uid / "volumes" / "kubernetes.io~empty-dir" / "logs"
    # The app started after its sidecar had: the sidecar's marker was there already. (Running is
    # reported once the container has started, maybe before its shell's first line has run.)
    marker = volume / ".app-started"

    async def app_marker() -> str | None:
        text = await asyncio.to_thread(lambda: marker.read_text() if marker.exists() else "")
        return text if text.endswith("\n") else None

    assert await eventually(app_marker, timeout=10, what="the app's marker") == "after\n"
    assert shipper.state.running.started_at <= status(pod, "app").state.running.started_at

    async def shipped() -> bool:
        return "line 3\n" in await node.logs(pod, "shipper")

    for _ in range(50):
        if await shipped():
            break
        await asyncio.sleep(0.2)
    assert "line 1\nline 2\nline 3\n" in await node.logs(pod, "shipper")

    await node.syncer.sync(f"{pod_namespace}/shipper", None)  # the pod is deleted
    assert await docker_runtime.list_containers(pod.metadata.uid) == []


async def test_a_crashed_sidecar_is_restarted_while_the_app_keeps_running(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    pod = make_pod(
        pod_namespace,
        "crashing-sidecar",
        {
            "restartPolicy": "Never",
            "initContainers": [sidecar("proxy", "echo up; sleep 1; exit 7")],
            "containers": [app("app", "sleep 3600")],
        },
    )
    await node.sync_until(
        pod, lambda p: has_status(p, "app") and status(p, "app").ready, "the app to run"
    )
    app_id = status(pod, "app").container_id

    def restarted(p: core_pb2.Pod) -> bool:
        s = status(p, "proxy")
        return s.restart_count >= 1 and s.last_state.HasField("terminated")

    await node.sync_until(pod, restarted, "the sidecar's restart")
    proxy = status(pod, "proxy")
    assert proxy.last_state.terminated.exit_code == 7
    assert pod.status.phase == "Running"
    assert status(pod, "app").container_id == app_id  # the app kept running, untouched
    assert status(pod, "app").state.HasField("running")


async def test_a_job_like_pod_completes_with_its_sidecar_stopped(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    pod = make_pod(
        pod_namespace,
        "job-with-sidecar",
        {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 5,
            "initContainers": [
                sidecar(
                    "proxy", "trap 'echo stopping; exit 0' TERM; while true; do sleep 0.1; done"
                )
            ],
            "containers": [app("work", "sleep 1; echo done")],
        },
    )
    await node.sync_until(
        pod, lambda p: p.status.phase in ("Succeeded", "Failed"), "the pod to complete", timeout=45
    )
    assert pod.status.phase == "Succeeded"
    work = status(pod, "work").state.terminated
    assert (work.exit_code, work.reason) == (0, "Completed")
    proxy = status(pod, "proxy")
    assert proxy.state.HasField("terminated") and proxy.restart_count == 0
    assert proxy.state.terminated.finished_at >= work.finished_at
    assert "stopping" in await node.logs(pod, "proxy")  # it got SIGTERM, after the app ended
    containers = await docker_runtime.list_containers(pod.metadata.uid)
    assert {c.name for c in containers} == {"proxy", "work"}
    assert all(c.state.value == "exited" for c in containers)
    sandboxes = await docker_runtime.list_pod_sandboxes(pod.metadata.uid)
    assert [s.ready for s in sandboxes] == [False]
    await node.sync(pod)
    assert len(await docker_runtime.list_containers(pod.metadata.uid)) == 2  # nothing restarted
