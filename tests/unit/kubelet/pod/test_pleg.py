"""The PLEG hands a pod to the workers when its containers change state, and only then."""

from __future__ import annotations

from kubelet.pod.pleg import PodLifecycleEventGenerator
from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.types import ContainerConfig, ContainerState, PodRef, SandboxConfig

POD = PodRef(uid="uid-1", name="web", namespace="default")


def state(pleg: PodLifecycleEventGenerator, container_id: str) -> ContainerState | None:
    found = pleg.relisted(container_id)
    return None if found is None else found.state


async def test_changes_enqueue_the_pod_key() -> None:
    runtime = HollowRuntime()
    changed: list[str] = []
    pleg = PodLifecycleEventGenerator(runtime, changed.append)
    await pleg.relist()
    assert changed == []
    sandbox = await runtime.run_pod_sandbox(
        SandboxConfig(pod=POD, attempt=0, hostname="web", image="podplane/pause:3.9")
    )
    cid = await runtime.create_container(
        sandbox, ContainerConfig(pod=POD, name="a", image="busybox:latest", restart_count=0)
    )
    await pleg.relist()
    assert changed == ["default/web"] and state(pleg, cid) == ContainerState.CREATED
    await runtime.start_container(cid)
    assert state(pleg, cid) == ContainerState.CREATED  # the pod's status follows the relists
    await pleg.relist()
    assert changed == ["default/web"] * 2 and state(pleg, cid) == ContainerState.RUNNING
    await pleg.relist()
    assert changed == ["default/web"] * 2  # nothing changed
    runtime.exit_container(cid, 0)
    assert state(pleg, cid) == ContainerState.RUNNING
    await pleg.relist()
    assert changed == ["default/web"] * 3 and state(pleg, cid) == ContainerState.EXITED
    assert pleg.pods_in_runtime == {"default/web": {"uid-1"}}
    await runtime.remove_container(cid)
    await runtime.remove_pod_sandbox(sandbox)
    await pleg.relist()
    assert changed == ["default/web"] * 4 and pleg.pods_in_runtime == {}
    assert pleg.relisted(cid) is None


def test_runtime_unhealthy_after_three_minutes_without_a_relist() -> None:
    now = [0.0]
    pleg = PodLifecycleEventGenerator(HollowRuntime(), lambda _: None, clock=lambda: now[0])
    assert pleg.not_healthy() is None
    now[0] = 181.0
    assert "container runtime is down" in (pleg.not_healthy() or "")
