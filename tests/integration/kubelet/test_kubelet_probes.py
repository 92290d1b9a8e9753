"""Probes and graceful termination on the real Docker engine: an exec liveness probe that starts
failing gets the container restarted; an httpGet readiness probe against busybox httpd toggles
Ready as the served file goes and comes back; on deletion a preStop hook runs before SIGTERM, and
a container that ignores SIGTERM is killed when the grace period is over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kubelet.kubelet import Kubelet
from kubelet.pod.sync import NodeContext, PodSyncer
from kubelet.prober import ProbeManager
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.status.manager import StatusManager
from kubelet.volume.pod_volumes import PodVolumes
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client, is_not_found
from tests.integration.kubelet_docker import make_pod
from tests.support import eventually

BUSYBOX = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}


class Pods:
    """Stands in for the apiserver: the status writes and the final delete of the kubelet."""

    def __init__(self) -> None:
        self.revision = 0
        self.deleted: list[str] = []

    async def update_status(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        self.revision += 1
        stored = core_pb2.Pod()
        stored.CopyFrom(pod)
        stored.metadata.resource_version = str(self.revision)
        return stored

    async def delete(
        self, name: str, namespace: str, *, grace_period_seconds: int | None = None, uid: str = ""
    ) -> None:
        self.deleted.append(name)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


class Node:
    """A pod syncer with running probe workers; a probe result change wakes `sync_until`."""

    def __init__(self, runtime: DockerRuntime, root: Path) -> None:
        self.recorder = Recorder()
        self.pods = Pods()
        self.changed = asyncio.Event()
        self.probes = ProbeManager(runtime, lambda key: self.changed.set(), recorder=self.recorder)  # type: ignore[arg-type]
        self.syncer = PodSyncer(
            runtime,
            PodVolumes(str(root)),
            StatusManager(self.pods),  # type: ignore[arg-type]
            NodeContext(node_name="it-node", host_ip="127.0.0.1"),
            recorder=self.recorder,  # type: ignore[arg-type]
            probes=self.probes,
        )

    async def sync(self, pod: core_pb2.Pod) -> None:
        await self.syncer.sync(f"{pod.metadata.namespace}/{pod.metadata.name}", pod)
        sent = self.syncer.status._sent.get(pod.metadata.uid)
        if sent is not None:
            pod.status.CopyFrom(sent[0])

    async def sync_until(
        self,
        pod: core_pb2.Pod,
        done: Callable[[core_pb2.Pod], bool],
        what: str,
        timeout: float = 40.0,
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()
            await self.sync(pod)
            if done(pod):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; status: {pod.status}")
            try:
                async with asyncio.timeout(0.5):
                    await self.changed.wait()
            except TimeoutError:
                pass

    def close(self) -> None:
        for uid in {key[0] for key in self.probes.workers}:
            self.probes.remove_pod(uid)


class Stops:
    """The seconds each stop gives its container before Docker's SIGKILL (the runtime's
    stop_container time-out): what the grace period decides, counted rather than timed."""

    def __init__(self, runtime: DockerRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.timeouts: dict[str, int] = {}
        stop = runtime.stop_container

        async def recorded(container_id: str, timeout: int) -> None:
            self.timeouts.setdefault(container_id, timeout)  # the first: the grace period's
            await stop(container_id, timeout)

        monkeypatch.setattr(runtime, "stop_container", recorded)

    def of(self, pod: core_pb2.Pod, name: str = "main") -> int:
        return self.timeouts[status(pod, name).container_id.split("://")[1]]


def status(pod: core_pb2.Pod, name: str = "main") -> core_pb2.ContainerStatus:
    for s in pod.status.container_statuses:
        if s.name == name:
            return s
    raise AssertionError(f"no status for {name}")


def ready(pod: core_pb2.Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


async def test_a_failing_exec_liveness_probe_restarts_the_container(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    pod = make_pod(
        pod_namespace,
        "liveness",
        {
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "command": [
                        "sh",
                        "-c",
                        "touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 3600",
                    ],
                    "livenessProbe": {
                        "exec": {"command": ["cat", "/tmp/healthy"]},
                        "initialDelaySeconds": 1,
                        "periodSeconds": 1,
                        "failureThreshold": 2,
                    },
                }
            ]
        },
    )
    try:
        await node.sync_until(
            pod,
            lambda p: (
                status(p).restart_count >= 1
                and p.status.container_statuses[0].state.HasField("running")
            ),
            "a restart after the liveness probe failed",
        )
    finally:
        node.close()
    s = status(pod)
    assert s.restart_count == 1 and s.last_state.terminated.exit_code == 137
    assert pod.status.phase == "Running"
    messages = [(reason, message) for _, reason, message in node.recorder.events]
    assert any(r == "Unhealthy" and m.startswith("Liveness probe failed: ") for r, m in messages)
    assert ("Killing", "Container main failed liveness probe, will be restarted") in messages


async def test_an_http_readiness_probe_toggles_ready(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    pod = make_pod(
        pod_namespace,
        "readiness",
        {
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "command": [
                        "sh",
                        "-c",
                        "mkdir -p /www && echo ok > /www/index.html && "
                        "exec httpd -f -p 8080 -h /www",
                    ],
                    "readinessProbe": {
                        "httpGet": {"path": "/index.html", "port": "http"},
                        "periodSeconds": 1,
                        "failureThreshold": 1,
                    },
                }
            ]
        },
    )
    try:
        await node.sync_until(pod, ready, "Ready")
        assert status(pod).ready and status(pod).started
        cid = status(pod).container_id.split("://")[1]
        assert await docker_runtime.exec_in_container(cid, ["rm", "/www/index.html"], 5) == (0, "")
        await node.sync_until(pod, lambda p: not ready(p), "not Ready once the file is gone")
        assert not status(pod).ready and pod.status.phase == "Running"
        containers_ready = {c.type: c for c in pod.status.conditions}["ContainersReady"]
        assert containers_ready.message == "containers with unready status: [main]"
        code, _ = await docker_runtime.exec_in_container(
            cid, ["sh", "-c", "echo ok > /www/index.html"], 5
        )
        assert code == 0
        await node.sync_until(pod, ready, "Ready again once the file is back")
        assert status(pod).restart_count == 0  # readiness never restarts anything
    finally:
        node.close()


async def test_pre_stop_runs_before_sigterm_and_sigterm_ignorers_die_after_the_grace_period(
    docker_runtime: DockerRuntime,
    pod_namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stops = Stops(docker_runtime, monkeypatch)
    node = Node(docker_runtime, tmp_path)
    data = {"name": "data", "mountPath": "/data"}
    pod = make_pod(
        pod_namespace,
        "graceful",
        {
            "terminationGracePeriodSeconds": 4,
            "volumes": [{"name": "data", "emptyDir": {}}],
            "containers": [
                {
                    "name": "graceful",
                    **BUSYBOX,
                    "volumeMounts": [data],
                    "command": [
                        "sh",
                        "-c",
                        "trap 'echo term >> /data/log; exit 0' TERM; while :; do sleep 0.2; done",
                    ],
                    "lifecycle": {
                        "preStop": {
                            "exec": {"command": ["sh", "-c", "echo prestop >> /data/log; sleep 1"]}
                        }
                    },
                },
                {
                    "name": "stubborn",
                    **BUSYBOX,
                    "command": ["sh", "-c", "trap '' TERM; while :; do sleep 0.2; done"],
                },
            ],
        },
    )
    try:
        await node.sync_until(pod, lambda p: p.status.phase == "Running" and ready(p), "Running")
        pod.metadata.deletion_timestamp = timeutil.now()
        pod.metadata.deletion_grace_period_seconds = 4
        started = time.monotonic()
        await node.sync(pod)
        took = time.monotonic() - started
    finally:
        node.close()
    log = tmp_path / "pods" / pod.metadata.uid / "volumes" / "kubernetes.io~empty-dir" / "data"
    assert (log / "log").read_text() == "prestop\nterm\n"  # the hook, then SIGTERM
    assert status(pod, "graceful").state.terminated.exit_code == 0
    assert status(pod, "stubborn").state.terminated.exit_code == 137  # SIGKILL at the end
    # SIGKILL when the 4 s grace period is over: the stubborn one had all of it, the graceful one
    # what its preStop hook (1 s at least) left.
    assert stops.of(pod, "stubborn") == 4 and stops.of(pod, "graceful") <= 3, stops.timeouts
    assert took >= 3.0, took
    assert node.pods.deleted == ["graceful"]  # then the kubelet lets the apiserver delete it


async def test_a_kubelet_reports_readiness_and_terminates_gracefully_through_the_api(
    kubelet: Kubelet,
    client: Client,
    pod_namespace: str,
    docker_runtime: DockerRuntime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stops = Stops(docker_runtime, monkeypatch)
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": pod_namespace},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "terminationGracePeriodSeconds": 3,
                "containers": [
                    {
                        "name": "main",
                        **BUSYBOX,
                        "command": ["sh", "-c", "sleep 2; touch /tmp/ready; sleep 3600"],
                        "readinessProbe": {
                            "exec": {"command": ["cat", "/tmp/ready"]},
                            "periodSeconds": 1,
                        },
                        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await client.pods.create(pod)

    async def status_is(want_ready: bool) -> bool:
        p = await client.pods.get("web", pod_namespace)
        return p.status.phase == "Running" and ready(p) == want_ready

    await eventually(lambda: status_is(False), timeout=30, what="Running, not Ready yet")
    await eventually(lambda: status_is(True), timeout=30, what="Ready once the probe passes")
    main = (await client.pods.get("web", pod_namespace)).status.container_statuses[0]

    started = time.monotonic()
    await client.pods.delete("web", pod_namespace)  # graceful: the spec's 3 s

    async def gone() -> bool:
        try:
            await client.pods.get("web", pod_namespace)
        except Exception as e:
            if is_not_found(e):
                return True
            raise
        return False

    await eventually(gone, timeout=30, what="the pod to be deleted once it has stopped")
    # The preStop hook (1 s), then SIGTERM, which `sh` as PID 1 ignores: SIGKILL at 3 s, the
    # stop given the minimum 2 s the hook left of the grace period.
    assert stops.timeouts[main.container_id.split("://")[1]] == 2, stops.timeouts
    assert time.monotonic() - started >= 2.5
