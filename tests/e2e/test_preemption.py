"""Preemption on the compose cluster, through the real kubectl: a pod of a low PriorityClass
takes most of what is left of node-3's CPU; a pod of a high class that needs more than the rest
is nominated to node-3, the low pod is deleted with the scheduler's `Preempted` event on it
(Kubernetes' message: "Preempted by pod <uid> on node node-3"), and the high pod runs there.
Pods of any priority above the low class's (the cluster's own, other tests') are never victims:
the low class is below all of them, so the scheduler reprieves them first."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest
import yaml

from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

# It fills node-3's CPU: it runs alone, after the tests that share the cluster (conftest.py).
pytestmark = pytest.mark.disruptive

NODE = "node-3"


@pytest.fixture(scope="module")
def classes() -> Iterator[tuple[str, str]]:
    suffix = secrets.token_hex(3)
    low, high = f"e2e-low-{suffix}", f"e2e-high-{suffix}"
    admin = Kubectl()
    admin.ok("create", "priorityclass", low, "--value=-1000", "--description=e2e victims")
    admin.ok("create", "priorityclass", high, "--value=1000", "--description=e2e preemptors")
    yield low, high
    admin.run("delete", "priorityclass", low, high, "--ignore-not-found")


def millicores(quantity: str) -> int:
    if quantity.endswith("m"):
        return int(quantity[:-1])
    return int(Decimal(quantity) * 1000)


def free_cpu(k: Kubectl) -> int:
    """node-3's allocatable CPU less the requests of the pods bound there (as NodeResourcesFit
    counts them: the larger of the containers' sum and any init container, plus overhead)."""
    allocatable = millicores(k.ok("get", "node", NODE, "-o", "jsonpath={.status.allocatable.cpu}"))
    pods = json.loads(
        k.ok("get", "pods", "-A", "--field-selector", f"spec.nodeName={NODE}", "-o", "json")
    )["items"]
    used = 0
    for pod in pods:
        if pod["status"].get("phase") in ("Succeeded", "Failed"):
            continue
        spec = pod["spec"]

        def cpu(c: dict[str, dict[str, dict[str, str]]]) -> int:
            return millicores(c.get("resources", {}).get("requests", {}).get("cpu", "0"))

        regular = sum(cpu(c) for c in spec["containers"])
        init = max([cpu(c) for c in spec.get("initContainers", [])], default=0)
        used += max(regular, init) + millicores(spec.get("overhead", {}).get("cpu", "0"))
    return allocatable - used


def pod(name: str, priority_class: str, cpu_millis: int) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "priorityClassName": priority_class,
                "nodeSelector": {"kubernetes.io/hostname": NODE},
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": f"{cpu_millis}m"}},
                    }
                ],
            },
        }
    )


def test_a_high_priority_pod_preempts_a_low_priority_one_on_a_full_node(
    kubectl_namespace: str, classes: tuple[str, str]
) -> None:
    low, high = classes
    k = Kubectl(kubectl_namespace)
    free = free_cpu(k)
    assert free > 200, f"{NODE} has only {free}m CPU left"
    share = free * 6 // 10  # one fits; two do not
    k.ok("apply", "-f", "-", stdin=pod("victim", low, share))
    ready = k.run("wait", "--for=condition=Ready", "pod/victim", "--timeout=120s")
    assert ready.code == 0, ready
    victim_uid = k.ok("get", "pod", "victim", "-o", "jsonpath={.metadata.uid}")

    k.ok("apply", "-f", "-", stdin=pod("preemptor", high, share))
    preemptor_uid = k.ok("get", "pod", "preemptor", "-o", "jsonpath={.metadata.uid}")
    eventually(
        lambda: k.run("get", "pod", "victim", "--ignore-not-found", "-o", "name").out == "",
        120,
        "the victim to be gone",
    )
    ready = k.run("wait", "--for=condition=Ready", "pod/preemptor", "--timeout=120s")
    assert ready.code == 0, ready
    preemptor = json.loads(k.ok("get", "pod", "preemptor", "-o", "json"))
    assert preemptor["spec"]["nodeName"] == NODE
    assert preemptor["spec"]["priority"] == 1000

    # The scheduler records Preempted after the victim's deletion, from its queued recorder: the
    # event comes on its own path, not with the victim's going or the preemptor's start.
    def preempted() -> list[dict[str, str]]:
        listed = k.ok(
            "get", "events", "--field-selector", f"involvedObject.uid={victim_uid}", "-o", "json"
        )
        events: list[dict[str, str]] = json.loads(listed)["items"]
        return [e for e in events if e["reason"] == "Preempted"]

    events = eventually(preempted, 30, "the victim's Preempted event")
    assert any(
        e["reason"] == "Preempted"
        and e["message"] == f"Preempted by pod {preemptor_uid} on node {NODE}"
        for e in events
    ), events
