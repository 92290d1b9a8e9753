"""When a pod on a node with NoExecute taints must go (kubernetes pkg/controller/tainteviction).

A pod that does not tolerate every NoExecute taint of its node goes at once. One that does stays
for the shortest tolerationSeconds among the tolerations it uses (a toleration without
tolerationSeconds tolerates for ever; zero or less means at once), counted from when the pod
became subject to the taints: the earliest taint's timeAdded, or the pod's binding if that came
later. Counting from the taints' timeAdded rather than from when this process saw them keeps the
count going across a controller-manager restart or a change of leader."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.tolerations import tolerates

NO_EXECUTE = "NoExecute"
# When a taint without timeAdded (one a person set) was first seen.
TaintSeen = Callable[[core_pb2.Taint], datetime]


def no_execute_taints(node: core_pb2.Node) -> list[core_pb2.Taint]:
    return [t for t in node.spec.taints if t.effect == NO_EXECUTE]


def toleration_seconds(
    taints: Sequence[core_pb2.Taint], tolerations: Iterable[core_pb2.Toleration]
) -> float | None:
    """How long a pod with these tolerations may stay under these NoExecute taints: 0 for at once,
    None for ever (for no taints, too)."""
    if not taints:
        return None
    tolerations = list(tolerations)
    used = []
    for taint in taints:
        match = next(
            (t for t in tolerations if tolerates(t, taint.key, taint.value, taint.effect)), None
        )
        if match is None:
            return 0.0
        used.append(match)
    bounded = [t.toleration_seconds for t in used if t.HasField("toleration_seconds")]
    if not bounded:
        return None
    return float(max(min(bounded), 0))


def bound_at(pod: core_pb2.Pod) -> datetime | None:
    """When the pod was bound to its node: its PodScheduled=True transition, else its creation."""
    for c in pod.status.conditions:
        if c.type == "PodScheduled" and c.status == "True":
            t = timeutil.parse(c.last_transition_time)
            if t is not None:
                return t
    return timeutil.parse(pod.metadata.creation_timestamp)


def eviction_time(
    pod: core_pb2.Pod, taints: Sequence[core_pb2.Taint], seen: TaintSeen
) -> datetime | None:
    """When the pod must be deleted because of its node's NoExecute `taints`; None: never."""
    seconds = toleration_seconds(taints, pod.spec.tolerations)
    if seconds is None:
        return None
    since = min(timeutil.parse(t.time_added) or seen(t) for t in taints)
    bound = bound_at(pod)
    if bound is not None and bound > since:
        since = bound
    return since + timedelta(seconds=seconds)
