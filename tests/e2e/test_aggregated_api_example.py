"""The aggregated API example (examples/aggregated-api) deployed as its README says, on the
compose cluster: a user's aggregated API server in a pod serving wardle.example.com/v1alpha1's
Flunders, registered by an APIService naming its Service, reached by the apiserver at its pod
address with the front-proxy certificate, believing it through kube-system's
extension-apiserver-authentication ConfigMap. kubectl finds the group in discovery (the server
serves only the legacy documents, which the aggregator converts) and api-resources, explains
them from its OpenAPI document, creates, reads and deletes Flunders through it (each records who
created it, as the front proxy named the user), and is refused by podplane's RBAC as the
viewer; with the server gone, the APIService turns unavailable, its group Stale in discovery,
and a request for its resources is told the server is unable to handle it. Disruptive: while
the APIService is unavailable its group is missing from every kubectl's discovery, as with
Kubernetes, which the shared tests' outputs could see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.examples import deploy
from tests.e2e.kubectl import VIEWER_KUBECONFIG, Kubectl
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.disruptive

APISERVICE = "apiservice/v1alpha1.wardle.example.com"


def flunder(name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "wardle.example.com/v1alpha1",
            "kind": "Flunder",
            "metadata": {"name": name},
            "spec": {"reference": "a flunder"},
        }
    )


@pytest.fixture(scope="module")
def deployed() -> Iterator[None]:
    """deploy.sh, with the project's kubectl first on PATH; the APIService, the server's
    namespace and its binding in kube-system go with the module."""
    deploy("aggregated-api")
    try:
        available = Kubectl().run("wait", "--for=condition=Available", APISERVICE, "--timeout=120s")
        assert available.code == 0, available
        yield
    finally:
        k = Kubectl()
        k.run("delete", APISERVICE)
        k.run(
            "delete", "rolebinding", "-n", "kube-system",
            "wardle:extension-apiserver-authentication-reader",
        )  # fmt: skip
        k.run("delete", "namespace", "wardle", "--wait=false")


def test_kubectl_serves_flunders_through_the_aggregated_server(
    deployed: None, kubectl_namespace: str
) -> None:
    k = Kubectl(kubectl_namespace)
    # The aggregator asks the server for its discovery once its APIService is Available.
    resources = eventually(
        lambda: k.ok("api-resources", "--api-group=wardle.example.com", "--no-headers"),
        timeout=60,
        what="flunders in kubectl api-resources",
    )
    assert resources.split() == ["flunders", "fl", "wardle.example.com/v1alpha1", "true", "Flunder"]
    created = k.ok("create", "-f", "-", stdin=flunder("first"))
    assert created == "flunder.wardle.example.com/first created\n"
    got = json.loads(k.ok("get", "flunder", "first", "-o", "json"))
    assert (got["metadata"]["namespace"], got["spec"]) == (
        kubectl_namespace,
        {"reference": "a flunder"},
    )
    assert got["status"] == {"createdBy": "kubernetes-admin"}
    assert k.ok("get", "fl", "-o", "name") == "flunder.wardle.example.com/first\n"
    again = k.run("create", "-f", "-", stdin=flunder("first"))
    assert again.err == (
        'Error from server (AlreadyExists): error when creating "STDIN": '
        'flunders.wardle.example.com "first" already exists\n'
    )

    viewer = Kubectl(kubectl_namespace, kubeconfig=VIEWER_KUBECONFIG).run("get", "flunders")
    assert viewer.code == 1
    assert viewer.err == (
        'Error from server (Forbidden): flunders.wardle.example.com is forbidden: User "viewer" '
        'cannot list resource "flunders" in API group "wardle.example.com" in the namespace '
        f'"{kubectl_namespace}"\n'
    )
    # kubectl explain reads the server's OpenAPI v3 document, which the apiserver lists in its
    # own /openapi/v3 once it has downloaded the server's root, and proxies.
    explained = eventually(
        lambda: k.ok("explain", "flunders.spec"), timeout=60, what="kubectl explain flunders"
    )
    assert "reference\t<string>" in explained and "What it refers to." in explained, explained
    deleted = k.ok("delete", "flunder", "first")
    assert deleted == (
        f'flunder.wardle.example.com "first" deleted from {kubectl_namespace} namespace\n'
    )
    assert k.ok("get", "flunders", "-o", "name") == ""


def test_with_its_server_gone_the_group_is_unavailable(
    deployed: None, kubectl_namespace: str, tmp_path: Path
) -> None:
    server = Kubectl("wardle")
    server.ok("scale", "deployment/apiserver", "--replicas=0")
    try:
        gone = Kubectl().run(
            "wait", "--for=condition=Available=False", APISERVICE, "--timeout=120s"
        )
        assert gone.code == 0, gone
        reason = Kubectl().ok("get", APISERVICE, "-o", "jsonpath={.status.conditions[0].reason}")
        assert reason == "MissingEndpoints"

        # Asked again, the server does not answer: the aggregator lists its group/version
        # Stale, with no resources, so kubectl's discovery (a new one: no cache) lacks the
        # resource, as against Kubernetes with an aggregated server down.
        def refused() -> str:
            ran = Kubectl(kubectl_namespace).run("get", "flunders", "--cache-dir", str(tmp_path))
            return ran.err if ran.code == 1 and "resource type" in ran.err else ""

        assert eventually(refused, timeout=60, what="flunders gone from discovery") == (
            'error: the server doesn\'t have a resource type "flunders"\n'
        )
        path = f"/apis/wardle.example.com/v1alpha1/namespaces/{kubectl_namespace}/flunders"
        raw = Kubectl().run("get", "--raw", path)
        assert (raw.code, raw.err) == (
            1,
            "Error from server (ServiceUnavailable): the server is currently unable to handle "
            "the request\n",
        )
    finally:
        server.ok("scale", "deployment/apiserver", "--replicas=1")
    back = Kubectl().run("wait", "--for=condition=Available", APISERVICE, "--timeout=120s")
    assert back.code == 0, back
