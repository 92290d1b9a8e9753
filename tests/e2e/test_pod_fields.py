"""Kubernetes 1.31 pod fields on the compose cluster, through the real kubectl: a namespace that
enforces the restricted Pod Security Standard admits a pod with a RuntimeDefault seccomp profile
(and refuses one without, in Kubernetes' words), and a pod with a scheduling gate shows
SchedulingGated until the gate is removed, then runs."""

from __future__ import annotations

import time

import pytest
import yaml

from tests.e2e.compose_cluster import component_metrics
from tests.e2e.faults import service_of_holder
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

# The scheduler's /metrics (--metrics-bind-address), and its series of the pods it keeps gated
# (PreEnqueue refused them: they are never tried until an update lets them through).
SCHEDULER_METRICS_PORT = 10251
GATED = ("scheduler_pending_pods", frozenset({("queue", "gated")}))


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def pod(name: str, **spec: object) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
                **spec,
            },
        }
    )


def status_of(k: Kubectl, name: str) -> str:
    return k.ok("get", "pod", name, "--no-headers").split()[2]


def gated_pods() -> float:
    """How many pods the leading scheduler keeps among its gated ones."""
    holder = Kubectl().ok(
        "get", "lease", "kube-scheduler", "-n", "kube-system",
        "-o", "jsonpath={.spec.holderIdentity}",
    )  # fmt: skip
    return component_metrics(service_of_holder(holder), SCHEDULER_METRICS_PORT)[GATED]


def wait_status(k: Kubectl, name: str, wanted: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (status := status_of(k, name)) != wanted:
        assert time.monotonic() < deadline, f"pod {name} is {status}, not {wanted}"
        time.sleep(1)


RESTRICTED_SECURITY_CONTEXT = {"runAsNonRoot": True, "runAsUser": 1000}


def test_restricted_namespace_admits_a_runtime_default_seccomp_profile(
    k: Kubectl, kubectl_namespace: str
) -> None:
    k.ok("label", "namespace", kubectl_namespace, "pod-security.kubernetes.io/enforce=restricted")
    unconfined = pod("unconfined", securityContext=RESTRICTED_SECURITY_CONTEXT)
    # PodSecurity reads the namespace's labels from the apiserver's cache.
    eventually(
        lambda: k.run("apply", "--dry-run=server", "-f", "-", stdin=unconfined).code != 0,
        timeout=30,
        what="PodSecurity refusing a dry run",
        interval=0.2,
    )
    without = k.run("apply", "-f", "-", stdin=unconfined)
    assert without.code == 1
    assert (
        'pods "unconfined" is forbidden: violates PodSecurity "restricted:latest": '
        'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to '
        '"RuntimeDefault" or "Localhost")'
    ) in without.err
    confined = pod(
        "confined",
        securityContext={
            **RESTRICTED_SECURITY_CONTEXT,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    )
    assert k.ok("apply", "-f", "-", stdin=confined) == "pod/confined created\n"
    wait_status(k, "confined", "Running")
    seccomp = k.ok(
        "get", "pod", "confined", "-o", "jsonpath={.spec.securityContext.seccompProfile}"
    )
    assert seccomp == '{"type":"RuntimeDefault"}'


def test_a_gated_pod_shows_scheduling_gated_until_its_gate_is_removed(k: Kubectl) -> None:
    gated = pod(
        "gated",
        securityContext={
            **RESTRICTED_SECURITY_CONTEXT,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        schedulingGates=[{"name": "example.com/approval"}],
    )
    before = gated_pods()
    assert k.ok("apply", "-f", "-", stdin=gated) == "pod/gated created\n"
    # The scheduler has taken the pod in and kept it out of its active queue, from which it places
    # pods: what it does with the pod, it has done.
    eventually(
        lambda: gated_pods() > before, 60, "the scheduler keeping the pod gated", interval=0.5
    )
    assert status_of(k, "gated") == "SchedulingGated"
    assert k.ok("get", "pod", "gated", "-o", "jsonpath={.spec.nodeName}") == ""
    removed = k.ok(
        "patch", "pod", "gated", "--type=json",
        "-p", '[{"op": "remove", "path": "/spec/schedulingGates"}]',
    )  # fmt: skip
    assert removed == "pod/gated patched\n"
    wait_status(k, "gated", "Running")
    assert k.ok("get", "pod", "gated", "-o", "jsonpath={.spec.nodeName}").startswith("node-")
