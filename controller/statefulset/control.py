"""One pass of the StatefulSet controller over a set and its pods (kubernetes 1.31
stateful_set_control.go defaultStatefulSetControl.UpdateStatefulSet).

The pods split into replicas (ordinals start .. start+replicas-1, a pod made for each one missing,
of the current revision below the partition and of the update revision above it) and condemned
ones (ordinals outside). With OrderedReady the replicas are handled in ordinal order and the pass
stops at the first that is not Running, Ready and available (a failed one is deleted to be made
again); condemned pods go one at a time from the highest ordinal, each only once every other pod
is healthy. Parallel does each step for every pod at once. Then a RollingUpdate deletes the pod
with the highest ordinal at or above the partition that is not of the update revision, waiting for
each replacement to be healthy; OnDelete leaves that to the user. The status is written whatever
happened, and the history trimmed to revisionHistoryLimit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from controller.framework.slow_start import slow_start_batch
from controller.history.history import History
from controller.history.revision import sort_controller_revisions
from controller.statefulset import identity, revisions
from controller.statefulset import status as sts_status
from controller.statefulset.pod_control import StatefulPodControl
from controller.statefulset.revisions import Revisions
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.selectors import LabelSelector
from podplane.client.clientset import Client, is_conflict, is_not_found

log = logging.getLogger(__name__)

# Status writes tried against the set as now cached before giving up (retry.DefaultRetry).
STATUS_ATTEMPTS = 5
# A step for pod i of a list: whether the pass must stop there.
Step = Callable[[int], Awaitable[bool]]
# How soon a set whose pod waits for a stale claim to go looks again (nothing else would wake it:
# the garbage collector's deletion of the claim is not an event this controller watches).
STALE_CLAIM_RECHECK = 1.0


@dataclass(frozen=True)
class PassResult:
    """What a pass wrote as the status, and when to look at the set again (None: at its next
    event)."""

    status: apps_pb2.StatefulSetStatus
    recheck_after: float | None = None


async def run_for_all(count: int, step: Step, monotonic: bool) -> bool:
    """runForAll: in order, stopping at the first step that says so (OrderedReady); or all at
    once in slow-start batches, stopping at an error (Parallel). Whether the pass stops."""
    if monotonic:
        for i in range(count):
            if await step(i):
                return True
        return False
    indexes = iter(range(count))

    async def next_step() -> None:
        await step(next(indexes))

    _, error = await slow_start_batch(count, lambda: next_step())
    if error is not None:
        raise error
    return False


class StatefulSetControl:
    def __init__(
        self,
        client: Client,
        pods: StatefulPodControl,
        history: History,
        sets_cache: Callable[[str], apps_pb2.StatefulSet | None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.pods = pods
        self.history = history
        self.sets_cache = sets_cache
        self.clock = clock

    async def update(
        self, sts: apps_pb2.StatefulSet, selector: LabelSelector, pods: list[core_pb2.Pod]
    ) -> PassResult:
        """UpdateStatefulSet: converges the set's pods, writes its status and trims its
        history."""
        known = sort_controller_revisions(self.history.list_revisions(sts, selector))
        live: Revisions | None = None
        try:
            live = await revisions.set_revisions(self.history, sts, known)
            step = await self._converge(sts, live, pods)
            await self._write_status(sts, step.status)
        finally:
            # Kubernetes trims the history after a failed pass too.
            await revisions.truncate_history(self.history, sts, pods, known, live)
        if step.error is not None:
            raise step.error
        return PassResult(step.status, STALE_CLAIM_RECHECK if step.stale_claim else None)

    # ------------------------------------------------------------------ the pass
    async def _converge(
        self, sts: apps_pb2.StatefulSet, live: Revisions, pods: list[core_pb2.Pod]
    ) -> _Pass:
        """updateStatefulSet: the pass made, with the status to record and the error that
        stopped it."""
        current_set = revisions.apply_revision(sts, live.current)
        update_set = revisions.apply_revision(sts, live.update)
        status = apps_pb2.StatefulSetStatus(
            observed_generation=sts.metadata.generation,
            current_revision=live.current.metadata.name,
            update_revision=live.update.metadata.name,
            collision_count=live.collision_count,
        )
        now = self.clock()
        min_ready = sts.spec.min_ready_seconds
        sts_status.count_replicas(status, pods, min_ready, now)

        start, end = identity.start_ordinal(sts), identity.end_ordinal(sts)
        slots: list[core_pb2.Pod | None] = [None] * max(sts.spec.replicas, 0)
        condemned: list[core_pb2.Pod] = []
        for pod in pods:
            ordinal = identity.ordinal_of(pod)
            if start <= ordinal <= end:
                slots[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        replicas = [
            pod
            or identity.versioned_pod(
                current_set,
                update_set,
                live.current.metadata.name,
                live.update.metadata.name,
                start + i,
            )
            for i, pod in enumerate(slots)
        ]
        condemned.sort(key=identity.ordinal_of, reverse=True)
        first_unhealthy = next((p for p in replicas if not sts_status.is_healthy(p)), None)
        if first_unhealthy is None:
            first_unhealthy = next(
                (p for p in reversed(condemned) if not sts_status.is_healthy(p)), None
            )

        step = _Pass(self.pods, sts, update_set, replicas, condemned, status, now)
        if sts.metadata.deletion_timestamp:
            return step
        monotonic = step.monotonic
        try:
            if await run_for_all(len(replicas), step.replica, monotonic):
                return step.recount()
            if await run_for_all(len(condemned), step.fix_condemned_claims, monotonic):
                return step.recount()
            if await run_for_all(
                len(condemned), lambda i: step.condemned(i, first_unhealthy), monotonic
            ):
                return step.recount()
        except Exception as e:  # noqa: BLE001 - the status is written, then the error raised
            step.error = e
            return step.recount()
        step.recount()
        if sts.spec.update_strategy.type == "OnDelete":
            return step
        try:
            await self._roll(sts, live, replicas, status)
        except Exception as e:  # noqa: BLE001 - as above
            step.error = e
        return step

    async def _roll(
        self,
        sts: apps_pb2.StatefulSet,
        live: Revisions,
        replicas: list[core_pb2.Pod],
        status: apps_pb2.StatefulSetStatus,
    ) -> None:
        """RollingUpdate: from the highest ordinal down to the partition, delete the first pod
        not of the update revision, unless a pod above it is not healthy yet."""
        strategy = sts.spec.update_strategy
        update_min = strategy.rolling_update.partition if strategy.HasField("rolling_update") else 0
        for target in range(len(replicas) - 1, update_min - 1, -1):
            pod = replicas[target]
            if identity.pod_revision(
                pod
            ) != live.update.metadata.name and not sts_status.is_terminating(pod):
                log.info(
                    "StatefulSet %s/%s: terminating pod %s for update",
                    sts.metadata.namespace,
                    sts.metadata.name,
                    pod.metadata.name,
                )
                await self.pods.delete_pod(sts, pod)
                status.current_replicas -= 1
                return
            if not sts_status.is_healthy(pod):
                return

    # ------------------------------------------------------------------ status
    async def _write_status(
        self, sts: apps_pb2.StatefulSet, status: apps_pb2.StatefulSetStatus
    ) -> None:
        """updateStatefulSetStatus: completes a finished rolling update, and writes the status
        when it differs from the stored one, retrying a conflict on the set as now cached."""
        sts_status.complete_rolling_update(sts, status)
        if not sts_status.inconsistent(sts, status):
            return
        current = sts
        for attempt in range(STATUS_ATTEMPTS):
            updated = apps_pb2.StatefulSet()
            updated.CopyFrom(current)
            updated.status.CopyFrom(status)
            try:
                await self.client.statefulsets.update_status(updated)
                return
            except Exception as e:
                if is_not_found(e):
                    return
                if not is_conflict(e) or attempt == STATUS_ATTEMPTS - 1:
                    raise
            cached = self.sets_cache(f"{sts.metadata.namespace}/{sts.metadata.name}")
            if cached is None or cached.metadata.uid != sts.metadata.uid:
                return
            current = cached


class _Pass:
    """The per-pod steps of one pass (processReplica, the condemned pods' claims,
    processCondemned), and what the pass found: the status, the error that stopped it, and
    whether a pod waits for a stale claim."""

    def __init__(
        self,
        pods: StatefulPodControl,
        sts: apps_pb2.StatefulSet,
        update_set: apps_pb2.StatefulSet,
        replicas: list[core_pb2.Pod],
        condemned: list[core_pb2.Pod],
        status: apps_pb2.StatefulSetStatus,
        now: datetime,
    ) -> None:
        self.pods = pods
        self.sts = sts
        self.update_set = update_set
        self.monotonic = sts.spec.pod_management_policy != "Parallel"
        self.replicas = replicas
        self.condemned_pods = condemned
        self.status = status
        self.now = now
        self.error: Exception | None = None
        self.stale_claim = False

    def recount(self) -> _Pass:
        """The status counts over the pods as this pass left them (new ones not yet counted)."""
        sts_status.count_replicas(
            self.status,
            [*self.replicas, *self.condemned_pods],
            self.sts.spec.min_ready_seconds,
            self.now,
        )
        return self

    def _available(self, pod: core_pb2.Pod) -> bool:
        return sts_status.is_running_and_available(pod, self.sts.spec.min_ready_seconds, self.now)

    async def replica(self, i: int) -> bool:
        """processReplica: replace a finished pod, create a missing one (its claims first), wait
        for it to be Running, Ready and available (OrderedReady), and put back its identity,
        storage and claims' owners."""
        pod, sts = self.replicas[i], self.sts
        if pod.status.phase in ("Failed", "Succeeded"):
            if not sts_status.is_terminating(pod):
                log.info(
                    "StatefulSet %s/%s: pod %s is %s: deleting it to make it again",
                    sts.metadata.namespace,
                    sts.metadata.name,
                    pod.metadata.name,
                    pod.status.phase,
                )
                await self.pods.delete_pod(sts, pod)
            return True
        if not sts_status.is_created(pod):
            if self.pods.claim_is_stale(sts, pod):
                self.stale_claim = True
                return True
            await self.pods.create_pod(sts, pod)
            if self.monotonic:
                return True
        if pod.status.phase == "Pending":
            await self.pods.create_missing_claims(sts, pod)
        if self.monotonic and (
            sts_status.is_terminating(pod)
            or not sts_status.is_running_and_ready(pod)
            or not self._available(pod)
        ):
            return True
        if (
            identity.identity_matches(sts, pod)
            and identity.storage_matches(sts, pod)
            and self.pods.claims_match_retention(self.update_set, pod)
        ):
            return False
        copy = core_pb2.Pod()
        copy.CopyFrom(pod)
        await self.pods.update_pod(self.update_set, copy)
        return False

    async def fix_condemned_claims(self, i: int) -> bool:
        """The claims of a pod about to be scaled down get the owners the policy asks for."""
        pod = self.condemned_pods[i]
        if not self.pods.claims_match_retention(self.update_set, pod):
            await self.pods.update_claims_for_retention(self.update_set, pod)
        return False

    async def condemned(self, i: int, first_unhealthy: core_pb2.Pod | None) -> bool:
        """processCondemned: delete a pod outside the ordinals; OrderedReady waits for one being
        deleted, and deletes an unhealthy one only if it is the first unhealthy pod."""
        pod = self.condemned_pods[i]
        if sts_status.is_terminating(pod):
            return self.monotonic
        healthy = sts_status.is_running_and_ready(pod) and self._available(pod)
        if self.monotonic and pod is not first_unhealthy and not healthy:
            return True
        log.info(
            "StatefulSet %s/%s: terminating pod %s for scale down",
            self.sts.metadata.namespace,
            self.sts.metadata.name,
            pod.metadata.name,
        )
        await self.pods.delete_pod(self.sts, pod)
        return True
