"""The disruption controller (kubernetes pkg/controller/disruption): keeps every
PodDisruptionBudget's status, which the eviction subresource decides by: the pods it expects
(expected.py), the healthy ones, the disruptions that allows, the DisruptionAllowed condition;
and sets the DisruptionTarget condition of pods that were marked for an eviction that never came
back to False (stale.py).

Handlers only enqueue keys: a budget's own events, and a pod's events for each budget that selects
it (before or after the change). reconcile(key) computes the status from the caches (status.py)
and writes it when it changed; a budget whose status cannot be computed gets DisruptionAllowed
False (SyncFailed), so no eviction is allowed on a guess. A budget with pods in disruptedPods is
looked at again when the first of them expires."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from controller.disruption import stale, status
from controller.disruption.expected import ControllerScales, ExpectedCountError, expected_pod_count
from controller.framework.reconciler import ReconcileLoop
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import disruption, resources
from podplane.client.clientset import Client, is_not_found
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import (
    NAMESPACE_INDEX,
    Informer,
    Syncable,
    namespace_of,
    object_key,
)
from podplane.client.informer_factory import SharedInformerFactory
from podplane.printers.labels import label_selector_string

log = logging.getLogger(__name__)

COMPONENT = "controllermanager"  # the source of its events, as Kubernetes names it


class DisruptionController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = 1,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stale_pod_disruption_timeout: timedelta = stale.STALE_POD_DISRUPTION_TIMEOUT,
    ) -> None:
        self.client = client
        self.clock = clock
        self.stale_timeout = stale_pod_disruption_timeout
        self.pdbs: Informer[policy_pb2.PodDisruptionBudget] = informers.informer_for(
            resources.POD_DISRUPTION_BUDGET
        )
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        rcs: Informer[core_pb2.ReplicationController] = informers.informer_for(
            resources.REPLICATION_CONTROLLER
        )
        rss: Informer[apps_pb2.ReplicaSet] = informers.informer_for(resources.REPLICA_SET)
        deployments: Informer[apps_pb2.Deployment] = informers.informer_for(resources.DEPLOYMENT)
        stateful_sets: Informer[apps_pb2.StatefulSet] = informers.informer_for(
            resources.STATEFUL_SET
        )
        self.scales = ControllerScales(rcs.get, rss.get, deployments.get, stateful_sets.get)
        self.pdbs.add_index(NAMESPACE_INDEX, namespace_of)
        self.pods.add_index(NAMESPACE_INDEX, namespace_of)
        cached: list[Syncable] = [self.pdbs, self.pods, rcs, rss, deployments, stateful_sets]
        self.recorder = EventRecorder(client, COMPONENT)
        self.loop = ReconcileLoop("disruption", self.reconcile, informers, cached, workers=workers)
        # Pods whose DisruptionTarget condition may become stale, by key.
        self.stale_loop = ReconcileLoop(
            "stale_pod_disruption", self.reconcile_stale_pod, informers, cached, workers=1
        )
        self.pdbs.add_handler(
            on_add=self._enqueue,
            on_update=lambda _old, new: self._enqueue(new),
            on_delete=self._enqueue,
        )
        self.pods.add_handler(
            on_add=self._on_pod,
            on_update=self._on_pod_update,
            on_delete=self._on_pod_delete,
        )

    async def run(self) -> None:
        await asyncio.gather(self.loop.run(), self.stale_loop.run())

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, pdb: policy_pb2.PodDisruptionBudget) -> None:
        self.loop.enqueue(object_key(pdb))

    def _enqueue_budgets_of(
        self, pod: core_pb2.Pod, budgets: list[policy_pb2.PodDisruptionBudget]
    ) -> None:
        for pdb in budgets:
            if disruption.selects(pdb, pod):
                self._enqueue(pdb)

    def _on_pod(self, pod: core_pb2.Pod) -> None:
        # A namespace without budgets, the usual case, is one lookup.
        budgets = self.pdbs.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
        if budgets:
            self._enqueue_budgets_of(pod, budgets)
        self._watch_stale_condition(pod)

    def _on_pod_update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        budgets = self.pdbs.by_index(NAMESPACE_INDEX, new.metadata.namespace)
        if budgets:
            if old.metadata.labels != new.metadata.labels:
                self._enqueue_budgets_of(old, budgets)
            self._enqueue_budgets_of(new, budgets)
        self._watch_stale_condition(new)

    def _on_pod_delete(self, pod: core_pb2.Pod) -> None:
        budgets = self.pdbs.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
        if budgets:
            self._enqueue_budgets_of(pod, budgets)

    def _watch_stale_condition(self, pod: core_pb2.Pod) -> None:
        cond = stale.stale_condition(pod)
        if cond is not None:
            after = stale.seconds_until_stale(cond, self.clock(), self.stale_timeout)
            self.stale_loop.queue.add_after(object_key(pod), after)

    # ------------------------------------------------------------------ budgets
    async def reconcile(self, key: str) -> float | None:
        pdb = self.pdbs.get(key)
        if pdb is None:
            return None
        try:
            return await self._sync(pdb)
        except ExpectedCountError as e:
            self.recorder.record(
                pdb,
                WARNING,
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {e}",
            )
            await self._write(status.failed_status(pdb, str(e)))
            return None

    def _selected_pods(self, pdb: policy_pb2.PodDisruptionBudget) -> list[core_pb2.Pod]:
        selector = disruption.pod_selector(pdb)
        if selector is None:
            return []
        return [
            pod
            for pod in self.pods.by_index(NAMESPACE_INDEX, pdb.metadata.namespace)
            if selector.matches(pod.metadata.labels)
        ]

    async def _sync(self, pdb: policy_pb2.PodDisruptionBudget) -> float | None:
        """trySync: the budget's status from its pods; the seconds until the first recorded
        disruption expires, if one is awaited."""
        pods = self._selected_pods(pdb)
        if not pods:
            self.recorder.record(pdb, NORMAL, "NoPods", "No matching pods found")
        expected = expected_pod_count(pdb, pods, self.scales)
        if expected.unmanaged:
            self.recorder.record(
                pdb,
                WARNING,
                "UnmanagedPods",
                "Pods selected by this PodDisruptionBudget (selector: "
                f"{label_selector_string(pdb.spec.selector)}) were found to be unmanaged. As a "
                "result, the status of the PDB cannot be calculated correctly, which may result "
                "in undefined behavior. To account for these pods please set "
                '".spec.minAvailable" field of the PDB to an integer value.',
            )
        now = self.clock()
        disrupted = status.disrupted_pods(pdb, pods, now)
        for name in disrupted.not_deleted:
            pod = next(p for p in pods if p.metadata.name == name)
            self.recorder.record(
                pod,
                WARNING,
                "NotDeleted",
                f"Pod was expected by PDB {pdb.metadata.namespace}/{pdb.metadata.name} to be "
                "deleted but it wasn't",
            )
        healthy = status.count_healthy(pods, disrupted.pods, now)
        new = status.updated_status(
            pdb, healthy, expected.desired_healthy, expected.expected_pods, disrupted.pods
        )
        if new is not None:
            await self._write(new)
        if disrupted.recheck_at is None:
            return None
        return max((disrupted.recheck_at - now).total_seconds(), 0.0)

    async def _write(self, pdb: policy_pb2.PodDisruptionBudget) -> None:
        """UpdateStatus of the budget as cached. Its deletion meanwhile is no error; a conflict
        (an eviction spent a disruption meanwhile) is retried with the loop's back-off, from the
        budget as the cache then shows it."""
        try:
            await self.client.poddisruptionbudgets.update_status(pdb)
        except Exception as e:
            if not is_not_found(e):
                raise

    # ------------------------------------------------------------------ stale conditions
    async def reconcile_stale_pod(self, key: str) -> float | None:
        pod = self.pods.get(key)
        if pod is None:
            return None
        after = stale.stale_after(pod, self.clock(), self.stale_timeout)
        if after is None:
            return None
        if after > 0:
            return after
        try:
            await self.client.pods.update_status(stale.cleared(pod))
        except Exception as e:
            if is_not_found(e):
                return None
            raise
        log.info("disruption: reset the stale DisruptionTarget condition of pod %s", key)
        return None
