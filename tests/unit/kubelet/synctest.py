"""A pod syncer wired to the hollow runtime and a fake apiserver that records status writes; after
each sync the pod picks up the written status, as the informer would deliver it. And a prober that
answers from a script."""

from __future__ import annotations

import time
from pathlib import Path

from kubelet.container.backoff import Backoff
from kubelet.container.images import ImagePuller
from kubelet.pod.sync import NodeContext, PodSyncer
from kubelet.prober import ProbeType, Result
from kubelet.prober.probes import ProbeError
from kubelet.runtime.hollow import HollowRuntime
from kubelet.status.manager import StatusManager
from kubelet.volume.pod_volumes import PodVolumes
from podplane.api.core.v1 import core_pb2

HOST_IP = "172.18.0.2"


class FakePods:
    """The one call the status manager makes."""

    def __init__(self) -> None:
        self.written: list[core_pb2.Pod] = []
        self.sent_versions: list[str] = []
        self.revision = 100

    async def update_status(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        self.sent_versions.append(pod.metadata.resource_version)
        self.revision += 1
        stored = core_pb2.Pod()
        stored.CopyFrom(pod)
        stored.metadata.resource_version = str(self.revision)
        self.written.append(stored)
        return stored


class FakeProber:
    """Answers each probe with the next scripted result (the last one repeats)."""

    def __init__(self, *results: Result) -> None:
        self.script = list(results)
        self.calls: list[tuple[ProbeType, str, str]] = []

    async def probe(
        self,
        probe_type: ProbeType,
        pod: core_pb2.Pod,
        container: core_pb2.Container,
        container_id: str,
        pod_ip: str,
    ) -> Result:
        self.calls.append((probe_type, container.name, container_id))
        if not self.script:
            raise ProbeError("no result scripted")
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class Clock:
    """Wall time plus an offset the test can move forward (to let back-offs run out)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class SyncHarness:
    def __init__(self, root: Path, runtime: HollowRuntime | None = None) -> None:
        self.runtime = runtime or HollowRuntime()
        self.pods = FakePods()
        self.clock = Clock()
        self.root = root
        self.syncer = PodSyncer(
            self.runtime,
            PodVolumes(str(root)),
            StatusManager(self.pods),  # type: ignore[arg-type]
            NodeContext(node_name="node-1", host_ip=HOST_IP),
            images=ImagePuller(self.runtime, Backoff(clock=self.clock)),
            crash_backoff=Backoff(clock=self.clock),
        )

    async def sync(self, pod: core_pb2.Pod | None, key: str = "default/web") -> float | None:
        written = len(self.pods.written)
        requeue = await self.syncer.sync(key, pod)
        if pod is not None and len(self.pods.written) > written:
            latest = self.pods.written[-1]
            pod.status.CopyFrom(latest.status)
            pod.metadata.resource_version = latest.metadata.resource_version
        return requeue

    def created(self) -> list[str]:
        return [name for call, name in self.runtime.calls if call == "create_container"]

    def latest(self, name: str) -> str:
        return self.runtime.by_name(name)[0].id


def status_of(pod: core_pb2.Pod, name: str) -> core_pb2.ContainerStatus:
    for s in (*pod.status.container_statuses, *pod.status.init_container_statuses):
        if s.name == name:
            return s
    raise AssertionError(f"no status for container {name}")


def state_of(pod: core_pb2.Pod, name: str) -> str:
    """running, terminated(<code>) or the waiting reason."""
    state = status_of(pod, name).state
    if state.HasField("running"):
        return "running"
    if state.HasField("terminated"):
        return f"terminated({state.terminated.exit_code})"
    return state.waiting.reason


def condition(pod: core_pb2.Pod, type_: str) -> str:
    for c in pod.status.conditions:
        if c.type == type_:
            return c.status
    raise AssertionError(f"no condition {type_}")


class EventLog:
    """A recorder that keeps the events as (type, reason, message)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]

    def of(self, reason: str) -> list[str]:
        """The messages of the events of a reason."""
        return [message for _, r, message in self.events if r == reason]
