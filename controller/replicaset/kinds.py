"""The two kinds the ReplicaSet controller runs, and what differs between them: ReplicaSets
(apps/v1, a LabelSelector message) and ReplicationControllers (core v1, a plain map as the
selector). Everything else they share field for field: metadata, spec.replicas, minReadySeconds and
template, and the status counts and conditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.selectors import LabelSelector, Requirement, from_label_selector_message

# One of the two kinds; code over `Replicated` is checked for each.
Replicated = TypeVar("Replicated", apps_pb2.ReplicaSet, core_pb2.ReplicationController)


def _map_selector(rc: core_pb2.ReplicationController) -> LabelSelector:
    return LabelSelector(
        tuple(Requirement(k, "=", frozenset([v])) for k, v in sorted(rc.spec.selector.items()))
    )


def _label_selector(rs: apps_pb2.ReplicaSet) -> LabelSelector:
    return from_label_selector_message(rs.spec.selector)


@dataclass(frozen=True)
class ReplicatedKind(Generic[Replicated]):
    """What differs between the two kinds this controller runs."""

    resource: Resource
    # The work queue's name in the workqueue_* metrics, as kube-controller-manager names it.
    queue_name: str
    # The source of the Events it records.
    component: str
    selector: Callable[[Replicated], LabelSelector]


REPLICA_SETS = ReplicatedKind(
    resources.REPLICA_SET, "replicaset", "replicaset-controller", _label_selector
)
# ReplicationControllers: core v1, a plain map as the selector.
REPLICATION_CONTROLLERS = ReplicatedKind(
    resources.REPLICATION_CONTROLLER, "replicationmanager", "replication-controller", _map_selector
)
