"""Requests without credentials on the real apiserver over real etcd, with the real kubectl, as
kube-apiserver 1.31 answers them by default (--anonymous-auth=true): the caller is
system:anonymous, which RBAC lets read /version and the health paths and nothing else, so
`kubectl get pods` with a kubeconfig of only the server and its CA is Forbidden, at both doors in
the same words; a token no one issued is still Unauthorized; and with --anonymous-auth=false a
request without credentials is Unauthorized too.

kubectl itself asks for a user name when its kubeconfig gives it no credential (client-go's
PromptingAuthLoader: "Please enter Username: "); `--username=nobody` answers it as a person at
the prompt would, with a name and no password. That Basic header is no credential to
kube-apiserver 1.31, which has had no basic authentication since 1.19 (its bearer token
authenticator passes over other schemes), nor to podplane: the request is anonymous. The plain
HTTPS and gRPC calls here send no credential at all."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio

from apiserver.server import APIServer
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.credentials import Credentials
from tests import tools
from tests.integration.control_plane import running_apiserver
from tests.integration.rest_cluster import Ran, RestCluster, rest_cluster
from tests.kubeconfig import write_kubeconfig
from tests.pki_support import secure_serving
from tests.support import EtcdProcess

LIST_PODS_FORBIDDEN = (
    'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
    'in the namespace "default"'
)
PODS = "/api/v1/namespaces/default/pods"
KUBECTL_FORBIDDEN = f"Error from server (Forbidden): {LIST_PODS_FORBIDDEN}\n"
KUBECTL_UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)\n"
UNAUTHORIZED_STATUS: dict[str, Any] = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("anonymous")) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def closed_apiserver(etcd: EtcdProcess, cluster: RestCluster) -> AsyncIterator[APIServer]:
    """Another apiserver of the same PKI with --anonymous-auth=false."""
    security = dataclasses.replace(secure_serving(cluster.pki), anonymous_auth=False)
    async with running_apiserver(etcd, security=security) as server:
        yield server


def kubeconfig(folder: Path, rest_port: int, ca: Path, token: str | None = None) -> Path:
    """A kubeconfig of the server and its CA only, and a bearer token if given."""
    path = folder / f"kubeconfig-{rest_port}-{uuid.uuid4().hex[:6]}"
    return write_kubeconfig(path, f"https://127.0.0.1:{rest_port}", ca=ca, token=token)


async def kubectl(config: Path, *args: str, cache: Path | None = None) -> Ran:
    """kubectl with `config`, its discovery cached in `cache` (a folder of its own if None)."""
    folder = config.parent
    cache = cache or folder / f"{config.name}-cache"
    process = await asyncio.create_subprocess_exec(
        tools.kubectl(),
        f"--kubeconfig={config}",
        *args,
        env={"HOME": str(folder), "KUBECACHEDIR": str(cache)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def https_get(
    rest_port: int, ca: Path, path: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """GET `path` with no client certificate: the HTTP code and the JSON (or text) body."""
    context = ssl.create_default_context(cafile=str(ca))
    async with aiohttp.ClientSession() as session:
        url = f"https://127.0.0.1:{rest_port}{path}"
        async with session.get(url, ssl=context, headers=headers or {}) as reply:
            text = await reply.text()
            try:
                return reply.status, json.loads(text)
            except ValueError:
                return reply.status, text


async def grpc_list_pods(port: int, creds: Credentials) -> tuple[grpc.StatusCode, str]:
    async with creds.aio_channel(f"localhost:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await resources.POD.stub(channel).List(
                meta_pb2.ListRequest(namespace="default"), timeout=10
            )
    return info.value.code(), info.value.details() or ""


async def test_kubectl_without_credentials_is_forbidden(
    cluster: RestCluster, tmp_path: Path
) -> None:
    config = kubeconfig(tmp_path, cluster.rest_port, cluster.pki / "ca.crt")
    # With its discovery cached (kubectl caches it per server, not per user: here the admin's
    # run filled the cache), the list is the request and its refusal the answer.
    cache = cluster.folder / "kube-cache"
    await cluster.kubectl_ok("get", "pods")
    ran = await kubectl(config, "--username=nobody", "get", "pods", cache=cache)
    assert (ran.code, ran.out, ran.err) == (1, "", KUBECTL_FORBIDDEN)
    ran = await kubectl(config, "--username=nobody", "get", "--raw", PODS)
    assert (ran.code, ran.out, ran.err) == (1, "", KUBECTL_FORBIDDEN)
    # Without it, discovery is refused first (system:discovery is bound to system:authenticated
    # only), and kubectl, which reads discovery raw, says no more of that 403 than "unknown".
    ran = await kubectl(config, "--username=nobody", "get", "pods")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err.endswith("\nError from server (Forbidden): unknown\n"), ran.err


async def test_the_rest_door_answers_kubernetes_status(cluster: RestCluster) -> None:
    ca = cluster.pki / "ca.crt"
    code, status = await https_get(cluster.rest_port, ca, PODS)
    assert (code, status) == (
        403,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": LIST_PODS_FORBIDDEN,
            "reason": "Forbidden",
            "details": {"kind": "pods"},
            "code": 403,
        },
    )
    code, status = await https_get(cluster.rest_port, ca, "/apis")
    assert (code, status["reason"], status["message"]) == (
        403,
        "Forbidden",
        'forbidden: User "system:anonymous" cannot get path "/apis"',
    )
    # An anonymous caller cannot impersonate: the impersonation check's 403.
    code, status = await https_get(
        cluster.rest_port, ca, "/api/v1/namespaces", {"Impersonate-User": "admin"}
    )
    assert (code, status["message"]) == (
        403,
        'users "admin" is forbidden: User "system:anonymous" cannot impersonate resource '
        '"users" in API group "" at the cluster scope',
    )


async def test_version_and_health_are_readable_anonymously(
    cluster: RestCluster, tmp_path: Path
) -> None:
    config = kubeconfig(tmp_path, cluster.rest_port, cluster.pki / "ca.crt")
    ran = await kubectl(config, "--username=nobody", "get", "--raw", "/version")
    assert ran.code == 0, ran.err
    version = json.loads(ran.out)
    assert version["major"] == "1" and version["gitVersion"].startswith("v1.31.")
    ran = await kubectl(config, "--username=nobody", "version", "-o", "json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["serverVersion"] == version
    for path in ("/version", "/healthz", "/livez", "/readyz"):
        code, _ = await https_get(cluster.rest_port, cluster.pki / "ca.crt", path)
        assert code == 200, path


async def test_a_token_no_one_issued_is_still_unauthorized(
    cluster: RestCluster, tmp_path: Path
) -> None:
    ca = cluster.pki / "ca.crt"
    config = kubeconfig(tmp_path, cluster.rest_port, ca, "nobody")
    await cluster.kubectl_ok("get", "pods")  # discovery cached, as above
    ran = await kubectl(config, "get", "pods", cache=cluster.folder / "kube-cache")
    assert (ran.code, ran.out, ran.err) == (1, "", KUBECTL_UNAUTHORIZED)
    ran = await kubectl(config, "get", "--raw", "/version")
    assert (ran.code, ran.out, ran.err) == (1, "", KUBECTL_UNAUTHORIZED)
    assert await https_get(
        cluster.rest_port, ca, "/version", {"Authorization": "Bearer nobody"}
    ) == (
        401,
        UNAUTHORIZED_STATUS,
    )
    assert cluster.server.token_port is not None
    assert await grpc_list_pods(
        cluster.server.token_port, Credentials(str(ca), token="nobody")
    ) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "Unauthorized",
    )


async def test_the_grpc_door_refuses_in_the_same_words(cluster: RestCluster) -> None:
    assert cluster.server.token_port is not None
    nobody = Credentials(str(cluster.pki / "ca.crt"))
    assert await grpc_list_pods(cluster.server.token_port, nobody) == (
        grpc.StatusCode.PERMISSION_DENIED,
        LIST_PODS_FORBIDDEN,
    )


async def test_without_anonymous_auth_no_credentials_is_unauthorized(
    closed_apiserver: APIServer, cluster: RestCluster, tmp_path: Path
) -> None:
    ca = cluster.pki / "ca.crt"
    port, token_port = closed_apiserver.rest_port, closed_apiserver.token_port
    assert port is not None and token_port is not None
    viewer = (cluster.pki / "viewer.token").read_text().strip()
    cache = tmp_path / "cache"
    ran = await kubectl(kubeconfig(tmp_path, port, ca, viewer), "get", "pods", cache=cache)
    assert (ran.code, ran.out, ran.err) == (0, "", "No resources found in default namespace.\n")
    config = kubeconfig(tmp_path, port, ca)
    ran = await kubectl(config, "--username=nobody", "get", "pods", cache=cache)
    assert (ran.code, ran.out, ran.err) == (1, "", KUBECTL_UNAUTHORIZED)
    ran = await kubectl(config, "--username=nobody", "get", "--raw", "/version")
    assert (ran.code, ran.out, ran.err) == (1, "", KUBECTL_UNAUTHORIZED)
    # Every path, health and /version included, as kube-apiserver's without anonymous requests.
    for path in ("/version", "/healthz", "/livez", "/readyz", PODS):
        assert await https_get(port, ca, path) == (401, UNAUTHORIZED_STATUS), path
    assert await grpc_list_pods(token_port, Credentials(str(ca))) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "Unauthorized",
    )
