"""Why no node fits a pod, in Kubernetes' words: "0/3 nodes are available: 1 node(s) had untolerated
taint {k: v}, 2 Insufficient cpu." and, after a PostFilter (preemption) that could not help,
" preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
(kubernetes pkg/scheduler/framework/types.go FitError, NodeToStatus)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from scheduler.framework.status import Code, Status
from scheduler.framework.types import NodeInfo

# The status of a node no filter judged (kubernetes NewDefaultNodeToStatus).
UNRESOLVABLE = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)


@dataclass(frozen=True)
class NodeToStatus:
    """Every node's Filter status: the nodes judged by name; any other has `absent` (the
    PreFilter's rejection when it turned the pod down before any node was looked at)."""

    statuses: Mapping[str, Status]
    absent: Status = UNRESOLVABLE

    def get(self, name: str) -> Status:
        return self.statuses.get(name, self.absent)

    def nodes_with_code(self, nodes: Iterable[NodeInfo], code: Code) -> list[NodeInfo]:
        return [n for n in nodes if self.get(n.name).code is code]


@dataclass
class Diagnosis:
    # The status of every node that was filtered out, by node name.
    node_to_status: dict[str, Status] = field(default_factory=dict)
    # Set when a PreFilter plugin rejected the pod before any node was looked at.
    pre_filter_message: str = ""
    pre_filter_status: Status | None = None
    # The plugins that rejected the pod somewhere, so a queue could wake it only for related events.
    unschedulable_plugins: set[str] = field(default_factory=set)
    # What the PostFilter plugins (preemption) said when they could not make room.
    post_filter_message: str = ""
    # The nodes of the snapshot the attempt ran against.
    num_all_nodes: int = 0

    def node_statuses(self) -> NodeToStatus:
        if self.pre_filter_status is not None:
            return NodeToStatus({}, self.pre_filter_status)
        return NodeToStatus(self.node_to_status)


def reason_counts(statuses: Collection[Status]) -> Counter[str]:
    """How many of `statuses` give each reason. The nodes a filter rules out share a few Status
    objects (a plugin's verdict on a whole zone, say): they are counted by identity, at C speed,
    and each distinct one's reasons added once with its count. Counting each node's reasons
    one by one cost 30 ms a message at 5000 nodes, three messages per unschedulable attempt."""
    values = list(statuses)
    per_status = Counter(map(id, values))
    distinct = dict(zip(map(id, values), values, strict=True))
    counts: Counter[str] = Counter()
    for identity, n in per_status.items():
        for reason in distinct[identity].reasons:
            counts[reason] += n
    return counts


def fit_error_message(num_all_nodes: int, diagnosis: Diagnosis) -> str:
    """Each reason counted over the nodes that gave it, sorted as strings, as kube-scheduler
    does; then the PostFilter's message."""
    message = f"0/{num_all_nodes} nodes are available:"
    if diagnosis.pre_filter_message:
        message += f" {diagnosis.pre_filter_message}."
    else:
        counts = reason_counts(diagnosis.node_to_status.values())
        histogram = sorted(f"{n} {reason}" for reason, n in counts.items())
        if histogram:
            message += f" {', '.join(histogram)}."
    if diagnosis.post_filter_message:
        message += f" {diagnosis.post_filter_message}"
    return message
