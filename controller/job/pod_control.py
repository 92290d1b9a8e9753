"""The Job controller's writes to pods (kubernetes pkg/controller/job: manageJob's creates,
deleteJobPods, deleteActivePods, removeTrackingFinalizerFromPods), each with its event and the
expectations that keep the next sync from acting on a cache that does not show it yet."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from controller.framework import pod_state
from controller.framework.controller_ref import pod_key
from controller.framework.expectations import Expectations
from controller.framework.slow_start import slow_start_batch
from controller.job.finalizer_expectations import FinalizerExpectations
from controller.job.pods import TRACKING_FINALIZER, new_pod
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.conflicts import get_same, update_on_conflict
from podplane.client.events import NORMAL, WARNING, EventRecorder

log = logging.getLogger(__name__)


class JobPodControl:
    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        expectations: Expectations,
        finalizer_expectations: FinalizerExpectations,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.expectations = expectations
        self.finalizer_expectations = finalizer_expectations

    async def create_pods(
        self,
        key: str,
        job: batch_pb2.Job,
        count: int,
        indexes: list[int] | None,
        failure_counts: dict[int, tuple[int, int]] | None = None,
    ) -> tuple[int, Exception | None]:
        """Creates `count` pods (one per index for an Indexed job) in slow-start batches; how
        many were created and the first error."""
        self.expectations.expect_creations(key, count)
        pending = list(indexes) if indexes is not None else None

        def create() -> asyncio.Future[None]:
            index = pending.pop(0) if pending is not None else None
            counts = failure_counts.get(index) if failure_counts and index is not None else None
            return asyncio.ensure_future(self._create_pod(job, new_pod(job, index, counts)))

        created, error = await slow_start_batch(count, create)
        for _ in range(count - created):
            self.expectations.creation_observed(key)  # never attempted, or failed
        return created, error

    async def _create_pod(self, job: batch_pb2.Job, pod: core_pb2.Pod) -> None:
        try:
            made = await self.client.pods.create(pod)
        except Exception as e:
            self.recorder.record(job, WARNING, "FailedCreate", f"Error creating: {e}")
            raise
        self.recorder.record(job, NORMAL, "SuccessfulCreate", f"Created pod: {made.metadata.name}")

    async def _delete_pod(self, job: batch_pb2.Job, pod: core_pb2.Pod) -> None:
        await self.client.pods.delete(
            pod.metadata.name, pod.metadata.namespace, uid=pod.metadata.uid
        )
        self.recorder.record(job, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}")

    async def delete_job_pods(
        self, key: str, job: batch_pb2.Job, pods: Sequence[core_pb2.Pod]
    ) -> tuple[int, int, Exception | None]:
        """Pods the job no longer wants (suspended, too many, a duplicated index): their
        finalizer removed first, since they are not failures to count, then deleted, as
        expected deletions. (ready deleted, deleted, first error)."""
        self.expectations.expect_deletions(key, [pod_key(p) for p in pods])

        async def one(pod: core_pb2.Pod) -> None:
            try:
                await self.remove_finalizer(pod)
                await self._delete_pod(job, pod)
            except Exception as e:
                self.expectations.deletion_observed(key, pod_key(pod))
                if not (is_not_found(e) or is_conflict(e)):
                    raise

        return await self._gather(pods, one)

    async def delete_active_pods(
        self, job: batch_pb2.Job, pods: Sequence[core_pb2.Pod]
    ) -> tuple[int, int, Exception | None]:
        """The active pods of a job that has failed or met its success criteria: deleted with
        their finalizers, which the tracking removes once they are counted."""

        async def one(pod: core_pb2.Pod) -> None:
            try:
                await self._delete_pod(job, pod)
            except Exception as e:
                if not is_not_found(e):
                    raise

        return await self._gather(pods, one)

    @staticmethod
    async def _gather(
        pods: Sequence[core_pb2.Pod], one: Callable[[core_pb2.Pod], Awaitable[None]]
    ) -> tuple[int, int, Exception | None]:
        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        deleted = ready = 0
        error: Exception | None = None
        for pod, result in zip(pods, results, strict=True):
            if isinstance(result, Exception):
                error = error or result
                continue
            if isinstance(result, BaseException):
                raise result
            deleted += 1
            ready += pod_state.is_ready(pod)
        return ready, deleted, error

    async def remove_finalizer(self, pod: core_pb2.Pod) -> None:
        def drop(p: core_pb2.Pod) -> bool:
            if TRACKING_FINALIZER not in p.metadata.finalizers:
                return False
            keep = [f for f in p.metadata.finalizers if f != TRACKING_FINALIZER]
            del p.metadata.finalizers[:]
            p.metadata.finalizers.extend(keep)
            return True

        await update_on_conflict(
            pod,
            drop,
            self.client.pods.update,
            lambda p: get_same(self.client.pods, p),
            what=f"removing the tracking finalizer of pod {pod_key(pod)}",
        )

    async def remove_finalizers(
        self, key: str, pods: Sequence[core_pb2.Pod]
    ) -> tuple[list[bool], Exception | None]:
        """removeTrackingFinalizerFromPods: for each pod, whether its finalizer is gone (a pod
        gone too counts), and the first error."""
        self.finalizer_expectations.expect_removals(key, [p.metadata.uid for p in pods])

        async def one(pod: core_pb2.Pod) -> None:
            try:
                await self.remove_finalizer(pod)
            except Exception as e:
                self.finalizer_expectations.removal_observed(key, pod.metadata.uid)
                if not is_not_found(e):
                    log.warning("removing the tracking finalizer of %s: %s", pod_key(pod), e)
                    raise

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        error = next((r for r in results if isinstance(r, Exception)), None)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, Exception):
                raise r
        return [not isinstance(r, BaseException) for r in results], error
