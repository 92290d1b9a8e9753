"""Why no node fits a pod, in Kubernetes' words: "0/3 nodes are available: 1 node(s) had untolerated
taint {k: v}, 2 Insufficient cpu." and, after a PostFilter (preemption) that could not help,
" preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
(kubernetes pkg/scheduler/framework/types.go FitError, NodeToStatus)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from scheduler.framework.node_table import Ints, NodeTable
from scheduler.framework.status import Code, Status

# The status of a node no filter judged (kubernetes NewDefaultNodeToStatus).
UNRESOLVABLE = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)


@dataclass(frozen=True)
class BulkRejections:
    """The nodes the bulk filters rejected in an attempt (runtime.TableFilter), by row of `table`:
    row rows[i] with statuses[codes[i]]. Kept as rows: a pod no node takes is rejected on every
    node, 5000 of them, and its message and preemption's search need only the rows and counts;
    names are looked up when asked for, and a pod that is scheduled never asks."""

    table: NodeTable
    rows: Ints
    codes: Ints
    statuses: list[Status]

    def __len__(self) -> int:
        return len(self.rows)

    def counts(self) -> list[tuple[Status, int]]:
        """Each status given, with how many rows have it."""
        per_code = np.bincount(self.codes, minlength=len(self.statuses)).tolist()
        return [(s, n) for s, n in zip(self.statuses, per_code, strict=True) if n]

    def plugins(self) -> set[str]:
        return {s.plugin for s, _ in self.counts()}

    def get(self, name: str) -> Status | None:
        row = self.table.row_of(name)
        if row is None:
            return None
        code = int(self._code_by_row[row])
        return self.statuses[code] if code >= 0 else None

    def items(self) -> Iterator[tuple[str, Status]]:
        return zip(
            map(self.table.names.__getitem__, self.rows.tolist()),
            map(self.statuses.__getitem__, self.codes.tolist()),
            strict=True,
        )

    @functools.cached_property
    def _code_by_row(self) -> Ints:
        by_row = np.full(len(self.table), -1, np.int64)
        by_row[self.rows] = self.codes
        return by_row


@dataclass(frozen=True)
class NodeToStatus:
    """Every node's Filter status: the nodes judged one by one by name, those judged in bulk by
    row; any other has `absent` (the PreFilter's rejection when it turned the pod down before any
    node was looked at)."""

    statuses: Mapping[str, Status]
    absent: Status = UNRESOLVABLE
    bulk: BulkRejections | None = None

    def get(self, name: str) -> Status:
        status = self.statuses.get(name)
        if status is None and self.bulk is not None:
            status = self.bulk.get(name)
        return status if status is not None else self.absent


@dataclass
class Diagnosis:
    # The status of every node a filter ruled out one by one, by node name.
    node_to_status: dict[str, Status] = field(default_factory=dict)
    # The nodes the filters that judge in bulk ruled out (none of them in node_to_status).
    bulk: BulkRejections | None = None
    # Statuses of nodes not named, with how many nodes have each (preemption's "not helpful").
    unnamed: list[tuple[Status, int]] = field(default_factory=list)
    # The status of every node not judged, when PreFilter allowed only some (kubernetes
    # NodeToStatus.SetAbsentNodesStatus).
    absent: Status | None = None
    # Set when a PreFilter plugin rejected the pod before any node was looked at.
    pre_filter_message: str = ""
    pre_filter_status: Status | None = None
    # The plugins that rejected the pod one by one or before any node (with bulk's, in
    # unschedulable_plugins).
    rejecting_plugins: set[str] = field(default_factory=set)
    # What the PostFilter plugins (preemption) said when they could not make room.
    post_filter_message: str = ""
    # The nodes of the snapshot the attempt ran against.
    num_all_nodes: int = 0

    @property
    def unschedulable_plugins(self) -> set[str]:
        """The plugins that rejected the pod somewhere, so the queue wakes it only for the events
        that concern them."""
        if self.bulk is None:
            return set(self.rejecting_plugins)
        return self.rejecting_plugins | self.bulk.plugins()

    def reject(self, node_name: str, status: Status) -> None:
        """A filter ruled the node out, judged one by one: its status, and the plugin that said
        so among the rejecting ones."""
        self.node_to_status[node_name] = status
        self.rejecting_plugins.add(status.plugin)

    def num_rejected(self) -> int:
        return len(self.node_to_status) + (len(self.bulk) if self.bulk is not None else 0)

    def node_statuses(self) -> NodeToStatus:
        if self.pre_filter_status is not None:
            return NodeToStatus({}, self.pre_filter_status)
        absent = self.absent if self.absent is not None else UNRESOLVABLE
        return NodeToStatus(self.node_to_status, absent, self.bulk)

    def status_counts(self) -> list[tuple[Status, int]]:
        """Each status given to a node, with how many nodes have it."""
        counts = _by_identity(self.node_to_status.values())
        if self.bulk is not None:
            counts += self.bulk.counts()
        return counts + self.unnamed


def _by_identity(statuses: Collection[Status]) -> list[tuple[Status, int]]:
    """`statuses` counted by identity, at C speed: the nodes a filter rules out share a few Status
    objects (a plugin's verdict on a whole zone, say)."""
    values = list(statuses)
    per_status = Counter(map(id, values))
    distinct = dict(zip(map(id, values), values, strict=True))
    return [(distinct[identity], n) for identity, n in per_status.items()]


def reason_counts(counted: list[tuple[Status, int]]) -> Counter[str]:
    """How many nodes give each reason, from each status's count."""
    counts: Counter[str] = Counter()
    for status, n in counted:
        for reason in status.reasons:
            counts[reason] += n
    return counts


def fit_error_message(num_all_nodes: int, diagnosis: Diagnosis) -> str:
    """Each reason counted over the nodes that gave it (those not judged, if PreFilter allowed
    only some, with the absent status), sorted as strings, as kube-scheduler does; then the
    PostFilter's message."""
    message = f"0/{num_all_nodes} nodes are available:"
    if diagnosis.pre_filter_message:
        message += f" {diagnosis.pre_filter_message}."
    else:
        counted = diagnosis.status_counts()
        not_judged = num_all_nodes - diagnosis.num_rejected()
        if diagnosis.absent is not None and not_judged > 0:
            counted.append((diagnosis.absent, not_judged))
        counts = reason_counts(counted)
        histogram = sorted(f"{n} {reason}" for reason, n in counts.items())
        if histogram:
            message += f" {', '.join(histogram)}."
    if diagnosis.post_filter_message:
        message += f" {diagnosis.post_filter_message}"
    return message
