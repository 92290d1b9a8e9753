"""A Job's conditions (kubernetes pkg/controller/job: newCondition, ensureJobConditionStatus).
As Kubernetes 1.31 does (JobPodReplacementPolicy on), a job is first marked FailureTarget or
SuccessCriteriaMet, and gets Failed or Complete only once its pods have all terminated."""

from __future__ import annotations

from podplane.api.batch.v1 import batch_pb2

COMPLETE, FAILED, SUSPENDED = "Complete", "Failed", "Suspended"
FAILURE_TARGET, SUCCESS_CRITERIA_MET = "FailureTarget", "SuccessCriteriaMet"

BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
MAX_FAILED_INDEXES_EXCEEDED = (
    "MaxFailedIndexesExceeded",
    "Job has exceeded the specified maximal number of failed indexes",
)
FAILED_INDEXES = ("FailedIndexes", "Job has failed indexes")
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
POD_FAILURE_POLICY = "PodFailurePolicy"
SUCCESS_POLICY = "SuccessPolicy"


def new(
    type_: str, reason: str, message: str, now: str, status: str = "True"
) -> batch_pb2.JobCondition:
    return batch_pb2.JobCondition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_probe_time=now,
        last_transition_time=now,
    )


def find(status: batch_pb2.JobStatus, type_: str) -> batch_pb2.JobCondition | None:
    return next((c for c in status.conditions if c.type == type_), None)


def is_true(status: batch_pb2.JobStatus, type_: str) -> bool:
    c = find(status, type_)
    return c is not None and c.status == "True"


def is_finished(status: batch_pb2.JobStatus) -> bool:
    """A job is finished once it has a true Complete or Failed condition; nothing changes after."""
    return is_true(status, COMPLETE) or is_true(status, FAILED)


def ensure(
    status: batch_pb2.JobStatus, type_: str, state: str, reason: str, message: str, now: str
) -> bool:
    """Sets the condition (both times now) unless it already says so; a False condition is not
    added where there is none. Whether the conditions changed."""
    current = find(status, type_)
    if current is not None:
        if (current.status, current.reason, current.message) == (state, reason, message):
            return False
        current.CopyFrom(new(type_, reason, message, now, state))
        return True
    if state == "False":
        return False
    status.conditions.append(new(type_, reason, message, now, state))
    return True


def followed_by(interim: batch_pb2.JobCondition, now: str) -> batch_pb2.JobCondition:
    """The terminal condition an interim one leads to: Failed after FailureTarget, Complete
    after SuccessCriteriaMet, with its reason and message."""
    type_ = FAILED if interim.type == FAILURE_TARGET else COMPLETE
    return new(type_, interim.reason, interim.message, now)
