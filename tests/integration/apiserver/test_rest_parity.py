"""The two front doors are one API: an object written through either reads back the same through
the other, and the same bad request is refused with the same reason and message, as a gRPC code
over gRPC (podplane's client) and as the matching HTTP code and metav1.Status over REST (the
official `kubernetes` client, with TLS and the same users)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pytest
import pytest_asyncio
from google.protobuf.message import Message
from kubernetes import client as k8s

from apiserver.objects import object_meta
from podplane.api.apps.v1 import apps_pb2
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, manifest, resources
from podplane.client.clientset import Client
from podplane.client.clientset import binding as binding_of
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.pki_support import token_credentials
from tests.support import EtcdProcess

M = TypeVar("M", bound=Message)


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rest-parity")) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: RestCluster) -> k8s.ApiClient:
    return cluster.api_client()


@pytest_asyncio.fixture(scope="module")
async def grpc_viewer(cluster: RestCluster) -> AsyncIterator[Client]:
    async with Client(
        f"127.0.0.1:{cluster.server.token_port}",
        timeout=10,
        credentials=token_credentials(cluster.pki, "viewer"),
    ) as viewer:
        yield viewer


@pytest_asyncio.fixture
async def ns(cluster: RestCluster) -> str:
    name = f"parity-{uuid.uuid4().hex[:6]}"
    await cluster.grpc.namespaces.create(
        manifest.from_dict({"metadata": {"name": name}}, core_pb2.Namespace)
    )
    return name


def objects(ns: str) -> list[tuple[str, Message]]:
    """One object of each kind with many of its fields set: (its REST collection path, it)."""
    pod = manifest.from_dict(
        {
            "metadata": {
                "name": "rich",
                "namespace": ns,
                "labels": {"app": "rich"},
                "annotations": {"note": "ünïcode ✓"},
            },
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "command": ["nginx", "-g", "daemon off;"],
                        "ports": [{"containerPort": 80, "name": "http"}],
                        "env": [{"name": "MODE", "value": "fast"}, {"name": "EMPTY", "value": ""}],
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                            "limits": {"cpu": "1"},
                        },
                        "readinessProbe": {
                            "httpGet": {"path": "/", "port": "http"},
                            "periodSeconds": 5,
                        },
                        "livenessProbe": {"tcpSocket": {"port": 80}},
                        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                    }
                ],
                "volumes": [{"name": "scratch", "emptyDir": {}}],
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [
                    {
                        "key": "dedicated",
                        "operator": "Equal",
                        "value": "web",
                        "effect": "NoSchedule",
                    }
                ],
                "terminationGracePeriodSeconds": 5,
            },
        },
        core_pb2.Pod,
    )
    deployment = manifest.from_dict(
        {
            "metadata": {"name": "rich", "namespace": ns},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "rich"}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 0},
                },
                "template": {
                    "metadata": {"labels": {"app": "rich"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        apps_pb2.Deployment,
    )
    config = manifest.from_dict(
        {"metadata": {"name": "rich", "namespace": ns}, "data": {"a": "1", "empty": ""}},
        core_pb2.ConfigMap,
    )
    config.binary_data["bytes"] = b"\x00\x01\xff"
    secret = manifest.from_dict(
        {"metadata": {"name": "rich", "namespace": ns}, "type": "Opaque"}, core_pb2.Secret
    )
    secret.data["password"] = b"hunter2"
    lease = manifest.from_dict(
        {
            "metadata": {"name": "rich", "namespace": ns},
            "spec": {
                "holderIdentity": "me",
                "leaseDurationSeconds": 15,
                "renewTime": "2026-01-01T00:00:00.123456Z",
            },
        },
        lease_pb2.Lease,
    )
    return [
        (f"/api/v1/namespaces/{ns}/pods", pod),
        (f"/apis/apps/v1/namespaces/{ns}/deployments", deployment),
        (f"/api/v1/namespaces/{ns}/configmaps", config),
        (f"/api/v1/namespaces/{ns}/secrets", secret),
        (f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", lease),
    ]


def renamed(obj: M, name: str) -> M:
    copy = type(obj)()
    copy.CopyFrom(obj)
    object_meta(copy).name = name
    return copy


async def test_objects_written_through_one_door_read_back_the_same_through_the_other(
    cluster: RestCluster, api: k8s.ApiClient, ns: str
) -> None:
    for path, obj in objects(ns):
        typed = cluster.grpc.for_resource(next(r for r in resources.ALL if r.message is type(obj)))

        # Written over gRPC, read over REST: the JSON is the stored object, field for field.
        via_grpc = await typed.create(renamed(obj, "via-grpc"))
        code, read = await in_thread(raw_request, api, "GET", f"{path}/via-grpc")
        assert code == 200, read
        assert codec.decode(type(obj), read)[0] == via_grpc, path
        assert read["metadata"]["resourceVersion"] == via_grpc.metadata.resource_version

        # Written over REST, read over gRPC: the same object the REST door answered.
        body = codec.encode(renamed(obj, "via-rest"))
        code, created = await in_thread(raw_request, api, "POST", path, body)
        assert code == 201, created
        stored = await typed.get("via-rest", ns)
        assert codec.encode(stored) == created, path
        # And both doors' copies differ only in what each write made its own: its manager
        # (each client's user agent names it) and when it wrote.
        for meta in ("name", "uid", "resourceVersion", "creationTimestamp"):
            created["metadata"].pop(meta), read["metadata"].pop(meta)
        for entry in (*created["metadata"]["managedFields"], *read["metadata"]["managedFields"]):
            entry.pop("manager"), entry.pop("time")
        assert created == read, path

    # The official client's models read both.
    core = k8s.CoreV1Api(api)
    pods = {p.metadata.name: p for p in (await in_thread(core.list_namespaced_pod, ns)).items}
    for name in ("via-grpc", "via-rest"):
        container = pods[name].spec.containers[0]
        assert container.resources.requests == {"cpu": "100m", "memory": "64Mi"}
        assert container.readiness_probe.http_get.port == "http"
        assert container.liveness_probe.tcp_socket.port == 80
        assert pods[name].metadata.annotations == {"note": "ünïcode ✓"}
    config = await in_thread(core.read_namespaced_config_map, "via-grpc", ns)
    assert config.binary_data == {"bytes": "AAH/"} and config.data == {"a": "1", "empty": ""}


@dataclass(frozen=True)
class Refusal:
    grpc_code: grpc.StatusCode
    http_code: int
    reason: str


NOT_FOUND = Refusal(grpc.StatusCode.NOT_FOUND, 404, "NotFound")
ALREADY_EXISTS = Refusal(grpc.StatusCode.ALREADY_EXISTS, 409, "AlreadyExists")
CONFLICT = Refusal(grpc.StatusCode.ABORTED, 409, "Conflict")
INVALID = Refusal(grpc.StatusCode.INVALID_ARGUMENT, 422, "Invalid")
FORBIDDEN = Refusal(grpc.StatusCode.PERMISSION_DENIED, 403, "Forbidden")


async def grpc_refusal(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), info.value.details() or ""


async def test_the_same_bad_request_is_refused_the_same_way_by_both_doors(
    cluster: RestCluster, api: k8s.ApiClient, grpc_viewer: Client, ns: str
) -> None:
    pods = cluster.grpc.pods
    existing = await pods.create(
        manifest.from_dict(
            {
                "metadata": {"name": "exists", "namespace": ns},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
            core_pb2.Pod,
        )
    )
    stale = renamed(existing, "exists")
    await in_thread(
        k8s.CoreV1Api(api).patch_namespaced_pod,
        "exists",
        ns,
        {"metadata": {"labels": {"changed": "yes"}}},
    )
    invalid = manifest.from_dict(
        {
            "metadata": {"name": "Invalid_Name", "namespace": ns},
            "spec": {"containers": [{"name": "c"}]},
        },
        core_pb2.Pod,
    )
    elsewhere = renamed(existing, "elsewhere")
    elsewhere.metadata.namespace = "no-such-namespace"
    elsewhere.metadata.resource_version = elsewhere.metadata.uid = ""
    fresh = renamed(existing, "fresh")
    fresh.metadata.resource_version = fresh.metadata.uid = ""
    viewer_api = cluster.api_client("viewer")
    pods_path = f"/api/v1/namespaces/{ns}/pods"

    cases: list[tuple[str, Refusal, Callable[[], Awaitable[Any]], Any]] = [
        (
            "get a missing pod",
            NOT_FOUND,
            lambda: pods.get("missing", ns),
            (api, "GET", f"{pods_path}/missing", None),
        ),
        (
            "create an existing pod",
            ALREADY_EXISTS,
            lambda: pods.create(renamed(fresh, "exists")),
            (api, "POST", pods_path, codec.encode(renamed(fresh, "exists"))),
        ),
        (
            "update from a stale version",
            CONFLICT,
            lambda: pods.update(stale),
            (api, "PUT", f"{pods_path}/exists", codec.encode(stale)),
        ),
        (
            "create an invalid pod",
            INVALID,
            lambda: pods.create(invalid),
            (api, "POST", pods_path, codec.encode(invalid)),
        ),
        (
            "create in a namespace that does not exist",
            NOT_FOUND,
            lambda: pods.create(elsewhere),
            (api, "POST", "/api/v1/namespaces/no-such-namespace/pods", codec.encode(elsewhere)),
        ),
        (
            "delete as the viewer",
            FORBIDDEN,
            lambda: grpc_viewer.pods.delete("exists", ns),
            (viewer_api, "DELETE", f"{pods_path}/exists", None),
        ),
        (
            "create as the viewer",
            FORBIDDEN,
            lambda: grpc_viewer.pods.create(fresh),
            (viewer_api, "POST", pods_path, codec.encode(fresh)),
        ),
    ]
    for what, refusal, over_grpc, (client, method, path, body) in cases:
        grpc_code, grpc_message = await grpc_refusal(over_grpc())
        http_code, status = await in_thread(raw_request, client, method, path, body)
        assert (grpc_code, http_code, status["reason"]) == (
            refusal.grpc_code,
            refusal.http_code,
            refusal.reason,
        ), what
        assert status["message"] == grpc_message, what
        assert status["code"] == http_code and status["kind"] == "Status", what
    # Nothing refused was written.
    names = {p.metadata.name for p in (await pods.list(ns)).items}
    assert names == {"exists"}


async def test_a_list_in_pages_is_the_same_through_both_doors(
    cluster: RestCluster, api: k8s.ApiClient, ns: str
) -> None:
    for i in range(3):
        await cluster.grpc.configmaps.create(
            manifest.from_dict(
                {"metadata": {"name": f"cm-{i}", "namespace": ns}}, core_pb2.ConfigMap
            )
        )
    first = await cluster.grpc.configmaps.list(ns, limit=2)
    code, page = await in_thread(
        raw_request, api, "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=2"
    )
    assert code == 200
    assert (
        [c["metadata"]["name"] for c in page["items"]]
        == [c.metadata.name for c in first.items]
        == ["cm-0", "cm-1"]
    )
    assert page["metadata"]["remainingItemCount"] == first.metadata.remaining_item_count == 1
    # A continue token from one door continues the list through the other.
    code, rest = await in_thread(
        raw_request,
        api,
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?limit=2&continue={first.metadata.continue_token}",
    )
    second = await cluster.grpc.configmaps.list(
        ns, limit=2, continue_token=page["metadata"]["continue"]
    )
    assert (
        [c["metadata"]["name"] for c in rest["items"]]
        == [c.metadata.name for c in second.items]
        == ["cm-2"]
    )
    assert "continue" not in rest["metadata"] and not second.metadata.continue_token


async def test_a_binding_answers_the_same_status_through_both_doors(
    cluster: RestCluster, api: k8s.ApiClient, ns: str
) -> None:
    for name in ("by-grpc", "by-rest"):
        await cluster.grpc.pods.create(
            manifest.from_dict(
                {
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
                core_pb2.Pod,
            )
        )
    path = f"/api/v1/namespaces/{ns}/pods/by-rest/binding"
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "by-rest"},
        "target": {"kind": "Node", "name": "node-a"},
    }
    http_code, status = await in_thread(raw_request, api, "POST", path, binding)
    assert (http_code, status) == (
        201,
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
    )
    # The gRPC door's answer is the same Status (podplane's client only checks that it came).
    stub = resources.POD.stub(cluster.grpc.channel)
    answer = await stub.Bind(binding_of(ns, "by-grpc", "node-a"))
    assert codec.encode(answer) == status
    # Bound once: a second binding is refused the same way by both.
    grpc_code, grpc_message = await grpc_refusal(cluster.grpc.bind(ns, "by-grpc", "node-b"))
    http_code, refused = await in_thread(raw_request, api, "POST", path, binding)
    assert (grpc_code, http_code, refused["reason"]) == (grpc.StatusCode.ABORTED, 409, "Conflict")
    assert 'pod by-grpc is already assigned to node "node-a"' in grpc_message
    assert refused["message"] == grpc_message.replace("by-grpc", "by-rest")
    for name in ("by-grpc", "by-rest"):
        assert (await cluster.grpc.pods.get(name, ns)).spec.node_name == "node-a"
