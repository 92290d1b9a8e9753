"""RuntimeClasses (kubernetes pkg/registry/node/runtimeclass)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies.base import Strategy
from apiserver.validation import node as node_validation
from podplane.apimachinery import resources

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.RUNTIME_CLASS, node_validation.runtime_class, node_validation.runtime_class_update
    ),
)
