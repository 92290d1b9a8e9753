"""API aggregation end to end on the real apiserver over real etcd: a real aggregated API server
started here on 127.0.0.1 (its own CA; it requires the front-proxy client certificate and reads
X-Remote-User), reached through a Service without a selector and an EndpointSlice pointing at
its port, registered by an APIService. kubectl and the official Python client see its group in
discovery and its resources answered by it with the user's name; its APIService goes Available
as the aggregator's controller decides, and unavailable when its slice goes; kube-system's
extension-apiserver-authentication ConfigMap says whom to trust."""

from __future__ import annotations

import base64
import json
import re
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from tests.integration import aggregated_server
from tests.integration.aggregated_server import (
    ECHO_PROTOCOL,
    GROUP,
    OPENAPI,
    OPENAPI_ROOT,
    RESOURCE_LIST,
    VERSION,
    AggregatedServer,
    host_address,
)
from tests.integration.control_plane import etcd_process
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually, free_port

NAMESPACE = "wardle"
SERVICE = "api"
APISERVICE = f"{VERSION}.{GROUP}"
FLUNDERS = f"/apis/{GROUP}/{VERSION}/namespaces/{NAMESPACE}/flunders"


@dataclass
class Setup:
    cluster: RestCluster
    backend: AggregatedServer


def slice_manifest(name: str, port: int, service: str = SERVICE) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [host_address()], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }


def apiservice_manifest(name: str, group: str, service: str, ca: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name},
        "spec": {
            "group": group,
            "version": VERSION,
            "service": {"namespace": NAMESPACE, "name": service, "port": 443},
            "caBundle": base64.b64encode(ca).decode(),
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
        },
    }


async def apply(cluster: RestCluster, *objects: dict[str, Any]) -> None:
    await cluster.kubectl_ok("apply", "-f", "-", stdin=yaml.safe_dump_all(objects))


@pytest.fixture(scope="module")
def own_etcd() -> Iterator[EtcdProcess]:
    """The module's own etcd. On the worker's, every apiserver runs the availability
    controller, as every apiserver of a Kubernetes cluster does; but the worker's others are
    other clusters', whose front-proxy certificates this module's backend does not trust, so
    they would find its APIService unavailable as often as this one finds it available."""
    with etcd_process() as process:
        yield process


@pytest_asyncio.fixture(scope="module")
async def setup(
    own_etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    folder = tmp_path_factory.mktemp("aggregation")
    async with rest_cluster(own_etcd, folder) as cluster:
        (folder / "backend").mkdir()
        backend, runner = await aggregated_server.start(
            folder / "backend",
            cluster.pki / "front-proxy-ca.crt",
            f"{SERVICE}.{NAMESPACE}.svc",
            ("front-proxy-client",),
        )
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": SERVICE, "namespace": NAMESPACE},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": backend.port}]},
        }
        await cluster.kubectl_ok("create", "namespace", NAMESPACE)
        await apply(
            cluster,
            service,
            slice_manifest("api-1", backend.port),
            apiservice_manifest(APISERVICE, GROUP, SERVICE, backend.ca_pem),
        )
        try:
            yield Setup(cluster, backend)
        finally:
            backend.release_watch.set()
            await runner.cleanup()


async def available(cluster: RestCluster, name: str) -> tuple[str, str, str]:
    raw = json.loads(await cluster.kubectl_ok("get", "apiservice", name, "-o", "json"))
    [condition] = raw.get("status", {}).get("conditions") or [{}]
    return condition.get("status", ""), condition.get("reason", ""), condition.get("message", "")


async def wait_available(cluster: RestCluster, name: str, wanted: tuple[str, str, str]) -> None:
    async def reached() -> bool:
        return await available(cluster, name) == wanted

    await eventually(reached, timeout=40, what=f"{name} {wanted}")


PASSED = ("True", "Passed", "all checks passed")
# What client-go asks /apis for (discovery.AcceptV2 and AcceptV2Beta1, then legacy).
DISCOVERY_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


