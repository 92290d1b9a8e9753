"""Builders for the pods and nodes the scheduler's unit tests feed it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.selectors import from_label_selector_message
from scheduler.framework.preemption.disruption_budgets import DisruptionBudget
from scheduler.framework.types import NodeInfo

_uids = itertools.count(1)


def container(
    name: str = "c",
    *,
    requests: Mapping[str, str] | None = None,
    limits: Mapping[str, str] | None = None,
) -> core_pb2.Container:
    return core_pb2.Container(
        name=name,
        image="busybox",
        resources=core_pb2.ResourceRequirements(
            requests=dict(requests or {}), limits=dict(limits or {})
        ),
    )


def _toleration(t: Mapping[str, str]) -> core_pb2.Toleration:
    return core_pb2.Toleration(
        key=t.get("key", ""),
        operator=t.get("operator", ""),
        value=t.get("value", ""),
        effect=t.get("effect", ""),
    )


def pod(
    name: str = "p",
    *,
    cpu: str = "",
    memory: str = "",
    namespace: str = "default",
    containers: Sequence[core_pb2.Container] = (),
    init_containers: Sequence[core_pb2.Container] = (),
    node_name: str = "",
    node_selector: Mapping[str, str] | None = None,
    tolerations: Sequence[Mapping[str, str]] = (),
    affinity: core_pb2.Affinity | None = None,
    priority: int | None = None,
    phase: str = "Pending",
    scheduler_name: str = "default-scheduler",
    uid: str = "",
    labels: Mapping[str, str] | None = None,
    start_time: str = "",
    preemption_policy: str | None = None,
    nominated_node_name: str = "",
    deletion_timestamp: str = "",
) -> core_pb2.Pod:
    """A pod with one container requesting `cpu` and `memory` unless `containers` are given;
    `start_time` (RFC 3339) is when it started running."""
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    p = core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(
            name=name, namespace=namespace, uid=uid or f"uid-{next(_uids)}", resource_version="1"
        ),
        spec=core_pb2.PodSpec(
            containers=list(containers) or [container(requests=requests)],
            init_containers=list(init_containers),
            node_name=node_name,
            node_selector=dict(node_selector or {}),
            scheduler_name=scheduler_name,
            tolerations=[_toleration(t) for t in tolerations],
        ),
        status=core_pb2.PodStatus(
            phase=phase, start_time=start_time, nominated_node_name=nominated_node_name
        ),
    )
    p.metadata.labels.update(labels or {})
    p.metadata.deletion_timestamp = deletion_timestamp
    if preemption_policy is not None:
        p.spec.preemption_policy = preemption_policy
    if affinity is not None:
        p.spec.affinity.CopyFrom(affinity)
    if priority is not None:
        p.spec.priority = priority
    return p


def node(
    name: str = "node-1",
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Mapping[str, str]] = (),
    unschedulable: bool = False,
    ready: str | None = "True",
    allocatable: Mapping[str, str] | None = None,
) -> core_pb2.Node:
    values = (
        dict(allocatable)
        if allocatable is not None
        else {"cpu": cpu, "memory": memory, "pods": pods}
    )
    n = core_pb2.Node(
        api_version="v1",
        kind="Node",
        metadata=meta_pb2.ObjectMeta(
            name=name,
            uid=f"uid-{name}",
            resource_version="1",
            labels={"kubernetes.io/hostname": name, **(labels or {})},
        ),
        spec=core_pb2.NodeSpec(
            unschedulable=unschedulable, taints=[core_pb2.Taint(**t) for t in taints]
        ),
        status=core_pb2.NodeStatus(capacity=values, allocatable=values),
    )
    if ready is not None:
        n.status.conditions.add(type="Ready", status=ready)
    return n


def node_info(n: core_pb2.Node, *pods: core_pb2.Pod) -> NodeInfo:
    """`n` with `pods` counted on it (their spec.nodeName is set to it)."""
    placed = []
    for p in pods:
        copy = core_pb2.Pod()
        copy.CopyFrom(p)
        copy.spec.node_name = n.metadata.name
        placed.append(copy)
    return NodeInfo.for_node(n, *placed)


def node_affinity(
    *terms: Sequence[Mapping[str, Any]],
    fields: Sequence[Mapping[str, Any]] = (),
    preferred: Sequence[tuple[int, Sequence[Mapping[str, Any]]]] = (),
) -> core_pb2.Affinity:
    """An Affinity with required terms (each a list of matchExpressions; `fields` adds one
    matchFields term) and preferred terms as (weight, matchExpressions)."""

    def req(r: Mapping[str, Any]) -> core_pb2.NodeSelectorRequirement:
        return core_pb2.NodeSelectorRequirement(
            key=r["key"], operator=r["operator"], values=list(r.get("values", ()))
        )

    a = core_pb2.Affinity()
    na = a.node_affinity
    if terms or fields:
        required = na.required_during_scheduling_ignored_during_execution
        for t in terms:
            required.node_selector_terms.add(match_expressions=[req(r) for r in t])
        if fields:
            required.node_selector_terms.add(match_fields=[req(r) for r in fields])
    for weight, exprs in preferred:
        na.preferred_during_scheduling_ignored_during_execution.add(
            weight=weight,
            preference=core_pb2.NodeSelectorTerm(match_expressions=[req(r) for r in exprs]),
        )
    return a


def budget(
    namespace: str = "default",
    *,
    match_labels: Mapping[str, str] | None = None,
    allowed: int = 0,
    disrupted: Sequence[str] = (),
) -> DisruptionBudget:
    """What preemption reads of a PodDisruptionBudget: its namespace, a matchLabels selector
    (None: no selector), status.disruptionsAllowed and status.disruptedPods."""
    selector = (
        from_label_selector_message(meta_pb2.LabelSelector(match_labels=dict(match_labels)))
        if match_labels is not None
        else None
    )
    return DisruptionBudget(namespace, selector, allowed, frozenset(disrupted))
