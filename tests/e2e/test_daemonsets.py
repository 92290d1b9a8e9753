"""DaemonSets on the compose cluster (three nodes), with the real kubectl:
examples/node-agent-daemonset.yaml lands one Running pod on every node; an image change rolls
node by node (a watch of the pods never sees more than maxUnavailable, 1, of the nodes without a
ready pod) and `kubectl rollout status` returns once it is done; `kubectl rollout undo` restores
the previous image; deleting the DaemonSet deletes its pods. The tests share the module's
namespace and DaemonSet, in order."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import NODES, ROOT
from tests.e2e.kubectl import Kubectl, Result
from tests.support import eventually

AGENT = ROOT / "examples" / "node-agent-daemonset.yaml"
SELECTOR = "app=node-agent"


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def agent(k: Kubectl) -> Result:
    """The example applied; what `kubectl rollout status` then printed."""
    assert k.ok("apply", "-f", str(AGENT)) == "daemonset.apps/node-agent created\n"
    return k.run("rollout", "status", "daemonset/node-agent", "--timeout=180s", timeout=200)


def rows(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[1:]]


def test_one_running_pod_per_node(k: Kubectl, agent: Result) -> None:
    assert agent.code == 0, agent
    assert agent.out.endswith('daemon set "node-agent" successfully rolled out\n'), agent
    for line in agent.out.splitlines()[:-1]:
        assert re.fullmatch(
            r"Waiting for daemon set spec update to be observed\.\.\.|"
            r'Waiting for daemon set "node-agent" rollout to finish: (\d out of 3 new pods have '
            r"been updated|\d of 3 updated pods are available)\.\.\.",
            line,
        ), agent
    (ds,) = rows(k.ok("get", "ds", "node-agent"))
    assert ds[:7] == ["node-agent", "3", "3", "3", "3", "3", "<none>"], ds
    pods = rows(k.ok("get", "pods", "-l", SELECTOR, "-o", "wide"))
    assert all(p[1:3] == ["1/1", "Running"] for p in pods), pods
    assert sorted(p[6] for p in pods) == sorted(NODES), pods  # the NODE column
    logs = k.ok("logs", "ds/node-agent")
    assert re.fullmatch(r"agent on node-\d\n", logs), logs


@dataclass
class Serving:
    """What a watch of the DaemonSet's pods saw: the fewest nodes with a ready pod."""

    pods: dict[str, core_pb2.Pod] = field(default_factory=dict)
    fewest: int = len(NODES)
    synced: bool = False

    def saw(self, type_: str, pod: core_pb2.Pod) -> None:
        """An event; "SYNCED" once the listed pods are in."""
        if type_ == "DELETED":
            self.pods.pop(pod.metadata.name, None)
        elif type_ in ("ADDED", "MODIFIED"):
            self.pods[pod.metadata.name] = pod
        elif type_ == "SYNCED":
            self.synced = True
        if not self.synced:
            return
        serving = {
            p.spec.node_name
            for p in self.pods.values()
            if not p.metadata.deletion_timestamp
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
        }
        self.fewest = min(self.fewest, len(serving))


async def watch(client: Client, namespace: str, serving: Serving) -> None:
    """Lists the pods, then watches them from there."""
    pods, version = await client.pods.list_all(namespace, label_selector=SELECTOR)
    for pod in pods:
        serving.pods[pod.metadata.name] = pod
    serving.saw("SYNCED", core_pb2.Pod())
    stream = client.pods.watch(namespace, resource_version=version, label_selector=SELECTOR)
    async for event in stream:
        serving.saw(event.type, event.object)


async def test_an_image_change_rolls_node_by_node(
    k: Kubectl, agent: Result, client: Client, kubectl_namespace: str
) -> None:
    serving = Serving()
    watching = asyncio.create_task(watch(client, kubectl_namespace, serving))

    async def listed() -> bool:
        return serving.synced

    try:
        await eventually(listed, 30, interval=0.1, what="the watch to list the pods")
        assert serving.synced and serving.fewest == len(NODES), serving.pods.keys()
        changed = await asyncio.to_thread(
            k.ok, "set", "image", "ds/node-agent", "agent=busybox:latest"
        )
        assert changed == "daemonset.apps/node-agent image updated\n"
        rolled = await asyncio.to_thread(
            k.run, "rollout", "status", "ds/node-agent", "--timeout=180s"
        )
        assert rolled.code == 0 and rolled.out.endswith(
            'daemon set "node-agent" successfully rolled out\n'
        ), rolled
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    assert serving.fewest == len(NODES) - 1  # one node at a time (maxUnavailable 1)
    images = k.ok(
        "get", "pods", "-l", SELECTOR, "-o", "jsonpath={.items[*].spec.containers[0].image}"
    )
    assert images.split() == ["busybox:latest"] * len(NODES)


def test_undo_restores_the_previous_image(k: Kubectl, agent: Result) -> None:
    history = k.ok("rollout", "history", "ds/node-agent")
    assert re.fullmatch(
        r"daemonset\.apps/node-agent \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n\n", history
    ), history
    assert k.ok("rollout", "undo", "ds/node-agent") == "daemonset.apps/node-agent rolled back\n"
    undone = k.run("rollout", "status", "ds/node-agent", "--timeout=180s", timeout=200)
    assert undone.code == 0, undone
    assert (
        k.ok("get", "ds", "node-agent", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
        == "busybox"
    )
    ready = k.run(
        "wait", "--for=jsonpath={.status.numberAvailable}=3", "ds/node-agent", "--timeout=60s"
    )
    assert ready.code == 0, ready
    images = k.ok(
        "get", "pods", "-l", SELECTOR, "-o", "jsonpath={.items[*].spec.containers[0].image}"
    )
    assert images.split() == ["busybox"] * len(NODES)
    history = k.ok("rollout", "history", "ds/node-agent")
    assert re.fullmatch(
        r"daemonset\.apps/node-agent \nREVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n\n", history
    ), history


def test_deleting_the_daemon_set_deletes_its_pods_and_revisions(k: Kubectl, agent: Result) -> None:
    deleted = k.ok("delete", "ds", "node-agent")
    assert re.fullmatch(r'daemonset\.apps "node-agent" deleted( from \S+ namespace)?\n', deleted)
    deadline = time.monotonic() + 90
    while k.ok("get", "pods,controllerrevisions", "-l", SELECTOR, "-o", "name"):
        assert time.monotonic() < deadline, "the pods and revisions are still there"
        time.sleep(1)
