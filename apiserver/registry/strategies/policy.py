"""PodDisruptionBudgets (kubernetes pkg/registry/policy/poddisruptionbudget): a create starts with
no status, a spec change moves the generation (the store's rule for every kind with a spec), the
disruption controller and the eviction subresource write the status."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies.base import Strategy, clear_status
from apiserver.validation import policy
from podplane.apimachinery import resources

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.POD_DISRUPTION_BUDGET,
        policy.pod_disruption_budget,
        policy.pod_disruption_budget_update,
        prepare_for_create=clear_status,
    ),
)
