"""ReplicaSets, Deployments, DaemonSets, StatefulSets and ControllerRevisions (kubernetes
pkg/registry/apps/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import daemonset as daemonset_defaulting
from apiserver.defaulting import daemonset_prepare
from apiserver.defaulting import statefulset as statefulset_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from apiserver.registry.strategies import templates
from apiserver.registry.strategies.base import (
    Strategy,
    meta_fields,
)
from apiserver.validation import controller_revision, daemonset, statefulset, workloads
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import resources


def _replicas_fields(obj: apps_pb2.ReplicaSet) -> dict[str, str]:
    return {**meta_fields(obj), "status.replicas": str(obj.status.replicas)}


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.REPLICA_SET,
        workloads.replica_set,
        workloads.replica_set_update,
        _replicas_fields,
        workload_defaulting.replica_set,
        templates.prepare_create,
        frozenset({"status.replicas"}),
        prepare_for_update=templates.prepare_update,
    ),
    Strategy(
        resources.DEPLOYMENT,
        workloads.deployment,
        workloads.deployment_update,
        default=workload_defaulting.deployment,
        prepare_for_create=templates.prepare_create,
        prepare_for_update=templates.prepare_update,
    ),
    Strategy(
        resources.DAEMON_SET,
        daemonset.daemon_set,
        daemonset.daemon_set_update,
        default=daemonset_defaulting.daemon_set,
        prepare_for_create=daemonset_prepare.prepare_for_create,
        prepare_for_update=daemonset_prepare.prepare_for_update,
    ),
    Strategy(
        resources.STATEFUL_SET,
        statefulset.statefulset,
        statefulset.statefulset_update,
        default=statefulset_defaulting.statefulset,
        prepare_for_create=statefulset_defaulting.prepare_for_create,
        prepare_for_update=statefulset_defaulting.prepare_for_update,
    ),
    Strategy(
        resources.CONTROLLER_REVISION,
        controller_revision.controller_revision,
        controller_revision.controller_revision_update,
    ),
)
