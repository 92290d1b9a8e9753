"""The StatefulSet controller (kubernetes 1.31 pkg/controller/statefulset/stateful_set.go): pods
with a stable identity, <set>-<ordinal>, each with its own claims, made and removed in order.

Handlers only enqueue set keys: a set's own events, a pod's controlling set, or for an orphan pod
every set whose selector matches it. reconcile(key) adopts the orphan ControllerRevisions its
selector matches, claims the namespace's pods named for it that its selector matches (keeps,
adopts, releases), and runs one pass (controller/statefulset/control.py). There are no
expectations: a pod's name is fixed, so a create the cache is behind on fails as AlreadyExists and
the key is retried."""

from __future__ import annotations

import logging

from controller.framework.controller_ref import PodClaim, controller_of
from controller.framework.reconciler import ReconcileLoop
from controller.history.history import History
from controller.statefulset.control import StatefulSetControl
from controller.statefulset.identity import is_member_of
from controller.statefulset.pod_control import StatefulPodControl
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import (
    LabelSelector,
    SelectorError,
    from_label_selector_message,
)
from podplane.client.clientset import Client, is_not_found
from podplane.client.events import EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

COMPONENT = "statefulset-controller"
# kube-controller-manager's --concurrent-statefulset-syncs default.
DEFAULT_WORKERS = 5


class StatefulSetController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = DEFAULT_WORKERS
    ) -> None:
        self.client = client
        self.sets: Informer[apps_pb2.StatefulSet] = informers.informer_for(resources.STATEFUL_SET)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        claims: Informer[core_pb2.PersistentVolumeClaim] = informers.informer_for(
            resources.PERSISTENT_VOLUME_CLAIM
        )
        revisions: Informer[apps_pb2.ControllerRevision] = informers.informer_for(
            resources.CONTROLLER_REVISION
        )
        for informer in (self.sets, self.pods):
            informer.add_index(NAMESPACE_INDEX, namespace_of)
        self.history = History(client.controllerrevisions, revisions)
        self.events = EventRecorder(client, COMPONENT)
        self.control = StatefulSetControl(
            client,
            StatefulPodControl(client, claims, self.events),
            self.history,
            self.sets.get,
        )
        self.loop = ReconcileLoop(
            "statefulset",
            self.reconcile,
            informers,
            [self.sets, self.pods, claims, revisions],
            workers=workers,
        )
        self.sets.add_handler(
            on_add=self._enqueue,
            on_update=lambda _old, new: self._enqueue(new),
            on_delete=self._enqueue,
        )
        self.pods.add_handler(
            on_add=self._on_pod_add, on_update=self._on_pod_update, on_delete=self._on_pod_delete
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, sts: apps_pb2.StatefulSet) -> None:
        self.loop.enqueue(object_key(sts))

    def _owner_key(self, pod: core_pb2.Pod) -> str | None:
        """resolveControllerRef: the key of the cached set that controls the pod."""
        ref = controller_of(pod)
        if ref is None or ref.kind != resources.STATEFUL_SET.kind:
            return None
        key = f"{pod.metadata.namespace}/{ref.name}"
        sts = self.sets.get(key)
        return key if sts is not None and sts.metadata.uid == ref.uid else None

    def _enqueue_selecting(self, pod: core_pb2.Pod, sets: list[apps_pb2.StatefulSet]) -> None:
        """getStatefulSetsForPod: an orphan wakes every set of `sets` (those of its namespace)
        whose selector matches it."""
        for sts in sets:
            selector = _selector(sts)
            if selector is not None and not selector.empty:
                if selector.matches(pod.metadata.labels):
                    self._enqueue(sts)

    def _on_pod_add(self, pod: core_pb2.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._on_pod_delete(pod)
            return
        if controller_of(pod) is None:
            self._enqueue_selecting(
                pod, self.sets.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
            )
            return
        key = self._owner_key(pod)
        if key is not None:
            self.loop.enqueue(key)

    def _on_pod_update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref != new_ref and old_ref is not None:
            old_key = self._owner_key(old)
            if old_key is not None:
                self.loop.enqueue(old_key)
        if new_ref is not None:
            key = self._owner_key(new)
            if key is not None:
                self.loop.enqueue(key)
            return
        # An orphan whose labels changed may be adopted, by a set of its namespace: in one
        # without any, one lookup.
        sets = self.sets.by_index(NAMESPACE_INDEX, new.metadata.namespace)
        if sets and (old_ref != new_ref or old.metadata.labels != new.metadata.labels):
            self._enqueue_selecting(new, sets)

    def _on_pod_delete(self, pod: core_pb2.Pod) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.loop.enqueue(key)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        sts = self.sets.get(key)
        if sts is None:
            return None
        selector = _selector(sts)
        if selector is None or selector.empty:
            # Not transient: retrying cannot help (validation refuses such a set).
            log.warning("StatefulSet %s: invalid or empty selector; not managing it", key)
            return None
        meta = sts.metadata
        await self._adopt_orphan_revisions(sts, selector)
        claim = PodClaim(
            self.client.pods,
            sts,
            resources.STATEFUL_SET,
            selector,
            lambda: self.client.statefulsets.get(meta.name, meta.namespace),
            member=lambda pod: is_member_of(sts, pod),
        )
        pods = await claim.claim(self.pods.by_index(NAMESPACE_INDEX, meta.namespace))
        result = await self.control.update(sts, selector, pods)
        waits = [] if result.recheck_after is None else [result.recheck_after]
        # Pods become available minReadySeconds after they are ready: look again then.
        min_ready = sts.spec.min_ready_seconds
        if min_ready > 0 and result.status.available_replicas != sts.spec.replicas:
            waits.append(float(min_ready))
        return min(waits, default=None)

    async def _adopt_orphan_revisions(
        self, sts: apps_pb2.StatefulSet, selector: LabelSelector
    ) -> None:
        """adoptOrphanRevisions: revisions the selector matches that no one controls become the
        set's, unless the set (read live) is gone, replaced or being deleted."""
        orphans = [
            r for r in self.history.list_revisions(sts, selector) if controller_of(r) is None
        ]
        if not orphans:
            return
        try:
            fresh = await self.client.statefulsets.get(sts.metadata.name, sts.metadata.namespace)
        except Exception as e:
            if is_not_found(e):
                return
            raise
        if fresh.metadata.uid != sts.metadata.uid or fresh.metadata.deletion_timestamp:
            return
        for revision in orphans:
            await self.history.adopt_revision(sts, resources.STATEFUL_SET, revision)


def _selector(sts: apps_pb2.StatefulSet) -> LabelSelector | None:
    try:
        return from_label_selector_message(sts.spec.selector)
    except SelectorError:
        return None
