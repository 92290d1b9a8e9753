"""The cluster events the scheduler tells its queue about, by the names plugins register for
(kubernetes framework.ClusterEvent: a resource and an action), and the queueing hints plugins
register with them (SchedulerQueueingHints, beta in Kubernetes 1.31, on by default from 1.32).
An event brings an unschedulable pod back only if a plugin that rejected it registered for the
event and its hint says the change may make the pod schedulable (or it gave no hint): the steady
stream of pods being bound wakes nothing but the pods whose affinity or spread they concern, and a
node added wakes only the pods it could take."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from podplane.api.core.v1 import core_pb2

# A pod was bound to a node (or is seen bound for the first time).
ASSIGNED_POD_ADD = "AssignedPodAdd"
# A bound pod's labels changed.
ASSIGNED_POD_UPDATE = "AssignedPodUpdate"
# A bound pod was deleted or finished: its resources, ports and place in a domain are free.
ASSIGNED_POD_DELETE = "AssignedPodDelete"
NODE_ADD = "NodeAdd"
# A node's labels, taints, conditions, allocatable or unschedulable flag changed.
NODE_UPDATE = "NodeUpdate"
NODE_DELETE = "NodeDelete"
# The storage objects VolumeBinding reads: a claim bound or annotated, a volume made or
# released, a class added.
PVC_ADD = "PersistentVolumeClaimAdd"
PVC_UPDATE = "PersistentVolumeClaimUpdate"
PV_ADD = "PersistentVolumeAdd"
PV_UPDATE = "PersistentVolumeUpdate"
STORAGE_CLASS_ADD = "StorageClassAdd"
STORAGE_CLASS_UPDATE = "StorageClassUpdate"


def of(kind: str, action: str) -> str:
    """The event of a kind's object being added, updated or deleted ("Add", "Update",
    "Delete"): PersistentVolumeClaimAdd."""
    return f"{kind}{action}"


class QueueingHint(enum.Enum):
    """A plugin's answer about one event for one pod it rejected (framework.QueueingHint)."""

    # The event may make the pod schedulable: retry it (after its back-off).
    QUEUE = "Queue"
    # The event cannot help the pod: it stays among the unschedulable pods.
    SKIP = "QueueSkip"


# fn(pod, old, new): the pod the plugin rejected and the changed object before and after (None
# for an object added, resp. deleted; both None when the event has no object to show, say an
# assumed pod forgotten). It must answer QUEUE whenever it cannot tell: a wrong SKIP leaves the
# pod waiting until the five-minute flush.
QueueingHintFn = Callable[[core_pb2.Pod, object, object], QueueingHint]


@dataclass(frozen=True)
class ClusterEventWithHint:
    """An event a plugin registers for, with its hint (None: every such event may help)."""

    event: str
    hint: QueueingHintFn | None = None


def queue_always(event: str) -> ClusterEventWithHint:
    return ClusterEventWithHint(event)


class PluginHint(NamedTuple):
    """A plugin's hint for one event, as the framework gathers them for the queue."""

    plugin: str
    hint: QueueingHintFn | None


def as_node(obj: object) -> core_pb2.Node | None:
    return obj if isinstance(obj, core_pb2.Node) else None


def as_pod(obj: object) -> core_pb2.Pod | None:
    return obj if isinstance(obj, core_pb2.Pod) else None


def on_nodes(hint: QueueingHintFn, *events: str) -> tuple[ClusterEventWithHint, ...]:
    """The same hint for several node events (Add and Update, say)."""
    return tuple(ClusterEventWithHint(event, hint) for event in events)


def became(fits: Callable[[core_pb2.Node], bool], old: object, new: object) -> QueueingHint:
    """QUEUE when the node now fits (`fits`) and did not before (or was just added): the shape
    of most node hints (a node that already fitted changing cannot help a pod it did not take
    for this plugin's reason). QUEUE too when there is no node to look at."""
    after, before = as_node(new), as_node(old)
    if after is None:
        return QueueingHint.QUEUE
    if not fits(after):
        return QueueingHint.SKIP
    if before is not None and fits(before):
        return QueueingHint.SKIP
    return QueueingHint.QUEUE
