"""Leases (kubernetes pkg/registry/coordination/lease)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategies.base import Strategy, update_as_create
from apiserver.validation import others
from podplane.apimachinery import resources

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(resources.LEASE, others.lease, update_as_create(others.lease)),
)
