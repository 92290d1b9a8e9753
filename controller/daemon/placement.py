"""Where a DaemonSet's pods are and what each node needs (kubernetes pkg/controller/daemon
getNodesToDaemonPods, podsShouldBeOnNode, getUnscheduledPodsWithoutNode): a pod missing on a
node that should run one, the failed or finished ones replaced (a failed one only once its
node's back-off allows), the extra ones removed (with maxSurge, an old and a new pod may share a
node until the new one is available), and every pod of a node that should not run one."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controller.daemon.backoff import FailedPodBackoff
from controller.daemon.nodes import target_node
from controller.framework import pod_state
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.client.events import NORMAL, WARNING

# The label telling a daemon pod's revision (apps.DefaultDaemonSetUniqueLabelKey).
REVISION_HASH_LABEL = "controller-revision-hash"
# The template generation a pod was made from (extensions.DaemonSetTemplateGenerationKey).
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
ROLLING_UPDATE = "RollingUpdate"
FAILED_DAEMON_POD = "FailedDaemonPod"
SUCCEEDED_DAEMON_POD = "SucceededDaemonPod"


TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


def template_generation(ds: apps_pb2.DaemonSet) -> int | None:
    """GetTemplateGeneration: the annotation's number; None when absent or not a number."""
    value = ds.metadata.annotations.get(TEMPLATE_GENERATION_ANNOTATION, "")
    try:
        return int(value, 10) if value.strip() == value else None
    except ValueError:
        return None


