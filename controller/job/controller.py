"""The Job controller (kubernetes pkg/controller/job/job_controller.go, as 1.31 runs it).

It keeps min(parallelism, completions - succeeded) pods running from the Job's template (for an
Indexed job, one per pending index), replaces failed ones after a back-off (10 s doubling to
6 min; per index with backoffLimitPerIndex), counts finished pods through the tracking finalizer
(controller/job/tracking.py), and ends the Job: SuccessCriteriaMet then Complete once
`completions` pods have succeeded or the success policy is met; FailureTarget then Failed past
`backoffLimit` (BackoffLimitExceeded), `activeDeadlineSeconds` (DeadlineExceeded), a FailJob rule
of the pod failure policy (PodFailurePolicy), or too many failed indexes. The terminal condition
waits for the job's pods to terminate."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from controller.framework.controller_ref import PodClaim, controller_of, pod_key
from controller.framework.expectations import Expectations
from controller.framework.reconciler import ReconcileLoop
from controller.job import conditions
from controller.job.backoff import BackoffStore, FinishClock
from controller.job.finalizer_expectations import FinalizerExpectations
from controller.job.manage import Backoff, JobManager
from controller.job.pod_control import JobPodControl
from controller.job.pods import TRACKING_FINALIZER, has_tracking_finalizer
from controller.job.sync import JobSyncer
from controller.job.tracking import StatusTracker
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import SelectorError, from_label_selector_message
from podplane.client.clientset import Client
from podplane.client.events import WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = 10.0
MAX_BACKOFF = 6 * 60.0
# The value of spec.managedBy that means this controller (the field itself is alpha, dropped).
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"


class JobController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = 5,
        backoff: float = DEFAULT_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._clock = clock
        self.jobs: Informer[batch_pb2.Job] = informers.informer_for(resources.JOB)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(NAMESPACE_INDEX, namespace_of)
        self.jobs.add_index(NAMESPACE_INDEX, namespace_of)  # an orphan's jobs (getPodJobs)
        self.expectations = Expectations()
        self.finalizer_expectations = FinalizerExpectations()
        self.finish_clock = FinishClock(clock)
        self.backoff_store = BackoffStore()
        self.recorder = EventRecorder(client, "job-controller")
        self.pod_control = JobPodControl(
            client, self.recorder, self.expectations, self.finalizer_expectations
        )
        self.manager = JobManager(
            self.pod_control, self.finish_clock, Backoff(backoff, max_backoff)
        )
        self.tracker = StatusTracker(client, self.pod_control, self.backoff_store, self.recorder)
        self.syncer = JobSyncer(self, clock)
        self.loop = ReconcileLoop(
            "job", self.reconcile, informers, [self.jobs, self.pods], workers=workers
        )
        # Pods left with the tracking finalizer by a job that is gone, finished or no longer
        # theirs (the orphan queue).
        self.orphans = ReconcileLoop(
            "job-orphan-pod", self.reconcile_orphan, informers, [self.jobs, self.pods]
        )
        self.jobs.add_handler(
            on_add=self._enqueue_job, on_update=self._job_updated, on_delete=self._job_deleted
        )
        self.pods.add_handler(
            on_add=self._pod_added,
            on_update=self._pod_updated,
            on_delete=lambda pod: self._pod_deleted(pod, final=True),
        )

    async def run(self) -> None:
        await asyncio.gather(self.loop.run(), self.orphans.run())

    # ------------------------------------------------------------------ handlers: keys only
    def _enqueue_job(self, job: batch_pb2.Job) -> None:
        self.loop.enqueue(f"{job.metadata.namespace}/{job.metadata.name}")

    def _job_updated(self, _old: batch_pb2.Job, new: batch_pb2.Job) -> None:
        self._enqueue_job(new)
        if conditions.is_finished(new.status):
            self._release_finalizers(new)

    def _job_deleted(self, job: batch_pb2.Job) -> None:
        self.tracker.forget(job.metadata.uid)
        self._enqueue_job(job)
        self._release_finalizers(job)

    def _release_finalizers(self, job: batch_pb2.Job) -> None:
        """cleanupPodFinalizers: the job's pods still holding the finalizer go to the orphans."""
        for pod in self.pods.by_index(NAMESPACE_INDEX, job.metadata.namespace):
            ref = controller_of(pod)
            if ref is not None and ref.uid == job.metadata.uid and has_tracking_finalizer(pod):
                self.orphans.enqueue(pod_key(pod))

    def _job_of(self, pod: core_pb2.Pod) -> batch_pb2.Job | None:
        """resolveControllerRef: the cached Job the pod's controller reference names."""
        ref = controller_of(pod)
        if ref is None or ref.kind != "Job":
            return None
        job = self.jobs.get(f"{pod.metadata.namespace}/{ref.name}")
        return job if job is not None and job.metadata.uid == ref.uid else None

    def _pod_added(self, pod: core_pb2.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod, final=False)  # seen for the first time already going
            return
        if controller_of(pod) is not None:
            if (job := self._job_of(pod)) is not None:
                key = f"{job.metadata.namespace}/{job.metadata.name}"
                self.expectations.creation_observed(key)
                self.loop.enqueue(key)
            elif has_tracking_finalizer(pod):
                self.orphans.enqueue(pod_key(pod))  # its job went while no one was looking
            return
        if has_tracking_finalizer(pod):
            self.orphans.enqueue(pod_key(pod))
        self._enqueue_selecting(pod, self.jobs.by_index(NAMESPACE_INDEX, pod.metadata.namespace))

    def _pod_updated(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp:
            self._pod_deleted(new, final=False)  # going: replaceable, or its deletion observed
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref is not None or new_ref is not None:
            removed = not has_tracking_finalizer(new)
            for pod, ref in ((old, old_ref), (new, new_ref)):
                if ref is None or (pod is old and old_ref == new_ref):
                    continue
                if (job := self._job_of(pod)) is not None:
                    key = f"{job.metadata.namespace}/{job.metadata.name}"
                    if removed:
                        self.finalizer_expectations.removal_observed(key, new.metadata.uid)
                    self.loop.enqueue(key)
        if new_ref is None:
            if has_tracking_finalizer(new):
                self.orphans.enqueue(pod_key(new))
            # An orphan whose labels changed may be adopted, by a job of its namespace: in one
            # without any, one lookup.
            jobs = self.jobs.by_index(NAMESPACE_INDEX, new.metadata.namespace)
            if jobs and (old_ref != new_ref or old.metadata.labels != new.metadata.labels):
                self._enqueue_selecting(new, jobs)

    def _pod_deleted(self, pod: core_pb2.Pod, *, final: bool) -> None:
        job = self._job_of(pod)
        if job is None or conditions.is_finished(job.status):
            if has_tracking_finalizer(pod) and not final:
                self.orphans.enqueue(pod_key(pod))
            return
        key = f"{job.metadata.namespace}/{job.metadata.name}"
        self.expectations.deletion_observed(key, pod_key(pod))
        if final or not has_tracking_finalizer(pod):
            self.finalizer_expectations.removal_observed(key, pod.metadata.uid)
        self.loop.enqueue(key)

    def _enqueue_selecting(self, pod: core_pb2.Pod, jobs: list[batch_pb2.Job]) -> None:
        """An orphan: the jobs of `jobs` (those of its namespace) whose selector matches it,
        which may adopt it."""
        for job in jobs:
            if conditions.is_finished(job.status):
                continue
            try:
                selector = from_label_selector_message(job.spec.selector)
            except SelectorError:
                continue
            if not selector.empty and selector.matches(pod.metadata.labels):
                self._enqueue_job(job)

    # ------------------------------------------------------------------ orphans
    async def reconcile_orphan(self, key: str) -> float | None:
        """syncOrphanPod: the tracking finalizer comes off a pod no unfinished Job controls."""
        pod = self.pods.get(key)
        if pod is None or not has_tracking_finalizer(pod):
            return None
        ref = controller_of(pod)
        if ref is not None:
            if ref.kind != "Job" or not ref.api_version.startswith("batch/"):
                return None  # another kind's finalizer business
            job = self._job_of(pod)
            if job is not None and not conditions.is_finished(job.status):
                return None  # adopted, or its job still counts it
        await self.pod_control.remove_finalizer(pod)
        return None

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        cached = self.jobs.get(key)
        if cached is None:
            self.expectations.delete(key)
            self.finalizer_expectations.delete(key)
            self.backoff_store.remove(key)
            return None
        uid = cached.metadata.uid
        if cached.spec.HasField("managed_by") and cached.spec.managed_by != JOB_CONTROLLER_NAME:
            return None  # another controller's job
        if conditions.is_finished(cached.status):
            self.backoff_store.remove(key)
            self.tracker.forget(uid)
            return None
        if self.tracker.behind(cached):
            return None  # the job's update event brings this controller's own write
        if cached.spec.completion_mode not in ("NonIndexed", "Indexed", ""):
            self.recorder.record(
                cached,
                WARNING,
                "UnknownCompletionMode",
                "Skipped Job sync because completion mode is unknown",
            )
            return None
        # Read before the pods: a pod event arriving in between then shows in the pods.
        in_sync = self.expectations.satisfied(key)
        job = batch_pb2.Job()
        job.CopyFrom(cached)
        job.status.uncounted_terminated_pods.SetInParent()
        pods = await self._claim_pods(job)
        return await self.syncer.sync(self.syncer.new_sync(key, job, pods), in_sync)

    async def _claim_pods(self, job: batch_pb2.Job) -> list[core_pb2.Pod]:
        """The pods the job controls: its own, and matching orphans it adopts (ClaimPods), which
        get the tracking finalizer."""
        meta = job.metadata
        try:
            selector = from_label_selector_message(job.spec.selector)
        except SelectorError as e:
            log.warning("job %s/%s: invalid selector: %s", meta.namespace, meta.name, e)
            return []
        claim = PodClaim(
            self.client.pods,
            job,
            resources.JOB,
            selector,
            lambda: self.client.jobs.get(meta.name, meta.namespace),
            finalizers=(TRACKING_FINALIZER,),
        )
        return await claim.claim(self.pods.by_index(NAMESPACE_INDEX, meta.namespace))
