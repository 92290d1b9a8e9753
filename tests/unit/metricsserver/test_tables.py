"""NodeMetrics and PodMetrics as the Table kubectl get asks for (metrics-server's table.go): Name,
a quantity column per resource (cpu, memory), Window; a pod's row sums its containers; an empty
list has no columns; rows carry metadata, the object or nothing as includeObject says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from metricsserver.api import table
from metricsserver.api.server import MetricsAPI, Snapshot
from metricsserver.scraper.decode import Batch, Point
from metricsserver.storage import Storage

KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
NAME, WINDOW = (
    {"name": "Name", "type": "string", "format": "name", "description": "Name of the resource",
     "priority": 0},
    {"name": "Window", "type": "string", "format": "duration", "description": "", "priority": 0},
)  # fmt: skip


def quantity_column(name: str) -> dict[str, object]:
    return {"name": name, "type": "string", "format": "quantity", "description": "", "priority": 0}


@pytest.mark.parametrize(
    ("accept", "version"),
    [
        (KUBECTL_ACCEPT, "v1"),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io", "v1beta1"),
        ("application/json", None),
        ("application/json;as=Table;v=v2;g=meta.k8s.io", None),
    ],
)
def test_the_table_version_asked_for(accept: str, version: str | None) -> None:
    assert table.wants_table(accept) == version


def api() -> MetricsAPI:
    storage = Storage(15.0)
    for at, cpu in ((1700000000.0, 10), (1700000015.0, 13)):
        storage.store(
            Batch(
                {"node-1": Point(at, cpu * 10**9, 2**30)},
                {
                    ("ns", "web"): {
                        "app": Point(at, cpu * 10**8, 2**20, 1.0),
                        "sidecar": Point(at, cpu * 10**7, 2**20, 1.0),
                    }
                },
            )
        )
    snapshot = Snapshot()
    snapshot.nodes = {"node-1": {}}
    snapshot.pods = {("ns", "web"): {"app": "web"}}
    return MetricsAPI(storage, snapshot, None, None, lambda: True, clock=lambda: 1700000100.0)


@pytest_asyncio.fixture
async def client() -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(api().application())) as c:
        yield c


async def test_kubectl_get_nodemetrics(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(
        "/apis/metrics.k8s.io/v1beta1/nodes", headers={"Accept": KUBECTL_ACCEPT}
    )
    assert response.status == 200
    answer = await response.json()
    assert (answer["kind"], answer["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert answer["columnDefinitions"] == [
        NAME,
        quantity_column("cpu"),
        quantity_column("memory"),
        WINDOW,
    ]
    (row,) = answer["rows"]
    assert row["cells"] == ["node-1", "200m", "1Gi", "15s"]  # 3 s of CPU over 15 s
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "node-1"


async def test_a_pods_row_sums_its_containers(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(
        "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web",
        params={"includeObject": "Object"},
        headers={"Accept": KUBECTL_ACCEPT},
    )
    (row,) = (await response.json())["rows"]
    # app: 0.3 s and sidecar 0.03 s over 15 s; 1 MiB each.
    assert row["cells"] == ["web", "22m", "2Mi", "15s"]
    assert row["object"]["kind"] == "PodMetrics"


async def test_an_empty_list_has_no_columns(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(
        "/apis/metrics.k8s.io/v1beta1/namespaces/none/pods",
        params={"includeObject": "None"},
        headers={"Accept": KUBECTL_ACCEPT},
    )
    answer = await response.json()
    assert (answer["columnDefinitions"], answer["rows"]) == ([], [])


async def test_an_unknown_include_object_is_a_bad_request(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(
        "/apis/metrics.k8s.io/v1beta1/nodes",
        params={"includeObject": "Everything"},
        headers={"Accept": KUBECTL_ACCEPT},
    )
    assert response.status == 400
    assert (await response.json())["message"] == 'unrecognized includeObject value: "Everything"'
