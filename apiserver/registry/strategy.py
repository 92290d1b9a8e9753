"""Every served kind's strategy, by plural: a table of every kind, so of no one message type
(each API group's are in apiserver/registry/strategies/)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies import (
    admissionregistration,
    apiextensions,
    apiregistration,
    apps,
    autoscaling,
    batch,
    certificates,
    coordination,
    core,
    flowcontrol,
    networking,
    networking_k8s_io,
    node,
    policy,
    rbac,
    scheduling,
    storage,
)
from apiserver.registry.strategies.base import Strategy

__all__ = ["STRATEGIES", "Strategy"]

STRATEGIES: dict[str, Strategy[Any]] = {
    s.resource.plural: s
    for group in (
        core,
        storage,
        networking,
        networking_k8s_io,
        flowcontrol,
        coordination,
        apps,
        autoscaling,
        batch,
        rbac,
        policy,
        scheduling,
        node,
        apiextensions,
        certificates,
        apiregistration,
        admissionregistration,
    )
    for s in group.STRATEGIES
}
