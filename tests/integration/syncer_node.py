"""A node of one pod syncer on the test host's Docker engine, without an apiserver for its pods: the
kubelet's pod logic driven directly, sync by sync, with the statuses it writes kept for the test to
read (and, when given, the claims it mounts read from a real apiserver and its events kept)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from kubelet.pod.sync import NodeContext, PodSyncer
from kubelet.runtime.types import ContainerRuntime, LogOptions
from kubelet.status.manager import StatusManager
from kubelet.volume.claims import VolumeObjectGetter
from kubelet.volume.pod_volumes import PodVolumes
from podplane.api.core.v1 import core_pb2


class Events:
    """Stands in for the event recorder: keeps (reason, message) of each event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((reason, message))

    def of(self, reason: str) -> list[str]:
        return [message for r, message in self.events if r == reason]


class StatusSink:
    """Stands in for the apiserver: keeps the last status written per pod."""

    def __init__(self) -> None:
        self.revision = 0

    async def update_status(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        self.revision += 1
        stored = core_pb2.Pod()
        stored.CopyFrom(pod)
        stored.metadata.resource_version = str(self.revision)
        return stored


class Node:
    def __init__(
        self, runtime: ContainerRuntime, root: Path, claims: VolumeObjectGetter | None = None
    ) -> None:
        self.runtime = runtime
        self.root = root
        self.events = Events()
        status = StatusManager(StatusSink())  # type: ignore[arg-type]
        self.syncer = PodSyncer(
            runtime,
            PodVolumes(str(root), claims=claims),
            status,
            NodeContext(node_name="it-node", host_ip="127.0.0.1"),
            recorder=self.events,  # type: ignore[arg-type]
        )

    async def sync(self, pod: core_pb2.Pod) -> None:
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        await self.syncer.sync(key, pod)
        sent = self.syncer.status._sent.get(pod.metadata.uid)
        if sent is not None:
            pod.status.CopyFrom(sent[0])
            pod.metadata.resource_version = str(sent[1])

    async def sync_until(
        self,
        pod: core_pb2.Pod,
        done: Callable[[core_pb2.Pod], bool],
        what: str,
        timeout: float = 30.0,
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            await self.sync(pod)
            if done(pod):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; status: {pod.status}")
            await asyncio.sleep(0.3)

    async def logs(self, pod: core_pb2.Pod, container: str) -> str:
        instances = [
            c for c in await self.runtime.list_containers(pod.metadata.uid) if c.name == container
        ]
        newest = max(instances, key=lambda c: c.restart_count)
        chunks = [c async for c in self.runtime.container_logs(newest.id, LogOptions())]
        return b"".join(chunks).decode()
