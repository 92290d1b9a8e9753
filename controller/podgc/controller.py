"""The pod garbage collector (kubernetes pkg/controller/podgc/gc_controller.go): it force-deletes
(grace period 0) the pods no kubelet will ever finish, first marking a pod that has not ended
Failed (its kubelet is not there to):

- orphaned: pods bound to a node that does not exist, once the node has been missing from the
  cache for the quarantine (40 s) and the apiserver confirms it is gone; they get the
  condition DisruptionTarget=True, reason DeletionByPodGC, "PodGC: node no longer exists";
- unscheduled and terminating: pods being deleted that were never bound to a node;
- terminating on a node out of service: pods being deleted on a node that is not Ready and
  carries the node.kubernetes.io/out-of-service taint;
- terminated beyond the threshold (--terminated-pod-gc-threshold, 12500; 0 turns it off): the
  oldest Succeeded or Failed pods, evicted ones first.

Kubernetes looks at every pod every 20 s; here the pods' and nodes' events enqueue what can have
become garbage, so a cluster where nothing changes costs nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from prometheus_client import Counter

from controller.framework.indexes import NODE_INDEX, pod_node_name
from controller.framework.pod_state import TERMINAL_PHASES
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.conditions import node_is_ready, set_pod_condition
from podplane.apimachinery.disruption import DISRUPTION_TARGET
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer import Informer, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

# How long a node must be missing from the cache before its pods count as orphaned (the
# informer may not have seen a new node yet).
QUARANTINE_SECONDS = 40.0
TERMINATED_POD_GC_THRESHOLD = 12500
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"
TERMINATED_KEY = "terminated"
# Pods being deleted at once (Kubernetes deletes the terminated ones a goroutine each): a node's
# thousand pods go in seconds, not one round trip after another.
DELETES_IN_FLIGHT = 16

# The reasons, as kube-controller-manager labels its pod_gc_collector metrics.
ORPHANED, TERMINATED = "orphaned", "terminated"
TERMINATING_UNSCHEDULED, TERMINATING_OUT_OF_SERVICE = (
    "terminating-unscheduled",
    "terminating-out-of-service",
)
FORCE_DELETED = Counter(
    "pod_gc_collector_force_delete_pods_total",
    "Number of pods that are being forcefully deleted since the Pod GC Controller started.",
    ["namespace", "reason"],
)
FORCE_DELETE_ERRORS = Counter(
    "pod_gc_collector_force_delete_pod_errors_total",
    "Number of errors encountered when forcefully deleting the pods since the Pod GC Controller "
    "started.",
    ["namespace", "reason"],
)


def is_terminated(pod: core_pb2.Pod) -> bool:
    return pod.status.phase in TERMINAL_PHASES


def out_of_service(node: core_pb2.Node) -> bool:
    """Not Ready and tainted node.kubernetes.io/out-of-service: its pods will not be finished."""
    return not node_is_ready(node) and any(t.key == OUT_OF_SERVICE_TAINT for t in node.spec.taints)


def deletion_order(pod: core_pb2.Pod) -> tuple[bool, str, str]:
    """byEvictionAndCreationTimestamp: evicted pods first, then the oldest, then by name."""
    evicted = pod.status.phase == "Failed" and pod.status.reason == "Evicted"
    return (not evicted, pod.metadata.creation_timestamp, pod.metadata.name)


class PodGCController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        terminated_pod_threshold: int = TERMINATED_POD_GC_THRESHOLD,
        quarantine: float = QUARANTINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.terminated_pod_threshold = terminated_pod_threshold
        self.quarantine = quarantine
        self._clock = clock
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(NODE_INDEX, pod_node_name)
        self.nodes: Informer[core_pb2.Node] = informers.informer_for(resources.NODE)
        # The terminated pods' keys, kept by the handlers: counted at every pod event.
        self._terminated: set[str] = set()
        # Since when each node that pods are bound to has been missing from the cache.
        self._missing_since: dict[str, float] = {}
        self.loop = ReconcileLoop("podgc", self.reconcile, informers, [self.pods, self.nodes])
        self.pods.add_handler(
            on_add=self._on_pod,
            on_update=lambda _old, new: self._on_pod(new),
            on_delete=self._on_pod_delete,
        )
        self.nodes.add_handler(
            on_update=lambda _old, new: self._on_node_update(new),
            on_delete=lambda node: self.loop.enqueue(f"node/{node.metadata.name}"),
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _on_pod(self, pod: core_pb2.Pod) -> None:
        if is_terminated(pod):
            self._terminated.add(object_key(pod))
            if 0 < self.terminated_pod_threshold < len(self._terminated):
                self.loop.enqueue(TERMINATED_KEY)
        elif self._terminated:
            self._terminated.discard(object_key(pod))
        node = pod.spec.node_name
        if not node:
            if pod.metadata.deletion_timestamp:
                self.loop.enqueue(f"pod/{object_key(pod)}")
        elif pod.metadata.deletion_timestamp or self.nodes.get(node) is None:
            self.loop.enqueue(f"node/{node}")

    def _on_pod_delete(self, pod: core_pb2.Pod) -> None:
        self._terminated.discard(object_key(pod))

    def _on_node_update(self, node: core_pb2.Node) -> None:
        if out_of_service(node):
            self.loop.enqueue(f"node/{node.metadata.name}")

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        kind, _, name = key.partition("/")
        if kind == "node":
            return await self._sync_node(name)
        if kind == "pod":
            await self._sync_unscheduled_terminating(name)
        elif key == TERMINATED_KEY:
            await self._sync_terminated()
        return None

    async def _sync_node(self, name: str) -> float | None:
        """The pods bound to `name`: orphaned once the node is gone for good; force-deleted
        while being deleted on it when it is out of service."""
        pods = self.pods.by_index(NODE_INDEX, name)
        node = self.nodes.get(name)
        if node is not None or not pods:
            self._missing_since.pop(name, None)
            if node is not None and out_of_service(node):
                terminating = [p for p in pods if p.metadata.deletion_timestamp]
                await self._delete_all(terminating, TERMINATING_OUT_OF_SERVICE)
            return None
        left = self._missing_since.setdefault(name, self._clock()) + self.quarantine - self._clock()
        if left > 0:
            return left
        try:
            await self.client.nodes.get(name)
        except Exception as e:
            if not is_not_found(e):
                raise
        else:
            # The cache has not seen it yet: it exists, and its pods are not orphans.
            self._missing_since.pop(name, None)
            return None
        self._missing_since.pop(name, None)
        orphaned = core_pb2.PodCondition(
            type=DISRUPTION_TARGET,
            status="True",
            reason="DeletionByPodGC",
            message="PodGC: node no longer exists",
        )
        await self._delete_all(pods, ORPHANED, orphaned)
        return None

    async def _sync_unscheduled_terminating(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is not None and pod.metadata.deletion_timestamp and not pod.spec.node_name:
            await self._delete_all([pod], TERMINATING_UNSCHEDULED)

    async def _sync_terminated(self) -> None:
        if self.terminated_pod_threshold <= 0:
            return
        pods = [p for p in map(self.pods.get, self._terminated) if p is not None]
        excess = len(pods) - self.terminated_pod_threshold
        if excess <= 0:
            return
        log.info("garbage collecting %d terminated pods", excess)
        await self._delete_all(sorted(pods, key=deletion_order)[:excess], TERMINATED)

    async def _delete_all(
        self,
        pods: list[core_pb2.Pod],
        reason: str,
        condition: core_pb2.PodCondition | None = None,
    ) -> None:
        """Each one marked Failed (with `condition`) unless it has ended, then force-deleted,
        DELETES_IN_FLIGHT at a time; raises the first error once all were tried (the key is tried
        again after a back-off)."""
        errors: list[Exception] = []
        slots = asyncio.Semaphore(DELETES_IN_FLIGHT)

        async def delete(pod: core_pb2.Pod) -> None:
            FORCE_DELETED.labels(pod.metadata.namespace, reason).inc()
            try:
                async with slots:
                    await self._mark_failed_and_delete(pod, condition)
            except Exception as e:  # noqa: BLE001 - the others are still tried
                if not is_not_found(e):
                    FORCE_DELETE_ERRORS.labels(pod.metadata.namespace, reason).inc()
                    errors.append(e)

        await asyncio.gather(*(delete(pod) for pod in pods))
        if errors:
            raise errors[0]

    async def _mark_failed_and_delete(
        self, pod: core_pb2.Pod, condition: core_pb2.PodCondition | None
    ) -> None:
        """markFailedAndDeletePodWithCondition: a pod left Pending or Running for ever (no kubelet
        will write its end) is moved to Failed first, then deleted with grace period 0."""
        meta = pod.metadata
        if not is_terminated(pod):
            update = core_pb2.Pod()
            update.CopyFrom(pod)
            update.status.phase = "Failed"
            if condition is not None:
                mine = core_pb2.PodCondition()
                mine.CopyFrom(condition)
                set_pod_condition(update.status, mine)
            await self.client.pods.update_status(update)
        await self.client.pods.delete(
            meta.name, meta.namespace, grace_period_seconds=0, uid=meta.uid
        )
        log.info("force-deleted pod %s/%s (node %r)", meta.namespace, meta.name, pod.spec.node_name)