async def aggregated_apis(
    cluster: RestCluster, etag: str = ""
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """GET /apis in aggregated discovery, as the admin: its status, document and headers."""
    headers = {"Accept": DISCOVERY_ACCEPT, **({"If-None-Match": etag} if etag else {})}
    url = f"https://127.0.0.1:{cluster.rest_port}/apis"
    async with admin_session(cluster) as session, session.get(url, headers=headers) as response:
        document = await response.json(content_type=None) if response.status == 200 else {}
        return response.status, document, response.headers.copy()


async def discovered(cluster: RestCluster, group: str = GROUP) -> list[dict[str, Any]]:
    """The group's versions in aggregated discovery."""
    _, document, _ = await aggregated_apis(cluster)
    return [
        v for g in document["items"] if g["metadata"].get("name") == group for v in g["versions"]
    ]


async def wait_freshness(cluster: RestCluster, freshness: str) -> None:
    async def reached() -> bool:
        return [v["freshness"] for v in await discovered(cluster)] == [freshness]

    await eventually(reached, timeout=40, what=f"{GROUP}/{VERSION} {freshness} in discovery")


async def wait_served(cluster: RestCluster) -> None:
    """The APIService Available, and its group/version in discovery as its server says it,
    which the aggregator asks the server for once it is Available (kubectl finds its
    resources from then on, as with Kubernetes)."""
    await wait_available(cluster, APISERVICE, PASSED)
    await wait_freshness(cluster, "Current")


async def test_requests_are_answered_by_the_backend_as_the_user(setup: Setup) -> None:
    cluster, backend = setup.cluster, setup.backend
    await wait_served(cluster)
    # The discovery check came as the aggregator, with the front proxy's certificate.
    checks = [s for s in backend.seen if s.path == f"/apis/{GROUP}/{VERSION}"]
    assert checks and checks[0].user == "system:kube-aggregator"
    assert checks[0].groups == ["system:masters"]
    assert checks[0].peer_common_name == "front-proxy-client"

    raw = await cluster.kubectl_ok("get", "--raw", f"/apis/{GROUP}/{VERSION}")
    assert json.loads(raw) == RESOURCE_LIST
    out = await cluster.kubectl_ok("get", "flunders", "-n", NAMESPACE)
    assert [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()] == [
        ["NAME", "SEEN BY"],
        ["flunder-1", "kubernetes-admin"],
    ]
    listed = [s for s in backend.seen if s.path.startswith(FLUNDERS)][-1]
    assert (listed.user, listed.peer_common_name) == ("kubernetes-admin", "front-proxy-client")
    assert set(listed.groups) == {"system:masters", "system:authenticated"}

    # A bearer token authenticates to podplane; the backend is told the user, not the token.
    admin_token = (cluster.pki / "admin.token").read_text().strip()
    raw = await cluster.kubectl_ok(
        "get", "--raw", FLUNDERS, f"--token={admin_token}", context="viewer"
    )
    assert json.loads(raw)["items"][0]["spec"] == {"seenBy": "admin"}
    proxied = [s for s in backend.seen if s.path.startswith(FLUNDERS)][-1]
    assert (proxied.user, proxied.authorization) == ("admin", None)


async def test_podplane_authorizes_before_proxying(setup: Setup) -> None:
    cluster, backend = setup.cluster, setup.backend
    await wait_served(cluster)
    before = len(backend.seen)
    ran = await cluster.kubectl("get", "flunders", "-n", NAMESPACE, context="viewer")
    assert ran.code == 1
    assert ran.err.strip() == (
        'Error from server (Forbidden): flunders.wardle.example.com is forbidden: User "viewer" '
        'cannot list resource "flunders" in API group "wardle.example.com" in the namespace '
        '"wardle"'
    )
    assert not [s for s in backend.seen[before:] if s.path.startswith(FLUNDERS)]


async def test_discovery_lists_the_aggregated_group(setup: Setup) -> None:
    cluster = setup.cluster
    await wait_served(cluster)
    groups = json.loads(await cluster.kubectl_ok("get", "--raw", "/apis"))["groups"]
    wardle = [g for g in groups if g["name"] == GROUP]
    assert wardle == [
        {
            "name": GROUP,
            "versions": [{"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}],
            "preferredVersion": {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION},
        }
    ]
    group = json.loads(await cluster.kubectl_ok("get", "--raw", f"/apis/{GROUP}"))
    assert group["kind"] == "APIGroup" and group["name"] == GROUP
    out = await cluster.kubectl_ok("api-resources", f"--api-group={GROUP}")
    assert [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()] == [
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
        ["flunders", "fl", f"{GROUP}/{VERSION}", "true", "Flunder"],
    ]


async def test_aggregated_discovery_merges_the_backends_own(setup: Setup) -> None:
    """kubectl's discovery is the aggregated document: the backend's /apis, downloaded as
    system:kube-aggregator in system:masters with client-go's Accept and the ETag it gave, is
    merged with podplane's groups; the group follows the built-in ones by its APIService's
    priority; a client sending the document's ETag back gets a 304."""
    cluster, backend = setup.cluster, setup.backend
    await wait_served(cluster)
    status, document, headers = await aggregated_apis(cluster)
    assert status == 200
    assert headers["Content-Type"] == aggregated_server.AGGREGATED_TYPE
    assert (document["kind"], document["apiVersion"]) == (
        "APIGroupDiscoveryList",
        "apidiscovery.k8s.io/v2",
    )
    [wardle] = [g for g in document["items"] if g["metadata"].get("name") == GROUP]
    assert wardle == {
        "metadata": {"name": GROUP, "creationTimestamp": None},
        "versions": [
            {
                "version": VERSION,
                "resources": [aggregated_server.FLUNDERS_DISCOVERY],
                "freshness": "Current",
            }
        ],
    }
    names = [g["metadata"]["name"] for g in document["items"]]
    # kube-aggregator's priorities: 18000, 17800, 17750 (events.k8s.io), 17700.
    assert names[:4] == ["apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io"]
    assert names[-1] == GROUP
    downloads = [s for s in backend.seen if s.path == "/apis"]
    assert {(s.user, tuple(s.groups), s.accept) for s in downloads} == {
        ("system:kube-aggregator", ("system:masters",), DISCOVERY_ACCEPT.rsplit(",", 1)[0])
    }
    assert downloads[0].if_none_match == ""
    # Its own discovery served, the backend is never asked for the legacy document by it.
    assert not [
        s for s in backend.seen if s.user == "system:aggregator" and s.path != "/openapi/v3"
    ]

    again, _, revalidated = await aggregated_apis(cluster, etag=headers["ETag"])
    assert (again, revalidated["ETag"]) == (304, headers["ETag"])


async def test_the_backends_openapi_is_listed_and_explained(setup: Setup) -> None:
    """Its /openapi/v3 root, downloaded as system:aggregator, is merged into the apiserver's,
    and its document proxied to the caller: kubectl explain reads the Flunder's schema."""
    cluster = setup.cluster
    await wait_served(cluster)

    async def listed() -> dict[str, Any] | None:
        index = json.loads(await cluster.kubectl_ok("get", "--raw", "/openapi/v3"))["paths"]
        return index if f"apis/{GROUP}/{VERSION}" in index else None

    index = await eventually(listed, timeout=30, what="the backend's OpenAPI in /openapi/v3")
    assert index[f"apis/{GROUP}/{VERSION}"] == OPENAPI_ROOT["paths"][f"apis/{GROUP}/{VERSION}"]
    assert "apis/apps/v1" in index  # podplane's own stay
    roots = [s for s in setup.backend.seen if s.path == "/openapi/v3"]
    assert roots and {(s.user, tuple(s.groups)) for s in roots} == {("system:aggregator", ())}
    explained = await cluster.kubectl_ok("explain", "flunders.spec")
    assert "seenBy\t<string>" in explained and "Who asked." in explained, explained
    document = json.loads(
        await cluster.kubectl_ok("get", "--raw", f"/openapi/v3/apis/{GROUP}/{VERSION}?hash=1")
    )
    assert document == OPENAPI
    asked = [s for s in setup.backend.seen if s.path.startswith(f"/openapi/v3/apis/{GROUP}")]
    assert asked[-1].user == "kubernetes-admin"


def admin_session(cluster: RestCluster) -> aiohttp.ClientSession:
    context = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    context.load_cert_chain(cluster.pki / "admin.crt", cluster.pki / "admin.key")
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


async def test_a_watch_streams_through_the_proxy(setup: Setup) -> None:
    cluster, backend = setup.cluster, setup.backend
    await wait_served(cluster)
    url = f"https://127.0.0.1:{cluster.rest_port}{FLUNDERS}?watch=1"
    async with admin_session(cluster) as session, session.get(url) as response:
        assert response.status == 200
        # The backend holds the stream open: the first event arrives before it ends.
        line = await response.content.readline()
        event = json.loads(line)
        assert (event["type"], event["object"]["spec"]) == ("ADDED", {"seenBy": "kubernetes-admin"})
        backend.release_watch.set()
        assert await response.content.read() == b""
    # A backend that breaks off its answer has the client's connection cut, not ended as if the
    # answer were complete.
    async with admin_session(cluster) as session, session.get(url + "&breakOff=1") as response:
        assert json.loads(await response.content.readline())["type"] == "ADDED"
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.content.read()


async def test_a_websocket_is_bridged_to_the_backend(setup: Setup) -> None:
    cluster = setup.cluster
    await wait_served(cluster)
    url = f"wss://127.0.0.1:{cluster.rest_port}{FLUNDERS}/flunder-1/echo"
    async with (
        admin_session(cluster) as session,
        session.ws_connect(url, protocols=(ECHO_PROTOCOL,)) as ws,
    ):
        assert ws.protocol == ECHO_PROTOCOL
        assert await ws.receive_str(timeout=10) == "hello kubernetes-admin"
        await ws.send_bytes(b"\x01stdin")
        assert await ws.receive_bytes(timeout=10) == b"\x01stdin"
        await ws.send_str("bye")
        assert await ws.receive_str(timeout=10) == "bye"
    # A SPDY upgrade is refused before the backend is asked.
    async with (
        admin_session(cluster) as session,
        session.get(
            f"https://127.0.0.1:{cluster.rest_port}{FLUNDERS}/flunder-1/echo",
            headers={"Connection": "Upgrade", "Upgrade": "SPDY/3.1"},
        ) as response,
    ):
        body = await response.json()
    assert (response.status, body["reason"], body["message"]) == (
        400,
        "BadRequest",
        "upgrade to SPDY/3.1 is not proxied to aggregated APIs by this apiserver, only "
        "WebSockets (APIService v1alpha1.wardle.example.com)",
    )


async def test_the_official_client_reads_the_authentication_config_map(setup: Setup) -> None:
    cluster = setup.cluster
    core = k8s.CoreV1Api(cluster.api_client())

    async def read() -> Any:
        return await in_thread(
            core.read_namespaced_config_map, "extension-apiserver-authentication", "kube-system"
        )

    config_map = await eventually(read, timeout=20, what="the authentication ConfigMap")
    assert config_map.data == {
        "client-ca-file": (cluster.pki / "ca.crt").read_text(),
        "requestheader-client-ca-file": (cluster.pki / "front-proxy-ca.crt").read_text(),
        "requestheader-allowed-names": '["front-proxy-client"]',
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-username-headers": '["X-Remote-User"]',
    }
    rbac = k8s.RbacAuthorizationV1Api(cluster.api_client())
    role = await in_thread(
        rbac.read_namespaced_role, "extension-apiserver-authentication-reader", "kube-system"
    )
    [rule] = role.rules
    assert (rule.api_groups, rule.resources, rule.resource_names, rule.verbs) == (
        [""],
        ["configmaps"],
        ["extension-apiserver-authentication"],
        ["get", "list", "watch"],
    )


async def test_availability_follows_the_endpoints(setup: Setup) -> None:
    cluster, backend = setup.cluster, setup.backend
    await wait_served(cluster)
    await cluster.kubectl_ok("delete", "endpointslice", "api-1", "-n", NAMESPACE)
    missing = (
        "False",
        "MissingEndpoints",
        'endpoints for service/api in "wardle" have no addresses with port name "https"',
    )
    await wait_available(cluster, APISERVICE, missing)
    rows = (await cluster.kubectl_ok("get", "apiservice", APISERVICE)).splitlines()
    assert re.split(r"\s{2,}", rows[1].strip())[1:3] == ["wardle/api", "False (MissingEndpoints)"]
    # Asked again as its APIService changed, the backend is not reachable: its group/version
    # is listed Stale, as Kubernetes' aggregator lists an aggregated API that is down.
    await wait_freshness(cluster, "Stale")
    assert await discovered(cluster) == [{"version": VERSION, "freshness": "Stale"}]
    # kubectl (client-go's converter) leaves a stale group/version out of what it lists.
    out = await cluster.kubectl_ok("api-resources", f"--api-group={GROUP}", "--no-headers")
    assert out == ""
    ran = await cluster.kubectl("get", "flunders", "-n", NAMESPACE)
    assert ran.code == 1
    assert ran.err.splitlines()[-1] == (
        'error: the server doesn\'t have a resource type "flunders"'
    )
    async with (
        admin_session(cluster) as session,
        session.get(f"https://127.0.0.1:{cluster.rest_port}{FLUNDERS}") as response,
    ):
        assert (response.status, await response.text()) == (503, "service unavailable\n")

    await apply(cluster, slice_manifest("api-1", backend.port))
    await wait_served(cluster)


async def test_unavailable_reasons(setup: Setup) -> None:
    cluster = setup.cluster
    closed = free_port()
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "closed", "namespace": NAMESPACE},
        "spec": {"ports": [{"name": "https", "port": 443}]},
    }
    await apply(
        cluster,
        apiservice_manifest("v1alpha1.missing.example.com", "missing.example.com", "nope", b""),
        service,
        slice_manifest("closed-1", closed, "closed"),
        apiservice_manifest("v1alpha1.closed.example.com", "closed.example.com", "closed", b""),
    )
    await wait_available(
        cluster,
        "v1alpha1.missing.example.com",
        ("False", "ServiceNotFound", 'service/nope in "wardle" is not present'),
    )
    host = host_address()
    url = f"https://{host}:{closed}/apis/closed.example.com/{VERSION}"
    await wait_available(
        cluster,
        "v1alpha1.closed.example.com",
        (
            "False",
            "FailedDiscoveryCheck",
            f'failing or missing response from {url}: Get "{url}": dial tcp {host}:{closed}: '
            "connect: connection refused",
        ),
    )
    await cluster.kubectl_ok(
        "delete", "apiservice", "v1alpha1.missing.example.com", "v1alpha1.closed.example.com"
    )
