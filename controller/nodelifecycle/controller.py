"""The node lifecycle controller (kubernetes pkg/controller/nodelifecycle, with the NoExecute taint
eviction of pkg/controller/tainteviction).

Nodes: one that has not renewed its Lease (nor posted a Ready heartbeat) for the monitor grace
period gets Ready (and its pressure conditions) Unknown, "Kubelet stopped posting node status.",
and the node.kubernetes.io/unreachable:NoExecute taint; one whose kubelet reports Ready=False gets
node.kubernetes.io/not-ready:NoExecute. The taint goes when the lease is renewed again or Ready
turns True; the Ready condition itself is the kubelet's to set back.

Pods on an unreachable node get Ready=False (their kubelet cannot say so). A pod under NoExecute
taints is deleted, gracefully, when its tolerations run out (taint_eviction.py), once given the
condition DisruptionTarget (DeletionByTaintManager); on an unreachable node also reason NodeLost,
which podctl shows as Unknown while the pod stays Terminating: only its kubelet, once back, can
finish the deletion. The pods of a node that no longer exists are the pod garbage collector's
(controller/podgc)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from controller.framework.indexes import NODE_INDEX, pod_node_name
from controller.framework.reconciler import ReconcileLoop
from controller.nodelifecycle.health import (
    NODE_LEASE_NAMESPACE,
    READY,
    UNREACHABLE_TAINT,
    HeartbeatTracker,
    condition,
    has_taint,
    has_taints,
    mark_unknown,
    wanted_taint,
    with_taint,
)
from controller.nodelifecycle.taint_eviction import eviction_time, no_execute_taints
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources, timeutil
from podplane.apimachinery.conditions import set_pod_condition
from podplane.apimachinery.disruption import DISRUPTION_TARGET
from podplane.client import events
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer, object_key, wait_for_sync
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

MONITOR_GRACE_PERIOD = 50.0
STARTUP_GRACE_PERIOD = 60.0
NODE_LOST_REASON = "NodeLost"
NODE_LOST_MESSAGE = "Node {node} which was running pod {pod} is unresponsive"
# A write that lost a race with another writer (the kubelet, a person) is tried again this soon.
CONFLICT_RECHECK = 0.05


class NodeLifecycleController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        monitor_grace_period: float = MONITOR_GRACE_PERIOD,
        startup_grace_period: float = STARTUP_GRACE_PERIOD,
        workers: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.monitor_grace_period = monitor_grace_period
        self.startup_grace_period = startup_grace_period
        self._clock = clock
        self.health = HeartbeatTracker(clock)
        self.recorder = events.EventRecorder(client, "node-controller")
        self.nodes: Informer[core_pb2.Node] = informers.informer_for(resources.NODE)
        # The process's one lease informer, of every namespace (the garbage collector follows
        # every kind): this controller's handler passes over the leases of no node.
        self.leases: Informer[lease_pb2.Lease] = informers.informer_for(resources.LEASE)
        # The process's one pod informer, of every pod: this controller's handlers, index and
        # reconcile pass over the pods no node has been given (a watch of the bound ones only
        # would be a second watch of pods).
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(NODE_INDEX, pod_node_name)
        # When each taint without a timeAdded was first seen: (node, key, value) -> time.
        self._taints_seen: dict[tuple[str, str, str], datetime] = {}
        self.node_loop = ReconcileLoop(
            "nodelifecycle",
            self.reconcile_node,
            informers,
            [self.nodes, self.leases, self.pods],
            workers=workers,
        )
        self.pod_loop = ReconcileLoop(
            "nodelifecycle_pods", self.reconcile_pod, informers, [], workers=workers
        )
        self.nodes.add_handler(
            on_add=self._on_node_add, on_update=self._on_node_update, on_delete=self._on_node_delete
        )
        self.leases.add_handler(
            on_add=self._on_lease,
            on_update=lambda _o, new: self._on_lease(new),
            on_delete=self._on_lease,
        )
        self.pods.add_handler(on_add=self._on_pod_add, on_update=self._on_pod_update)

    # ------------------------------------------------------------------ handlers: enqueue only
    def _on_node_add(self, node: core_pb2.Node) -> None:
        self.node_loop.enqueue(node.metadata.name)
        if no_execute_taints(node):  # the taint eviction's NodeUpdated(nil, node)
            self._enqueue_pods_of(node.metadata.name)

    def _on_node_update(self, old: core_pb2.Node, new: core_pb2.Node) -> None:
        self.node_loop.enqueue(new.metadata.name)
        if old.spec.taints != new.spec.taints:
            self._enqueue_pods_of(new.metadata.name)

    def _on_node_delete(self, node: core_pb2.Node) -> None:
        self.node_loop.enqueue(node.metadata.name)
        self._enqueue_pods_of(node.metadata.name)

    def _on_lease(self, lease: lease_pb2.Lease) -> None:
        if lease.metadata.namespace == NODE_LEASE_NAMESPACE:
            self.node_loop.enqueue(lease.metadata.name)

    def _on_pod_add(self, pod: core_pb2.Pod) -> None:
        if pod.spec.node_name:
            self._enqueue_pod(pod)

    def _on_pod_update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        """What reconcile_pod reads of a pod is its node, its tolerations and whether it is being
        deleted; any other change is no work (the node controller's podUpdated looks at a pod
        whose node changed, the taint eviction's PodUpdated at one whose node or tolerations
        did). Its node's changes come through _on_node_update."""
        if not new.spec.node_name:
            return
        if (
            old.spec.node_name != new.spec.node_name
            or (new.metadata.deletion_timestamp and not old.metadata.deletion_timestamp)
            or old.spec.tolerations != new.spec.tolerations
        ):
            self._enqueue_pod(new)

    def _enqueue_pod(self, pod: core_pb2.Pod) -> None:
        """Not for a pod whose node is cached with no NoExecute taint, the usual case:
        reconcile_pod would do nothing, and a taint the node gets enqueues its pods
        (_on_node_update). One whose node is not cached is the pod GC's, or its node's add
        enqueues it if tainted."""
        node = self.nodes.get(pod.spec.node_name)
        if node is not None and no_execute_taints(node):
            self.pod_loop.enqueue(object_key(pod))

    def _enqueue_pods_of(self, node_name: str) -> None:
        for pod in self.pods.by_index(NODE_INDEX, node_name):
            self.pod_loop.enqueue(object_key(pod))

    async def run(self) -> None:
        nodes = asyncio.create_task(self.node_loop.run(), name="nodelifecycle-nodes")
        try:
            await wait_for_sync(self.nodes, self.leases, self.pods)
            await asyncio.gather(nodes, self.pod_loop.run())
        finally:
            nodes.cancel()
            await asyncio.gather(nodes, return_exceptions=True)

    # ------------------------------------------------------------------ nodes
    async def reconcile_node(self, name: str) -> float | None:
        node = self.nodes.get(name)
        if self._taints_seen:
            present = (
                {(name, t.key, t.value) for t in node.spec.taints} if node is not None else set()
            )
            for key in [k for k in self._taints_seen if k[0] == name and k not in present]:
                del self._taints_seen[key]
        if node is None:
            self.health.forget(name)
            return None
        lease = self.leases.get(f"{NODE_LEASE_NAMESPACE}/{name}")
        probe = self.health.observe(name, node, lease)
        ready = condition(node, READY)
        grace = self.monitor_grace_period if ready is not None else self.startup_grace_period
        remaining = probe + grace - self._clock()
        expired = remaining <= 0
        try:
            if expired:
                marked = mark_unknown(node, timeutil.now())
                if marked is not None:
                    node = await self.client.nodes.update_status(marked)
                    log.info("node %s: no heartbeat for %.0fs; Ready is Unknown", name, grace)
                    if ready is not None and ready.status == "True":
                        self.recorder.record(
                            node,
                            events.NORMAL,
                            "NodeNotReady",
                            f"Node {name} status is now: NodeNotReady",
                        )
            wanted = wanted_taint(node, lease, expired)
            # The time is formatted only for a taint to add, not at every lease renewal.
            tainted = None if has_taints(node, wanted) else with_taint(node, wanted, timeutil.now())
            if tainted is not None:
                node = await self.client.nodes.update(tainted)
                log.info(
                    "node %s: NoExecute taints now %s",
                    name,
                    [t.key for t in node.spec.taints if t.effect == "NoExecute"] or "none",
                )
        except Exception as e:
            if is_not_found(e):
                return None
            if is_conflict(e):
                return CONFLICT_RECHECK
            raise
        # Look again when the grace period would run out without a renewal.
        return None if expired else remaining + 0.01

    # ------------------------------------------------------------------ pods
    async def reconcile_pod(self, key: str) -> float | None:
        pod = self.pods.get(key)
        if pod is None or not pod.spec.node_name:
            return None
        node = self.nodes.get(pod.spec.node_name)
        if node is None:  # its node is gone: the pod GC's (controller/podgc)
            return None
        try:
            unreachable = has_taint(node, UNREACHABLE_TAINT)
            if pod.metadata.deletion_timestamp:
                if unreachable:
                    await self._write_status(pod, unreachable=True, lost=True)
                return None
            at = eviction_time(pod, no_execute_taints(node), lambda t: self._taint_seen(node, t))
            now = _utcnow()
            due = at is not None and at <= now
            if unreachable or due:
                await self._write_status(pod, unreachable=unreachable, evicting=due)
            if at is None:
                return None
            if not due:
                return (at - now).total_seconds()
            await self._evict(pod)
        except Exception as e:
            if is_not_found(e):
                return None
            if is_conflict(e):
                return CONFLICT_RECHECK
            raise
        return None

    def _taint_seen(self, node: core_pb2.Node, taint: core_pb2.Taint) -> datetime:
        return self._taints_seen.setdefault((node.metadata.name, taint.key, taint.value), _utcnow())

    async def _write_status(
        self, pod: core_pb2.Pod, *, unreachable: bool, lost: bool = False, evicting: bool = False
    ) -> None:
        """Ready=False for a pod on an unreachable node (MarkPodsNotReady); reason NodeLost for
        one being deleted there or about to be (SetPodTerminationReason); DisruptionTarget for
        one the taint manager is about to delete (tainteviction's addConditionAndDeletePod)."""
        status = core_pb2.PodStatus()
        status.CopyFrom(pod.status)
        ready = next((c for c in status.conditions if c.type == READY), None)
        if unreachable and ready is not None and ready.status != "False":
            not_ready = core_pb2.PodCondition()
            not_ready.CopyFrom(ready)
            not_ready.status = "False"
            set_pod_condition(status, not_ready)
        if evicting:
            set_pod_condition(status, _deletion_by_taint_manager())
        if unreachable and (lost or evicting) and status.reason != NODE_LOST_REASON:
            status.reason = NODE_LOST_REASON
            status.message = NODE_LOST_MESSAGE.format(
                node=pod.spec.node_name, pod=pod.metadata.name
            )
        if status == pod.status:
            return
        update = core_pb2.Pod()
        update.CopyFrom(pod)
        update.status.CopyFrom(status)
        await self.client.pods.update_status(update)

    async def _evict(self, pod: core_pb2.Pod) -> None:
        self.recorder.record(
            pod,
            events.NORMAL,
            "TaintManagerEviction",
            f"Marking for deletion Pod {object_key(pod)}",
        )
        await self.client.pods.delete(
            pod.metadata.name, pod.metadata.namespace, uid=pod.metadata.uid
        )
        log.info(
            "pod %s: evicted from node %s (NoExecute taint not tolerated any longer)",
            object_key(pod),
            pod.spec.node_name,
        )


def _deletion_by_taint_manager() -> core_pb2.PodCondition:
    return core_pb2.PodCondition(
        type=DISRUPTION_TARGET,
        status="True",
        reason="DeletionByTaintManager",
        message="Taint manager: deleting due to NoExecute taint",
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)
