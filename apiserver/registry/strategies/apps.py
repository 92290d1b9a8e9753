"""ReplicaSets, Deployments, DaemonSets, StatefulSets and ControllerRevisions (kubernetes
pkg/registry/apps/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import statefulset as statefulset_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from apiserver.registry.strategies.base import (
    Strategy,
    clear_status,
    meta_fields,
    update_as_create,
)
from apiserver.validation import statefulset, workloads
from apiserver.validation.metadata_only import metadata_rules
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import resources


def _replicas_fields(obj: apps_pb2.ReplicaSet) -> dict[str, str]:
    return {**meta_fields(obj), "status.replicas": str(obj.status.replicas)}


_namespaced = metadata_rules(namespaced=True)

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.REPLICA_SET,
        workloads.replica_set,
        workloads.replica_set_update,
        _replicas_fields,
        workload_defaulting.replica_set,
        clear_status,
        frozenset({"status.replicas"}),
    ),
    Strategy(
        resources.DEPLOYMENT,
        workloads.deployment,
        workloads.deployment_update,
        default=workload_defaulting.deployment,
        prepare_for_create=clear_status,
    ),
    Strategy(
        resources.DAEMON_SET,
        _namespaced,
        update_as_create(_namespaced),
        prepare_for_create=clear_status,
    ),
    Strategy(
        resources.STATEFUL_SET,
        statefulset.statefulset,
        statefulset.statefulset_update,
        default=statefulset_defaulting.statefulset,
        prepare_for_create=statefulset_defaulting.prepare_for_create,
        prepare_for_update=statefulset_defaulting.prepare_for_update,
    ),
    Strategy(resources.CONTROLLER_REVISION, _namespaced, update_as_create(_namespaced)),
)
