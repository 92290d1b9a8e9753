"""The metrics API's answers (metrics-server's pkg/api) over stored usage, without
authentication: quantities and durations written as Kubernetes writes them; NodeMetrics and
PodMetrics lists filtered by label selector, only what has usage; one without is a NotFound
Status; a bad selector a 400; each request's verb and resource for authorization; the
Forbidden text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from metricsserver.api import objects
from metricsserver.api.auth import Attributes, User, forbidden_message
from metricsserver.api.server import MetricsAPI, Snapshot, attributes
from metricsserver.scraper.decode import Batch, Point
from metricsserver.storage import Storage

NOW = 1700000100.0


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (123456789, "123456789n"), (250_000_000, "250m"), (2_000_000_000, "2"),
     (1_500_000, "1500u"), (12_000_000_000_000, "12k")],
)  # fmt: skip
def test_cpu_is_written_in_nanocores_canonically(value: int, text: str) -> None:
    assert objects.nanocores(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (123456, "123456"), (1048576, "1Mi"), (3072, "3Ki")]
)
def test_memory_is_written_in_binary_units(value: int, text: str) -> None:
    assert objects.binary_bytes(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(15.012, "15.012s"), (10.0, "10s"), (60.5, "1m0.5s"), (0, "0s")]
)
def test_windows_are_go_durations(seconds: float, text: str) -> None:
    assert objects.go_duration(seconds) == text


def api() -> MetricsAPI:
    storage = Storage(15.0)
    for at, cpu in ((1700000000.0, 10), (1700000015.0, 13)):
        storage.store(
            Batch(
                {"node-1": Point(at, cpu * 10**9, 2**30)},
                {
                    ("ns", "web"): {"app": Point(at, cpu * 10**8, 2**20, 1.0)},
                    ("other", "db"): {"db": Point(at, cpu * 10**7, 2**21, 1.0)},
                },
            )
        )
    snapshot = Snapshot()
    snapshot.nodes = {"node-1": {"role": "worker"}, "node-2": {}}
    snapshot.pods = {("ns", "web"): {"app": "web"}, ("other", "db"): {}, ("ns", "new"): {}}
    return MetricsAPI(storage, snapshot, None, None, lambda: True, clock=lambda: NOW)


@pytest_asyncio.fixture
async def client() -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(api().application())) as c:
        yield c


async def test_node_metrics_as_metrics_server_writes_them(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/apis/metrics.k8s.io/v1beta1/nodes")
    assert response.status == 200
    assert await response.json() == {
        "kind": "NodeMetricsList",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {},
        "items": [
            {
                "kind": "NodeMetrics",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {
                    "name": "node-1",
                    "creationTimestamp": "2023-11-14T22:15:00Z",
                    "labels": {"role": "worker"},
                },
                "timestamp": "2023-11-14T22:13:35Z",
                "window": "15s",
                "usage": {"cpu": "200m", "memory": "1Gi"},
            }
        ],
    }
    missing = await client.get("/apis/metrics.k8s.io/v1beta1/nodes/node-2")
    assert (missing.status, (await missing.json())["message"]) == (
        404,
        'nodemetrics.metrics.k8s.io "node-2" not found',
    )


async def test_pod_metrics_by_namespace_and_selector(client: TestClient) -> None:  # type: ignore[type-arg]
    every = await (await client.get("/apis/metrics.k8s.io/v1beta1/pods")).json()
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in every["items"]] == [
        ("ns", "web"),
        ("other", "db"),
    ]
    selected = await client.get(
        "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods", params={"labelSelector": "app=web"}
    )
    [web] = (await selected.json())["items"]
    assert web["containers"] == [{"name": "app", "usage": {"cpu": "20m", "memory": "1Mi"}}]
    assert (web["kind"], web["window"]) == ("PodMetrics", "15s")
    none = await client.get(
        "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods", params={"labelSelector": "app=db"}
    )
    assert (await none.json())["items"] == []
    bad = await client.get("/apis/metrics.k8s.io/v1beta1/pods", params={"labelSelector": "a in"})
    assert bad.status == 400
    new = await client.get("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/new")
    assert (new.status, (await new.json())["message"]) == (
        404,
        'podmetrics.metrics.k8s.io "new" not found',
    )


async def test_the_resource_list(client: TestClient) -> None:  # type: ignore[type-arg]
    listed = await (await client.get("/apis/metrics.k8s.io/v1beta1")).json()
    assert [(r["name"], r["kind"], r["verbs"]) for r in listed["resources"]] == [
        ("nodes", "NodeMetrics", ["get", "list"]),
        ("pods", "PodMetrics", ["get", "list"]),
    ]


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("/apis/metrics.k8s.io/v1beta1/nodes", Attributes("list", "nodes")),
        ("/apis/metrics.k8s.io/v1beta1/nodes/n", Attributes("get", "nodes", name="n")),
        ("/apis/metrics.k8s.io/v1beta1/pods", Attributes("list", "pods")),
        ("/apis/metrics.k8s.io/v1beta1/namespaces/a/pods", Attributes("list", "pods", "a")),
        ("/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/p", Attributes("get", "pods", "a", "p")),
        ("/apis/metrics.k8s.io/v1beta1", Attributes("get", path="/apis/metrics.k8s.io/v1beta1")),
        ("/healthz", Attributes("get", path="/healthz")),
    ],
)
def test_each_request_is_authorized_as_its_verb_and_resource(path: str, wanted: Attributes) -> None:
    from aiohttp.test_utils import make_mocked_request

    assert attributes(make_mocked_request("GET", path)) == wanted


def test_the_forbidden_text_is_the_apiservers() -> None:
    user = User("viewer", ("system:authenticated",))
    assert forbidden_message(user, Attributes("list", "pods", "ns"), "") == (
        'pods.metrics.k8s.io is forbidden: User "viewer" cannot list resource "pods" in API '
        'group "metrics.k8s.io" in the namespace "ns"'
    )
    assert forbidden_message(user, Attributes("get", "nodes", name="n"), "") == (
        'nodes.metrics.k8s.io "n" is forbidden: User "viewer" cannot get resource "nodes" in '
        'API group "metrics.k8s.io" at the cluster scope'
    )
