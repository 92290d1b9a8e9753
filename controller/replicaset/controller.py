"""The ReplicaSet controller, which also runs ReplicationControllers (kubernetes
pkg/controller/replicaset; its replication manager is the same code over RCs): keeps
spec.replicas active pods that match the owner's selector, created from its template.

Handlers only enqueue owner keys: an owner's own events, a pod's controlling owner, or for an
orphan pod every owner whose selector matches it. reconcile(key) claims the namespace's active
pods (keeps, adopts, releases), creates the missing ones in slow-start batches or deletes the
surplus in Kubernetes' order, at most BURST_REPLICAS per pass, and then writes the status.
Expectations keep it from acting again before its informer has seen its own writes. An owner
being deleted is left alone (the garbage collector finishes its deletion). Editing the template
changes no existing pod; only pods created afterwards get it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Generic, overload

from controller.framework import pod_state
from controller.framework.controller_ref import PodClaim, controller_of, new_controller_ref, pod_key
from controller.framework.expectations import Expectations
from controller.framework.pod_ordering import pods_to_delete
from controller.framework.reconciler import ReconcileLoop
from controller.framework.slow_start import slow_start_batch
from controller.replicaset import status as replica_status
from controller.replicaset.kinds import (
    REPLICA_SETS,
    REPLICATION_CONTROLLERS,
    Replicated,
    ReplicatedKind,
)
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import SelectorError
from podplane.client.clientset import (
    Client,
    ResourceClient,
    is_conflict,
    is_namespace_terminating,
    is_not_found,
)
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

# The most pods created or deleted for one owner in one pass (BurstReplicas).
BURST_REPLICAS = 500
# kube-controller-manager's --concurrent-replicaset-syncs default.
DEFAULT_WORKERS = 5


class ReplicaSetController(Generic[Replicated]):
    @overload
    def __init__(
        self: ReplicaSetController[apps_pb2.ReplicaSet],
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = ...,
        burst_replicas: int = ...,
    ) -> None: ...

    @overload
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        kind: ReplicatedKind[Replicated],
        *,
        workers: int = ...,
        burst_replicas: int = ...,
    ) -> None: ...

    # The overloads type `kind`: ReplicaSets, unless another kind is given.
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        kind: ReplicatedKind[Any] = REPLICA_SETS,
        *,
        workers: int = DEFAULT_WORKERS,
        burst_replicas: int = BURST_REPLICAS,
    ) -> None:
        self.client = client
        self.kind: ReplicatedKind[Replicated] = kind
        self.burst_replicas = burst_replicas
        self.api: ResourceClient[Replicated] = client.for_resource(self.kind.resource)
        self.owners: Informer[Replicated] = informers.informer_for(self.kind.resource)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        for informer in (self.owners, self.pods):
            informer.add_index(NAMESPACE_INDEX, namespace_of)
        self.expectations = Expectations()
        self.events = EventRecorder(client, self.kind.component)
        self.loop = ReconcileLoop(
            self.kind.queue_name,
            self.reconcile,
            informers,
            [self.owners, self.pods],
            workers=workers,
        )
        self.owners.add_handler(
            on_add=self._enqueue_owner,
            on_update=lambda _old, new: self._enqueue_owner(new),
            on_delete=self._on_owner_delete,
        )
        self.pods.add_handler(
            on_add=self._on_pod_add, on_update=self._on_pod_update, on_delete=self._on_pod_delete
        )

    @staticmethod
    def for_replication_controllers(
        client: Client, informers: SharedInformerFactory
    ) -> ReplicaSetController[core_pb2.ReplicationController]:
        return ReplicaSetController(client, informers, REPLICATION_CONTROLLERS)

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue_owner(self, owner: Replicated) -> None:
        self.loop.enqueue(object_key(owner))

    def _on_owner_delete(self, owner: Replicated) -> None:
        key = object_key(owner)
        self.expectations.delete(key)
        self.loop.enqueue(key)

    def _owner_key(self, pod: core_pb2.Pod) -> str | None:
        """The key of the cached owner that controls the pod, if it is one of ours."""
        ref = controller_of(pod)
        if ref is None or ref.kind != self.kind.resource.kind:
            return None
        key = f"{pod.metadata.namespace}/{ref.name}"
        owner = self.owners.get(key)
        return key if owner is not None and owner.metadata.uid == ref.uid else None

    def _enqueue_selecting(self, pod: core_pb2.Pod, owners: list[Replicated]) -> None:
        """An orphan: every owner of `owners` (those of its namespace) that would adopt it."""
        for owner in owners:
            try:
                selector = self.kind.selector(owner)
            except SelectorError:
                continue
            if not selector.empty and selector.matches(pod.metadata.labels):
                self.loop.enqueue(object_key(owner))

    def _on_pod_add(self, pod: core_pb2.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            # Already being deleted when first seen (e.g. by a restarted controller).
            self._on_pod_delete(pod)
            return
        if controller_of(pod) is None:
            self._enqueue_selecting(
                pod, self.owners.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
            )
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.loop.enqueue(key)

    def _on_pod_update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp:
            # Graceful deletion: the deletionTimestamp is the first sign of it.
            self._on_pod_delete(new)
            if old.metadata.labels != new.metadata.labels:
                self._on_pod_delete(old)
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        ref_changed = old_ref != new_ref
        if ref_changed and old_ref is not None:
            old_key = self._owner_key(old)
            if old_key is not None:
                self.loop.enqueue(old_key)
        if new_ref is not None:
            key = self._owner_key(new)
            if key is not None:
                self.loop.enqueue(key)
        else:
            # An orphan whose labels changed may be adopted: by an owner of its namespace, so a
            # namespace without any (that of bare pods, often) is one lookup.
            owners = self.owners.by_index(NAMESPACE_INDEX, new.metadata.namespace)
            if owners and (ref_changed or old.metadata.labels != new.metadata.labels):
                self._enqueue_selecting(new, owners)

    def _on_pod_delete(self, pod: core_pb2.Pod) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.loop.enqueue(key)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        owner = self.owners.get(key)
        if owner is None:
            self.expectations.delete(key)
            return None
        if owner.metadata.deletion_timestamp:
            return None
        try:
            selector = self.kind.selector(owner)
        except SelectorError as e:
            log.warning("%s %s: invalid selector: %s", self.kind.resource.kind, key, e)
            return None
        if selector.empty:
            # Validation refuses it; were one stored, it would select nothing and create forever.
            log.warning("%s %s: empty selector; not managing it", self.kind.resource.kind, key)
            return None
        needs_sync = self.expectations.satisfied(key)
        meta = owner.metadata
        active = [
            p for p in self.pods.by_index(NAMESPACE_INDEX, meta.namespace) if pod_state.is_active(p)
        ]
        claim = PodClaim(
            self.client.pods,
            owner,
            self.kind.resource,
            selector,
            lambda: self.api.get(meta.name, meta.namespace),
        )
        pods = await claim.claim(active)
        error: Exception | None = None
        if needs_sync:
            try:
                await self._manage(key, owner, pods)
            except Exception as e:  # noqa: BLE001 - reported in status, then retried
                error = e
        now = datetime.now(UTC)
        await self._update_status(owner, replica_status.with_new_status(owner, pods, error, now))
        if error is not None:
            raise error
        waits = [
            w
            for w in (
                self.expectations.expires_in(key),
                replica_status.next_available_in(owner, pods, now),
            )
            if w is not None
        ]
        return min(waits) if waits else None

    async def _manage(self, key: str, owner: Replicated, pods: list[core_pb2.Pod]) -> None:
        diff = len(pods) - owner.spec.replicas
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            log.info(
                "%s %s: too few replicas: need %d, creating %d",
                self.kind.resource.kind,
                key,
                owner.spec.replicas,
                count,
            )
            self.expectations.expect_creations(key, count)
            created, error = await slow_start_batch(count, lambda: self._create_pod(owner))
            # Creations never attempted, or failed, will not be observed.
            for _ in range(count - created):
                self.expectations.creation_observed(key)
            if error is not None:
                raise error
        elif diff > 0:
            count = min(diff, self.burst_replicas)
            log.info(
                "%s %s: too many replicas: need %d, deleting %d",
                self.kind.resource.kind,
                key,
                owner.spec.replicas,
                count,
            )
            victims = pods_to_delete(pods, self._related_pods(owner), count)
            self.expectations.expect_deletions(key, [pod_key(p) for p in victims])
            results = await asyncio.gather(
                *(self._delete_pod(key, owner, p) for p in victims), return_exceptions=True
            )
            for r in results:
                if isinstance(r, BaseException):
                    raise r

    def new_pod(self, owner: Replicated) -> core_pb2.Pod:
        """A pod from the owner's template, controlled by the owner (GetPodFromTemplate)."""
        template = owner.spec.template
        pod = core_pb2.Pod()
        meta = pod.metadata
        meta.namespace = owner.metadata.namespace
        meta.generate_name = f"{owner.metadata.name}-"
        meta.labels.update(template.metadata.labels)
        meta.annotations.update(template.metadata.annotations)
        meta.finalizers.extend(template.metadata.finalizers)
        meta.owner_references.append(new_controller_ref(owner, self.kind.resource))
        pod.spec.CopyFrom(template.spec)
        return pod

    async def _create_pod(self, owner: Replicated) -> None:
        try:
            pod = await self.client.pods.create(self.new_pod(owner))
        except Exception as e:
            if is_namespace_terminating(e):
                return  # every create would fail; the namespace controller deletes the owner
            self.events.record(
                owner, WARNING, "FailedCreate", f"Error creating: {replica_status.error_message(e)}"
            )
            raise
        self.events.record(owner, NORMAL, "SuccessfulCreate", f"Created pod: {pod.metadata.name}")

    async def _delete_pod(self, key: str, owner: Replicated, pod: core_pb2.Pod) -> None:
        meta = pod.metadata
        try:
            await self.client.pods.delete(meta.name, meta.namespace, uid=meta.uid)
        except Exception as e:
            # Its deletion will not be observed: do not wait for it.
            self.expectations.deletion_observed(key, pod_key(pod))
            if is_not_found(e) or is_conflict(e):
                return  # gone already (a conflict: replaced by another pod of that name)
            self.events.record(
                owner, WARNING, "FailedDelete", f"Error deleting: {replica_status.error_message(e)}"
            )
            raise
        self.events.record(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {meta.name}")

    def _related_pods(self, owner: Replicated) -> list[core_pb2.Pod]:
        """The pods of the owner and of its siblings (owners with the same controller, such as a
        Deployment's ReplicaSets): deletion prefers nodes where the family is doubled up."""
        ref = controller_of(owner)
        namespace = owner.metadata.namespace
        family = (
            [owner]
            if ref is None
            else [
                o
                for o in self.owners.by_index(NAMESPACE_INDEX, namespace)
                if (r := controller_of(o)) is not None and r.uid == ref.uid
            ]
        )
        related: dict[str, core_pb2.Pod] = {}
        pods = self.pods.by_index(NAMESPACE_INDEX, namespace)
        for member in family:
            try:
                selector = self.kind.selector(member)
            except SelectorError:
                continue
            for p in pods:
                if not selector.empty and selector.matches(p.metadata.labels):
                    related.setdefault(p.metadata.uid, p)
        return list(related.values())

    async def _update_status(self, owner: Replicated, updated: Replicated | None) -> None:
        """Writes `updated`, the owner with its new status (None: the status is unchanged)."""
        if updated is None:
            return
        status = updated.status
        # One retry against the owner as now stored (statusUpdateRetries).
        for attempt in range(2):
            try:
                await self.api.update_status(updated)
                return
            except Exception as e:
                if is_not_found(e):
                    return
                if not is_conflict(e) or attempt:
                    raise
            try:
                fresh = await self.api.get(owner.metadata.name, owner.metadata.namespace)
            except Exception as e:
                if is_not_found(e):
                    return
                raise
            if fresh.metadata.uid != owner.metadata.uid:
                return
            updated = fresh
            updated.status.CopyFrom(status)
