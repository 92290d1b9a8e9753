"""kubectl drain on the compose cluster, with a PodDisruptionBudget: a Deployment of 3 (all on
node-2, the other nodes cordoned while it starts) under a budget of minAvailable 2. Draining
node-2 evicts one pod at a time: the others are refused ("will retry after 5s") until the
Deployment's replacement is ready on another node (its readiness probe waits 3 s, longer than an
eviction's retry after a conflict, 0.5 s, so a fast runtime's replacement cannot be ready before
the other evictions are answered), so at least 2 pods stay ready throughout,
and the drain completes. A budget that cannot be met makes the drain time out (--timeout), the
pods untouched. Every node is uncordoned at the end."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.compose_cluster import NODES
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

# It cordons and drains nodes: it runs alone, after the tests that share the cluster (conftest.py).
pytestmark = pytest.mark.disruptive

VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: sleep
        image: busybox
        command: [sleep, "3600"]
        readinessProbe:
          exec: {command: ["true"]}
          initialDelaySeconds: 3
          periodSeconds: 2
        volumeMounts: [{name: scratch, mountPath: /scratch}]
      volumes: [{name: scratch, emptyDir: {}}]
"""


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Iterator[Kubectl]:
    k = Kubectl(kubectl_namespace)
    try:
        yield k
    finally:
        for node in NODES:  # the cluster is shared: leave every node schedulable
            Kubectl().run("uncordon", node)


def web_pods(k: Kubectl) -> list[Any]:
    """The Deployment's pods, as `kubectl get -o json` gives them."""
    pods: list[Any] = json.loads(k.ok("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    return pods


def healthy(pod: Any) -> bool:
    """Counted by the budget: ready and not being deleted."""
    conditions = pod["status"].get("conditions", [])
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return ready and not pod["metadata"].get("deletionTimestamp")


def nodes_of(k: Kubectl) -> list[str]:
    return sorted(str(p["spec"]["nodeName"]) for p in web_pods(k) if healthy(p))


def unmanaged_pods_on(k: Kubectl, node: str) -> list[str]:
    """Pods on the node that kubectl drain refuses without --force (no controller, not finished):
    an earlier module's bare pods while their namespace is still being deleted."""
    pods = json.loads(
        k.ok("get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "json")
    )["items"]
    return [
        f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        for p in pods
        if p["status"].get("phase") not in ("Succeeded", "Failed")
        and not any(o.get("controller") for o in p["metadata"].get("ownerReferences", []))
        and "kubernetes.io/config.mirror" not in p["metadata"].get("annotations", {})
    ]


def allowed(k: Kubectl, name: str = "web") -> str:
    return k.ok("get", "pdb", name, "-o", "jsonpath={.status.disruptionsAllowed}")


class HealthyWatch:
    """The fewest healthy pods of the Deployment seen, sampled each second in a thread."""

    def __init__(self, k: Kubectl) -> None:
        self.k = k
        self.fewest = 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.fewest = min(self.fewest, sum(healthy(p) for p in web_pods(self.k)))
            self._stop.wait(1)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.fewest


def test_drain_evicts_within_the_budget_and_completes(k: Kubectl) -> None:
    for node in ("node-1", "node-3"):
        assert k.ok("cordon", node) == f"node/{node} cordoned\n"
    assert k.ok("apply", "-f", "-", stdin=DEPLOYMENT) == "deployment.apps/web created\n"
    k.ok("rollout", "status", "deployment/web", "--timeout=180s")
    assert nodes_of(k) == ["node-2"] * 3
    for node in ("node-1", "node-3"):
        assert k.ok("uncordon", node) == f"node/{node} uncordoned\n"
    out = k.ok("create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2")
    assert out == "poddisruptionbudget.policy/web created\n"
    eventually(lambda: allowed(k) == "1", 60, "the budget's status")
    # kubectl drain refuses a node with a bare pod on it, even one whose namespace is going.
    eventually(
        lambda: not unmanaged_pods_on(k, "node-2"), 120, "earlier tests' bare pods to leave node-2"
    )

    on_node_2 = {p["metadata"]["name"] for p in web_pods(k)}
    watch = HealthyWatch(k)
    try:
        drain = k.run(
            "drain",
            "node-2",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=300s",
            timeout=400,
        )
    finally:
        fewest = watch.stop()
    assert drain.code == 0, drain
    lines = drain.out.splitlines()
    assert lines[0] == "node/node-2 cordoned" and lines[-1] == "node/node-2 drained", drain
    # The Deployment's three, each once; other pods the node held (the cluster DNS's, another
    # namespace's) are evicted too, and kubectl names them without their namespace.
    evicted = Counter(
        m[1] for m in (re.fullmatch(r"pod/(\S+) evicted", line) for line in lines) if m
    )
    assert {name: evicted[name] for name in on_node_2} == dict.fromkeys(on_node_2, 1), drain
    refused = [line for line in drain.err.splitlines() if "(will retry after 5s)" in line]
    assert refused, drain  # three evictions asked at once, one disruption allowed
    assert all(line.endswith(VIOLATION) for line in refused), drain
    assert fewest >= 2, f"the budget did not hold: {fewest} healthy pods at one point"

    k.ok("rollout", "status", "deployment/web", "--timeout=180s")
    eventually(lambda: len(nodes_of(k)) == 3, 120, "3 healthy pods off node-2")
    assert "node-2" not in nodes_of(k)
    eventually(lambda: allowed(k) == "1", 60, "one disruption allowed again")
    assert k.ok("uncordon", "node-2") == "node/node-2 uncordoned\n"


def test_a_budget_that_cannot_be_met_makes_the_drain_time_out(k: Kubectl) -> None:
    # A pod under two budgets cannot be evicted at all: this one is changed, not added to.
    out = k.ok("patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":"100%"}}')
    assert out == "poddisruptionbudget.policy/web patched\n"
    eventually(
        lambda: (
            k.ok(
                "get",
                "pdb",
                "web",
                "-o",
                "jsonpath={.status.observedGeneration} {.status.disruptionsAllowed}",
            )
            == "2 0"
        ),
        60,
        "the new spec observed",
    )
    node = nodes_of(k)[0]
    eventually(
        lambda: not unmanaged_pods_on(k, node), 120, f"earlier tests' bare pods to leave {node}"
    )
    before = {p["metadata"]["name"] for p in web_pods(k)}
    drain = k.run(
        "drain",
        node,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=15s",
        timeout=120,
    )
    assert drain.code == 1, drain
    assert "(will retry after 5s): " + VIOLATION in drain.err, drain
    assert "global timeout reached: 15s" in drain.err, drain
    assert {p["metadata"]["name"] for p in web_pods(k)} == before
    assert k.ok("uncordon", node) == f"node/{node} uncordoned\n"
