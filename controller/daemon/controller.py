"""The DaemonSet controller (kubernetes pkg/controller/daemon): one pod of the template on every
node that should run it (controller.daemon.nodes), none elsewhere. The pods are created for a
node, not bound to it: a required node affinity for the node's name takes them there through the
default scheduler. Each carries the controller-revision-hash of the template's
ControllerRevision (controller.daemon.revisions); a RollingUpdate replaces the others within
maxUnavailable and maxSurge (controller.daemon.rolling), OnDelete only as they are deleted.

Handlers only enqueue DaemonSet keys: its own events, its pods' and revisions' (or, for
orphans, those of the DaemonSets that select them), and a node's arrival or a change to a node
that changes where the DaemonSets run. reconcile(key) claims the pods and revisions, settles
each node (controller.daemon.placement) and writes the pods (controller.daemon.pod_control),
rolls the update on, prunes old revisions, and writes the status (controller.daemon.status).
Expectations keep it from acting again before its informer has seen its own writes; a failed
pod is replaced after a per-node back-off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from controller.daemon import nodes as eligibility
from controller.daemon import placement, rolling
from controller.daemon import status as ds_status
from controller.daemon.backoff import FailedPodBackoff
from controller.daemon.pod_control import BURST_REPLICAS, DaemonPodControl
from controller.daemon.revisions import DaemonSetHistory
from controller.framework import pod_state
from controller.framework.controller_ref import PodClaim, controller_of, pod_key
from controller.framework.expectations import Expectations
from controller.framework.reconciler import ReconcileLoop
from controller.history.history import History
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import (
    LabelSelector,
    SelectorError,
    from_label_selector_message,
)
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.events import WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

# kube-controller-manager's --concurrent-daemonset-syncs default.
DEFAULT_WORKERS = 2
# How often the failed pods' back-off forgets quiet nodes (BackoffGCInterval).
BACKOFF_GC_INTERVAL = 60.0
KIND = resources.DAEMON_SET.kind
SELECTING_ALL = "This daemon set is selecting all pods. A non-empty selector is required."

DaemonSet = apps_pb2.DaemonSet
Pod = core_pb2.Pod
Revision = apps_pb2.ControllerRevision


class DaemonSetsController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = DEFAULT_WORKERS,
        burst_replicas: int = BURST_REPLICAS,
        backoff: FailedPodBackoff | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.failed_backoff = backoff or FailedPodBackoff()
        self._now = now
        self.daemonsets: Informer[DaemonSet] = informers.informer_for(resources.DAEMON_SET)
        self.revisions: Informer[Revision] = informers.informer_for(resources.CONTROLLER_REVISION)
        self.pods: Informer[Pod] = informers.informer_for(resources.POD)
        self.nodes: Informer[core_pb2.Node] = informers.informer_for(resources.NODE)
        for informer in (self.daemonsets, self.pods):
            informer.add_index(NAMESPACE_INDEX, namespace_of)
        self.history = DaemonSetHistory(client, History(client.controllerrevisions, self.revisions))
        self.expectations = Expectations()
        self.events = EventRecorder(client, "daemonset-controller")
        self.pod_control = DaemonPodControl(
            client, self.expectations, self.events, burst_replicas=burst_replicas
        )
        self.loop = ReconcileLoop(
            "daemonset",
            self.reconcile,
            informers,
            [self.daemonsets, self.revisions, self.pods, self.nodes],
            workers=workers,
        )
        self.daemonsets.add_handler(
            on_add=self._enqueue, on_update=self._on_ds_update, on_delete=self._on_ds_delete
        )
        self.revisions.add_handler(
            on_add=self._on_owned_add, on_update=self._on_owned_update, on_delete=self._on_owned
        )
        self.pods.add_handler(
            on_add=self._on_pod_add, on_update=self._on_pod_update, on_delete=self._on_pod_delete
        )
        self.nodes.add_handler(on_add=self._on_node_add, on_update=self._on_node_update)

    async def run(self) -> None:
        await asyncio.gather(self.loop.run(), self._forget_quiet_nodes())

    async def _forget_quiet_nodes(self) -> None:
        while True:
            await asyncio.sleep(BACKOFF_GC_INTERVAL)
            self.failed_backoff.gc()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, ds: DaemonSet) -> None:
        self.loop.enqueue(object_key(ds))

    def _on_ds_update(self, old: DaemonSet, new: DaemonSet) -> None:
        if old.metadata.uid != new.metadata.uid:
            self._on_ds_delete(old)  # replaced by a namesake between two events
        self._enqueue(new)

    def _on_ds_delete(self, ds: DaemonSet) -> None:
        key = object_key(ds)
        self.expectations.delete(key)
        self.loop.enqueue(key)

    def _owner_key(self, obj: Pod | Revision) -> str | None:
        """The key of the cached DaemonSet that controls the object, if any."""
        ref = controller_of(obj)
        if ref is None or ref.kind != KIND:
            return None
        key = f"{obj.metadata.namespace}/{ref.name}"
        ds = self.daemonsets.get(key)
        return key if ds is not None and ds.metadata.uid == ref.uid else None

    def _enqueue_selecting(self, obj: Pod | Revision, daemonsets: list[DaemonSet]) -> None:
        """An orphan: every DaemonSet of `daemonsets` (those of its namespace) that would adopt
        it."""
        for ds in daemonsets:
            try:
                selector = from_label_selector_message(ds.spec.selector)
            except SelectorError:
                continue
            if not selector.empty and selector.matches(obj.metadata.labels):
                self._enqueue(ds)

    def _on_owned(self, obj: Pod | Revision) -> None:
        if (key := self._owner_key(obj)) is not None:
            self.loop.enqueue(key)

    def _on_owned_add(self, obj: Pod | Revision) -> None:
        if controller_of(obj) is not None:
            self._on_owned(obj)
        elif not obj.metadata.deletion_timestamp:
            self._enqueue_selecting(
                obj, self.daemonsets.by_index(NAMESPACE_INDEX, obj.metadata.namespace)
            )

    def _on_owned_update(self, old: Pod | Revision, new: Pod | Revision) -> None:
        if old.metadata.resource_version != new.metadata.resource_version:
            self._owned_changed(old, new)

    def _owned_changed(self, old: Pod | Revision, new: Pod | Revision) -> bool:
        """Enqueues the owners concerned by the change; whether `new` has a controller."""
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref != new_ref and old_ref is not None:
            self._on_owned(old)
        if new_ref is not None:
            self._on_owned(new)
            return True
        # An orphan whose labels changed may be adopted, by a DaemonSet of its namespace: in
        # one without any, one lookup.
        daemonsets = self.daemonsets.by_index(NAMESPACE_INDEX, new.metadata.namespace)
        if daemonsets and (old_ref != new_ref or old.metadata.labels != new.metadata.labels):
            self._enqueue_selecting(new, daemonsets)
        return False

    def _on_pod_add(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._on_pod_delete(pod)  # already being deleted when first seen
            return
        if controller_of(pod) is None:
            self._enqueue_selecting(
                pod, self.daemonsets.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
            )
        elif (key := self._owner_key(pod)) is not None:
            self.expectations.creation_observed(key)
            self.loop.enqueue(key)

    def _on_pod_update(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp:
            # Graceful deletion: the deletionTimestamp is the first sign of it.
            self._on_pod_delete(new)
            return
        if not self._owned_changed(old, new):
            return  # an orphan: no DaemonSet waits for it to be available
        key = self._owner_key(new)
        ds = self.daemonsets.get(key) if key is not None else None
        if key is None or ds is None or ds.spec.min_ready_seconds <= 0:
            return
        if not pod_state.is_ready(old) and pod_state.is_ready(new):
            # Look again once it has been ready for minReadySeconds (and a second of skew).
            self.loop.queue.add_after(key, ds.spec.min_ready_seconds + 1.0)

    def _on_pod_delete(self, pod: Pod) -> None:
        if (key := self._owner_key(pod)) is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.loop.enqueue(key)

    def _on_node_add(self, node: core_pb2.Node) -> None:
        for ds in self.daemonsets.list():
            if eligibility.should_run(node, ds)[0]:
                self._enqueue(ds)

    def _on_node_update(self, old: core_pb2.Node, new: core_pb2.Node) -> None:
        if not eligibility.node_change_matters(old, new):
            return
        for ds in self.daemonsets.list():
            if eligibility.should_run(old, ds) != eligibility.should_run(new, ds):
                self._enqueue(ds)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        ds = self.daemonsets.get(key)
        if ds is None:
            self.expectations.delete(key)
            return None
        selector_message = ds.spec.selector
        if not selector_message.match_labels and not selector_message.match_expressions:
            self.events.record(ds, WARNING, "SelectingAll", SELECTING_ALL)
            return None
        if ds.metadata.deletion_timestamp:
            # Its revisions may be going already: the garbage collector finishes the deletion.
            return None
        try:
            selector = from_label_selector_message(selector_message)
        except SelectorError as e:
            log.warning("DaemonSet %s: invalid selector: %s", key, e)
            return None
        nodes = self.nodes.list()
        runs = {n.metadata.name: eligibility.should_run(n, ds) for n in nodes}
        pods = await self._claim_pods(ds, selector)
        current, old = await self.history.construct(ds, selector, pods)
        hash_ = current.metadata.labels[placement.REVISION_HASH_LABEL]
        now = self._now()
        node_pods = placement.pods_by_node(pods)
        waits: list[float | None] = []
        error: Exception | None = None
        satisfied = self.expectations.satisfied(key)
        if satisfied:
            try:
                waits += await self._update(key, ds, nodes, runs, node_pods, hash_, now)
                await self.history.cleanup(ds, old, pods)
            except Exception as e:  # noqa: BLE001 - the status is still written, then retried
                error = e
        counts = ds_status.count(
            ds, nodes, lambda n: runs[n.metadata.name][0], node_pods, hash_, now
        )
        # Until its own writes show, the status says nothing of this generation.
        await self._write_status(ds, ds_status.with_status(ds, counts, observed=satisfied))
        if error is not None:
            raise error
        if counts.ready != counts.available:
            waits.append(ds_status.next_available_in(ds, node_pods, now))
        waits.append(self.expectations.expires_in(key))
        found = [w for w in waits if w is not None]
        return min(found) if found else None

    async def _claim_pods(self, ds: DaemonSet, selector: LabelSelector) -> list[Pod]:
        meta = ds.metadata
        claim = PodClaim(
            self.client.pods,
            ds,
            resources.DAEMON_SET,
            selector,
            lambda: self.client.daemonsets.get(meta.name, meta.namespace),
        )
        return await claim.claim(self.pods.by_index(NAMESPACE_INDEX, meta.namespace))

    async def _update(
        self,
        key: str,
        ds: DaemonSet,
        nodes: list[core_pb2.Node],
        runs: dict[str, tuple[bool, bool]],
        node_pods: dict[str, list[Pod]],
        hash_: str,
        now: datetime,
    ) -> list[float | None]:
        """manage, then (with nothing left to see of its writes) the rolling update: the pods
        and nodes to act on, and when a back-off asks to look again."""
        create_on: list[str] = []
        delete: list[Pod] = []
        waits: list[float | None] = []
        for node in nodes:
            name = node.metadata.name
            plan = placement.plan_node(
                ds, name, runs[name], node_pods.get(name, []), hash_, self.failed_backoff, now
            )
            if plan.create:
                create_on.append(name)
            delete += plan.delete
            waits.append(plan.retry_in)
            for type_, reason, message in plan.events:
                self.events.record(ds, type_, reason, message)
        delete += placement.unscheduled_without_node(set(runs), node_pods)
        await self.pod_control.sync_nodes(key, ds, delete, create_on, hash_)
        # The rolling update reads the same pods: it waits for a pass in which nothing changed.
        wrote = bool(create_on or delete)
        if not wrote and ds.spec.update_strategy.type == placement.ROLLING_UPDATE:
            desired = {n: node_pods.get(n, []) for n, run in runs.items() if run[0]}
            update = rolling.rolling_update(
                ds, {**desired, **node_pods}, lambda n: runs.get(n, (False, False))[0], hash_, now
            )
            await self.pod_control.sync_nodes(key, ds, update.delete, update.create_on, hash_)
        return waits

    # ------------------------------------------------------------------ status
    async def _write_status(self, ds: DaemonSet, updated: DaemonSet | None) -> None:
        """storeDaemonSetStatus: one retry against the DaemonSet as now stored."""
        if updated is None:
            return
        status = apps_pb2.DaemonSetStatus()
        status.CopyFrom(updated.status)
        for attempt in range(2):
            try:
                await self.client.daemonsets.update_status(updated)
                return
            except Exception as e:
                if is_not_found(e):
                    return
                if not is_conflict(e) or attempt:
                    raise
            fresh = await self.client.daemonsets.get(ds.metadata.name, ds.metadata.namespace)
            if fresh.metadata.uid != ds.metadata.uid:
                return
            # The counts are ours; the collision count is whoever raised it last.
            if fresh.status.HasField("collision_count"):
                status.collision_count = fresh.status.collision_count
            fresh.status.CopyFrom(status)
            updated = fresh
