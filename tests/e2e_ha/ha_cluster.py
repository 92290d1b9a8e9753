"""The highly available profile's handles for its end-to-end tests: bench/high_availability/
cluster.py's (the benchmark of the same cluster uses them), and the waits the tests share."""

from __future__ import annotations

import asyncio
import json

from bench.high_availability.cluster import (
    ADMIN,
    COMPONENTS,
    KUBECONFIG,
    MANIFESTS,
    MEMBERS,
    ROOT,
    SERVER,
    caught_up,
    compose,
    container_of,
    control_plane_pods,
    endpoint_status,
    etcd_leader,
    etcdctl,
    kubectl,
    machine,
    runtime,
    whole,
)
from tests.support import eventually

__all__ = [
    "ADMIN",
    "COMPONENTS",
    "KUBECONFIG",
    "MANIFESTS",
    "MEMBERS",
    "ROOT",
    "SERVER",
    "compose",
    "container_of",
    "control_plane_pods",
    "endpoint_status",
    "etcd_caught_up",
    "etcd_leader",
    "etcdctl",
    "kubectl",
    "machine",
    "pod_on",
    "ready_nodes",
    "runtime",
    "wait_pod_ready",
    "wait_whole",
    "whole",
]


async def wait_whole(timeout: float = 240) -> None:
    async def check() -> bool:
        return await asyncio.to_thread(whole)

    await eventually(check, timeout, interval=2, what="the twelve control-plane pods ready")


async def etcd_caught_up(member: str, timeout: float = 120) -> None:
    async def check() -> bool:
        return await asyncio.to_thread(caught_up, member)

    await eventually(check, timeout, interval=2, what=f"{member}'s etcd member to catch up")


def ready_nodes(selector: str = "") -> set[str]:
    """The Ready nodes' names (those the label selector selects)."""
    nodes = json.loads(
        kubectl("get", "nodes", *(["-l", selector] if selector else []), "-o", "json").stdout
    )["items"]
    return {
        n["metadata"]["name"]
        for n in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
    }


def pod_on(namespace: str, name: str, node: str, script: str, labels: str = "") -> None:
    """A busybox pod running `script` on `node` (nodeName: the scheduler is not asked), once
    it is Ready."""
    kubectl(
        "run",
        name,
        "-n",
        namespace,
        "--image=busybox",
        "--image-pull-policy=IfNotPresent",
        "--restart=Never",
        *([f"--labels={labels}"] if labels else []),
        f"--overrides={json.dumps({'spec': {'nodeName': node}})}",
        "--",
        "sh",
        "-c",
        script,
    )
    wait_pod_ready(namespace, name)


def wait_pod_ready(namespace: str, pod: str) -> None:
    kubectl(
        "wait", "-n", namespace, "--for=condition=Ready", f"pod/{pod}", "--timeout=90s", timeout=120
    )
