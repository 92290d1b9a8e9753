"""What the Job controller reads of its pods and how it makes them (kubernetes
pkg/controller/job: job_controller.go isPodFailed, indexed_job_utils.go): the tracking finalizer
that keeps a finished pod until it is counted, failed and terminating pods as the replacement
policy sees them, completion indexes, and a new pod from the template."""

from __future__ import annotations

from collections.abc import Iterable

from controller.framework import pod_state
from controller.framework.controller_ref import new_controller_ref
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
UNKNOWN_INDEX = -1
# names.MaxGeneratedNameLength: a generated name's prefix is cut to leave room for 5 characters.
MAX_GENERATED_NAME_LENGTH = 63 - 5
MAX_INT32 = 2**31 - 1


def has_tracking_finalizer(pod: core_pb2.Pod) -> bool:
    finalizers = pod.metadata.finalizers
    return bool(finalizers) and TRACKING_FINALIZER in finalizers  # most pods have none


def is_indexed(job: batch_pb2.Job) -> bool:
    return job.spec.completion_mode == "Indexed"


def has_backoff_limit_per_index(job: batch_pb2.Job) -> bool:
    return job.spec.HasField("backoff_limit_per_index")


def only_replace_failed_pods(job: batch_pb2.Job) -> bool:
    """podReplacementPolicy Failed (forced by a pod failure policy): a pod being deleted is
    replaced only once it has terminated."""
    return job.spec.pod_replacement_policy == "Failed" or job.spec.HasField("pod_failure_policy")


def is_pod_failed(pod: core_pb2.Pod, job: batch_pb2.Job) -> bool:
    """Failed, or, unless only failed pods are replaced, deleted before it succeeded (an orphan
    that will never reach a phase)."""
    if pod.status.phase == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return bool(pod.metadata.deletion_timestamp) and pod.status.phase != "Succeeded"


def is_terminating(pod: core_pb2.Pod) -> bool:
    """Being deleted and not finished (controller.FilterTerminatingPods)."""
    return bool(pod.metadata.deletion_timestamp) and pod.status.phase not in (
        "Succeeded",
        "Failed",
    )


def count_ready(pods: Iterable[core_pb2.Pod]) -> int:
    return sum(pod_state.is_ready(p) for p in pods)


def completion_index(pod: core_pb2.Pod) -> int:
    """The pod's batch.kubernetes.io/job-completion-index, or UNKNOWN_INDEX."""
    value = pod.metadata.annotations.get(COMPLETION_INDEX_ANNOTATION)
    if value is None or not value.isascii() or not value.isdigit():
        return UNKNOWN_INDEX
    return int(value)


def valid_index(job: batch_pb2.Job, pod: core_pb2.Pod) -> int | None:
    """The pod's index if it is one of the job's (below completions)."""
    index = completion_index(pod)
    return index if 0 <= index < job.spec.completions else None


def _annotation_count(pod: core_pb2.Pod, key: str) -> int:
    value = pod.metadata.annotations.get(key, "")
    if not value.isascii() or not value.isdigit() or int(value) > MAX_INT32:
        return 0
    return int(value)


def index_failure_count(pod: core_pb2.Pod) -> int:
    return _annotation_count(pod, INDEX_FAILURE_COUNT_ANNOTATION)


def index_ignored_failure_count(pod: core_pb2.Pod) -> int:
    return _annotation_count(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)


def generate_name(job: batch_pb2.Job, index: int | None) -> str:
    """<job>- or, for an index, <job>-<index>-, cut to leave room for the random suffix."""
    if index is None:
        return f"{job.metadata.name}-"
    suffix = f"-{index}-"
    prefix = job.metadata.name + suffix
    if len(prefix) > MAX_GENERATED_NAME_LENGTH:
        prefix = prefix[: MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix


def _add_index_env(container: core_pb2.Container) -> None:
    if any(e.name == COMPLETION_INDEX_ENV for e in container.env):
        return
    env = container.env.add(name=COMPLETION_INDEX_ENV)
    env.value_from.field_ref.field_path = f"metadata.labels['{COMPLETION_INDEX_ANNOTATION}']"


def new_pod(
    job: batch_pb2.Job, index: int | None = None, failure_counts: tuple[int, int] | None = None
) -> core_pb2.Pod:
    """A pod from the job's template, controlled by the job, with the tracking finalizer; for an
    Indexed job, its index as annotation, label, hostname <job>-<index> and JOB_COMPLETION_INDEX;
    with backoffLimitPerIndex, the index's failure counts so far."""
    template = job.spec.template
    pod = core_pb2.Pod()
    meta = pod.metadata
    meta.generate_name = generate_name(job, index)
    meta.namespace = job.metadata.namespace
    meta.labels.update(template.metadata.labels)
    meta.annotations.update(template.metadata.annotations)
    meta.finalizers.extend(template.metadata.finalizers)
    if TRACKING_FINALIZER not in meta.finalizers:
        meta.finalizers.append(TRACKING_FINALIZER)
    meta.owner_references.append(new_controller_ref(job, resources.JOB))
    pod.spec.CopyFrom(template.spec)
    if index is not None:
        meta.annotations[COMPLETION_INDEX_ANNOTATION] = str(index)
        meta.labels[COMPLETION_INDEX_ANNOTATION] = str(index)
        pod.spec.hostname = f"{job.metadata.name}-{index}"
        for container in (*pod.spec.init_containers, *pod.spec.containers):
            _add_index_env(container)
        if failure_counts is not None:
            failed, ignored = failure_counts
            meta.annotations[INDEX_FAILURE_COUNT_ANNOTATION] = str(failed)
            if ignored:
                meta.annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)
    return pod
