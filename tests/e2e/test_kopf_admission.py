"""kopf's admission handlers in the cluster (examples/kopf-admission, after kopf's own
examples/17-admission): real kopf with its own HTTPS webhook server and
`settings.admission.managed`, built on the host FROM podplane/python:3.11, run as a Deployment.
kopf writes its MutatingWebhookConfiguration and ValidatingWebhookConfiguration itself, naming
its Service and giving its CA; the apiserver then calls it for every Note: the mutating handler
stamps who created it, the validating one refuses a Note in capitals with its message, in
kubectl's words as Kubernetes 1.31 gives them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.examples import deploy
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

EXAMPLE = ROOT / "examples" / "kopf-admission"
CONFIGURATIONS = "mutatingwebhookconfiguration,validatingwebhookconfiguration"
MANAGED = "notes.admission.podplane.example"


def note(name: str, text: str, author: str = "") -> str:
    spec = {"text": text, **({"author": author} if author else {})}
    return json.dumps(
        {
            "apiVersion": "admission.podplane.example/v1",
            "kind": "Note",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


@pytest.fixture(scope="module")
def deployed() -> Iterator[None]:
    """deploy.sh (kopf's wheels, the certificate, the image, the manifest), with the project's
    kubectl first on PATH; what it made, and what kopf made, go with the module."""
    deploy("kopf-admission", timeout=900)
    try:
        yield
    finally:
        k = Kubectl()
        k.run("delete", CONFIGURATIONS, MANAGED, "--ignore-not-found")
        k.run("delete", "-f", str(EXAMPLE / "kopf-admission.yaml"), "--wait=false")


def stamped_once_in_force(k: Kubectl, timeout: float = 120) -> dict[str, object]:
    """A server-side dry run of a Note until kopf's webhooks (its configurations written, the
    apiservers' caches following) stamp it; the stamped Note."""

    def stamped() -> dict[str, object] | None:
        ran = k.run(
            "create", "--dry-run=server", "-o", "json", "-f", "-", stdin=note("probe", "hi")
        )
        assert ran.code == 0, ran.err
        answer: dict[str, object] = json.loads(ran.out)
        return answer if "author" in answer["spec"] else None  # type: ignore[operator]

    return eventually(stamped, timeout, "kopf's webhooks stamping a dry run", interval=0.5)


def test_kopf_stamps_notes_and_refuses_shouting(deployed: None, kubectl_namespace: str) -> None:
    k = Kubectl(kubectl_namespace)
    stamped_once_in_force(k)

    # kopf writes its two configurations apart (a task for each) and the apiserver follows each
    # kind in a cache of its own: the mutating webhook in force says nothing of the validating.
    def refused_in_dry_run() -> bool:
        ran = k.run("create", "--dry-run=server", "-f", "-", stdin=note("loud", "HELLO THERE"))
        return ran.code == 1 and "no-shouting.notes.admission.podplane.example" in ran.err

    eventually(refused_in_dry_run, 120, "kopf's validating webhook refusing a dry run")
    made = json.loads(Kubectl().ok("get", CONFIGURATIONS, MANAGED, "-o", "json"))["items"]
    assert {c["kind"] for c in made} == {
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }
    for configuration in made:
        for webhook in configuration["webhooks"]:
            service = webhook["clientConfig"]["service"]
            assert (service["namespace"], service["name"], service["port"]) == (
                "kopf-admission",
                "kopf-admission",
                443,
            )

    created = k.ok("create", "-f", "-", stdin=note("first", "hello there", "someone else"))
    assert created == "note.admission.podplane.example/first created\n"
    spec = json.loads(k.ok("get", "note", "first", "-o", "jsonpath={.spec}"))
    assert spec == {"text": "hello there", "author": "kubernetes-admin"}

    refused = k.run("create", "-f", "-", stdin=note("loud", "HELLO THERE"))
    assert refused.code == 1
    # kopf's AdmissionError answers a code (422) and no reason, so kubectl names none.
    assert refused.err == (
        'Error from server: error when creating "STDIN": admission webhook '
        '"no-shouting.notes.admission.podplane.example" denied the request: no shouting, '
        "please: 'HELLO THERE'\n"
    )
