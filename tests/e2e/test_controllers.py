"""Controllers on the compose cluster: the issue's hello-world Job completes on a Docker-in-Docker
node; a ReplicationController's pods spread over the nodes; a node that stops is detected by the
node lifecycle controller, its pods shown Unknown, evicted and replaced on the other nodes, and,
back, it is Ready again with the evicted pods cleaned up."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from podplane.client.clientset import Client
from tests.e2e.compose_cluster import NODES, compose, podctl
from tests.e2e.faults import record, tolerating_replication_controller, wait_schedulable
from tests.support import eventually

HELLO_WORLD = """\
kind: Job
apiVersion: batch/v1
metadata:
  name: hello-world
spec:
  template:
    spec:
      containers:
        - name: hello-world
          image: busybox
          command: ["sh", "-c", 'echo "Hello world from a Kubernetes Job" && sleep 30']
      restartPolicy: OnFailure
"""


async def test_the_hello_world_job_completes(client: Client, namespace: str) -> None:
    podctl("apply", "-n", namespace, "-f", "-", stdin=HELLO_WORLD)

    async def complete() -> Any:
        job = await client.jobs.get("hello-world", namespace)
        done = any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)
        return job if done else None

    job = await eventually(complete, 180, interval=1, what="the hello-world Job to complete")
    assert job.status.succeeded == 1 and job.status.completion_time
    logs = podctl("logs", "job/hello-world", "-n", namespace).stdout
    assert logs == "Hello world from a Kubernetes Job\n"
    table = podctl("get", "jobs", "-n", namespace).stdout
    assert "hello-world" in table and "1/1" in table


async def running_pods(client: Client, namespace: str, n: int) -> list[Any] | None:
    pods = [
        p
        for p in (await client.pods.list(namespace, label_selector="app=web")).items
        if p.status.phase == "Running" and not p.metadata.deletion_timestamp
    ]
    return pods if len(pods) == n else None


# It stops node-3's container: it runs alone, after the tests that share the cluster (conftest.py).
@pytest.mark.disruptive
async def test_a_replication_controller_spreads_and_survives_a_node_stopping(
    client: Client, namespace: str
) -> None:
    await wait_schedulable(client, *NODES)
    rc = tolerating_replication_controller("web", 6, toleration_seconds=5)
    rc.metadata.namespace = namespace
    await client.replicationcontrollers.create(rc)
    pods = await eventually(
        lambda: running_pods(client, namespace, 6), 180, interval=1, what="six replicas Running"
    )
    # The ReplicationController's selector spreads them (PodTopologySpread's default
    # constraints), whatever else the nodes hold.
    spread = Counter(p.spec.node_name for p in pods)
    assert sorted(spread.values()) == [2, 2, 2], spread

    lost = "node-3"
    lost_pods = {p.metadata.name for p in pods if p.spec.node_name == lost}
    started = time.monotonic()
    compose("stop", lost)
    try:

        async def shown_unknown() -> bool:
            table = podctl("get", "pods", "-n", namespace).stdout
            rows = [line.split() for line in table.splitlines()[1:]]
            return all(any(r[0] == name and r[2] == "Unknown" for r in rows) for name in lost_pods)

        await eventually(shown_unknown, 150, interval=2, what=f"{lost}'s pods shown Unknown")
        detected = time.monotonic() - started

        async def replaced() -> list[Any] | None:
            now = await running_pods(client, namespace, 6)
            return now if now and all(p.spec.node_name != lost for p in now) else None

        now = await eventually(replaced, 120, interval=1, what="six replicas on the other nodes")
        recovered = time.monotonic() - started
        record(
            "node container stopped", pods_unknown=detected, replicas_running_elsewhere=recovered
        )
        assert {p.spec.node_name for p in now} == set(NODES) - {lost}
        node = await client.nodes.get(lost)
        ready = next(c for c in node.status.conditions if c.type == "Ready")
        assert ready.status == "Unknown"
        assert any(
            t.key == "node.kubernetes.io/unreachable" and t.effect == "NoExecute"
            for t in node.spec.taints
        )
        rc_now = await client.replicationcontrollers.get("web", namespace)
        assert rc_now.status.replicas == 6
    finally:
        compose("start", lost)

    async def back() -> bool:
        node = await client.nodes.get(lost)
        ready = next((c for c in node.status.conditions if c.type == "Ready"), None)
        untainted = not any(t.key == "node.kubernetes.io/unreachable" for t in node.spec.taints)
        return bool(ready is not None and ready.status == "True" and untainted)

    await eventually(back, 120, interval=2, what=f"{lost} Ready again")

    async def evicted_gone() -> bool:
        names = {p.metadata.name for p in (await client.pods.list(namespace)).items}
        return not names & lost_pods

    await eventually(evicted_gone, 60, interval=1, what="the evicted pods cleaned up")
