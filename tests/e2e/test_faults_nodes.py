"""Node faults on the compose cluster: a kubelet restarted alone restarts no container; a node cut
off the network goes Unknown, its pods are replaced elsewhere, and once reconnected it is Ready
again with its old pods gone from its Docker, nothing running twice. (A node container stopped is
test_controllers' test_a_replication_controller_spreads_and_survives_a_node_stopping.)
Recovery times go to build/e2e/faults.json. These tests stop services and cut networks: they are
disruptive (conftest.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import (
    NODES,
    component_metrics,
    compose,
    node_containers,
    node_runtime,
    podctl,
)
from tests.e2e.faults import (
    NETWORK,
    container_id,
    drain,
    record,
    retried,
    settled,
    tolerating_replication_controller,
    wait_healthy,
    wait_schedulable,
)
from tests.e2e.faults import replication_controller as sleepers
from tests.support import eventually

# It restarts kubelets and cuts a node off the network: it runs alone, after the tests that share
# the cluster (conftest.py).
pytestmark = pytest.mark.disruptive

CUT = "node-3"


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, text=True, capture_output=True, timeout=60
    ).stdout


def connected(container: str) -> bool:
    networks = json.loads(
        docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", container)
    )
    return NETWORK in networks


def reconnect(container: str, service: str) -> None:
    if not connected(container):
        # The aliases compose gives: the service name (other nodes route to its pod CIDR by it).
        docker("network", "connect", "--alias", service, NETWORK, container)


@pytest_asyncio.fixture
async def restores_nodes(client: Client, namespace: str) -> AsyncIterator[None]:
    try:
        yield
    finally:
        reconnect(container_id(CUT), CUT)
        compose("start", *NODES, check=False)
        await wait_healthy(*NODES, timeout=180)
        await drain(client, namespace)


async def node_ready(client: Client, name: str) -> str:
    node = await client.nodes.get(name)
    return next((c.status for c in node.status.conditions if c.type == "Ready"), "")


def containers_of(node: str, namespace: str) -> dict[str, int]:
    """Pod name -> number of its containers (running or not) in the node's own runtime."""
    found = node_containers(node, {"io.kubernetes.pod.namespace": namespace}, include_stopped=True)
    return dict(Counter(c.pod_name for c in found if c.pod_name))


def kubelet_pid(node: str) -> str:
    return compose("exec", "-T", node, "cat", "/run/kubelet.pid").stdout.strip()


# The kubelet's /metrics (--metrics-bind-address, its old read-only port).
KUBELET_METRICS_PORT = 10255
POD_CREATE_SYNCS = (
    "kubelet_pod_worker_duration_seconds_count",
    frozenset({("operation", "create")}),
)


async def synced_every_pod(client: Client, node: str) -> bool:
    """Whether the node's kubelet process has synced each pod bound to the node at least once:
    its pod workers time a process's first sync of a pod as a "create" (kubelet/pod/workers.py),
    one per pod that is not being deleted (a static pod and its mirror are one), so a new
    kubelet has as many as there are such pods once it has gone over all of them. What it would
    do to a pod's containers after a restart, it has done by then."""
    creates = component_metrics(node, KUBELET_METRICS_PORT).get(POD_CREATE_SYNCS, 0.0)
    bound, _ = await client.pods.list_all(field_selector=f"spec.nodeName={node}")
    return creates >= sum(1 for p in bound if not p.metadata.deletion_timestamp)


async def test_a_restarted_kubelet_restarts_no_container(
    client: Client, namespace: str, restores_nodes: None
) -> None:
    node = "node-1"
    await client.replicationcontrollers.create(_rc("web", namespace, 3, node))
    before = await eventually(
        lambda: settled(client, namespace, "web", 3),
        120,
        interval=1,
        what="three replicas Running on node-1",
    )
    ids = {
        p.metadata.name: [(s.container_id, s.restart_count) for s in p.status.container_statuses]
        for p in before
    }
    started = time.monotonic()
    # The kubelet alone (the node's engine and its containers stay up): the node's supervisor
    # starts it again, as systemd would.
    old_pid = kubelet_pid(node)
    compose("exec", "-T", node, "sh", "-c", "kill -KILL $(cat /run/kubelet.pid)")

    async def restarted() -> bool:
        return kubelet_pid(node) != old_pid

    async def reported_again() -> bool:
        heartbeat = await client.leases.get(node, "kube-node-lease")
        return (
            bool(heartbeat.spec.holder_identity)
            and await node_ready(client, node) == "True"
            and heartbeat.spec.renew_time > renewed_before
        )

    # The new process first: a renewal the killed one sent just before it died may still land.
    await eventually(restarted, 30, interval=0.2, what="the supervisor starting a new kubelet")
    renewed_before = (await client.leases.get(node, "kube-node-lease")).spec.renew_time
    await eventually(reported_again, 90, interval=0.5, what="the restarted kubelet's heartbeat")
    back = time.monotonic() - started
    await eventually(
        lambda: synced_every_pod(client, node),
        60,
        interval=0.5,
        what="the restarted kubelet to sync every pod bound to its node",
    )
    after = await settled(client, namespace, "web", 3)
    assert after is not None
    assert {
        p.metadata.name: [(s.container_id, s.restart_count) for s in p.status.container_statuses]
        for p in after
    } == ids
    record("kubelet restart", heartbeat_again=back)


