"""events.k8s.io/v1 Event and v1 ComponentStatus against the real apiserver over real etcd,
through kubectl, the official `kubernetes` client and the gRPC door: an event written at one
version is read at the other with each field in its place (one stored Event), the strict
validation's 422 naming the field, kubectl's tables and explain; `kubectl get cs` probing real
HTTP servers this module starts (one healthy, one port that refuses), with Kubernetes' rows and
its deprecation warning once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from apiserver.options.component_status import ComponentStatusOptions
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from tests.integration.networking_kinds import columns
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually, free_port

WARNING = "Warning: v1 ComponentStatus is deprecated in v1.19+"


@pytest_asyncio.fixture(scope="module")
async def healthy_url() -> AsyncIterator[str]:
    """A component whose /healthz answers 200 ok."""

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/healthz"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory, healthy_url: str
) -> AsyncIterator[RestCluster]:
    refused = f"http://127.0.0.1:{free_port()}/healthz"  # nothing listens there
    options = ComponentStatusOptions(scheduler_url=healthy_url, controller_manager_url=refused)
    folder = tmp_path_factory.mktemp("events-cs")
    async with rest_cluster(etcd, folder, component_status=options) as c:
        yield c


@pytest_asyncio.fixture
async def namespace(cluster: RestCluster) -> AsyncIterator[str]:
    name = f"ev-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    try:
        yield name
    finally:
        await cluster.kubectl("delete", "events", "--all", "-n", name)
        await cluster.kubectl("delete", "namespace", name, "--wait=false")


async def _more_etcd_watchers(etcd: EtcdProcess, than: int) -> bool:
    return etcd.watchers() > than


def _pod(ns: str) -> dict[str, str]:
    return {"kind": "Pod", "namespace": ns, "name": "web", "uid": "u-1", "apiVersion": "v1"}


# ------------------------------------------------------------------ one Event, two versions


async def test_a_core_event_is_read_through_events_k8s_io_field_by_field(
    cluster: RestCluster, namespace: str
) -> None:
    api = cluster.api_client()
    core = k8s.CoreV1Api(api)
    events = k8s.EventsV1Api(api)
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.1", "namespace": namespace},
        "involvedObject": _pod(namespace),
        "related": {"kind": "Node", "name": "node-1", "apiVersion": "v1"},
        "reason": "Started",
        "message": "Started container main",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2026-01-02T03:04:05Z",
        "lastTimestamp": "2026-01-02T03:05:05Z",
        "count": 3,
        "type": "Normal",
        "reportingComponent": "kubernetes.io/kubelet",
        "reportingInstance": "node-1",
        "action": "Starting",
        "eventTime": "2026-01-02T03:04:05.123456Z",
        "series": {"count": 2, "lastObservedTime": "2026-01-02T03:05:05.000001Z"},
    }
    await in_thread(core.create_namespaced_event, namespace, body)
    got = await in_thread(events.read_namespaced_event, "web.1", namespace, _preload_content=False)
    read = json.loads(got.data)
    assert (read["apiVersion"], read["kind"]) == ("events.k8s.io/v1", "Event")
    assert read["regarding"] == body["involvedObject"]
    assert read["related"] == body["related"]
    assert read["note"] == "Started container main"
    assert read["reportingController"] == "kubernetes.io/kubelet"
    assert read["reportingInstance"] == "node-1"
    assert (read["type"], read["reason"], read["action"]) == ("Normal", "Started", "Starting")
    assert read["eventTime"] == "2026-01-02T03:04:05.123456Z"
    assert read["series"] == {"count": 2, "lastObservedTime": "2026-01-02T03:05:05.000001Z"}
    assert read["deprecatedSource"] == {"component": "kubelet", "host": "node-1"}
    assert read["deprecatedFirstTimestamp"] == "2026-01-02T03:04:05Z"
    assert read["deprecatedLastTimestamp"] == "2026-01-02T03:05:05Z"
    assert read["deprecatedCount"] == 3
    for core_only in ("involvedObject", "message", "source", "count", "reportingComponent"):
        assert core_only not in read
    listed = await in_thread(events.list_namespaced_event, namespace)
    assert [(e.metadata.name, e.note) for e in listed.items] == [
        ("web.1", "Started container main")
    ]
    # The official client's model of it too.
    model = await in_thread(events.read_namespaced_event, "web.1", namespace)
    assert model.regarding.name == "web" and model.series.count == 2


async def test_an_events_k8s_io_event_is_read_through_core_v1(
    cluster: RestCluster, namespace: str
) -> None:
    api = cluster.api_client()
    events = k8s.EventsV1Api(api)
    core = k8s.CoreV1Api(api)
    created = await in_thread(
        events.create_namespaced_event,
        namespace,
        k8s.EventsV1Event(
            metadata=k8s.V1ObjectMeta(name="ctl.1", namespace=namespace),
            event_time=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
            reporting_controller="example.com/ctl",
            reporting_instance="ctl-0",
            action="Reconcile",
            reason="Synced",
            regarding=k8s.V1ObjectReference(**_pod(namespace)),
            note="synced web",
            type="Warning",
        ),
    )
    assert created.note == "synced web"
    got = await in_thread(core.read_namespaced_event, "ctl.1", namespace, _preload_content=False)
    read = json.loads(got.data)
    assert (read["apiVersion"], read["kind"]) == ("v1", "Event")
    assert read["involvedObject"] == _pod(namespace)
    assert read["message"] == "synced web"
    assert read["reportingComponent"] == "example.com/ctl"
    assert read["reportingInstance"] == "ctl-0"
    assert (read["action"], read["reason"], read["type"]) == ("Reconcile", "Synced", "Warning")
    assert read["eventTime"] == "2026-01-02T03:04:05.123456Z"
    # kubectl's tables of both versions: Kubernetes' event columns; a singleton counts 1.
    table = await cluster.kubectl_ok("get", "events.events.k8s.io", "-n", namespace, "-o", "wide")
    assert table.splitlines()[0].split() == [
        "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE",
        "FIRST", "SEEN", "COUNT", "NAME",
    ]  # fmt: skip
    line = table.splitlines()[1]
    for cell in ("Warning", "Synced", "pod/web", "example.com/ctl, ctl-0", "synced web", "ctl.1"):
        assert cell in line
    out = await cluster.kubectl_ok("events", "-n", namespace)
    assert out.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "Synced" in out and "Pod/web" in out and "synced web" in out


async def test_a_watch_at_events_k8s_io_sees_a_core_write(
    cluster: RestCluster, namespace: str
) -> None:
    seen: list[tuple[str, str]] = []

    async def collect() -> None:
        async for ev in cluster.grpc.events_v1.watch(namespace):
            seen.append((ev.type, ev.object.note))
            return

    before = cluster.etcd.watchers()
    watcher = asyncio.create_task(collect())
    # Events have no watch cache: the watch reads them from etcd, then watches etcd from there;
    # once its etcd watch is registered, the write comes as a change.
    await eventually(
        lambda: _more_etcd_watchers(cluster.etcd, before),
        10,
        interval=0.05,
        what="the events watch to register with etcd",
    )
    await cluster.kubectl_ok(
        "-n", namespace, "create", "-f", "-",
        stdin=json.dumps({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "w.1"}, "involvedObject": _pod(namespace),
            "reason": "Pulled", "message": "pulled busybox", "type": "Normal",
        }),
    )  # fmt: skip
    async with asyncio.timeout(10):
        await watcher
    assert seen == [("ADDED", "pulled busybox")]
    got = await cluster.grpc.events_v1.get("w.1", namespace)
    assert got.regarding.name == "web" and got.note == "pulled busybox"


async def test_strict_validation_is_a_422_naming_the_field(
    cluster: RestCluster, namespace: str
) -> None:
    events = k8s.EventsV1Api(cluster.api_client())
    body: dict[str, Any] = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "bad.1"},
        "eventTime": "2026-01-02T03:04:05.000000Z",
        "reportingInstance": "ctl-0",
        "action": "Reconcile",
        "reason": "Synced",
        "regarding": _pod(namespace),
        "note": "n" * 1025,
        "type": "Normal",
    }
    with pytest.raises(ApiException) as e:
        await in_thread(events.create_namespaced_event, namespace, body)
    assert e.value.status == 422
    status = json.loads(e.value.body or "{}")
    assert status["reason"] == "Invalid"
    causes = {(c["field"], c["reason"]) for c in status["details"]["causes"]}
    assert ("reportingController", "FieldValueRequired") in causes
    assert ("message", "FieldValueInvalid") in causes
    assert "reportingController: Required value" in status["message"]
    # The same event through core v1 is accepted (only the legacy rules apply there).
    core = {k: v for k, v in body.items() if k in ("metadata",)}
    core.update(apiVersion="v1", kind="Event", involvedObject=_pod(namespace), reason="Synced")
    await in_thread(k8s.CoreV1Api(cluster.api_client()).create_namespaced_event, namespace, core)


async def test_discovery_and_explain(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("api-resources", "--api-group=events.k8s.io")
    assert out.splitlines()[1].split() == ["events", "ev", "events.k8s.io/v1", "true", "Event"]
    explained = await cluster.kubectl_ok("explain", "events", "--api-version=events.k8s.io/v1")
    assert "GROUP:      events.k8s.io" in explained
    assert "reportingController\t<string>" in explained
    assert "deprecatedCount\t<integer>" in explained
    cs = await cluster.kubectl_ok("api-resources", "--api-group=")
    (row,) = [line.split() for line in cs.splitlines() if line.startswith("componentstatuses ")]
    assert row == ["componentstatuses", "cs", "v1", "false", "ComponentStatus"]


# ------------------------------------------------------------------ component statuses


async def test_kubectl_get_cs(cluster: RestCluster, healthy_url: str) -> None:
    ran = await cluster.kubectl("get", "cs")
    assert ran.code == 0, ran.err
    assert ran.err.count(WARNING) == 1
    refused = cluster.server.component_status.controller_manager_url
    port = refused.split(":")[2].split("/")[0]
    assert ran.lines()[0].split() == ["NAME", "STATUS", "MESSAGE", "ERROR"]
    assert columns(ran.out) == [
        {
            "NAME": "controller-manager",
            "STATUS": "Unhealthy",
            "MESSAGE": f'Get "{refused}": dial tcp 127.0.0.1:{port}: connect: connection refused',
            "ERROR": "",
        },
        {"NAME": "etcd-0", "STATUS": "Healthy", "MESSAGE": "ok", "ERROR": ""},
        {"NAME": "scheduler", "STATUS": "Healthy", "MESSAGE": "ok", "ERROR": ""},
    ]
    one = json.loads(await cluster.kubectl_ok("get", "componentstatus", "scheduler", "-o", "json"))
    assert one["conditions"] == [{"type": "Healthy", "status": "True", "message": "ok"}]
    explained = await cluster.kubectl_ok("explain", "cs.conditions")
    assert "KIND:       ComponentStatus" in explained and "error\t<string>" in explained
    missing = await cluster.kubectl("get", "cs", "nope")
    assert missing.code == 1
    assert "Component not found: nope" in missing.err


async def test_component_statuses_through_the_official_client_and_grpc(
    cluster: RestCluster,
) -> None:
    listed = await in_thread(k8s.CoreV1Api(cluster.api_client()).list_component_status)
    assert [(i.metadata.name, i.conditions[0].status) for i in listed.items] == [
        ("controller-manager", "False"),
        ("etcd-0", "True"),
        ("scheduler", "True"),
    ]
    stub = resources.COMPONENT_STATUS.stub(cluster.grpc.channel)
    got = await stub.Get(meta_pb2.GetRequest(name="etcd-0"))
    assert got.conditions[0].message == "ok"
