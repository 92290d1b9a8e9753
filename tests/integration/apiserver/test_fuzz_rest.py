"""The REST door under bad input (real apiserver, real etcd of its own, TLS, the admin's
certificate): the cases that once answered 500, Kubernetes' limits, and a fixed slice of the
fuzzer (tests/fuzz), after which the apiserver is ready and what it stored before is unchanged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import yaml

from apiserver.endpoints.request import MAX_REQUEST_BYTES
from podplane.apimachinery import resources
from podplane.apimachinery.json_text import MAX_DEPTH
from podplane.apimachinery.json_types import JSONObject, JSONValue
from tests.fuzz import samples
from tests.fuzz.rest_door import Door, Request, admin_ssl, fuzz_rest, send
from tests.fuzz.rest_oracle import judge
from tests.integration.control_plane import etcd_process
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, new_namespace

# The slice every CI run fuzzes: requests and seed fixed, so a failure reproduces.
SLICE_REQUESTS = 1500
SLICE_SEED = 26


@pytest.fixture(scope="module")
def own_etcd() -> Iterator[EtcdProcess]:
    """An etcd of its own: the fuzzer creates nodes and namespaces other modules must not see."""
    with etcd_process() as process:
        yield process


@pytest_asyncio.fixture(scope="module")
async def cluster(
    own_etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(own_etcd, tmp_path_factory.mktemp("fuzz-rest")) as c:
        yield c


@pytest.fixture(scope="module")
def door(cluster: RestCluster) -> Door:
    pki: Path = cluster.pki
    context = admin_ssl(str(pki / "ca.crt"), str(pki / "admin.crt"), str(pki / "admin.key"))
    return Door(f"https://127.0.0.1:{cluster.rest_port}", context)


@pytest_asyncio.fixture(scope="module")
async def namespace(cluster: RestCluster) -> str:
    return await new_namespace(cluster.grpc, "fuzz-")


async def answer(door: Door, request: Request) -> tuple[int, JSONValue]:
    """The answer's code and body, after the fuzzer's oracle has found nothing wrong with it."""
    async with aiohttp.ClientSession() as session:
        code, content_type, body = await send(session, door, request)
    problem = judge(request.method, request.accept, code, content_type, body)
    assert problem is None, problem
    if content_type.startswith("application/yaml"):
        return code, yaml.safe_load(body)
    return code, json.loads(body)


def pod(name: str, **labels: str) -> JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }


def create_pod(namespace: str, body: bytes, content_type: str = "application/json") -> Request:
    return Request(
        "POST",
        f"/api/v1/namespaces/{namespace}/pods",
        [("fieldValidation", "Strict")],
        body,
        content_type,
    )


async def test_a_lone_surrogate_is_decoded_as_go_does_and_then_validated(
    door: Door, namespace: str
) -> None:
    """Go's decoder makes "\\ud83d" U+FFFD, which is no label value: a 422 naming the field, as
    Kubernetes answers (it was a 500: the surrogate could not be encoded)."""
    body = json.dumps(pod("lone", app="\ud83d")).encode()
    assert b"\\ud83d" in body
    code, status = await answer(door, create_pod(namespace, body))
    assert code == 422, status
    assert isinstance(status, dict)
    assert status["reason"] == "Invalid"
    assert 'metadata.labels: Invalid value: "\ufffd"' in status["message"]
    # As an annotation, where any string is allowed, it is stored as U+FFFD.
    created = pod("lone")
    created["metadata"]["annotations"] = {"note": "a\ud83db"}
    code, stored = await answer(door, create_pod(namespace, json.dumps(created).encode()))
    assert code == 201, stored
    assert isinstance(stored, dict)
    assert stored["metadata"]["annotations"] == {"note": "a\ufffdb"}


async def test_invalid_utf8_is_replaced_as_go_does(door: Door, namespace: str) -> None:
    body = json.dumps(pod("bytes")).replace('"busybox"', '"busy\\u0000box"').encode()
    body = body.replace(b'"main"', b'"ma\xffin"')
    code, status = await answer(door, create_pod(namespace, body))
    assert code == 422, status
    assert isinstance(status, dict)
    assert 'spec.containers[0].name: Invalid value: "ma\ufffdin"' in status["message"]


async def test_an_escaped_surrogate_pair_in_yaml_is_refused_as_go_yaml_refuses_it(
    door: Door, namespace: str
) -> None:
    """The YAML that answered aiohttp's plain-text 500 page: its error quoted the kind, which
    could not be encoded."""
    body = b'apiVersion: v1\nkind: "\\ud83d\\udca5"\nmetadata:\n  name: boom\n'
    code, status = await answer(door, create_pod(namespace, body, "application/yaml"))
    assert code == 400, status
    assert isinstance(status, dict)
    assert status["message"] == (
        "error converting YAML to JSON: yaml: found invalid Unicode character escape code"
    )


async def test_an_unknown_kind_with_an_emoji_is_named_in_the_error(
    door: Door, namespace: str
) -> None:
    body = b'{"apiVersion":"v1","kind":"\\ud83d\\udca5","metadata":{"name":"boom"}}'
    code, status = await answer(door, create_pod(namespace, body))
    assert code == 400, status
    assert isinstance(status, dict)
    assert status["message"] == (
        '\U0001f4a5 in version "v1" cannot be handled as a Pod: '
        'no kind "\U0001f4a5" is registered for version "v1"'
    )


async def test_an_error_is_answered_as_yaml_when_yaml_is_asked_for(
    door: Door, namespace: str
) -> None:
    request = Request(
        "GET", f"/api/v1/namespaces/{namespace}/pods/nothing", accept="application/yaml"
    )
    code, status = await answer(door, request)
    assert code == 404
    assert isinstance(status, dict)
    assert status["message"] == 'pods "nothing" not found'


async def test_a_body_over_3_mib_is_413(door: Door, namespace: str) -> None:
    body = json.dumps({"data": {"big": "x" * MAX_REQUEST_BYTES}}).encode()
    code, status = await answer(
        door,
        Request("POST", f"/api/v1/namespaces/{namespace}/configmaps", [], body, "application/json"),
    )
    assert code == 413
    assert isinstance(status, dict)
    assert status["message"] == f"Request entity too large: limit is {MAX_REQUEST_BYTES}"


async def test_an_object_over_etcds_limit_is_refused_and_not_stored(
    door: Door, namespace: str, cluster: RestCluster
) -> None:
    """Under the 3 MiB request limit and valid (a container's argument has no limit of its
    own), but past what etcd stores (1.5 MiB): etcd's words, as Kubernetes passes them on."""
    huge = pod("huge")
    huge["spec"]["containers"][0]["args"] = ["x" * (2 * 1024 * 1024)]
    code, status = await answer(door, create_pod(namespace, json.dumps(huge).encode()))
    assert code == 413
    assert isinstance(status, dict)
    assert status["message"] == "etcdserver: request is too large"
    listed = await cluster.grpc.pods.list(namespace)
    assert "huge" not in [p.metadata.name for p in listed.items]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
