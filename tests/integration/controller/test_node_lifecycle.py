"""The node lifecycle, pod GC and node IPAM controllers against a real apiserver over real etcd,
with hollow nodes: Node objects whose Lease the test renews (with the kubelet's own lease code)
or stops renewing; nothing runs containers.

A node that stops renewing is marked Ready=Unknown and tainted unreachable; its pod goes
Ready=False, and once its 2 s toleration has run out it is deleted and shown as Unknown (reason
NodeLost), staying Terminating as no kubelet finishes it; renewing the lease again removes the
taint; deleting the node lets the terminating pod go (the pod GC's, once the node has been gone
for its quarantine). A running pod of a deleted node is marked Failed (DisruptionTarget,
DeletionByPodGC) and deleted, not before the quarantine. A node registered without a podCIDR gets
a free one. Their own cluster: the controllers act on every node, so other modules' leftovers would
be tainted and their pods evicted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import pytest_asyncio

from controller.nodeipam.controller import NodeIpamController
from controller.nodelifecycle.controller import NodeLifecycleController
from controller.podgc.controller import PodGCController
from kubelet.node.lease import NodeLease
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from podplane.printers.pods import summarize_pod
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.integration.controller_support import Passes, informed
from tests.support import eventually, new_namespace

GRACE = 2.0
QUARANTINE = 2.0
UNREACHABLE = "node.kubernetes.io/unreachable"


@dataclass(frozen=True)
class Controllers:
    """The node lifecycle controller and the pod GC, each loop's passes counted."""

    lifecycle: NodeLifecycleController
    node_passes: Passes
    pod_passes: Passes
    podgc: PodGCController
    podgc_passes: Passes

    async def settled(self, node: str, pod: Any) -> None:
        """Both controllers have seen the pod as it is now and passed over it and its node once
        more since: what they would do with them, they have done."""
        await informed(self.lifecycle.pods, pod)
        await informed(self.podgc.pods, pod)
        await self.node_passes.resync(node)
        await self.pod_passes.resync(f"{pod.metadata.namespace}/{pod.metadata.name}")
        await self.podgc_passes.resync(f"node/{node}")


@pytest_asyncio.fixture(scope="module")
async def running_cluster() -> AsyncIterator[tuple[Client, Controllers]]:
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            lifecycle = NodeLifecycleController(
                client,
                SharedInformerFactory(client),
                monitor_grace_period=GRACE,
                startup_grace_period=GRACE,
            )
            podgc = PodGCController(client, SharedInformerFactory(client), quarantine=QUARANTINE)
            controllers = Controllers(
                lifecycle,
                Passes.of(lifecycle.node_loop),
                Passes.of(lifecycle.pod_loop),
                podgc,
                Passes.of(podgc.loop),
            )
            tasks = [
                asyncio.create_task(lifecycle.run()),
                asyncio.create_task(
                    NodeIpamController(client, SharedInformerFactory(client)).run()
                ),
                asyncio.create_task(podgc.run()),
            ]
            yield client, controllers
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.close()


@pytest.fixture(scope="module")
def cluster(running_cluster: tuple[Client, Controllers]) -> Client:
    return running_cluster[0]


@pytest.fixture(scope="module")
def controllers(running_cluster: tuple[Client, Controllers]) -> Controllers:
    return running_cluster[1]


