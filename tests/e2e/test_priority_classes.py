"""Priority and runtime classes with the real kubectl on the compose cluster: the system classes
are there (made by the apiserver at start), and a Deployment whose pods name a PriorityClass made
with `kubectl create priorityclass` and a RuntimeClass for the nodes' runc handler rolls out, its
pods running with the class's priority, preemption policy and overhead."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator

import pytest

from tests.e2e.kubectl import Kubectl

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: urgent
spec:
  replicas: 2
  selector:
    matchLabels: {{app: urgent}}
  template:
    metadata:
      labels: {{app: urgent}}
    spec:
      priorityClassName: {priority_class}
      runtimeClassName: {runtime_class}
      terminationGracePeriodSeconds: 1
      containers:
      - name: sleep
        image: busybox
        command: [sleep, "3600"]
"""


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def classes() -> Iterator[tuple[str, str]]:
    """A PriorityClass and a RuntimeClass of the test's own, deleted afterwards (both are
    cluster-scoped: the namespace's deletion does not take them)."""
    suffix = secrets.token_hex(3)
    priority_class, runtime_class = f"e2e-urgent-{suffix}", f"e2e-runc-{suffix}"
    cluster = Kubectl()
    assert cluster.ok(
        "create",
        "priorityclass",
        priority_class,
        "--value=1000",
        "--description=e2e",
        "--preemption-policy=Never",
    ) == (f"priorityclass.scheduling.k8s.io/{priority_class} created\n")
    runtime = json.dumps(
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": runtime_class},
            "handler": "runc",
            "overhead": {"podFixed": {"cpu": "10m", "memory": "8Mi"}},
        }
    )
    assert cluster.ok("create", "-f", "-", stdin=runtime) == (
        f"runtimeclass.node.k8s.io/{runtime_class} created\n"
    )
    yield priority_class, runtime_class
    cluster.run("delete", "runtimeclass", runtime_class)
    cluster.run("delete", "priorityclass", priority_class)


def test_the_system_classes_are_there() -> None:
    out = Kubectl().ok("get", "priorityclasses")
    assert re.search(
        r"^system-node-critical\s+2000001000\s+false\s+\S+\s+PreemptLowerPriority$", out, re.M
    ), out
    assert re.search(r"^system-cluster-critical\s+2000000000\s+false\s+", out, re.M), out
    refused = Kubectl().run("delete", "priorityclass", "system-node-critical")
    assert refused.code == 1 and refused.err == (
        'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" '
        "is forbidden: this is a system priority class and cannot be deleted\n"
    ), refused


def test_a_deployment_of_the_classes_runs_with_their_priority_and_overhead(
    k: Kubectl, classes: tuple[str, str]
) -> None:
    priority_class, runtime_class = classes
    manifest = DEPLOYMENT.format(priority_class=priority_class, runtime_class=runtime_class)
    assert k.ok("apply", "-f", "-", stdin=manifest) == "deployment.apps/urgent created\n"
    rolled = k.run("rollout", "status", "deployment/urgent", "--timeout=120s")
    assert rolled.code == 0, rolled
    pods = json.loads(k.ok("get", "pods", "-l", "app=urgent", "-o", "json"))["items"]
    assert len(pods) == 2
    for pod in pods:
        spec = pod["spec"]
        assert (spec["priorityClassName"], spec["priority"], spec["preemptionPolicy"]) == (
            priority_class,
            1000,
            "Never",
        )
        assert spec["overhead"] == {"cpu": "10m", "memory": "8Mi"}
        assert pod["status"]["phase"] == "Running"
    described = k.ok("describe", "pod", pods[0]["metadata"]["name"])
    assert re.search(r"^Priority:\s+1000$", described, re.M), described
    assert re.search(rf"^Priority Class Name:\s+{priority_class}$", described, re.M), described
