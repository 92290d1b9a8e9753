"""Server-side apply with the real kubectl on the compose cluster, as a user types it: a Deployment
created and updated by `kubectl apply --server-side` (and rolled out by the controllers), a
second manager's conflict as kubectl prints it, --force-conflicts, both managers in
`kubectl get --show-managed-fields`, the controller-manager's and the kubelet's own entries, the
move from client-side apply, and `kubectl diff --server-side`."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import yaml

from tests.e2e.kubectl import Kubectl


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def deployment(name: str, replicas: int = 1, image: str = "busybox") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {
                                "name": "main",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sleep", "3600"],
                            }
                        ],
                        "terminationGracePeriodSeconds": 1,
                    },
                },
            },
        }
    )


def get(k: Kubectl, what: str) -> Any:
    return json.loads(k.ok("get", what, "-o", "json", "--show-managed-fields"))


def owners(obj: Any) -> dict[tuple[str, str, str], Any]:
    return {
        (e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
        for e in obj["metadata"]["managedFields"]
    }


def wait_available(k: Kubectl, name: str, replicas: int) -> Any:
    deadline = time.monotonic() + 120
    while True:
        obj = get(k, f"deployment/{name}")
        if obj.get("status", {}).get("availableReplicas") == replicas:
            return obj
        assert time.monotonic() < deadline, obj.get("status")
        time.sleep(1)


def test_kubectl_apply_server_side_creates_updates_and_reports_conflicts(k: Kubectl) -> None:
    assert k.ok("apply", "--server-side", "-f", "-", stdin=deployment("web")) == (
        "deployment.apps/web serverside-applied\n"
    )
    obj = wait_available(k, "web", 1)
    found = owners(obj)
    assert found["kubectl", "Apply", ""]["f:spec"]["f:replicas"] == {}
    # The controller-manager recorded its status writes, as kube-controller-manager's.
    assert ("kube-controller-manager", "Update", "status") in found
    # The pods it made are the controller-manager's; their status the kubelet's.
    pod = json.loads(k.ok("get", "pods", "-l", "app=web", "-o", "json", "--show-managed-fields"))[
        "items"
    ][0]
    pod_owners = owners(pod)
    assert ("kube-controller-manager", "Update", "") in pod_owners
    assert ("kubelet", "Update", "status") in pod_owners

    # A second manager changing replicas: Kubernetes' conflict, as kubectl prints it.
    refused = k.run(
        "apply", "--server-side", "--field-manager=other", "-f", "-", stdin=deployment("web", 2)
    )
    assert refused.code == 1
    assert refused.err.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas\n'
        "Please review the fields above--they currently have other managers."
    ), refused
    k.ok(
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        "-",
        stdin=deployment("web", 2),
    )
    obj = wait_available(k, "web", 2)
    found = owners(obj)
    assert "f:replicas" in found["other", "Apply", ""]["f:spec"]
    assert "f:replicas" not in found["kubectl", "Apply", ""]["f:spec"]
    shown = k.ok("get", "deployment/web", "-o", "yaml", "--show-managed-fields")
    assert "manager: kubectl\n" in shown and "manager: other\n" in shown
    assert "managedFields" not in k.ok("get", "deployment/web", "-o", "yaml")

    # A dry-run apply, compared: what would change, nothing changed.
    diff = k.run(
        "diff", "--server-side", "--field-manager=other", "-f", "-", stdin=deployment("web", 3)
    )
    assert diff.code == 1, diff
    assert "-  replicas: 2" in diff.out and "+  replicas: 3" in diff.out
    assert get(k, "deployment/web")["spec"]["replicas"] == 2


def test_a_client_side_applied_deployment_moves_to_server_side_apply(k: Kubectl) -> None:
    k.ok("apply", "-f", "-", stdin=deployment("moved"))
    found = owners(get(k, "deployment/moved"))
    assert ("kubectl-client-side-apply", "Update", "") in found
    assert k.ok("apply", "--server-side", "-f", "-", stdin=deployment("moved", 2)) == (
        "deployment.apps/moved serverside-applied\n"
    )
    obj = wait_available(k, "moved", 2)
    found = owners(obj)
    assert "f:replicas" in found["kubectl", "Apply", ""]["f:spec"]
    assert ("kubectl-client-side-apply", "Update", "") not in found
    # A client-side apply afterwards still works: the server kept the annotation up to date.
    k.ok("apply", "-f", "-", stdin=deployment("moved", 1))
    assert wait_available(k, "moved", 1)["spec"]["replicas"] == 1
