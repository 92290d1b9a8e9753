"""The highly available profile's handles for its end-to-end tests: bench/high_availability/
cluster.py's (the benchmark of the same cluster uses them), and the waits the tests share."""

from __future__ import annotations

import asyncio

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
