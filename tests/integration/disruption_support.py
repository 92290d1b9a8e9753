"""What the eviction and drain integration tests share: budgets and ready pods made through the
gRPC door, the real disruption controller in this process (its status is what evictions decide
by), and a stand-in for the kubelets that finishes the graceful deletion of pods bound to a node
(no kubelet runs here: a terminating pod would otherwise stay)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from controller.disruption.controller import DisruptionController
from podplane.api.core.v1 import core_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.support import eventually


def budget(ns: str, name: str = "web", app: str = "web", **spec: Any) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": app}}, **spec},
        }
    )


async def ready_pod(
    client: Client,
    ns: str,
    name: str,
    *,
    app: str = "web",
    node: str = "",
    ready: bool = True,
    phase: str = "Running",
    owner: dict[str, Any] | None = None,
    scratch: bool = False,
) -> core_pb2.Pod:
    """A pod as its kubelet reports it once started (Ready as asked); bound to `node` if given,
    whose deletion is then graceful; with an emptyDir volume if `scratch`."""
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": {"app": app}}
    if owner:
        meta["ownerReferences"] = [owner]
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    if scratch:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    pod: Any = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    )
    created = await client.pods.create(pod)
    created.status.phase = phase
    status = "True" if ready else "False"
    now = timeutil.now()
    for kind in ("Ready", "ContainersReady"):
        created.status.conditions.add(type=kind, status=status, last_transition_time=now)
    updated: core_pb2.Pod = await client.pods.update_status(created)
    return updated


async def settled(
    client: Client, ns: str, name: str = "web", *, allowed: int, healthy: int
) -> policy_pb2.PodDisruptionBudget:
    """The budget once the controller has observed it with these numbers."""

    async def check() -> policy_pb2.PodDisruptionBudget | None:
        pdb = await client.poddisruptionbudgets.get(name, ns)
        s = pdb.status
        done = (
            s.observed_generation == pdb.metadata.generation
            and s.disruptions_allowed == allowed
            and s.current_healthy == healthy
        )
        return pdb if done else None

    return await eventually(check, timeout=20, what=f"budget {name}: {allowed} allowed")


@contextlib.asynccontextmanager
async def disruption_controller(client: Client) -> AsyncIterator[DisruptionController]:
    controller = DisruptionController(client, SharedInformerFactory(client))
    async with running(controller):
        yield controller


@contextlib.asynccontextmanager
async def kubelet_stand_in(client: Client, ns: str) -> AsyncIterator[None]:
    """Deletes the namespace's terminating pods with grace 0, as their kubelet does once their
    containers have stopped."""

    async def reap() -> None:
        while True:
            for pod in (await client.pods.list(ns)).items:
                if pod.metadata.deletion_timestamp:
                    with contextlib.suppress(Exception):
                        await client.pods.delete(pod.metadata.name, ns, grace_period_seconds=0)
            await asyncio.sleep(0.2)

    task = asyncio.create_task(reap())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def gone(client: Client, ns: str, name: str) -> bool:
    try:
        await client.pods.get(name, ns)
    except Exception as e:
        if is_not_found(e):
            return True
        raise
    return False
