"""`describe pod` and `describe node` print kubectl's layout for a realistic running pod."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from podctl.describe.node import describe_node
from podctl.describe.pod import describe_pod
from tests.unit.podctl import realistic

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """describe prints times in the local zone, as kubectl does; pin it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_pod_header() -> None:
    lines = describe_pod(realistic.pod(), realistic.events(), NOW).splitlines()
    assert lines[:12] == [
        "Name:             web-7d4b9",
        "Namespace:        shop",
        "Priority:         0",
        "Service Account:  default",
        "Node:             node-1/172.18.0.3",
        "Start Time:       Sat, 21 Nov 2026 15:00:01 +0000",
        "Labels:           app=web",
        "                  tier=frontend",
        "Annotations:      team: storefront",
        "Status:           Running",
        "IP:               10.244.1.7",
        "IPs:",
    ]
    assert "Controlled By:  ReplicaSet/web-7d4" in lines


def test_pod_containers_and_states() -> None:
    text = describe_pod(realistic.pod(), realistic.events(), NOW)
    for line in [
        "Init Containers:\n  migrate:\n    Container ID:  docker://111\n",
        "    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0\n",
        "Containers:\n  web:\n    Container ID:  docker://222\n    Image:         nginx:1.27\n",
        "    Port:          80/TCP (http)\n",
        "    State:          Running\n      Started:      Sat, 21 Nov 2026 15:02:00 +0000\n",
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n",
        "    Ready:          True\n    Restart Count:  1\n",
        "    Limits:\n      cpu:     500m\n      memory:  128Mi\n",
        "    Readiness:  http-get http://:80/healthz delay=0s timeout=1s period=10s #success=1 "
        "#failure=3\n",
        "      POD_NAME:  web-7d4b9 (v1:metadata.name)\n",
        "    Mounts:\n      /etc/nginx/conf.d from config (ro)\n"
        "      /var/cache/nginx from cache (rw)\n",
    ]:
        assert line in text


def test_pod_conditions_volumes_qos_and_events() -> None:
    text = describe_pod(realistic.pod(), realistic.events(), NOW)
    assert "Conditions:\n  Type              Status\n  Initialized       True \n" in text
    assert "    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n" in text
    assert "    Name:        web-config\n" in text
    assert "QoS Class:       Burstable\n" in text
    assert "Node-Selectors:  disktype=ssd\n" in text
    assert "Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n" in text
    assert text.endswith(
        "Events:\n"
        "  Type    Reason     Age                 From               Message\n"
        "  ----    ------     ----                ----               -------\n"
        "  Normal  Scheduled  10m                 default-scheduler  "
        "Successfully assigned shop/web-7d4b9 to node-1\n"
        "  Normal  Pulled     8m (x2 over 9m55s)  kubelet            "
        'spec.containers{web}: Container image "nginx:1.27" already present on machine\n'
    )


def test_pod_without_events() -> None:
    text = describe_pod(realistic.pod(), [], NOW)
    # One block with the lines above it, so aligned with them (Go tabwriter semantics).
    assert text.endswith(
        "Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n"
        "Events:          <none>\n"
    )


def test_terminating_pod() -> None:
    pod = realistic.pod()
    pod.metadata.deletion_timestamp = "2026-11-21T15:09:30Z"
    pod.metadata.deletion_grace_period_seconds = 30
    text = describe_pod(pod, None, NOW)
    assert "Status:                    Terminating (lasts 30s)\n" in text
    assert "Termination Grace Period:  30s\n" in text


def test_node() -> None:
    text = describe_node(
        realistic.node(),
        [realistic.pod()],
        [],
        None,
        'leases.coordination.k8s.io "node-1" not found',
        NOW,
    )
    for line in [
        "Name:               node-1\nRoles:              worker\n",
        "Taints:             dedicated=shop:NoSchedule\nUnschedulable:      false\n",
        "  Ready   True    Sat, 21 Nov 2026 15:09:50 +0000   Sat, 21 Nov 2026 14:00:10 +0000   "
        "KubeletReady   kubelet is posting ready status\n",
        "Addresses:\n  InternalIP:  172.18.0.3\n  Hostname:    node-1\n",
        "  Container Runtime Version:  docker://27.3.1\n",
        "Non-terminated Pods:          (1 in total)\n",
        "  shop                        web-7d4b9    250m (6%)     500m (12%)  64Mi (0%)        "
        "128Mi (1%)     10m\n",
        "  cpu                250m (6%)  500m (12%)\n",
        "Events:              <none>\n",
    ]:
        assert line in text


def test_node_counts_a_sidecar_s_requests_and_limits() -> None:
    pod = realistic.pod()
    proxy = pod.spec.init_containers.add(name="proxy", image="envoy", restart_policy="Always")
    proxy.resources.requests.update({"cpu": "100m", "memory": "32Mi"})
    proxy.resources.limits.update({"cpu": "200m", "memory": "64Mi"})
    text = describe_node(realistic.node(), [pod], [], None, "", NOW)
    row = next(line for line in text.splitlines() if "web-7d4b9" in line)
    assert row.split()[2:10] == [
        "350m",
        "(8%)",
        "700m",
        "(17%)",
        "96Mi",
        "(1%)",
        "192Mi",
        "(2%)",
    ]
