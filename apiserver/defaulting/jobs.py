"""A Job's defaults (pkg/apis/batch/v1 defaults.go) and the selector kube-apiserver generates for
it (pkg/registry/batch/job)."""

from __future__ import annotations

from apiserver.defaulting.workloads import pod_template
from podplane.api.batch.v1 import batch_pb2

DEFAULT_BACKOFF_LIMIT = 6

# The labels kube-apiserver gives a Job's pods when it generates the Job's selector.
JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"


def job(obj: batch_pb2.Job) -> None:
    spec = obj.spec
    # A non-parallel job may leave both unset; parallelism alone defaults to 1.
    if not spec.HasField("completions") and not spec.HasField("parallelism"):
        spec.completions = 1
    if not spec.HasField("parallelism"):
        spec.parallelism = 1
    if not spec.HasField("backoff_limit"):
        spec.backoff_limit = DEFAULT_BACKOFF_LIMIT
    spec.completion_mode = spec.completion_mode or "NonIndexed"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if spec.template.metadata.labels and not obj.metadata.labels:
        obj.metadata.labels.update(spec.template.metadata.labels)
    pod_template(spec)


def generate_job_selector(obj: batch_pb2.Job) -> None:
    """A Job without manualSelector selects its own pods by its uid: the template gets the uid and
    name labels and the selector matches the uid (kubernetes pkg/registry/batch/job
    generateSelector; metadata.uid must be set). Labels the user set are kept, so a conflict fails
    validation."""
    if obj.spec.HasField("manual_selector") and obj.spec.manual_selector:
        return
    labels = obj.spec.template.metadata.labels
    for key, value in (
        (LEGACY_JOB_NAME_LABEL, obj.metadata.name),
        (JOB_NAME_LABEL, obj.metadata.name),
        (LEGACY_JOB_CONTROLLER_UID_LABEL, obj.metadata.uid),
        (JOB_CONTROLLER_UID_LABEL, obj.metadata.uid),
    ):
        labels.setdefault(key, value)
    match_labels = obj.spec.selector.match_labels
    match_labels.setdefault(JOB_CONTROLLER_UID_LABEL, obj.metadata.uid)
    # A Job's labels default to its template's (they are empty only if the template had none).
    if not obj.metadata.labels:
        obj.metadata.labels.update(labels)
