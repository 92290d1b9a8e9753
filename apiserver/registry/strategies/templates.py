"""What the workloads' registries do to their pod templates on create and update (kubernetes
podutil.DropDisabledTemplateFields in each workload's PrepareForCreate and PrepareForUpdate):
the fields of disabled features are dropped, as from pods."""

from __future__ import annotations

from apiserver.defaulting.disabled_features import drop_disabled_template_fields
from apiserver.registry.strategies.base import clear_status
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2

# The kinds whose spec holds a pod template these prepare.
Workload = (
    apps_pb2.ReplicaSet | apps_pb2.Deployment | core_pb2.ReplicationController | batch_pb2.Job
)


def prepare_create(obj: Workload) -> None:
    """A new workload: no status, and its template without disabled fields."""
    clear_status(obj)
    if obj.spec.HasField("template"):
        drop_disabled_template_fields(obj.spec.template, None)


def prepare_update(new: Workload, old: Workload) -> None:
    if new.spec.HasField("template"):
        old_template = old.spec.template if old.spec.HasField("template") else None
        drop_disabled_template_fields(new.spec.template, old_template)
