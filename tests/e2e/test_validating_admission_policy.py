"""The Kubernetes docs' first ValidatingAdmissionPolicy (Validating Admission Policy, "Getting
Started with Validating Admission Policy") applied unchanged on the compose cluster: a Deployment
of more than 5 replicas in a namespace labelled environment=test is refused with the text the
docs give, kubectl's words exactly; 5 replicas pass, and so do 6 elsewhere (server-side dry
runs, which admission judges as it judges writes)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.kubectl import Kubectl, Result
from tests.e2e.waiting import eventually

POLICY = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "demo-policy.example.com"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   ["apps"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["deployments"]
  validations:
    - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "demo-binding-test.example.com"
spec:
  policyName: "demo-policy.example.com"
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
"""


def deployment(name: str, replicas: int) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
                },
            },
        }
    )


@pytest.fixture(scope="module")
def policy() -> Iterator[None]:
    k = Kubectl()
    k.ok("apply", "-f", "-", stdin=POLICY)
    yield
    k.run("delete", "-f", "-", stdin=POLICY)


def refused_once_enforced(k: Kubectl, manifest: str, timeout: float = 30) -> Result:
    """A server-side dry run of `manifest`, until the policy (followed by every apiserver's
    caches) refuses it; then the create itself, refused."""
    eventually(
        lambda: k.run("create", "--dry-run=server", "-f", "-", stdin=manifest).code != 0,
        timeout,
        "the policy refusing a dry run",
        interval=0.2,
    )
    return k.run("create", "-f", "-", stdin=manifest)


def test_more_than_5_replicas_in_test_are_refused_with_the_docs_text(
    policy: None, kubectl_namespace: str
) -> None:
    Kubectl().ok("label", "namespace", kubectl_namespace, "environment=test")
    k = Kubectl(kubectl_namespace)
    refused = refused_once_enforced(k, deployment("nginx", 6))
    assert refused.code == 1
    assert refused.err == (
        'The deployments "nginx" is invalid: : ValidatingAdmissionPolicy '
        "'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: "
        "failed expression: object.spec.replicas <= 5\n"
    )
    # What passes is created as a server-side dry run: admitted all the same, and no pods.
    assert k.ok("create", "--dry-run=server", "-f", "-", stdin=deployment("five", 5)) == (
        "deployment.apps/five created (server dry run)\n"
    )
    Kubectl().ok("label", "namespace", kubectl_namespace, "environment=prod", "--overwrite")
    # The binding no longer matches the namespace, once the apiservers' caches have the label.
    eventually(
        lambda: (
            k.run("create", "--dry-run=server", "-f", "-", stdin=deployment("six", 6)).code == 0
        ),
        30,
        "admission in a namespace the binding left",
        interval=0.2,
    )
    assert k.ok("create", "--dry-run=server", "-f", "-", stdin=deployment("six", 6)) == (
        "deployment.apps/six created (server dry run)\n"
    )
