"""Hollow nodes registered through the API (capacity and Ready=True; nothing runs containers),
pods to schedule, and waits for what the scheduler writes back: bindings, the PodScheduled=False
condition and events. Shared by the scheduler's in-process integration tests."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually


async def register_node(
    client: Client,
    name: str,
    *,
    cpu: str,
    memory: str = "8Gi",
    labels: dict[str, str] | None = None,
    unschedulable: bool = False,
    taints: list[dict[str, str]] | None = None,
) -> Any:
    node = core_pb2.Node()
    node.metadata.name = name
    node.metadata.labels.update({"kubernetes.io/hostname": name, **(labels or {})})
    node.spec.unschedulable = unschedulable
    for t in taints or []:
        node.spec.taints.add(**t)
    created = await client.nodes.create(node)
    for field in (created.status.capacity, created.status.allocatable):
        field.update({"cpu": cpu, "memory": memory, "pods": "110"})
    created.status.conditions.add(type="Ready", status="True", reason="KubeletReady")
    return await client.nodes.update_status(created)


def new_pod(name: str, ns: str, *, cpu: str = "", memory: str = "", **spec: Any) -> core_pb2.Pod:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "containers": [
                    {"name": "main", "image": "busybox", "resources": {"requests": requests}}
                ],
                **spec,
            },
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


async def bound_pods(client: Client, ns: str, count: int) -> list[Any]:
    async def check() -> list[Any]:
        pods, _ = await client.pods.list_all(ns, field_selector="spec.nodeName!=")
        return pods if len(pods) >= count else []

    return await eventually(check, timeout=20, what=f"{count} pod(s) bound in {ns}")


async def unschedulable_condition(client: Client, ns: str, name: str) -> Any:
    async def check() -> Any:
        pod = await client.pods.get(name, ns)
        return next(
            (c for c in pod.status.conditions if c.type == "PodScheduled" and c.status == "False"),
            None,
        )

    return await eventually(check, timeout=20, what=f"{ns}/{name} to be marked unschedulable")


async def events_for(client: Client, ns: str, name: str, reason: str) -> list[Any]:
    async def check() -> list[Any]:
        events = await client.events.list(
            ns, field_selector=f"involvedObject.name={name},reason={reason}"
        )
        return list(events.items)

    return await eventually(check, timeout=10, what=f"a {reason} event for {ns}/{name}")
