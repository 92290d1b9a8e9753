"""Defaults of Jobs and CronJobs (pkg/apis/batch/v1 defaults.go) and the selector kube-apiserver
generates for a Job (pkg/registry/batch/job)."""

from __future__ import annotations

from apiserver.defaulting.workloads import pod_template
from podplane.api.batch.v1 import batch_pb2

DEFAULT_BACKOFF_LIMIT = 6
# With backoffLimitPerIndex, the job-wide limit is off unless set (math.MaxInt32).
MAX_INT32 = 2**31 - 1
DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT = 3
DEFAULT_FAILED_JOBS_HISTORY_LIMIT = 1

# The labels kube-apiserver gives a Job's pods when it generates the Job's selector.
JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"


def _pod_failure_policy(spec: batch_pb2.JobSpec) -> None:
    """SetDefaults_PodFailurePolicyOnPodConditionsPattern: a pattern's status is True."""
    for rule in spec.pod_failure_policy.rules:
        for pattern in rule.on_pod_conditions:
            pattern.status = pattern.status or "True"


def job(obj: batch_pb2.Job) -> None:
    spec = obj.spec
    # A non-parallel job may leave both unset; parallelism alone defaults to 1.
    if not spec.HasField("completions") and not spec.HasField("parallelism"):
        spec.completions = 1
    if not spec.HasField("parallelism"):
        spec.parallelism = 1
    if not spec.HasField("backoff_limit"):
        per_index = spec.HasField("backoff_limit_per_index")
        spec.backoff_limit = MAX_INT32 if per_index else DEFAULT_BACKOFF_LIMIT
    if spec.template.metadata.labels and not obj.metadata.labels:
        obj.metadata.labels.update(spec.template.metadata.labels)
    spec.completion_mode = spec.completion_mode or "NonIndexed"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if not spec.HasField("pod_replacement_policy"):
        has_policy = spec.HasField("pod_failure_policy")
        spec.pod_replacement_policy = "Failed" if has_policy else "TerminatingOrFailed"
    if not spec.HasField("manual_selector"):
        spec.manual_selector = False
    _pod_failure_policy(spec)
    pod_template(spec)


def cron_job(obj: batch_pb2.CronJob) -> None:
    spec = obj.spec
    spec.concurrency_policy = spec.concurrency_policy or "Allow"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if not spec.HasField("successful_jobs_history_limit"):
        spec.successful_jobs_history_limit = DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT
    if not spec.HasField("failed_jobs_history_limit"):
        spec.failed_jobs_history_limit = DEFAULT_FAILED_JOBS_HISTORY_LIMIT
    # The template's job gets only the defaults of the types inside it (its pod template's, its
    # pod failure policy's), not SetDefaults_Job: the Job made from it gets those when created.
    _pod_failure_policy(spec.job_template.spec)
    pod_template(spec.job_template.spec)


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
