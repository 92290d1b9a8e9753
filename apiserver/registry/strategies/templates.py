"""What the workloads' registries do to their pod templates on create and update (kubernetes
podutil.DropDisabledTemplateFields in each workload's PrepareForCreate and PrepareForUpdate):
the fields of disabled features are dropped, as from pods."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting.disabled_features import drop_disabled_template_fields
from apiserver.registry.strategies.base import clear_status


def prepare_create(obj: Any) -> None:
    """A new workload: no status, and its template without disabled fields."""
    clear_status(obj)
    if obj.spec.HasField("template"):
        drop_disabled_template_fields(obj.spec.template, None)


def prepare_update(new: Any, old: Any) -> None:
    if new.spec.HasField("template"):
        old_template = old.spec.template if old.spec.HasField("template") else None
        drop_disabled_template_fields(new.spec.template, old_template)
