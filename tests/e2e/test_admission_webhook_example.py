"""The admission webhook example (examples/admission-webhook) deployed as its README says, on the
compose cluster: a user's HTTPS webhook server in a pod, reached by the apiserver at its pod
address (the compose apiserver's routes to the pod network, docker/apiserver-entrypoint.sh), its
Service named in a MutatingWebhookConfiguration and a ValidatingWebhookConfiguration for the
Pods of the namespaces labelled example.podplane.io/webhook=enabled. Pods there are labelled by
the mutating webhook and refused by the validating one with its reason, in kubectl's words as
Kubernetes 1.31 gives them; a webhook past its timeoutSeconds fails the create; with the webhook
down, failurePolicy Fail refuses the create and Ignore lets it through."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.examples import deploy
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

ENABLED = "example.podplane.io/webhook=enabled"


def pod(name: str, labels: dict[str, str] | None = None) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}],
            },
        }
    )


@pytest.fixture(scope="module")
def webhook() -> Iterator[None]:
    """deploy.sh, with the project's kubectl first on PATH; the configurations and the webhook's
    namespace go with the module."""
    deploy("admission-webhook")
    yield
    k = Kubectl()
    k.run(
        "delete",
        "mutatingwebhookconfiguration,validatingwebhookconfiguration",
        "example.podplane.io",
    )
    k.run("delete", "namespace", "webhook-example", "--wait=false")


@pytest.fixture(scope="module")
def k(webhook: None, kubectl_namespace: str) -> Kubectl:
    Kubectl().ok("label", "namespace", kubectl_namespace, ENABLED)
    k = Kubectl(kubectl_namespace)

    # The webhooks' namespaceSelector sees the label through the apiserver's cache.
    def mutated() -> bool:
        dry = json.loads(
            k.ok("create", "--dry-run=server", "-o", "json", "-f", "-", stdin=pod("plain"))
        )
        labels: dict[str, str] = dry["metadata"].get("labels", {})
        return labels.get("example.podplane.io/mutated") == "true"

    eventually(mutated, timeout=30, what="the webhooks to see the namespace's label", interval=0.2)
    return k


def test_pods_are_labelled_by_the_mutating_webhook_and_refused_by_the_validating_one(
    k: Kubectl,
) -> None:
    assert k.ok("create", "-f", "-", stdin=pod("plain", {"app": "x"})) == "pod/plain created\n"
    labels = json.loads(k.ok("get", "pod", "plain", "-o", "jsonpath={.metadata.labels}"))
    assert labels == {"app": "x", "example.podplane.io/mutated": "true"}
    assert k.ok("create", "-f", "-", stdin=pod("bare")) == "pod/bare created\n"
    labels = json.loads(k.ok("get", "pod", "bare", "-o", "jsonpath={.metadata.labels}"))
    assert labels == {"example.podplane.io/mutated": "true"}

    refused = k.run(
        "create", "-f", "-", stdin=pod("denied", {"example.podplane.io/deny": "testing"})
    )
    assert refused.code == 1
    assert refused.err == (
        # The webhook's status has a code (403) and no reason, so kubectl names none.
        'Error from server: error when creating "STDIN": admission webhook '
        '"validate.example.podplane.io" denied the request: pods labelled '
        "example.podplane.io/deny are not allowed: testing\n"
    )
    assert k.run("get", "pod", "denied").code == 1


def test_a_webhook_past_its_timeout_fails_the_create(k: Kubectl) -> None:
    late = k.run("create", "-f", "-", stdin=pod("late", {"example.podplane.io/slow": ""}))
    assert late.code == 1
    assert late.err == (
        'Error from server (InternalError): error when creating "STDIN": Internal error '
        'occurred: failed calling webhook "slow.example.podplane.io": failed to call webhook: '
        'Post "https://webhook.webhook-example.svc:443/slow?timeout=2s": context deadline '
        "exceeded\n"
    )


def test_with_the_webhook_down_fail_refuses_and_ignore_admits(k: Kubectl) -> None:
    system = Kubectl("webhook-example")
    system.ok("scale", "deployment/webhook", "--replicas=0")
    system.ok("wait", "--for=delete", "pod", "-l", "app=webhook", "--timeout=120s")
    try:
        down = k.run("create", "-f", "-", stdin=pod("while-down"))
        assert down.code == 1
        assert down.err.startswith(
            'Error from server (InternalError): error when creating "STDIN": Internal error '
            'occurred: failed calling webhook "mutate.example.podplane.io": failed to call '
            'webhook: Post "https://webhook.webhook-example.svc:443/mutate?timeout=5s": '
        ), down.err
        ignore = [{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}]
        for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
            Kubectl().ok(
                "patch", kind, "example.podplane.io", "--type=json", "-p", json.dumps(ignore)
            )
        # The apiserver sees the new failurePolicy through its cache of the configurations.
        eventually(
            lambda: (
                k.run("create", "--dry-run=server", "-f", "-", stdin=pod("while-down")).code == 0
            ),
            timeout=30,
            what="failurePolicy Ignore to take effect",
            interval=0.2,
        )
        admitted = k.ok("create", "-f", "-", stdin=pod("while-down"))
        assert admitted == "pod/while-down created\n"
        labels = k.ok("get", "pod", "while-down", "-o", "jsonpath={.metadata.labels}")
        assert labels == ""  # not mutated: the webhook was not there
    finally:
        system.ok("scale", "deployment/webhook", "--replicas=1")
