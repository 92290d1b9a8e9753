"""Controllers run in the test's own process against the real apiserver, the ReplicaSets they are
given, and waits for the pods they own. Shared by the ReplicaSet and garbage-collector tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.support import eventually


@contextlib.asynccontextmanager
async def running(
    *controllers: Any, informers: SharedInformerFactory | None = None
) -> AsyncIterator[None]:
    """Runs the controllers for the block, and the informers they share, if given, stopped before
    the test's client closes; a controller that crashed fails the test."""
    tasks = [asyncio.create_task(c.run()) for c in controllers]
    if informers is not None:
        informers.start()
    try:
        yield
    finally:
        if informers is not None:
            await informers.shutdown()
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise AssertionError(f"a controller crashed: {t.exception()!r}")
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def replica_set(
    ns: str,
    name: str,
    replicas: int,
    *,
    image: str = "busybox",
    min_ready_seconds: int = 0,
    finalizers: tuple[str, ...] = (),
) -> apps_pb2.ReplicaSet:
    rs: Any = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": ns, "finalizers": list(finalizers)},
            "spec": {
                "replicas": replicas,
                "minReadySeconds": min_ready_seconds,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {
                        "labels": {"app": name, "tier": "web"},
                        "annotations": {"example.com/owner": "team-a"},
                    },
                    "spec": {
                        "containers": [
                            {"name": "main", "image": image, "command": ["sleep", "3600"]}
                        ]
                    },
                },
            },
        },
        apps_pb2.ReplicaSet,
    )
    return rs  # type: ignore[no-any-return]


async def pods_in(client: Client, ns: str) -> list[core_pb2.Pod]:
    return list((await client.pods.list(ns)).items)


async def owned_pods(client: Client, ns: str, owner_uid: str) -> list[core_pb2.Pod]:
    return [
        p
        for p in await pods_in(client, ns)
        if any(r.uid == owner_uid and r.controller for r in p.metadata.owner_references)
    ]


async def wait_for_pods(
    client: Client, ns: str, owner_uid: str, count: int, timeout: float = 30.0
) -> list[core_pb2.Pod]:
    async def exact() -> list[core_pb2.Pod] | None:
        pods = await owned_pods(client, ns, owner_uid)
        return pods if len(pods) == count else None

    if count == 0:

        async def none_left() -> bool:
            return not await owned_pods(client, ns, owner_uid)

        await eventually(none_left, timeout=timeout, what=f"no pods of {owner_uid}")
        return []
    return await eventually(exact, timeout=timeout, what=f"{count} pods of {owner_uid}")
