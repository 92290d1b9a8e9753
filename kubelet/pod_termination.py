"""Stopping and removing a pod's containers and sandbox: containers first (SIGTERM, then SIGKILL
after the grace period), the sandbox last, as the kubelet's killPod does."""
from __future__ import annotations

import asyncio
import logging

from kubelet.runtime.types import ContainerRuntime, ContainerState
from kubelet.runtime_pod import RuntimePod

log = logging.getLogger(__name__)

# Deletion is immediate in this API, so nobody waits on a long grace period; cap it.
MAX_GRACE_SECONDS = 10


def capped_grace(seconds: int, cap: int = MAX_GRACE_SECONDS) -> int:
    return max(0, min(seconds, cap))


async def stop_pod(runtime: ContainerRuntime, rp: RuntimePod, grace: int) -> None:
    running = [c for c in rp.containers
               if c.state in (ContainerState.RUNNING, ContainerState.UNKNOWN)]
    await asyncio.gather(*(runtime.stop_container(c.id, grace) for c in running))
    await asyncio.gather(*(runtime.stop_pod_sandbox(s.id, grace) for s in rp.sandboxes if s.ready))


async def remove_pod(runtime: ContainerRuntime, rp: RuntimePod, grace: int | None = None) -> None:
    """Stops and removes everything of the pod; the grace period defaults to the one each
    container was created with, capped."""
    if grace is None:
        grace = capped_grace(max((c.termination_grace_seconds for c in rp.containers), default=0))
    await stop_pod(runtime, rp, grace)
    await asyncio.gather(*(runtime.remove_container(c.id) for c in rp.containers))
    await asyncio.gather(*(runtime.remove_pod_sandbox(s.id) for s in rp.sandboxes))
