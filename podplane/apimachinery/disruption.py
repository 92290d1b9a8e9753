"""What the eviction subresource and the disruption controller share about PodDisruptionBudgets
(k8s.io/component-helpers/apps/poddisruptionbudget and the policy/v1 constants): which pods a
budget selects, whether a pod is healthy, and the DisruptionAllowed condition."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import selectors, timeutil

# The budget's condition the disruption controller keeps, and its reasons.
DISRUPTION_ALLOWED = "DisruptionAllowed"
SUFFICIENT_PODS = "SufficientPods"
INSUFFICIENT_PODS = "InsufficientPods"
SYNC_FAILED = "SyncFailed"
# spec.unhealthyPodEvictionPolicy: IfHealthyBudget when unset.
IF_HEALTHY_BUDGET = "IfHealthyBudget"
ALWAYS_ALLOW = "AlwaysAllow"
UNHEALTHY_POD_EVICTION_POLICIES = (ALWAYS_ALLOW, IF_HEALTHY_BUDGET)
# The cause type of an eviction refused by a budget (policyv1.DisruptionBudgetCause).
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"
# The pod condition of a pod about to be deleted for a disruption, and the eviction's reason.
DISRUPTION_TARGET = "DisruptionTarget"
EVICTION_BY_EVICTION_API = "EvictionByEvictionAPI"
# A DisruptionTarget the kubelet sets is never stale (v1.PodReasonTerminationByKubelet).
TERMINATION_BY_KUBELET = "TerminationByKubelet"
TERMINAL_PHASES = ("Succeeded", "Failed")


def pod_selector(pdb: policy_pb2.PodDisruptionBudget) -> selectors.LabelSelector | None:
    """The pods the budget selects: None for a null selector (policy/v1: none) or one that cannot
    be evaluated; an empty selector ({}) selects every pod of the namespace."""
    if not pdb.spec.HasField("selector"):
        return None
    try:
        return selectors.from_label_selector_message(pdb.spec.selector)
    except selectors.SelectorError:
        return None


def selects(pdb: policy_pb2.PodDisruptionBudget, pod: core_pb2.Pod) -> bool:
    """Whether the budget covers the pod: same namespace, and its selector matches the labels."""
    if pdb.metadata.namespace != pod.metadata.namespace:
        return False
    selector = pod_selector(pdb)
    return selector is not None and selector.matches(pod.metadata.labels)


def is_pod_ready(pod: core_pb2.Pod) -> bool:
    """Healthy, for a budget: the Ready condition is True (podutil.IsPodReady)."""
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def find_condition(conditions: list[meta_pb2.Condition], type_: str) -> meta_pb2.Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def set_status_condition(
    status: policy_pb2.PodDisruptionBudgetStatus, condition: meta_pb2.Condition
) -> bool:
    """apimeta.SetStatusCondition: adds the condition or updates the one of its type; the
    transition time moves only when the status does. False when nothing changed."""
    existing = find_condition(list(status.conditions), condition.type)
    if existing is None:
        added = status.conditions.add()
        added.CopyFrom(condition)
        added.last_transition_time = condition.last_transition_time or timeutil.now()
        return True
    changed = False
    if existing.status != condition.status:
        existing.status = condition.status
        existing.last_transition_time = condition.last_transition_time or timeutil.now()
        changed = True
    for name in ("reason", "message", "observed_generation"):
        if getattr(existing, name) != getattr(condition, name):
            setattr(existing, name, getattr(condition, name))
            changed = True
    return changed


def update_disruption_allowed_condition(pdb: policy_pb2.PodDisruptionBudget) -> None:
    """DisruptionAllowed as status.disruptionsAllowed says: True (SufficientPods) while it is
    positive, else False (InsufficientPods)."""
    allowed = pdb.status.disruptions_allowed > 0
    set_status_condition(
        pdb.status,
        meta_pb2.Condition(
            type=DISRUPTION_ALLOWED,
            status="True" if allowed else "False",
            reason=SUFFICIENT_PODS if allowed else INSUFFICIENT_PODS,
            observed_generation=pdb.status.observed_generation,
        ),
    )


def conditions_are_up_to_date(pdb: policy_pb2.PodDisruptionBudget) -> bool:
    """Whether DisruptionAllowed says what disruptionsAllowed does, for the current generation."""
    cond = find_condition(list(pdb.status.conditions), DISRUPTION_ALLOWED)
    if cond is None or pdb.status.observed_generation != pdb.metadata.generation:
        return False
    if pdb.status.disruptions_allowed > 0:
        return cond.status == "True" and cond.reason == SUFFICIENT_PODS
    return cond.status == "False" and cond.reason == INSUFFICIENT_PODS
