"""Stopping and removing a pod's containers and sandbox, as the kubelet's killPod and
killContainer do: each running container's preStop hook runs first, counting against its grace
period, then the container gets SIGTERM and, after what remains of the grace period (at least
2 s, minimumGracePeriodInSeconds), SIGKILL. Containers stop in parallel, but for sidecars, which
wait for their turn (termination_order.py); the sandbox goes last."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from kubelet.container.config import grace_period
from kubelet.container.lifecycle_hooks import HookError, run_hook
from kubelet.pod.actions import ContainerToKill
from kubelet.pod.termination_order import TerminationOrdering
from kubelet.prober.results import ProbeType
from kubelet.runtime.types import ContainerRuntime, ContainerState, RuntimePod
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import has_sidecars

log = logging.getLogger(__name__)

# kuberuntime's minimumGracePeriodInSeconds: what a container gets after its preStop hook, and
# when the pod was force-deleted (grace period 0).
MINIMUM_GRACE_SECONDS = 2
# (type, reason, message) -> an event on the pod.
EventSink = Callable[[str, str, str], None]


def pod_grace_period(pod: core_pb2.Pod) -> int:
    """The grace period of a pod being terminated (pod_workers.go calculateEffectiveGracePeriod):
    the deletion's when it is being deleted, else the spec's; never below 1 s."""
    meta = pod.metadata
    grace = (
        int(meta.deletion_grace_period_seconds)
        if meta.HasField("deletion_grace_period_seconds")
        else grace_period(pod)
    )
    return max(grace, 1)


def container_grace_period(
    pod: core_pb2.Pod, container: core_pb2.Container | None, probe_type: ProbeType | None = None
) -> int:
    """The grace period of one container being killed (setTerminationGracePeriod): a failed
    liveness or startup probe may bring its own terminationGracePeriodSeconds."""
    if pod.metadata.HasField("deletion_grace_period_seconds"):
        return int(pod.metadata.deletion_grace_period_seconds)
    if container is not None and probe_type in (ProbeType.LIVENESS, ProbeType.STARTUP):
        probe = (
            container.liveness_probe
            if probe_type == ProbeType.LIVENESS
            else container.startup_probe
        )
        if probe.HasField("termination_grace_period_seconds"):
            return int(probe.termination_grace_period_seconds)
    return grace_period(pod)


def _spec(pod: core_pb2.Pod | None, name: str) -> core_pb2.Container | None:
    if pod is None:
        return None
    for c in (*pod.spec.containers, *pod.spec.init_containers):
        if c.name == name:
            return c
    return None


async def kill_container(
    runtime: ContainerRuntime,
    container_id: str,
    name: str,
    grace: int,
    pod: core_pb2.Pod | None = None,
    pod_ip: str = "",
    message: str = "",
    event: EventSink | None = None,
    clock: Callable[[], float] = time.monotonic,
    ordering: TerminationOrdering | None = None,
) -> None:
    """preStop (if the pod's spec has one and there is time), its turn (a sidecar waits for the
    containers it serves), SIGTERM, SIGKILL after the rest of the grace period."""
    spec = _spec(pod, name)
    if event is not None:
        event("Normal", "Killing", message or f"Stopping container {name}")
    if pod is not None and spec is not None and spec.lifecycle.HasField("pre_stop") and grace > 0:
        started = clock()
        try:
            hook = spec.lifecycle.pre_stop
            async with asyncio.timeout(grace):
                await run_hook(runtime, pod, spec, container_id, hook, pod_ip, timeout=grace)
        except HookError as e:
            log.info(
                "preStop hook of %s/%s %s failed: %s",
                pod.metadata.namespace,
                pod.metadata.name,
                name,
                e,
            )
            if event is not None:
                event("Warning", "FailedPreStopHook", str(e))
        except TimeoutError:
            log.info(
                "preStop hook of %s/%s %s did not complete within the grace period of %ds",
                pod.metadata.namespace,
                pod.metadata.name,
                name,
                grace,
            )
        grace -= int(clock() - started)
    if ordering is not None and grace > 0:
        grace -= int(await ordering.wait_for_turn(name, grace))
    try:
        await runtime.stop_container(container_id, max(grace, MINIMUM_GRACE_SECONDS))
    finally:
        if ordering is not None:
            ordering.stopped(name)


async def kill_unhealthy(
    runtime: ContainerRuntime,
    pod: core_pb2.Pod,
    pod_ip: str,
    kills: list[ContainerToKill],
    event: EventSink | None = None,
) -> None:
    """Containers that failed their liveness or startup probe go, with their grace period (the
    probe's own, if it has one) and preStop hook; the pod's next actions restart them per the
    restart policy."""
    await asyncio.gather(
        *(
            kill_container(
                runtime,
                k.status.id,
                k.container.name,
                container_grace_period(pod, k.container, ProbeType(k.probe_type)),
                pod,
                pod_ip,
                message=k.message,
                event=event,
            )
            for k in kills
        )
    )


async def stop_pod(
    runtime: ContainerRuntime,
    rp: RuntimePod,
    grace: int,
    pod: core_pb2.Pod | None = None,
    pod_ip: str = "",
    event: EventSink | None = None,
) -> None:
    running = [
        c for c in rp.containers if c.state in (ContainerState.RUNNING, ContainerState.UNKNOWN)
    ]
    ordering = (
        TerminationOrdering(pod, (c.name for c in running))
        if pod is not None and has_sidecars(pod.spec)
        else None
    )
    await asyncio.gather(
        *(
            kill_container(
                runtime, c.id, c.name, grace, pod, pod_ip, event=event, ordering=ordering
            )
            for c in running
        )
    )
    await asyncio.gather(
        *(runtime.stop_pod_sandbox(s.id, MINIMUM_GRACE_SECONDS) for s in rp.sandboxes if s.ready)
    )


async def remove_pod(
    runtime: ContainerRuntime, rp: RuntimePod, grace: int = MINIMUM_GRACE_SECONDS
) -> None:
    """Stops and removes everything of a pod the API no longer has (force-deleted, or replaced by
    a pod of a new uid): without its spec no hook runs, and the grace period is the minimum."""
    await stop_pod(runtime, rp, grace)
    await asyncio.gather(*(runtime.remove_container(c.id) for c in rp.containers))
    await asyncio.gather(*(runtime.remove_pod_sandbox(s.id) for s in rp.sandboxes))
