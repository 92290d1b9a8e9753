"""Controllers run in the test's own process against the real apiserver, the ReplicaSets they are
given, waits for the pods they own, and the barrier after which whatever a controller would do
with what it has seen so far has been done (Passes). Shared by the controllers' tests."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from google.protobuf.message import Message

from controller.framework.reconciler import ReconcileLoop
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.meta import object_meta
from podplane.client.clientset import Client
from podplane.client.informer import Informer, object_key
from podplane.client.informer_factory import SharedInformerFactory
from tests.support import eventually

P = ParamSpec("P")
R = TypeVar("R")


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


async def informed(
    informer: Informer[Any], *objects: Message, deleted: bool = False, timeout: float = 30.0
) -> None:
    """Waits until the informer's cache holds each object as written, or a later version of it
    (or, if `deleted`, none of it any more): the informer's handlers have been called with it."""

    def current(obj: Message) -> bool:
        cached = informer.get(object_key(obj))
        if cached is None:
            return deleted
        return int(object_meta(cached).resource_version) >= int(object_meta(obj).resource_version)

    async def all_current() -> bool:
        return all(current(obj) for obj in objects)

    await eventually(all_current, timeout, interval=0.01, what=f"{informer.name} to catch up")


class Passes:
    """Counts the passes of a work queue's worker (a controller's reconcile, a kubelet's pod
    sync) by key. `resync(key)` is the barrier a test needs before asserting that something did
    not happen: it queues the key once more, as an informer's periodic resync does, and waits
    for that pass to end. One pass of a key runs at a time, so every pass of the key queued
    before it has ended too, its writes answered by the apiserver; and the pass itself acts on
    the caches as they are now. Whatever the worker would do for that key with what its
    informers have delivered so far, it has done."""

    def __init__(self, enqueue: Callable[[str], None]) -> None:
        """`enqueue` queues a key; the passes counted are those of the functions `counted`
        wraps."""
        self._enqueue = enqueue
        self._ended: collections.Counter[str] = collections.Counter()
        self._running: set[str] = set()

    @classmethod
    def of(cls, loop: ReconcileLoop) -> Passes:
        """The passes of a controller's reconcile loop."""
        passes = cls(loop.enqueue)
        loop.reconcile = passes.counted(loop.reconcile)
        return passes

    def counted(
        self, sync: Callable[Concatenate[str, P], Awaitable[R]]
    ) -> Callable[Concatenate[str, P], Coroutine[Any, Any, R]]:
        """`sync(key, ...)`, each call counted as a pass of `key`."""

        async def counting(key: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
            self._running.add(key)
            try:
                return await sync(key, *args, **kwargs)
            finally:
                self._running.discard(key)
                self._ended[key] += 1

        return counting

    async def resync(self, key: str, timeout: float = 30.0) -> None:
        # A pass running now may have read the caches before the latest event: the queued
        # key's pass is the one after it.
        due = self._ended[key] + (2 if key in self._running else 1)
        self._enqueue(key)

        async def ended() -> bool:
            return self._ended[key] >= due

        await eventually(ended, timeout, interval=0.01, what=f"a pass of {key} to end")
