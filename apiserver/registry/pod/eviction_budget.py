"""What an eviction may do to a pod under its PodDisruptionBudget (kubernetes
pkg/registry/core/pod/storage/eviction.go's decisions, without the storage): whether the budget
applies at all, whether an unhealthy pod may go without spending it, and the budget's status once
this eviction has spent one disruption, or the refusal Kubernetes answers (429 TooManyRequests
with a DisruptionBudget cause)."""

from __future__ import annotations

import grpc

from apiserver import errors
from podplane.api.core.v1 import core_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import disruption, timeutil

# More pods than this in status.disruptedPods: evictions the controller has not seen through yet.
MAX_DISRUPTED_POD_SIZE = 2000
VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget."
MORE_THAN_ONE_BUDGET = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
    "support."
)
# What a client should wait before asking again while the controller catches up.
RETRY_AFTER_SECONDS = 10


def can_ignore_budget(pod: core_pb2.Pod) -> bool:
    """A terminal, pending or terminating pod disrupts nothing more by going: it is deleted
    without looking at budgets (canIgnorePDB)."""
    return pod.status.phase in ("Succeeded", "Failed", "Pending") or bool(
        pod.metadata.deletion_timestamp
    )


def should_enforce_resource_version(pod: core_pb2.Pod) -> bool:
    """Whether the delete must be of the pod as read: not for a terminal or terminating pod,
    which cannot become healthy meanwhile."""
    return (
        pod.status.phase not in disruption.TERMINAL_PHASES and not pod.metadata.deletion_timestamp
    )


def unhealthy_pod_may_go(pod: core_pb2.Pod, pdb: policy_pb2.PodDisruptionBudget) -> bool:
    """Whether a pod that is not ready is deleted without spending a disruption: always under
    AlwaysAllow; under IfHealthyBudget (the default) when the budget is met without it."""
    if disruption.is_pod_ready(pod):
        return False
    spec, status = pdb.spec, pdb.status
    if spec.unhealthy_pod_eviction_policy == disruption.ALWAYS_ALLOW:
        return True
    return status.current_healthy >= status.desired_healthy and status.desired_healthy > 0


def too_many_requests(message: str, retry_after: int) -> errors.APIError:
    """errors.NewTooManyRequests with the DisruptionBudget cause Kubernetes adds."""
    return errors.APIError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TooManyRequests",
        VIOLATES_BUDGET,
        errors.Details(
            causes=(errors.Cause(disruption.DISRUPTION_BUDGET_CAUSE, message),),
            retry_after_seconds=retry_after,
        ),
    )


def still_processing(pdb_name: str) -> errors.APIError:
    """The refusal while the controller has not caught up with the budget (createTooManyRequests
    Error): the client is asked to come back after 10 s."""
    return too_many_requests(
        f"The disruption budget {pdb_name} is still being processed by the server.",
        RETRY_AFTER_SECONDS,
    )


def more_than_one_budget() -> errors.APIError:
    """A Status of code 500 without a reason, as Kubernetes answers it."""
    return errors.APIError(grpc.StatusCode.INTERNAL, "", MORE_THAN_ONE_BUDGET)


def _forbidden(pdb_name: str, reason: str) -> errors.APIError:
    """errors.NewForbidden as the eviction says it: of the resource "poddisruptionbudget"."""
    return errors.APIError(
        grpc.StatusCode.PERMISSION_DENIED,
        "Forbidden",
        f'poddisruptionbudget.policy "{pdb_name}" is forbidden: {reason}',
        errors.Details(name=pdb_name, group="policy", kind="poddisruptionbudget"),
    )


def spend_disruption(
    pdb: policy_pb2.PodDisruptionBudget, pod_name: str, *, dry_run: bool
) -> policy_pb2.PodDisruptionBudget:
    """The budget with one disruption spent on the pod (checkAndDecrement): disruptionsAllowed
    down by one, DisruptionAllowed False once none is left, and the pod recorded in
    disruptedPods (not in a dry run) so that the controller does not count it healthy while it
    goes. Raises the refusal when the budget allows no disruption."""
    status = pdb.status
    name = pdb.metadata.name
    if status.observed_generation < pdb.metadata.generation:
        raise still_processing(name)
    if status.disruptions_allowed < 0:
        raise _forbidden(name, "pdb disruptions allowed is negative")
    if len(status.disrupted_pods) > MAX_DISRUPTED_POD_SIZE:
        raise _forbidden(
            name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        )
    if status.disruptions_allowed == 0:
        raise too_many_requests(
            f"The disruption budget {name} needs {status.desired_healthy} healthy pods and has "
            f"{status.current_healthy} currently",
            0,
        )
    spent = policy_pb2.PodDisruptionBudget()
    spent.CopyFrom(pdb)
    spent.status.disruptions_allowed -= 1
    if spent.status.disruptions_allowed == 0:
        disruption.update_disruption_allowed_condition(spent)
    if not dry_run:
        spent.status.disrupted_pods[pod_name] = timeutil.now()
    return spent
