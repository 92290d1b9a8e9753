"""A HorizontalPodAutoscaler on the compose cluster, as the Kubernetes docs' walkthrough runs one:
a Deployment of CPU-burning busybox pods under an HPA at 50 % of their CPU request is scaled out
to its maximum on the metrics API's figures, `kubectl get hpa` shows the utilization against the
target and `kubectl describe hpa` the conditions and the rescale event; when the load stops (each
pod told to sleep), it is scaled back in to its minimum, and not before its (shortened) scale-down
stabilization window has passed since the scale-out's recommendation."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

# Each pod burns its limit: 100m, twice its request.
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "burner"},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "burner"}},
        "template": {
            "metadata": {"labels": {"app": "burner"}},
            "spec": {
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "burn",
                        "image": "busybox:latest",
                        # Burns until told to stop (/tmp/idle), then sleeps.
                        "command": [
                            "sh",
                            "-c",
                            "while [ ! -e /tmp/idle ]; do :; done; exec sleep 3600",
                        ],
                        "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "100m"}},
                    }
                ],
            },
        },
    },
}
SCALE_DOWN_WINDOW = 30
HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "burner"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "burner"},
        "minReplicas": 1,
        "maxReplicas": 3,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50},
                },
            }
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": SCALE_DOWN_WINDOW}},
    },
}


def hpa_status(k: Kubectl) -> dict[str, object]:
    status: dict[str, object] = json.loads(k.ok("get", "hpa", "burner", "-o", "json"))["status"]
    return status


def rescale_events(k: Kubectl) -> list[tuple[datetime, str]]:
    """The HPA's SuccessfulRescale events, oldest first: when (the server's clock) and what."""
    events = json.loads(
        k.ok(
            "get",
            "events",
            "--field-selector",
            "involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale",
            "-o",
            "json",
        )
    )["items"]
    return sorted(
        (datetime.fromisoformat(e["lastTimestamp"].replace("Z", "+00:00")), e["message"])
        for e in events
    )


def rescales(k: Kubectl) -> list[str]:
    return [message for _, message in rescale_events(k)]


def test_a_busy_deployment_is_scaled_out_then_back_in(kubectl_namespace: str) -> None:
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", "-", stdin=json.dumps(DEPLOYMENT))
    k.ok("apply", "-f", "-", stdin=json.dumps(HPA))

    # Out: 1 pod at 200 % of its request wants 4; the maximum is 3.
    eventually(
        lambda: hpa_status(k).get("desiredReplicas") == 3,
        timeout=180,
        what="the HPA wanting 3 replicas",
    )
    eventually(
        lambda: k.ok("get", "deployment", "burner", "-o", "jsonpath={.spec.replicas}") == "3",
        timeout=30,
        what="the Deployment scaled to 3",
    )
    # The controller records its SuccessfulRescale after the scale write, and events are
    # written on their own (podplane/client/events.py): the event may follow the scale.
    eventually(lambda: rescales(k), timeout=30, what="the HPA's SuccessfulRescale event")
    assert rescales(k)[0] == (
        "New size: 3; reason: cpu resource utilization (percentage of request) above target"
    )
    table = [re.split(r"\s{2,}", line.strip()) for line in k.ok("get", "hpa").splitlines()]
    assert table[0] == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    assert table[1][:2] == ["burner", "Deployment/burner"]
    assert re.fullmatch(r"cpu: \d+%/50%", table[1][2]), table[1][2]
    assert table[1][3:5] == ["1", "3"]
    described = k.ok("describe", "hpa", "burner")
    assert re.search(r"Min replicas:\s+1\n", described)
    assert re.search(r"Max replicas:\s+3\n", described)
    assert re.search(
        r"ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a "
        r"replica count from cpu resource utilization \(percentage of request\)\n",
        described,
    )
    assert "New size: 3; reason: cpu resource utilization (percentage of request) above target" in (
        described
    )

    # In: every pod stops burning; after the window, back to the minimum.
    k.ok("rollout", "status", "deployment/burner", "--timeout=120s")
    for pod in k.ok("get", "pods", "-l", "app=burner", "-o", "name").split():
        k.ok("exec", pod, "--", "touch", "/tmp/idle")
    deadline = time.monotonic() + 240
    while k.ok("get", "deployment", "burner", "-o", "jsonpath={.spec.replicas}") != "1":
        assert time.monotonic() < deadline, ("the Deployment was not scaled back to 1", rescales(k))
        time.sleep(1)
    # Its event, as the scale-out's, may follow the scale.
    eventually(
        lambda: any(m.startswith("New size: 1;") for m in rescales(k)),
        timeout=30,
        what="the scale-in's SuccessfulRescale event",
    )
    # Not sooner than the window after the scale-out: its recommendation of 3 holds the scale
    # for the window (the HPA keeps the highest recommendation of the last SCALE_DOWN_WINDOW
    # seconds). The later recommendations cannot be told from outside: the status' utilization
    # averages the pods the HPA counted (not those in their CPU initialization period), not
    # every replica, so a status over 50 / 3 % may come with a recommendation of 1.
    events = rescale_events(k)
    out = max(i for i, (_, m) in enumerate(events) if m.startswith("New size: 3;"))
    assert len(events) > out + 1, events
    assert events[out + 1][0] - events[out][0] >= timedelta(seconds=SCALE_DOWN_WINDOW - 1), events
    assert rescales(k)[-1] == "New size: 1; reason: All metrics below target"