async def test_deep_nesting_is_refused_not_recursed(door: Door, namespace: str, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"metadata":{{"name":"deep"}},"data":{{}},"x":{nested}}}'.encode()
    request = Request(
        "POST", f"/api/v1/namespaces/{namespace}/configmaps", [], body, "application/json"
    )
    code, status = await answer(door, request)
    assert code == 400
    assert isinstance(status, dict)
    assert status["message"] == (
        f"the request body is not valid JSON: exceeded max depth of {MAX_DEPTH}"
    )


@pytest.mark.parametrize(
    ("labels", "annotations", "message"),
    [
        ({"app": "v" * 64}, {}, "must be no more than 63 characters"),
        ({"a" * 64: "v"}, {}, "name part must be no more than 63 characters"),
        ({"app": "é" * 32}, {}, "must be no more than 63 characters"),
        ({}, {"note": "x" * (256 * 1024)}, "Too long: must have at most 262144 bytes"),
    ],
)
async def test_label_and_annotation_sizes_are_validated(
    door: Door,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    message: str,
) -> None:
    body = pod("sized", **labels)
    body["metadata"]["annotations"] = annotations
    code, status = await answer(door, create_pod(namespace, json.dumps(body).encode()))
    assert code == 422, status
    assert isinstance(status, dict)
    assert message in status["message"]


async def test_a_fuzzed_slice_gets_only_kubernetes_answers(
    door: Door, namespace: str, cluster: RestCluster
) -> None:
    keep = await new_namespace(cluster.grpc, "kept-")
    before = [
        (c.metadata.name, c.metadata.resource_version)
        for c in (await cluster.grpc.namespaces.list("")).items
        if c.metadata.name == keep
    ]
    result = await fuzz_rest(door, namespace, requests=SLICE_REQUESTS, seed=SLICE_SEED)
    assert result.failures == [], f"{result.failure_count} failures: {result.failures[:5]}"
    assert result.requests == SLICE_REQUESTS
    # The slice reaches the stores and the validation, not only the decoders.
    assert {"201", "400", "404", "422"} <= set(result.codes), result.codes
    async with aiohttp.ClientSession() as session:
        code, _, body = await send(session, door, Request("GET", "/readyz"))
    assert (code, body) == (200, b"ok")
    after = [
        (c.metadata.name, c.metadata.resource_version)
        for c in (await cluster.grpc.namespaces.list("")).items
        if c.metadata.name == keep
    ]
    assert after == before


@pytest.mark.parametrize("replicas", [2**31, 2**64])
async def test_a_scale_past_int32_is_a_400(door: Door, namespace: str, replicas: int) -> None:
    """What the 100,000-request run found: replicas past int32 through the scale subresource
    reached the protobuf field and failed there (a 500)."""
    deployment = samples.sample(resources.DEPLOYMENT, f"scaled-{replicas % 97}", namespace)
    collection = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    code, created = await answer(
        door, Request("POST", collection, [], json.dumps(deployment).encode(), "application/json")
    )
    assert code == 201, created
    scale_path = f"{collection}/{deployment['metadata']['name']}/scale"
    body = json.dumps({"spec": {"replicas": replicas}}).encode()
    for request in (
        Request("PUT", scale_path, [], body, "application/json"),
        Request("PATCH", scale_path, [], body, "application/merge-patch+json"),
    ):
        code, status = await answer(door, request)
        assert code == 400, status
        assert isinstance(status, dict)
        assert status["message"] == (
            f"spec.replicas: Invalid value: {replicas}: out of range for a 32-bit integer"
        )
