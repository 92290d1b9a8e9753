"""The node lifecycle controller's reconcile against fake API calls and a clock the test moves: a
node is left alone within the grace period, marked Unknown and tainted unreachable after it, and
untainted once its lease is renewed; its pods are marked not ready, and evicted (reason NodeLost)
when their toleration runs out; the pods of a deleted node are left to the pod GC."""

from __future__ import annotations

from typing import Any, Generic

import grpc

from controller.nodelifecycle.controller import NodeLifecycleController
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources, timeutil
from podplane.apimachinery.resources import Resource
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import T

UNREACHABLE = "node.kubernetes.io/unreachable"


class FakeAPI(Generic[T]):
    """What the controller calls on one resource (calls: what was sent); writes return the object
    with the next resourceVersion."""

    def __init__(self, resource: resources.Resource) -> None:
        self.resource = resource
        # (verb, a copy of the object sent or delete's arguments): whatever was sent.
        self.calls: list[tuple[str, Any]] = []
        self.revision = 100
        self.missing: set[str] = set()

    def _written(self, verb: str, obj: T) -> T:
        sent = type(obj)()
        sent.CopyFrom(obj)
        self.calls.append((verb, sent))
        self.revision += 1
        stored = type(obj)()
        stored.CopyFrom(obj)
        stored.metadata.resource_version = str(self.revision)
        return stored

    async def update(self, obj: T) -> T:
        return self._written("update", obj)

    async def update_status(self, obj: T) -> T:
        return self._written("update_status", obj)

    async def create(self, obj: T) -> T:
        return self._written("create", obj)

    async def get(self, name: str, namespace: str = "") -> core_pb2.Node:
        if name in self.missing:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.NOT_FOUND,
                grpc.aio.Metadata(),
                grpc.aio.Metadata(),
                details="not found",
            )
        return core_pb2.Node()

    async def delete(
        self,
        name: str,
        namespace: str = "",
        *,
        grace_period_seconds: int | None = None,
        uid: str = "",
    ) -> core_pb2.Pod:
        self.calls.append(("delete", (namespace, name, grace_period_seconds, uid)))
        return core_pb2.Pod()

    def verbs(self) -> list[str]:
        return [verb for verb, _ in self.calls]


class FakeClient:
    def __init__(self) -> None:
        self.nodes: FakeAPI[core_pb2.Node] = FakeAPI(resources.NODE)
        self.pods: FakeAPI[core_pb2.Pod] = FakeAPI(resources.POD)
        self.leases: FakeAPI[lease_pb2.Lease] = FakeAPI(resources.LEASE)
        self.events: FakeAPI[core_pb2.Event] = FakeAPI(resources.EVENT)

    def for_resource(self, resource: Resource[Any]) -> FakeAPI[Any]:
        api: FakeAPI[Any] = getattr(self, resource.plural)
        return api


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ready_node(name: str = "node-1") -> core_pb2.Node:
    n = core_pb2.Node()
    n.metadata.name, n.metadata.uid, n.metadata.resource_version = name, "node-uid", "5"
    n.status.conditions.add(
        type="Ready",
        status="True",
        reason="KubeletReady",
        last_heartbeat_time="2030-01-01T00:00:00Z",
        last_transition_time="2030-01-01T00:00:00Z",
    )
    return n


def lease(renew_time: str, name: str = "node-1") -> lease_pb2.Lease:
    lease = lease_pb2.Lease(spec=lease_pb2.LeaseSpec(holder_identity=name, renew_time=renew_time))
    lease.metadata.name, lease.metadata.namespace = name, "kube-node-lease"
    return lease


def running_pod(toleration_seconds: int, node: str = "node-1") -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.namespace, p.metadata.name, p.metadata.uid = "default", "web", "pod-uid"
    p.metadata.creation_timestamp = "2020-01-01T00:00:00Z"
    p.spec.node_name = node
    for key in ("node.kubernetes.io/not-ready", UNREACHABLE):
        p.spec.tolerations.add(
            key=key, operator="Exists", effect="NoExecute", toleration_seconds=toleration_seconds
        )
    p.status.phase = "Running"
    p.status.conditions.add(
        type="Ready", status="True", last_transition_time="2020-01-01T00:00:00Z"
    )
    return p