def scaled(value: str, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent, rounding up: a number, or a percentage of total."""
    if value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value) if value else 0


def surge_count(ds: apps_pb2.DaemonSet, desired: int) -> int:
    """SurgeCount: how many nodes may run an old and a new pod at once (0 without surge)."""
    strategy = ds.spec.update_strategy
    if strategy.type != ROLLING_UPDATE or not strategy.rolling_update.HasField("max_surge"):
        return 0
    return scaled(strategy.rolling_update.max_surge, desired)


def unavailable_count(ds: apps_pb2.DaemonSet, desired: int) -> int:
    """UnavailableCount: how many nodes may be without an available pod during an update."""
    strategy = ds.spec.update_strategy
    if strategy.type != ROLLING_UPDATE or not strategy.HasField("rolling_update"):
        return 0
    return scaled(strategy.rolling_update.max_unavailable, desired)


def allows_surge(ds: apps_pb2.DaemonSet) -> bool:
    return surge_count(ds, 1) > 0


def is_updated(pod: core_pb2.Pod, hash_: str) -> bool:
    """IsPodUpdated: the pod carries the current revision's hash. (Kubernetes also compares the
    pod-template-generation label, but against a pointer's printout, which never matches.)"""
    return bool(hash_) and pod.metadata.labels.get(REVISION_HASH_LABEL) == hash_


def by_creation_and_phase(pods: Iterable[core_pb2.Pod]) -> list[core_pb2.Pod]:
    """podByCreationTimestampAndPhase: scheduled pods first, then oldest, then by name."""
    return sorted(
        pods,
        key=lambda p: (not p.spec.node_name, p.metadata.creation_timestamp, p.metadata.name),
    )


def pods_by_node(
    pods: Iterable[core_pb2.Pod], *, include_deleted_terminal: bool = False
) -> dict[str, list[core_pb2.Pod]]:
    """The pods by the node they are on or, pending, meant for. A finished pod being deleted is
    left out (the kubelet or the pod GC finishes it) unless asked for."""
    out: dict[str, list[core_pb2.Pod]] = {}
    for pod in pods:
        finished = pod.status.phase in pod_state.TERMINAL_PHASES
        if finished and pod.metadata.deletion_timestamp and not include_deleted_terminal:
            continue
        node = target_node(pod)
        if node is not None:
            out.setdefault(node, []).append(pod)
    return out


@dataclass
class NodePlan:
    """What one node needs: a new pod, pods deleted (with the events that say why), and when to
    look again at a failed pod kept by its back-off."""

    create: bool = False
    delete: list[core_pb2.Pod] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    retry_in: float | None = None


def failed_pod_backoff_key(ds: apps_pb2.DaemonSet, node: str) -> str:
    return f"{ds.metadata.uid}/{ds.status.observed_generation}/{node}"


def plan_node(
    ds: apps_pb2.DaemonSet,
    node: str,
    run: tuple[bool, bool],
    pods: Sequence[core_pb2.Pod],
    hash_: str,
    backoff: FailedPodBackoff,
    now: datetime,
) -> NodePlan:
    """podsShouldBeOnNode, for the node's pods and NodeShouldRunDaemonPod's `run` answer."""
    should_run, should_continue = run
    plan = NodePlan()
    if should_run and not pods:
        plan.create = True
    elif should_continue:
        running = _prune_finished(ds, node, pods, backoff, plan)
        _prune_excess(ds, running, should_run, hash_, now, plan)
    elif pods:
        plan.delete += [p for p in pods if not p.metadata.deletion_timestamp]
    return plan


def _prune_finished(
    ds: apps_pb2.DaemonSet,
    node: str,
    pods: Sequence[core_pb2.Pod],
    backoff: FailedPodBackoff,
    plan: NodePlan,
) -> list[core_pb2.Pod]:
    """Marks the failed and succeeded pods for deletion; the others, still running."""
    running: list[core_pb2.Pod] = []
    for pod in pods:
        meta = pod.metadata
        if meta.deletion_timestamp:
            continue
        where = f"{meta.namespace}/{meta.name} on node {node}"
        if pod.status.phase == "Failed":
            # The controller would otherwise fight a kubelet that keeps rejecting the pod.
            key = failed_pod_backoff_key(ds, node)
            left = backoff.remaining(key)
            if left is not None:
                plan.retry_in = left if plan.retry_in is None else min(plan.retry_in, left)
                continue
            backoff.next(key)
            message = f"Found failed daemon pod {where}, will try to kill it"
            plan.events.append((WARNING, FAILED_DAEMON_POD, message))
            plan.delete.append(pod)
        elif pod.status.phase == "Succeeded":
            message = f"Found succeeded daemon pod {where}, will try to delete it"
            plan.events.append((NORMAL, SUCCEEDED_DAEMON_POD, message))
            plan.delete.append(pod)
        else:
            running.append(pod)
    return running


def _prune_excess(
    ds: apps_pb2.DaemonSet,
    running: list[core_pb2.Pod],
    should_run: bool,
    hash_: str,
    now: datetime,
    plan: NodePlan,
) -> None:
    """One pod per node, the oldest; with surge, an old pod stays beside the oldest new one while
    the old one is ready and the new one not yet available."""
    ordered = by_creation_and_phase(running)
    if not allows_surge(ds):
        plan.delete += ordered[1:]
        return
    if not ordered:
        plan.create = should_run  # surging needs at least one pod that is not being deleted
        return
    if len(ordered) == 1:
        return
    oldest_new: core_pb2.Pod | None = None
    oldest_old: core_pb2.Pod | None = None
    for pod in ordered:
        if is_updated(pod, hash_):
            if oldest_new is None:
                oldest_new = pod
                continue
        elif oldest_old is None:
            oldest_old = pod
            continue
        plan.delete.append(pod)
    if oldest_new is not None and oldest_old is not None:
        if not pod_state.is_ready(oldest_old) or pod_state.is_available(
            oldest_new, ds.spec.min_ready_seconds, now
        ):
            plan.delete.append(oldest_old)


def unscheduled_without_node(
    node_names: set[str], node_pods: dict[str, list[core_pb2.Pod]]
) -> list[core_pb2.Pod]:
    """getUnscheduledPodsWithoutNode: pending pods meant for a node that no longer exists (the
    pod GC only removes pods bound to one)."""
    return [
        pod
        for node, pods in node_pods.items()
        if node not in node_names
        for pod in pods
        if not pod.spec.node_name
    ]
