"""The selector Kubernetes spreads a pod's group by when the pod names no topology spread
constraints of its own (kubernetes framework/plugins/helper/spread.go DefaultSelector): the
selectors of the Services that select the pod, and of the ReplicationController, ReplicaSet or
StatefulSet that controls it. The Services are read from the pod's namespace's (the informer's
namespace index, as Kubernetes' namespaced lister), the controller by its key: a pod costs no
pass over every Service of the cluster."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.apimachinery.meta import controller_of
from podplane.apimachinery.selectors import (
    LabelSelector,
    Requirement,
    SelectorError,
    from_label_selector_message,
)
from scheduler.framework.interfaces import Lister


def pod_services(
    services: Iterable[service_pb2.Service], pod: core_pb2.Pod
) -> list[service_pb2.Service]:
    """The Services of the pod's namespace whose selector matches its labels (GetPodServices): a
    Service without a selector selects nothing, not everything."""
    labels = pod.metadata.labels
    return [
        s
        for s in services
        if s.metadata.namespace == pod.metadata.namespace
        and s.spec.selector
        and all(labels.get(k) == v for k, v in s.spec.selector.items())
    ]


def _label_set(labels: dict[str, str]) -> tuple[Requirement, ...]:
    return tuple(Requirement(k, "=", frozenset([v])) for k, v in sorted(labels.items()))


def default_selector(
    pod: core_pb2.Pod,
    services: Lister[service_pb2.Service],
    replication_controllers: Lister[core_pb2.ReplicationController],
    replica_sets: Lister[apps_pb2.ReplicaSet],
    stateful_sets: Lister[apps_pb2.StatefulSet],
) -> LabelSelector:
    """The Services' selectors merged (they all match the pod, so they cannot conflict), with the
    controlling ReplicationController's merged in, or a ReplicaSet's or StatefulSet's
    requirements added. Empty when nothing selects or controls the pod."""
    label_set: dict[str, str] = {}
    for service in pod_services(services.by_namespace(pod.metadata.namespace), pod):
        label_set.update(service.spec.selector)
    owner = controller_of(pod)
    if owner is None:
        return LabelSelector(_label_set(label_set))
    key = f"{pod.metadata.namespace}/{owner.name}"
    extra: tuple[Requirement, ...] = ()
    if (owner.api_version, owner.kind) == ("v1", "ReplicationController"):
        rc = replication_controllers.get(key)
        if rc is not None:
            label_set.update(rc.spec.selector)
    elif (owner.api_version, owner.kind) in (("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet")):
        lister = replica_sets if owner.kind == "ReplicaSet" else stateful_sets
        controller = lister.get(key)
        if controller is not None:
            try:
                extra = from_label_selector_message(controller.spec.selector).requirements
            except SelectorError:
                pass  # rejected by validation; adds nothing, as in Kubernetes
    return LabelSelector(_label_set(label_set) + extra)
