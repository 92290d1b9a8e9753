"""A kubelet's HTTPS port as a client outside the cluster reaches it (kubelet/server): a call
without credentials is 401, a service account's token not allowed `nodes/proxy` or `nodes/stats`
is 403 with the kubelet's text, and the same token, once bound to a role allowing them, reads
the node's pods and its stats summary, as Kubernetes' kubelet authenticates (TokenReview) and
authorizes (SubjectAccessReview) every call."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

NODE = "node-1"
KUBELET_PORT = 10250


def node_address(node: str) -> str:
    return Kubectl().ok(
        "get", "node", node, "-o", 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'
    )


def call(address: str, path: str, token: str | None = None) -> tuple[int, str]:
    """The status and body of a GET on the kubelet's port, its certificate not verified (as
    metrics-server's --kubelet-insecure-tls)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"https://{address}:{KUBELET_PORT}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture(scope="module")
def account(kubectl_namespace: str) -> Iterator[tuple[str, str]]:
    """A service account of the test's namespace, and a token of it."""
    k = Kubectl(kubectl_namespace)
    k.ok("create", "serviceaccount", "scraper")
    token = k.ok("create", "token", "scraper").strip()
    yield kubectl_namespace, token
    Kubectl().run("delete", "clusterrolebinding", f"{kubectl_namespace}-scraper")


def test_a_call_without_credentials_is_unauthorized() -> None:
    assert call(node_address(NODE), "/pods") == (401, "Unauthorized\n")


def test_a_token_is_refused_until_its_account_may_read_the_node(
    account: tuple[str, str],
) -> None:
    namespace, token = account
    address = node_address(NODE)
    user = f"system:serviceaccount:{namespace}:scraper"
    for path, subresource in (("/pods", "proxy"), ("/stats/summary", "stats")):
        assert call(address, path, token) == (
            403,
            f"Forbidden (user={user}, verb=get, resource=nodes, subresource={subresource})\n",
        )
    Kubectl().ok(
        "create",
        "clusterrole",
        f"{namespace}-node-reader",
        "--verb=get",
        "--resource=nodes/proxy,nodes/stats",
    )
    try:
        Kubectl().ok(
            "create",
            "clusterrolebinding",
            f"{namespace}-scraper",
            f"--clusterrole={namespace}-node-reader",
            f"--serviceaccount={namespace}:scraper",
        )

        def allowed() -> str | None:
            status, body = call(address, "/pods", token)
            return body if status == 200 else None

        # The kubelet keeps a refusal 30 s, as its webhook authorizer's cache.
        body = eventually(allowed, timeout=90, what="the kubelet allowing the bound account")
        pods = json.loads(body)
        assert (pods["kind"], pods["apiVersion"]) == ("PodList", "v1")
        assert all(p["spec"]["nodeName"] == NODE for p in pods["items"])
        assert any(p["metadata"]["namespace"] == "kube-system" for p in pods["items"])

        def stats() -> str | None:
            status, body = call(address, "/stats/summary", token)
            return body if status == 200 else None

        # The stats refusal may have been cached just before the binding took effect.
        body = eventually(stats, timeout=90, what="the kubelet allowing the stats", interval=0.2)
        assert json.loads(body)["node"]["nodeName"] == NODE
    finally:
        Kubectl().run("delete", "clusterrole", f"{namespace}-node-reader")
