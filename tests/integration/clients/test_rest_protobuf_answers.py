"""Kubernetes' protobuf in both directions at the REST door of the real apiserver (real etcd):
kubectl 1.36's `kubectl debug`, which reads a node or pod and creates a pod in protobuf; GET,
LIST and WATCH asked for in protobuf, read by this test's own decoder (the k8swire messages,
Kubernetes' field numbers); custom resources stay JSON only; JSON clients are unchanged."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s

from apiserver.endpoints.rest.protobuf_kinds import MAGIC, MEDIA_TYPE, WATCH_MEDIA_TYPE
from podplane.api.k8swire.core.v1 import core_pb2
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess

# What client-go's typed clients send when configured for protobuf (kubectl's are).
CLIENT_GO_ACCEPT = f"{MEDIA_TYPE}, */*"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rest-protobuf-answers")) as c:
        yield c


def _request(
    api: k8s.ApiClient, method: str, path: str, accept: str, body: Any = None
) -> tuple[int, str, bytes]:
    """A request with the official client's connection and credentials: the HTTP code, the
    answer's Content-Type and its bytes."""
    params = api.param_serialize(
        method,
        path,
        header_params={"Accept": accept, "Content-Type": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
    )
    response: Any = api.call_api(*params)
    data: bytes = response.read()
    return response.status, str(response.getheader("Content-Type")), data


def _unwrap(data: bytes) -> runtime_pb2.Unknown:
    """The runtime.Unknown after Kubernetes' magic prefix, as client-go reads it."""
    assert data.startswith(MAGIC), data[:20]
    envelope = runtime_pb2.Unknown()
    envelope.ParseFromString(data[len(MAGIC) :])
    return envelope


def _frames(data: bytes) -> list[meta_pb2.WatchEvent]:
    """A protobuf watch stream's events: each a 4-byte big-endian length, then a WatchEvent."""
    events = []
    while data:
        size = int.from_bytes(data[:4], "big")
        event = meta_pb2.WatchEvent()
        event.ParseFromString(data[4 : 4 + size])
        events.append(event)
        data = data[4 + size :]
    return events


def _created_in_protobuf(log: str) -> bool:
    """Whether kubectl's -v=8 log shows a POST sent in protobuf and its 201 answered in
    protobuf (what failed with 415, then 406, before)."""
    posts = [part for part in log.split('"Request" verb=')[1:] if part.startswith('"POST"')]
    sent = any(f"Content-Type: {MEDIA_TYPE}" in post.split('"Response"')[0] for post in posts)
    answers = log.split('"Response" status="201 Created"')[1:]
    answered = any(f"Content-Type: {MEDIA_TYPE}" in a.split('"Request"')[0] for a in answers)
    return sent and answered


async def _namespace(cluster: RestCluster) -> str:
    ns = f"pbd-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", ns)
    return ns


async def _get_json(cluster: RestCluster, *args: str) -> Any:
    return json.loads(await cluster.kubectl_ok("get", "-o", "json", *args))


async def test_kubectl_debug_node_creates_the_node_debugger_pod(cluster: RestCluster) -> None:
    ns = await _namespace(cluster)
    node = f"pbnode-{uuid.uuid4().hex[:6]}"
    manifest = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}
    await cluster.kubectl_ok("create", "-f", "-", stdin=json.dumps(manifest))

    ran = await cluster.kubectl(
        "debug", f"node/{node}", "--image=busybox", "-n", ns, "--profile=general", "-v=8"
    )
    assert ran.code == 0, ran.err[-3000:]
    assert f"Creating debugging pod node-debugger-{node}-" in ran.out
    assert _created_in_protobuf(ran.err), ran.err[-3000:]

    [pod] = (await _get_json(cluster, "pods", "-n", ns))["items"]
    assert pod["metadata"]["name"].startswith(f"node-debugger-{node}-")
    spec = pod["spec"]
    assert spec["nodeName"] == node
    assert spec["hostPID"] is True
    assert spec["hostNetwork"] is True
    assert spec["hostIPC"] is True
    assert spec["restartPolicy"] == "Never"
    [container] = spec["containers"]
    assert (container["name"], container["image"]) == ("debugger", "busybox")
    assert {"mountPath": "/host", "name": "host-root"} in container["volumeMounts"]
    assert {"name": "host-root", "hostPath": {"path": "/"}} in spec["volumes"]
    assert any(t.get("operator") == "Exists" for t in spec["tolerations"])


async def test_kubectl_debug_copy_to_creates_the_copy_with_a_debug_container(
    cluster: RestCluster,
) -> None:
    ns = await _namespace(cluster)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "env": [{"name": "MODE", "value": "fast"}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                }
            ]
        },
    }
    await cluster.kubectl_ok("create", "-f", "-", stdin=json.dumps(pod))

    ran = await cluster.kubectl(
        "debug", "web", "-n", ns, "--copy-to=web-debug", "--image=busybox", "-v=8"
    )
    assert ran.code == 0, ran.err[-3000:]
    assert _created_in_protobuf(ran.err), ran.err[-3000:]

    copy = await _get_json(cluster, "pod", "web-debug", "-n", ns)
    containers = copy["spec"]["containers"]
    web, debugger = containers
    assert web["image"] == "nginx"
    assert web["env"] == [{"name": "MODE", "value": "fast"}]
    assert web["ports"][0]["containerPort"] == 80
    assert "readinessProbe" not in web  # kubectl drops probes unless --keep-readiness
    assert debugger["name"].startswith("debugger-")
    assert debugger["image"] == "busybox"
    # The copy drops the original's labels unless asked to keep them (kubectl's choice).
    assert "app" not in copy["metadata"].get("labels", {})


