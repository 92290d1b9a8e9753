"""PriorityClasses (kubernetes pkg/registry/scheduling/priorityclass)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies.base import Strategy, update_as_create
from apiserver.validation.metadata_only import metadata_rules
from podplane.apimachinery import resources

_cluster_scoped = metadata_rules(namespaced=False)

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(resources.PRIORITY_CLASS, _cluster_scoped, update_as_create(_cluster_scoped)),
)
