"""PodDisruptionBudgets (kubernetes pkg/registry/policy/poddisruptionbudget)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies.base import Strategy, clear_status, update_as_create
from apiserver.validation.metadata_only import metadata_rules
from podplane.apimachinery import resources

_namespaced = metadata_rules(namespaced=True)

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.POD_DISRUPTION_BUDGET,
        _namespaced,
        update_as_create(_namespaced),
        prepare_for_create=clear_status,
    ),
)