def controller() -> tuple[NodeLifecycleController, FakeClient, Clock]:
    client, clock = FakeClient(), Clock()
    informers = SharedInformerFactory(client)  # type: ignore[arg-type]
    c = NodeLifecycleController(client, informers, monitor_grace_period=40, clock=clock)  # type: ignore[arg-type]
    return c, client, clock


async def test_a_silent_node_is_marked_unknown_and_tainted_after_the_grace_period() -> None:
    c, client, clock = controller()
    c.nodes._store(ready_node())
    c.leases._store(lease("2020-01-01T00:00:00.000000Z"))
    assert await c.reconcile_node("node-1") == 40.01  # look again when the grace period ends
    clock.now += 39
    assert await c.reconcile_node("node-1") is not None
    assert client.nodes.calls == []

    clock.now += 2
    assert await c.reconcile_node("node-1") is None
    assert client.nodes.verbs() == ["update_status", "update"]
    status_write, taint_write = (obj for _, obj in client.nodes.calls)
    (ready,) = status_write.status.conditions
    assert (ready.status, ready.reason, ready.message) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    # Both are compare-and-swap: the status on the cached node, the taint on the status write.
    assert status_write.metadata.resource_version == "5"
    assert taint_write.metadata.resource_version == "101"
    (taint,) = taint_write.spec.taints
    assert (taint.key, taint.effect) == (UNREACHABLE, "NoExecute") and taint.time_added

    # Cached again as the watch would deliver it: nothing more to do.
    c.nodes._store(taint_write)
    assert await c.reconcile_node("node-1") is None
    assert len(client.nodes.calls) == 2

    # The lease is renewed: the taint goes (Ready comes back from the kubelet).
    clock.now += 5
    c.leases._store(lease(timeutil.now_micro()))
    assert await c.reconcile_node("node-1") == 40.01
    _, untainted = client.nodes.calls[-1]
    assert client.nodes.verbs()[-1] == "update" and not untainted.spec.taints


async def test_pods_on_an_unreachable_node_go_not_ready_then_are_evicted_as_node_lost() -> None:
    c, client, _ = controller()
    node = ready_node()
    node.status.conditions[0].status = "Unknown"
    node.spec.taints.add(key=UNREACHABLE, effect="NoExecute", time_added=timeutil.now())
    c.nodes._store(node)
    pod = running_pod(toleration_seconds=60)
    c.pods._store(pod)

    wait = await c.reconcile_pod("default/web")
    assert wait is not None and 55 < wait <= 60
    ((verb, written),) = client.pods.calls
    assert verb == "update_status"
    assert [(x.type, x.status) for x in written.status.conditions] == [("Ready", "False")]
    assert written.status.reason == ""  # not lost yet: still tolerated

    c.pods._store(written)
    short = running_pod(toleration_seconds=0)
    short.metadata.name = "short"
    c.pods._store(short)
    assert await c.reconcile_pod("default/short") is None
    lost, deleted = client.pods.calls[-2:]
    assert lost[0] == "update_status" and deleted[0] == "delete"
    assert lost[1].status.reason == "NodeLost"
    assert [(x.type, x.status) for x in lost[1].status.conditions] == [
        ("Ready", "False"),
        ("DisruptionTarget", "True"),
    ]
    assert lost[1].status.message == "Node node-1 which was running pod short is unresponsive"
    assert deleted[1] == ("default", "short", None, "pod-uid")  # graceful, for this very pod