class HollowNode:
    """A registered Node with Ready=True whose lease is renewed every 0.3 s until stop()."""

    def __init__(self, client: Client, name: str, pod_cidr: str = "") -> None:
        self.client = client
        self.name = name
        self.pod_cidr = pod_cidr
        self.lease = NodeLease(client.leases, name, interval=0.3)
        self._renewing: asyncio.Task[None] | None = None

    async def register(self) -> core_pb2.Node:
        node = core_pb2.Node()
        node.metadata.name = self.name
        if self.pod_cidr:
            node.spec.pod_cidr = self.pod_cidr
            node.spec.pod_cidrs.append(self.pod_cidr)
        created = await self.client.nodes.create(node)
        await self.post_ready()
        self.lease.node_uid = created.metadata.uid
        self.start()
        return created

    async def post_ready(self) -> None:
        """What the kubelet's status loop does: Ready=True with a fresh heartbeat."""
        node = await self.client.nodes.get(self.name)
        del node.status.conditions[:]
        now = timeutil.now()
        node.status.conditions.add(
            type="Ready",
            status="True",
            reason="KubeletReady",
            message="kubelet is posting ready status",
            last_heartbeat_time=now,
            last_transition_time=now,
        )
        node.metadata.resource_version = ""
        await self.client.nodes.update_status(node)

    def start(self) -> None:
        self._renewing = asyncio.create_task(self.lease.run())

    async def stop(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
            self._renewing = None


async def running_pod(client: Client, ns: str, node: str, toleration_seconds: int) -> Any:
    """A pod bound to `node` whose (hollow) kubelet reported it Running and Ready."""
    tolerations = [
        {
            "key": key,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": toleration_seconds,
        }
        for key in ("node.kubernetes.io/not-ready", UNREACHABLE)
    ]
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {
                "tolerations": tolerations,
                "containers": [{"name": "main", "image": "busybox"}],
            },
        }
    )
    await client.pods.create(pod)  # type: ignore[arg-type]
    await client.bind(ns, "web", node)
    bound = await client.pods.get("web", ns)
    bound.status.phase = "Running"
    now = timeutil.now()
    for type_ in ("Initialized", "ContainersReady", "Ready"):
        bound.status.conditions.add(type=type_, status="True", last_transition_time=now)
    return await client.pods.update_status(bound)


def ready_status(obj: Any) -> str:
    return next((c.status for c in obj.status.conditions if c.type == "Ready"), "")


