"""PriorityClasses (kubernetes pkg/registry/scheduling/priorityclass)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import scheduling as scheduling_defaulting
from apiserver.registry.strategies.base import Strategy
from apiserver.validation import scheduling as scheduling_validation
from apiserver.validation.fields import FieldError
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import resources


def _priority_class_update(
    new: scheduling_pb2.PriorityClass, old: scheduling_pb2.PriorityClass
) -> list[FieldError]:
    # A PriorityClass has no spec, so the store does not default it on update (see Secret's).
    scheduling_defaulting.priority_class(new)
    return scheduling_validation.priority_class_update(new, old)


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.PRIORITY_CLASS,
        scheduling_validation.priority_class,
        _priority_class_update,
        default=scheduling_defaulting.priority_class,
    ),
)
