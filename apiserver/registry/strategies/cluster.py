"""The kinds of the smaller groups: coordination.k8s.io (Lease), policy (PodDisruptionBudget),
scheduling.k8s.io (PriorityClass) and node.k8s.io (RuntimeClass) (kubernetes
pkg/registry/coordination, policy, scheduling, node)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies.base import Strategy, clear_status, update_as_create
from apiserver.validation import others
from apiserver.validation.metadata_only import metadata_rules
from podplane.apimachinery import resources

_namespaced = metadata_rules(namespaced=True)
_cluster_scoped = metadata_rules(namespaced=False)

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(resources.LEASE, others.lease, update_as_create(others.lease)),
    Strategy(
        resources.POD_DISRUPTION_BUDGET,
        _namespaced,
        update_as_create(_namespaced),
        prepare_for_create=clear_status,
    ),
    Strategy(resources.PRIORITY_CLASS, _cluster_scoped, update_as_create(_cluster_scoped)),
    Strategy(resources.RUNTIME_CLASS, _cluster_scoped, update_as_create(_cluster_scoped)),
)