async def test_an_untolerated_no_execute_taint_evicts_at_once_without_node_lost() -> None:
    c, client, _ = controller()
    node = ready_node()
    node.spec.taints.add(
        key="dedicated", value="gpu", effect="NoExecute", time_added=timeutil.now()
    )
    c.nodes._store(node)
    c.pods._store(running_pod(toleration_seconds=300))
    assert await c.reconcile_pod("default/web") is None
    # The node is fine: Ready is left alone, and DisruptionTarget is set before the delete.
    assert client.pods.verbs() == ["update_status", "delete"]
    written = client.pods.calls[0][1]
    assert [(x.type, x.status, x.reason, x.message) for x in written.status.conditions] == [
        ("Ready", "True", "", ""),
        (
            "DisruptionTarget",
            "True",
            "DeletionByTaintManager",
            "Taint manager: deleting due to NoExecute taint",
        ),
    ]
    assert written.status.reason == ""


async def test_the_pods_of_a_node_that_is_gone_are_left_to_the_pod_gc() -> None:
    c, client, _ = controller()
    pod = running_pod(300, node="gone")
    pod.metadata.deletion_timestamp = timeutil.now()
    c.pods._store(pod)
    assert await c.reconcile_pod("default/web") is None
    assert client.pods.calls == []  # controller/podgc force-deletes it


async def queued(c: NodeLifecycleController) -> list[str]:
    """The pods the controller's pod queue holds (taken off it)."""
    keys = []
    while len(c.pod_loop.queue):
        keys.append(await c.pod_loop.queue.get())
    for key in keys:
        c.pod_loop.queue.done(key)
    return sorted(keys)


def tainted_node(name: str) -> core_pb2.Node:
    node = ready_node(name)
    node.spec.taints.add(key=UNREACHABLE, effect="NoExecute", time_added=timeutil.now())
    return node


def pod_on(node: str, name: str = "web", revision: int = 1) -> core_pb2.Pod:
    p = running_pod(300, node=node)
    p.metadata.name, p.metadata.resource_version = name, str(revision)
    return p


async def test_a_pod_bound_to_a_node_without_no_execute_taints_is_no_work() -> None:
    c, _, _ = controller()
    c.nodes._store(ready_node("quiet"))
    c.nodes._store(tainted_node("tainted"))
    for pod in (pod_on(""), pod_on("quiet", revision=2), pod_on("", name="other")):
        c.pods._store(pod)
    assert await queued(c) == []
    c.pods._store(pod_on("tainted", name="other", revision=2))
    assert await queued(c) == ["default/other"]


async def test_on_a_tainted_node_its_node_tolerations_or_deletion_changing_is_work() -> None:
    c, _, _ = controller()
    c.nodes._store(tainted_node("node-1"))
    c.pods._store(pod_on("node-1"))
    assert await queued(c) == ["default/web"]

    status_only = pod_on("node-1", revision=2)
    status_only.status.conditions[0].status = "False"
    c.pods._store(status_only)
    assert await queued(c) == []  # nothing reconcile_pod reads changed

    tolerating = pod_on("node-1", revision=3)
    tolerating.spec.tolerations[1].toleration_seconds = 30
    c.pods._store(tolerating)
    assert await queued(c) == ["default/web"]

    deleting = pod_on("node-1", revision=4)
    deleting.spec.tolerations[1].toleration_seconds = 30
    deleting.metadata.deletion_timestamp = timeutil.now()
    c.pods._store(deleting)
    assert await queued(c) == ["default/web"]  # its NodeLost reason, on an unreachable node


async def test_a_node_that_gets_a_no_execute_taint_brings_its_pods_back() -> None:
    c, _, _ = controller()
    c.nodes._store(ready_node("node-1"))
    c.pods._store(pod_on("node-1"))
    c.pods._store(pod_on("not-seen-yet", name="early"))
    assert await queued(c) == []

    tainted = tainted_node("node-1")
    tainted.metadata.resource_version = "6"
    c.nodes._store(tainted)
    assert await queued(c) == ["default/web"]
    c.nodes._store(tainted_node("not-seen-yet"))  # a node first seen tainted
    assert await queued(c) == ["default/early"]
