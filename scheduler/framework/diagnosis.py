"""Why no node fits a pod, in Kubernetes' words: "0/3 nodes are available: 1 node(s) had untolerated
taint {k: v}, 2 Insufficient cpu." (kubernetes pkg/scheduler/framework/types.go FitError)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from scheduler.framework.status import Status


@dataclass
class Diagnosis:
    # The status of every node that was filtered out, by node name.
    node_to_status: dict[str, Status] = field(default_factory=dict)
    # Set when a PreFilter plugin rejected the pod before any node was looked at.
    pre_filter_message: str = ""
    # The plugins that rejected the pod somewhere, so a queue could wake it only for related events.
    unschedulable_plugins: set[str] = field(default_factory=set)


def fit_error_message(num_all_nodes: int, diagnosis: Diagnosis) -> str:
    """Each reason counted over the nodes that gave it, sorted as strings, as kube-scheduler
    does."""
    message = f"0/{num_all_nodes} nodes are available:"
    if diagnosis.pre_filter_message:
        return f"{message} {diagnosis.pre_filter_message}."
    counts: Counter[str] = Counter()
    for status in diagnosis.node_to_status.values():
        counts.update(status.reasons)
    histogram = sorted(f"{n} {reason}" for reason, n in counts.items())
    if histogram:
        message += f" {', '.join(histogram)}."
    return message
