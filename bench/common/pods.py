"""The objects the benchmarks write and the connections they write them through."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import ResourceClient, separate_channel
from podplane.client.credentials import Credentials

NAMESPACE = "default"
RUN_LABEL = "bench.podplane.io/run"
CELL_LABEL = "bench.podplane.io/cell"
SEQ_LABEL = "bench.podplane.io/seq"
# Wall-clock nanoseconds (time.time_ns) taken just before the Create call was sent.
CREATED_AT = "bench.podplane.io/created-at"
# A node no kubelet runs and the scheduler never considers (it only watches spec.nodeName=""),
# so on a live cluster the benchmark's pods add no scheduler or kubelet writes to the measurement.
NODE_NAME = "bench-no-such-node"


def small_pod(
    name: str, labels: dict[str, str], annotations: dict[str, str] | None = None
) -> core_pb2.Pod:
    """A valid pod with one busybox container."""
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(
            name=name, namespace=NAMESPACE, labels=labels, annotations=annotations or {}
        ),
        spec=core_pb2.PodSpec(
            containers=[
                core_pb2.Container(name="busybox", image="busybox", command=["sleep", "3600"])
            ],
            restart_policy="Never",
            node_name=NODE_NAME,
        ),
    )


@dataclass
class PodsConnection:
    """The typed pods client over a channel of its own: its own TCP connection, as a separate
    client process would have (gRPC otherwise shares one connection between identical channels)."""

    channel: grpc.aio.Channel
    pods: ResourceClient[core_pb2.Pod]

    @classmethod
    async def open(
        cls, target: str, timeout: float = 30.0, credentials: Credentials | None = None
    ) -> PodsConnection:
        channel = separate_channel(target, credentials)
        try:
            async with asyncio.timeout(timeout):
                await channel.channel_ready()
        except TimeoutError:
            await channel.close()
            raise RuntimeError(f"{target}: no connection within {timeout:.0f} s") from None
        return cls(channel, ResourceClient(channel, resources.POD, timeout))

    async def close(self) -> None:
        await self.channel.close()


async def delete_run_pods(target: str, run_id: str, concurrency: int = 32) -> int:
    """Deletes every pod a run created (used against a cluster the benchmark did not start)."""
    connection = await PodsConnection.open(target)
    try:
        items, _ = await connection.pods.list_all(NAMESPACE, label_selector=f"{RUN_LABEL}={run_id}")
        names = [p.metadata.name for p in items]
        limit = asyncio.Semaphore(concurrency)

        async def delete(name: str) -> None:
            async with limit:
                await connection.pods.delete(name, NAMESPACE, grace_period_seconds=0)

        await asyncio.gather(*(delete(n) for n in names))
        return len(names)
    finally:
        await connection.close()