def _rc(name: str, namespace: str, replicas: int, node: str) -> Any:
    obj = sleepers(name, namespace, replicas)
    obj.spec.template.spec.node_selector["kubernetes.io/hostname"] = node
    return obj


async def test_a_node_cut_off_the_network_comes_back_with_nothing_running_twice(
    client: Client, namespace: str, restores_nodes: None
) -> None:
    await wait_schedulable(client, *NODES)
    rc = tolerating_replication_controller("web", 6, toleration_seconds=5)
    rc.metadata.namespace = namespace
    await client.replicationcontrollers.create(rc)
    pods = await eventually(
        lambda: settled(client, namespace, "web", 6), 180, interval=1, what="six replicas Running"
    )
    assert sorted(Counter(p.spec.node_name for p in pods).values()) == [2, 2, 2]
    cut_pods = {p.metadata.name for p in pods if p.spec.node_name == CUT}
    container = container_id(CUT)

    started = time.monotonic()
    docker("network", "disconnect", NETWORK, container)
    try:

        async def unreachable() -> bool:
            return await node_ready(client, CUT) == "Unknown"

        await eventually(unreachable, 120, interval=1, what=f"{CUT} Unknown")
        detected = time.monotonic() - started

        async def replaced() -> bool:
            now = [
                p
                for p in (await client.pods.list(namespace)).items
                if not p.metadata.deletion_timestamp and p.status.phase == "Running"
            ]
            return len(now) == 6 and all(p.spec.node_name != CUT for p in now)

        await eventually(replaced, 120, interval=1, what="six replicas Running elsewhere")
        replaced_after = time.monotonic() - started
        # The cut node does not know: its old pods still run there.
        assert set(containers_of(CUT, namespace)) >= cut_pods
    finally:
        reconnected = time.monotonic()
        reconnect(container, CUT)

    async def ready_again() -> bool:
        return bool(await retried(lambda: node_ready(client, CUT)) == "True")

    await eventually(ready_again, 180, interval=1, what=f"{CUT} Ready again")
    ready_after = time.monotonic() - reconnected

    async def old_pods_gone() -> bool:
        names = {p.metadata.name for p in (await client.pods.list(namespace)).items}
        return not names & cut_pods and not set(containers_of(CUT, namespace)) & cut_pods

    await eventually(
        old_pods_gone, 90, interval=1, what="the old pods gone from the API and Docker"
    )
    cleaned_after = time.monotonic() - reconnected
    await asyncio.sleep(3)
    final = await settled(client, namespace, "web", 6)
    assert final is not None, "not exactly six replicas Running once settled"
    # Nothing runs twice: each replica has its one pod's containers on one node only.
    running: Counter[str] = Counter()
    for node in NODES:
        for name in containers_of(node, namespace):
            running[name] += 1
    assert set(running) == {p.metadata.name for p in final}
    assert all(n == 1 for n in running.values()), running
    record(
        "node network cut",
        node_unknown=detected,
        replicas_replaced=replaced_after,
        ready_after_reconnect=ready_after,
        old_pods_gone_after_reconnect=cleaned_after,
    )


async def test_a_restarted_node_starts_its_pods_anew_as_a_rebooted_machine(
    client: Client, namespace: str, restores_nodes: None
) -> None:
    """The node container restarted (a machine rebooted): its pods' containers are gone with
    their processes, and the kubelet starts new ones. On containerd, whose records are on the
    node's disk, as Kubernetes shows it: restartCount 1, lastState terminated with exit code 255
    and reason Unknown, and the dead instance's log behind `logs --previous`. (Docker's state is
    a tmpfs of the node, lost with it: there the pod starts over from restart 0.)"""
    node = "node-2"
    await wait_schedulable(client, node)
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "rebooted", "namespace": namespace},
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", "echo started; sleep 3600"],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await client.pods.create(pod)

    async def ready(restarts: int) -> Any:
        p = await client.pods.get("rebooted", namespace)
        s = p.status.container_statuses
        return p if s and s[0].ready and s[0].restart_count == restarts else None

    first = await eventually(lambda: ready(0), 60, interval=1, what="the pod Ready")
    compose("restart", node, timeout=180)
    await wait_healthy(node, timeout=180)
    if node_runtime(node) != "containerd":
        again = await eventually(
            lambda: ready(0), 120, interval=1, what="the pod Ready again on a fresh engine"
        )
        assert again.status.container_statuses[0].container_id != (
            first.status.container_statuses[0].container_id
        )
        return
    again = await eventually(lambda: ready(1), 120, interval=1, what="the pod restarted once")
    status = again.status.container_statuses[0]
    terminated = status.last_state.terminated
    assert (terminated.exit_code, terminated.reason) == (255, "Unknown"), status
    assert terminated.container_id == first.status.container_statuses[0].container_id
    previous = podctl("logs", "rebooted", "-n", namespace, "--previous")
    assert previous.stdout == "started\n"
