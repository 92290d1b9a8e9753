"""Builders for the DaemonSet controller's unit tests: DaemonSets as the apiserver stores them
(defaulted, template generation 1), nodes, and a stand-in for the scheduler and the kubelets
that binds the daemon pods to the node their affinity names and reports them Running and
Ready."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import daemonset as defaulting
from apiserver.defaulting import daemonset_prepare
from controller.daemon.nodes import target_node
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from tests.unit.controller.fake_api import FakeCluster

NS = "default"
READY_SINCE = "2026-11-21T15:00:00Z"


def daemon_set(
    name: str = "agent",
    image: str = "busybox:1",
    *,
    strategy: dict[str, Any] | None = None,
    template_spec: dict[str, Any] | None = None,
    **spec: Any,
) -> apps_pb2.DaemonSet:
    ds = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [{"name": "main", "image": image}],
                        **(template_spec or {}),
                    },
                },
                **({"updateStrategy": strategy} if strategy else {}),
                **spec,
            },
        },
        apps_pb2.DaemonSet,
    )
    defaulting.daemon_set(ds)
    daemonset_prepare.prepare_for_create(ds)
    return ds


def node(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
) -> core_pb2.Node:
    n = core_pb2.Node()
    n.metadata.name = name
    n.metadata.labels.update({"kubernetes.io/hostname": name, **(labels or {})})
    n.spec.unschedulable = unschedulable
    for t in taints or []:
        n.spec.taints.add(**t)
    n.status.conditions.add(type="Ready", status="True")
    return n


async def with_template(
    cluster: FakeCluster, name: str, image: str, **spec: Any
) -> apps_pb2.DaemonSet:
    """An update of the DaemonSet's image (and spec fields), as the apiserver stores it: the
    generation and the template generation raised."""
    stored = await cluster.daemonsets.get(name, NS)
    new = apps_pb2.DaemonSet()
    new.CopyFrom(stored)
    new.spec.template.spec.containers[0].image = image
    for key, value in spec.items():
        setattr(new.spec, key, value)
    daemonset_prepare.prepare_for_update(new, stored)
    new.metadata.generation = stored.metadata.generation + 1
    return await cluster.daemonsets.update(new)


async def run_pods(cluster: FakeCluster, *, ready: bool = True) -> int:
    """Binds every pending daemon pod to its node and reports it Running (and Ready); returns
    how many it changed."""
    changed = 0
    for pod in list(cluster.pods.store.values()):
        if pod.metadata.deletion_timestamp or pod.status.phase:
            continue
        started = core_pb2.Pod()
        started.CopyFrom(pod)
        started.spec.node_name = target_node(pod) or ""
        started.status.phase = "Running"
        started.status.conditions.add(
            type="Ready", status="True" if ready else "False", last_transition_time=READY_SINCE
        )
        await cluster.pods.update(started)
        changed += 1
    return changed


async def set_phase(cluster: FakeCluster, pod: core_pb2.Pod, phase: str) -> core_pb2.Pod:
    updated = core_pb2.Pod()
    updated.CopyFrom(await cluster.pods.get(pod.metadata.name, NS))
    updated.status.phase = phase
    del updated.status.conditions[:]
    return await cluster.pods.update(updated)


def live_pods(cluster: FakeCluster) -> list[core_pb2.Pod]:
    return [p for p in cluster.pods.store.values() if not p.metadata.deletion_timestamp]


def pods_by_node(cluster: FakeCluster) -> dict[str, list[core_pb2.Pod]]:
    out: dict[str, list[core_pb2.Pod]] = {}
    for p in live_pods(cluster):
        out.setdefault(target_node(p) or "", []).append(p)
    return out
