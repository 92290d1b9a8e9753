"""The apiserver's /metrics over real etcd: requests counted by verb, resource and status code, etcd
latency by operation and type, and the in-flight and long-running gauges back at rest afterwards."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.componentbase.metrics import MetricsServer, serve_metrics
from tests.support import eventually, new_namespace

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def metrics_endpoint() -> Iterator[MetricsServer]:
    # The metrics registry is per process: this endpoint shows the session's apiserver.
    server = serve_metrics("127.0.0.1:0")
    assert server is not None
    yield server
    server.close()


async def scrape(endpoint: MetricsServer) -> Samples:
    def get() -> str:
        url = f"http://127.0.0.1:{endpoint.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as reply:
            return str(reply.read().decode())

    text = await asyncio.to_thread(get)
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, verb: str, code: str, subresource: str = "") -> float:
    return sample(
        samples,
        "apiserver_request_total",
        verb=verb,
        resource="pods",
        subresource=subresource,
        code=code,
    )


def pod(name: str, namespace: str) -> core_pb2.Pod:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


@pytest.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    yield await new_namespace(client, "metrics-")


async def test_requests_are_counted_by_verb_resource_and_code(
    client: Client, namespace: str, metrics_endpoint: MetricsServer
) -> None:
    before = await scrape(metrics_endpoint)

    for name in ("a", "b", "c"):
        await client.pods.create(pod(name, namespace))
    a = await client.pods.get("a", namespace)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.pods.get("nope", namespace)
    assert is_not_found(missing.value)
    updated = core_pb2.Pod()
    updated.CopyFrom(a)
    updated.metadata.labels["tier"] = "web"
    await client.pods.update(updated)
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await client.pods.update(a)  # a's resourceVersion is the one before that update
    assert is_conflict(stale.value)
    await client.bind(namespace, "b", "node-1")

    after = await scrape(metrics_endpoint)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    def pods(verb: str, code: str, subresource: str = "") -> float:
        return delta(
            "apiserver_request_total",
            verb=verb,
            resource="pods",
            subresource=subresource,
            code=code,
        )

    assert pods("POST", "OK") == 3
    assert pods("GET", "OK") == 1
    assert pods("GET", "NOT_FOUND") == 1
    assert pods("PUT", "OK") == 1
    assert pods("PUT", "ABORTED") == 1
    assert pods("POST", "OK", "binding") == 1
    assert (
        delta(
            "apiserver_request_duration_seconds_count", verb="POST", resource="pods", subresource=""
        )
        == 3
    )
    assert delta("etcd_request_duration_seconds_count", operation="create", type="pods") >= 3
    assert delta("etcd_request_duration_seconds_count", operation="update", type="pods") >= 2
    assert sum(v for (name, _), v in after.items() if name == "etcd_db_total_size_in_bytes") > 0
    for kind in ("readOnly", "mutating"):
        assert sample(after, "apiserver_current_inflight_requests", request_kind=kind) == 0


async def test_a_watch_is_long_running_until_it_ends(
    client: Client, namespace: str, metrics_endpoint: MetricsServer
) -> None:
    watching = {"verb": "WATCH", "resource": "pods", "subresource": ""}
    before = await scrape(metrics_endpoint)
    stream = client.pods.watch(namespace)
    await client.pods.create(pod("watched", namespace))
    async with asyncio.timeout(10):
        event = await anext(stream)
    assert event.object.metadata.name == "watched"

    during = await scrape(metrics_endpoint)
    assert (
        sample(during, "apiserver_longrunning_requests", **watching)
        == sample(before, "apiserver_longrunning_requests", **watching) + 1
    )
    stream.cancel()

    async def watch_ended() -> Samples | None:
        now = await scrape(metrics_endpoint)
        ended = requests(now, "WATCH", "CANCELLED") == requests(before, "WATCH", "CANCELLED") + 1
        return now if ended else None

    after = await eventually(watch_ended, timeout=10, what="the cancelled watch to be counted")
    assert sample(after, "apiserver_longrunning_requests", **watching) == sample(
        before, "apiserver_longrunning_requests", **watching
    )
    # Watches are not timed: their length says nothing about the apiserver's latency.
    assert (
        sample(
            after,
            "apiserver_request_duration_seconds_count",
            verb="WATCH",
            resource="pods",
            subresource="",
        )
        == 0
    )
    for kind in ("readOnly", "mutating"):
        assert sample(after, "apiserver_current_inflight_requests", request_kind=kind) == 0
