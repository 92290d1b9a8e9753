"""The load test's hollow kubelet finishes the graceful deletions of pods on the run's hollow nodes
(a delete with grace 0 and the pod's uid), and leaves every other pod alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from bench.scheduler.hollow_kubelet import HollowKubelet
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit import waiting


def pod(name: str, node: str, deleting: bool) -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(
            name=name,
            namespace="ns",
            uid=f"uid-{name}",
            deletion_timestamp="2026-11-21T18:00:30Z" if deleting else "",
        ),
        spec=core_pb2.PodSpec(node_name=node),
    )


class FakePods:
    def __init__(self, listed: list[core_pb2.Pod]) -> None:
        self.listed = listed
        self.events: asyncio.Queue[core_pb2.PodWatchEvent] = asyncio.Queue()
        self.deleted: list[tuple[str, int | None, str]] = []
        self.watches = 0

    async def list(self, namespace: str) -> core_pb2.PodList:
        return core_pb2.PodList(items=self.listed)

    def watch(self, namespace: str, **_: Any) -> Any:
        self.watches += 1
        if self.watches == 1:  # the first watch is refused, as by an overloaded apiserver

            class Refused:
                def __aiter__(self) -> Refused:
                    return self

                async def __anext__(self) -> Any:
                    raise RuntimeError("Too many requests, please try again later.")

                def cancel(self) -> None:
                    pass

            return Refused()
        events = self.events

        class Stream:
            def __aiter__(self) -> AsyncIterator[Any]:
                return self

            async def __anext__(self) -> Any:
                return await events.get()

            def cancel(self) -> None:
                pass

        return Stream()

    async def delete(
        self, name: str, namespace: str, *, grace_period_seconds: int | None = None, uid: str = ""
    ) -> None:
        self.deleted.append((name, grace_period_seconds, uid))


class FakeClient:
    def __init__(self, pods: FakePods) -> None:
        self.pods = pods


async def test_it_finishes_the_graceful_deletions_on_its_nodes_only() -> None:
    pods = FakePods(
        [pod("listed", "hollow-r-00001", True), pod("running", "hollow-r-00002", False)]
    )
    kubelet = HollowKubelet(FakeClient(pods), "ns", "hollow-r")  # type: ignore[arg-type]
    kubelet.start()
    for p in (
        pod("victim", "hollow-r-00003", True),
        pod("elsewhere", "real-node", True),
        pod("victim", "hollow-r-00003", True),  # seen again: deleted once
    ):
        pods.events.put_nowait(core_pb2.PodWatchEvent(type="MODIFIED", object=p))
    await waiting.until(lambda: kubelet.finished == 2, "both pods finished", interval=0.01)
    await kubelet.stop()
    assert sorted(pods.deleted) == [("listed", 0, "uid-listed"), ("victim", 0, "uid-victim")]
    assert kubelet.errors == 0