async def test_get_list_and_watch_answer_protobuf(cluster: RestCluster) -> None:
    ns = await _namespace(cluster)
    api = cluster.api_client()
    await cluster.kubectl_ok("create", "configmap", "one", "-n", ns, "--from-literal=k=v")
    path = f"/api/v1/namespaces/{ns}/configmaps"

    code, content_type, data = await in_thread(_request, api, "GET", f"{path}/one", MEDIA_TYPE)
    assert (code, content_type) == (200, MEDIA_TYPE)
    envelope = _unwrap(data)
    assert (envelope.typeMeta.apiVersion, envelope.typeMeta.kind) == ("v1", "ConfigMap")
    one = core_pb2.ConfigMap()
    one.ParseFromString(envelope.raw)
    assert (one.metadata.name, one.metadata.namespace, dict(one.data)) == ("one", ns, {"k": "v"})
    assert one.metadata.creationTimestamp.seconds > 0
    assert one.metadata.uid

    code, content_type, data = await in_thread(_request, api, "GET", path, CLIENT_GO_ACCEPT)
    assert (code, content_type) == (200, MEDIA_TYPE)
    envelope = _unwrap(data)
    assert envelope.typeMeta.kind == "ConfigMapList"
    # Every list type is ListMeta (1) and items (2).
    metadata, raw_items = _list_items(envelope.raw)
    assert metadata.resourceVersion
    assert [_configmap(raw).metadata.name for raw in raw_items] == ["one"]

    watch = f"{path}?watch=1&resourceVersion={metadata.resourceVersion}&timeoutSeconds=2"
    await cluster.kubectl_ok("create", "configmap", "two", "-n", ns, "--from-literal=a=b")
    code, content_type, data = await in_thread(_request, api, "GET", watch, MEDIA_TYPE)
    assert (code, content_type) == (200, WATCH_MEDIA_TYPE)
    [event] = _frames(data)
    assert event.type == "ADDED"
    added = _unwrap(event.object.raw)
    assert (added.typeMeta.apiVersion, added.typeMeta.kind) == ("v1", "ConfigMap")
    assert _configmap(added.raw).data["a"] == "b"


def _configmap(raw: bytes) -> core_pb2.ConfigMap:
    out = core_pb2.ConfigMap()
    out.ParseFromString(raw)
    return out


def _list_items(raw: bytes) -> tuple[meta_pb2.ListMeta, list[bytes]]:
    """A <Kind>List message read field by field: ListMeta (1), then each item (2)."""
    metadata, items = meta_pb2.ListMeta(), []
    while raw:
        key, raw = _varint(raw)
        size, raw = _varint(raw)
        assert key & 7 == 2, key
        value, raw = raw[:size], raw[size:]
        if key >> 3 == 1:
            metadata.ParseFromString(value)
        else:
            assert key >> 3 == 2
            items.append(value)
    return metadata, items


def _varint(raw: bytes) -> tuple[int, bytes]:
    value, shift = 0, 0
    for i, byte in enumerate(raw):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, raw[i + 1 :]
    raise AssertionError("a varint cut short")


async def test_an_error_is_a_protobuf_status_when_only_protobuf_is_accepted(
    cluster: RestCluster,
) -> None:
    api = cluster.api_client()
    code, content_type, data = await in_thread(
        _request, api, "GET", "/api/v1/namespaces/default/pods/no-such-pod", MEDIA_TYPE
    )
    assert (code, content_type) == (404, MEDIA_TYPE)
    envelope = _unwrap(data)
    assert (envelope.typeMeta.apiVersion, envelope.typeMeta.kind) == ("v1", "Status")
    status = meta_pb2.Status()
    status.ParseFromString(envelope.raw)
    assert (status.status, status.reason, status.code) == ("Failure", "NotFound", 404)
    assert status.message == 'pods "no-such-pod" not found'


async def test_json_clients_are_answered_json_as_before(cluster: RestCluster) -> None:
    ns = await _namespace(cluster)
    await cluster.kubectl_ok("create", "configmap", "plain", "-n", ns, "--from-literal=x=y")
    api = cluster.api_client()
    code, content_type, data = await in_thread(
        _request, api, "GET", f"/api/v1/namespaces/{ns}/configmaps/plain", "application/json"
    )
    assert (code, content_type) == (200, "application/json")
    assert json.loads(data)["data"] == {"x": "y"}
    core = k8s.CoreV1Api(api)
    listed = await in_thread(core.list_namespaced_config_map, ns)
    assert [c.metadata.name for c in listed.items] == ["plain"]
    assert (await _get_json(cluster, "configmap", "plain", "-n", ns))["data"] == {"x": "y"}


async def test_a_custom_resource_is_json_only(cluster: RestCluster) -> None:
    """Protobuf first and JSON next gets JSON; protobuf alone is a 406, as in Kubernetes."""
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.pb.example.com"},
        "spec": {
            "group": "pb.example.com",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    await cluster.kubectl_ok("create", "-f", "-", stdin=json.dumps(crd))
    api = cluster.api_client()
    path = "/apis/pb.example.com/v1/namespaces/default/gadgets"
    code = 0
    for _ in range(50):  # the new group is served a moment after the definition is stored
        code, content_type, data = await in_thread(_request, api, "GET", path, CLIENT_GO_ACCEPT)
        if code == 200:
            break
        await asyncio.sleep(0.1)
    assert (code, content_type) == (200, "application/json")
    assert json.loads(data)["kind"] == "GadgetList"
    code, _, _ = await in_thread(_request, api, "GET", path, MEDIA_TYPE)
    assert code == 406