async def test_a_silent_node_is_tainted_its_pod_evicted_as_node_lost_and_untainted_when_back(
    cluster: Client, controllers: Controllers
) -> None:
    client = cluster
    node = HollowNode(client, "hollow-1", pod_cidr="10.244.1.0/24")
    await node.register()
    ns = await new_namespace(client)
    running = await running_pod(client, ns, node.name, toleration_seconds=2)

    # Alive: renewing keeps it untouched for several grace periods (the time the property is
    # about), at the end of which the controllers have passed over the node and its pod: were
    # the renewals not counted, the node would be marked by now.
    await asyncio.sleep(1.5 * GRACE)
    await controllers.settled(node.name, running)
    current = await client.nodes.get(node.name)
    assert ready_status(current) == "True" and not current.spec.taints

    await node.stop()
    stopped = time.monotonic()

    async def tainted() -> Any:
        n = await client.nodes.get(node.name)
        return (
            n
            if any(t.key == UNREACHABLE and t.effect == "NoExecute" for t in n.spec.taints)
            else None
        )

    current = await eventually(tainted, 15, interval=0.1, what="the unreachable taint")
    detected = time.monotonic() - stopped
    assert GRACE - 0.5 <= detected <= GRACE + 5, detected
    ready = next(c for c in current.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    (taint,) = current.spec.taints
    assert taint.time_added

    pod = await client.pods.get("web", ns)
    assert not pod.metadata.deletion_timestamp  # still tolerated for (about) 2 s

    async def not_ready() -> Any:
        p = await client.pods.get("web", ns)
        return p if ready_status(p) == "False" else None

    await eventually(not_ready, 10, what="the pod's Ready=False")

    async def evicted() -> Any:
        p = await client.pods.get("web", ns)
        return p if p.metadata.deletion_timestamp else None

    pod = await eventually(evicted, 15, interval=0.1, what="the pod's eviction")
    tainted_at = timeutil.parse(taint.time_added)
    deletion_due = timeutil.parse(pod.metadata.deletion_timestamp)
    assert tainted_at is not None and deletion_due is not None
    assert pod.metadata.deletion_grace_period_seconds == 30  # a normal, graceful deletion
    evicted_at = deletion_due - timedelta(seconds=30)
    assert (evicted_at - tainted_at).total_seconds() >= 2  # not before its toleration ran out
    assert pod.status.reason == "NodeLost"
    assert pod.status.message == f"Node {node.name} which was running pod web is unresponsive"
    assert ready_status(pod) == "False"
    target = next(c for c in pod.status.conditions if c.type == "DisruptionTarget")
    assert (target.status, target.reason, target.message) == (
        "True",
        "DeletionByTaintManager",
        "Taint manager: deleting due to NoExecute taint",
    )
    # No kubelet finishes the deletion: it stays, once the controllers have passed over it,
    # shown as podctl shows it.
    await controllers.settled(node.name, pod)
    pod = await client.pods.get("web", ns)
    assert summarize_pod(pod, datetime.now(UTC)).status == "Unknown"

    # Back: the lease renewed removes the taint even before the kubelet posts Ready.
    node.start()

    async def untainted() -> Any:
        n = await client.nodes.get(node.name)
        return n if not n.spec.taints else None

    current = await eventually(untainted, 10, interval=0.1, what="the taint removed")
    assert ready_status(current) == "Unknown"  # Ready is the kubelet's to set back
    await node.post_ready()
    await asyncio.sleep(1.5 * GRACE)  # several grace periods again, then as above
    await controllers.settled(node.name, await client.pods.get("web", ns))
    current = await client.nodes.get(node.name)
    assert ready_status(current) == "True" and not current.spec.taints
    await node.stop()

    # The node deleted: no kubelet will ever finish its terminating pod, so it is force-deleted.
    await client.nodes.delete(node.name)
    await eventually(
        lambda: pod_gone(client, ns), QUARANTINE + 10, what="the orphaned terminating pod to go"
    )


async def pod_gone(client: Client, ns: str) -> bool:
    try:
        await client.pods.get("web", ns)
        return False
    except grpc.aio.AioRpcError as e:
        return bool(e.code() == grpc.StatusCode.NOT_FOUND)


async def test_a_running_pod_of_a_deleted_node_fails_and_goes_after_the_quarantine(
    cluster: Client,
) -> None:
    client = cluster
    node = HollowNode(client, "hollow-gone", pod_cidr="10.244.7.0/24")
    await node.register()
    ns = await new_namespace(client)
    pod = await running_pod(client, ns, node.name, toleration_seconds=300)
    seen: list[tuple[str, str, list[tuple[str, str, str]]]] = []

    async def watch() -> None:
        async for event in client.pods.watch(ns, resource_version=pod.metadata.resource_version):
            p = event.object
            conditions = [(c.type, c.reason, c.message) for c in p.status.conditions]
            seen.append((event.type, p.status.phase, conditions))

    watching = asyncio.ensure_future(watch())
    try:
        await node.stop()
        await client.nodes.delete(node.name)
        deleted = time.monotonic()
        await eventually(lambda: pod_gone(client, ns), QUARANTINE + 10, what="the orphan to go")
        assert time.monotonic() - deleted >= QUARANTINE - 0.5

        async def deletion_seen() -> bool:
            return bool(seen) and seen[-1][0] == "DELETED"

        await eventually(deletion_seen, what="the watch to deliver the deletion")
    finally:
        watching.cancel()
    # Marked Failed first, then deleted: no kubelet will write its end.
    [conditions] = [c for type_, phase, c in seen if type_ == "MODIFIED" and phase == "Failed"]
    assert ("DisruptionTarget", "DeletionByPodGC", "PodGC: node no longer exists") in conditions
    assert seen[-1][0] == "DELETED"


async def test_a_node_that_registers_without_a_pod_cidr_gets_a_free_one(cluster: Client) -> None:
    client = cluster
    taken = HollowNode(client, "with-cidr", pod_cidr="10.244.0.0/24")
    await taken.register()
    bare = HollowNode(client, "without-cidr")
    await bare.register()
    try:

        async def allocated() -> Any:
            n = await client.nodes.get("without-cidr")
            return n if n.spec.pod_cidr else None

        node = await eventually(allocated, 10, what="a podCIDR for the new node")
        held = {
            n.spec.pod_cidr
            for n in (await client.nodes.list()).items
            if n.metadata.name != "without-cidr"
        }
        assert node.spec.pod_cidr not in held
        assert node.spec.pod_cidr.startswith("10.244.") and node.spec.pod_cidr.endswith("/24")
        assert list(node.spec.pod_cidrs) == [node.spec.pod_cidr]
        assert (await client.nodes.get("with-cidr")).spec.pod_cidr == "10.244.0.0/24"
    finally:
        for n in (taken, bare):
            await n.stop()
            await client.nodes.delete(n.name)
