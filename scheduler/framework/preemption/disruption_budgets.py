"""What preemption reads of a PodDisruptionBudget (policy/v1): which pods it covers and how many
of them may still be disrupted. Victims whose eviction would take a budget below zero are spared
first, and candidates that break fewer budgets win."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery.selectors import (
    LabelSelector,
    SelectorError,
    from_label_selector_message,
)
from scheduler.framework.types import PodInfo


@dataclass(frozen=True)
class DisruptionBudget:
    namespace: str
    # None (no selector, or one that does not parse) and an empty selector cover no pod, as the
    # scheduler reads a PodDisruptionBudget (an empty one covers every pod for an eviction).
    selector: LabelSelector | None
    # status.disruptionsAllowed.
    disruptions_allowed: int
    # status.disruptedPods: pods already counted as disrupted (evicted, not yet gone).
    disrupted_pods: frozenset[str] = frozenset()

    @classmethod
    def of(cls, pdb: policy_pb2.PodDisruptionBudget) -> DisruptionBudget:
        selector = None
        if pdb.spec.HasField("selector"):
            try:
                selector = from_label_selector_message(pdb.spec.selector)
            except SelectorError:
                pass  # an invalid selector matches no pod
        return cls(
            pdb.metadata.namespace,
            selector,
            pdb.status.disruptions_allowed,
            frozenset(pdb.status.disrupted_pods),
        )

    def covers(self, pod: PodInfo) -> bool:
        return (
            self.namespace == pod.namespace
            and self.selector is not None
            and not self.selector.empty
            and self.selector.matches(pod.labels)
        )


def split_by_violation(
    pods: Sequence[PodInfo], budgets: Sequence[DisruptionBudget]
) -> tuple[list[PodInfo], list[PodInfo]]:
    """The pods whose eviction, in this order after the ones before them, would take one of their
    budgets below zero, and the others; each list keeps the order of `pods` (kubernetes
    filterPodsWithPDBViolation)."""
    allowed = [b.disruptions_allowed for b in budgets]
    violating: list[PodInfo] = []
    non_violating: list[PodInfo] = []
    for pod in pods:
        violated = False
        if pod.labels:  # a pod without labels matches no selector
            for i, budget in enumerate(budgets):
                if not budget.covers(pod):
                    continue
                # Already counted by the budget: evicting it again takes nothing more.
                if pod.pod.metadata.name in budget.disrupted_pods:
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else non_violating).append(pod)
    return violating, non_violating
