"""ResourceQuota and LimitRange on the compose cluster, driven with kubectl as a user drives them:
a LimitRange's defaults land on a pod created without resources (and the LimitRanger annotation
says so), its maximum refuses a bigger container; a quota's used figures follow the namespace's
pods (the resource quota controller), a pod past it is refused with Kubernetes' text, and a
Deployment past it is held at what fits, its ReplicaSet telling why in a FailedCreate event."""

from __future__ import annotations

import json
import re

from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

LIMITS = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "limits"},
    "spec": {
        "limits": [
            {
                "type": "Container",
                "default": {"cpu": "200m", "memory": "64Mi"},
                "defaultRequest": {"cpu": "50m", "memory": "32Mi"},
                "max": {"cpu": "500m"},
            }
        ]
    },
}
QUOTA = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "compute"},
    "spec": {"hard": {"pods": "2", "requests.cpu": "1", "limits.cpu": "2"}},
}


def pod(name: str, cpu_limit: str | None = None) -> str:
    container: dict[str, object] = {
        "name": "main",
        "image": "busybox:latest",
        "command": ["sleep", "3600"],
    }
    if cpu_limit is not None:
        container["resources"] = {"limits": {"cpu": cpu_limit}}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]},
        }
    )


def test_limit_range_defaults_and_refuses_then_quota_counts_and_refuses(
    kubectl_namespace: str,
) -> None:
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", "-", stdin=json.dumps(LIMITS))

    k.ok("create", "-f", "-", stdin=pod("plain"))
    created = json.loads(k.ok("get", "pod", "plain", "-o", "json"))
    assert created["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "200m", "memory": "64Mi"},
        "requests": {"cpu": "50m", "memory": "32Mi"},
    }
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container main; "
        "cpu, memory limit for container main"
    )
    refused = k.run("create", "-f", "-", stdin=pod("big", cpu_limit="1"))
    assert (refused.code, refused.err) == (
        1,
        'Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: '
        "maximum cpu usage per Container is 500m, but limit is 1\n",
    )

    # The quota's used figures count the pod already there.
    k.ok("apply", "-f", "-", stdin=json.dumps(QUOTA))

    def used() -> dict[str, str] | None:
        status = json.loads(k.ok("get", "quota", "compute", "-o", "json")).get("status", {})
        figures: dict[str, str] | None = status.get("used")
        return figures

    assert eventually(used, timeout=60, what="the quota's used figures") == {
        "pods": "1",
        "requests.cpu": "50m",
        "limits.cpu": "200m",
    }
    k.ok("create", "-f", "-", stdin=pod("second"))
    refused = k.run("create", "-f", "-", stdin=pod("third"))
    assert (refused.code, refused.err) == (
        1,
        'Error from server (Forbidden): error when creating "STDIN": pods "third" is forbidden: '
        "exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2\n",
    )

    def shown() -> list[list[str]] | None:
        rows = [re.split(r"\s{2,}", line.strip()) for line in k.ok("get", "quota").splitlines()]
        return (
            rows
            if rows[1][2:] == ["pods: 2/2, requests.cpu: 100m/1", "limits.cpu: 400m/2"]
            else None
        )

    # The quota controller's recount from its informer may lag the admission's count, as in
    # Kubernetes, whose e2e tests wait for the used figures too.
    rows = eventually(shown, timeout=60, what="the quota's used figures with the second pod")
    assert rows[0] == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert rows[1][0] == "compute"

    # A Deployment past the quota: its ReplicaSet creates none and says why.
    k.ok("create", "deployment", "web", "--image=busybox:latest", "--", "sleep", "3600")

    def failed_create() -> str | None:
        events = json.loads(
            k.ok("get", "events", "--field-selector", "reason=FailedCreate", "-o", "json")
        )["items"]
        return str(events[0]["message"]) if events else None

    message = eventually(failed_create, timeout=60, what="the ReplicaSet's FailedCreate event")
    assert re.fullmatch(
        r'Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: compute, '
        r"requested: pods=1, used: pods=2, limited: pods=2",
        message,
    ), message
    assert k.ok("get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}") == ""
