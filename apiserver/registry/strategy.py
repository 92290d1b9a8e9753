"""What differs between kinds: defaults, validation, what a create or update may change, and the
fields a field selector can match (kubernetes pkg/registry/<group>/<kind>/strategy.go)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from google.protobuf.message import Message

from apiserver.defaulting import config as config_defaulting
from apiserver.defaulting import jobs as job_defaulting
from apiserver.defaulting import pod as pod_defaulting
from apiserver.defaulting import rbac as rbac_defaulting
from apiserver.defaulting import service as service_defaulting
from apiserver.defaulting import service_prepare
from apiserver.defaulting import storage as storage_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from apiserver.objects import ListMessage, T, WatchMessage, object_meta
from apiserver.validation import config as config_validation
from apiserver.validation import endpoints as endpoints_validation
from apiserver.validation import jobs as job_validation
from apiserver.validation import others, workloads
from apiserver.validation import pod as pod_validation
from apiserver.validation import rbac as rbac_validation
from apiserver.validation import service as service_validation
from apiserver.validation import service_account as service_account_validation
from apiserver.validation import storage as storage_validation
from apiserver.validation.fields import FieldError
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource


def _meta_fields(obj: Message) -> dict[str, str]:
    meta = object_meta(obj)
    return {"metadata.name": meta.name, "metadata.namespace": meta.namespace}


def _no_defaults(obj: Message) -> None:
    return None


def _status_as_written(new: Message, old: Message) -> None:
    return None


def _nothing_to_prepare(new: Message, old: Message) -> None:
    return None


@dataclass(frozen=True)
class Strategy(Generic[T]):
    resource: Resource
    validate: Callable[[T], list[FieldError]]
    validate_update: Callable[[T, T], list[FieldError]]
    # The values of the fields a field selector matches.
    fields: Callable[[T], Mapping[str, str]] = _meta_fields
    default: Callable[[T], None] = _no_defaults
    prepare_for_create: Callable[[T], None] = _no_defaults
    # Field paths (beyond metadata.*) a field selector may use.
    selectable: frozenset[str] = field(default_factory=frozenset)
    # What the server sets on a status update (new, stored), before it is validated.
    prepare_for_status_update: Callable[[T, T], None] = _status_as_written
    # An update's changes to the new object, before validation, given the stored one.
    prepare_for_update: Callable[[T, T], None] = _nothing_to_prepare

    @property
    def spec_field(self) -> str | None:
        """The message field Update replaces; status is only written by UpdateStatus."""
        names = self.resource.message.DESCRIPTOR.fields_by_name
        return "spec" if "spec" in names else None

    @property
    def selectable_fields(self) -> frozenset[str]:
        return frozenset({"metadata.name", "metadata.namespace"}) | self.selectable

    # The kind's messages (podplane.apimachinery.resources knows them untyped).
    def new(self) -> T:
        obj: T = self.resource.new()
        return obj

    def new_list(self) -> ListMessage[T]:
        out: ListMessage[T] = self.resource.list_message()
        return out

    def new_watch_event(self, type_: str) -> WatchMessage[T]:
        event: WatchMessage[T] = self.resource.watch_event()
        event.type = type_
        return event

    def new_watch_batch(self, events: list[WatchMessage[T]]) -> WatchMessage[T]:
        """One watch message carrying several events (for clients that take batches)."""
        batch: WatchMessage[T] = self.resource.watch_event(events=events)
        return batch


def _update_as_create(
    validate: Callable[[T], list[FieldError]],
) -> Callable[[T, T], list[FieldError]]:
    return lambda new, old: validate(new)


def _pod_fields(obj: core_pb2.Pod) -> dict[str, str]:
    return {
        **_meta_fields(obj),
        "spec.nodeName": obj.spec.node_name,
        "spec.restartPolicy": obj.spec.restart_policy,
        "spec.schedulerName": obj.spec.scheduler_name,
        "spec.serviceAccountName": obj.spec.service_account_name,
        "status.phase": obj.status.phase,
        "status.podIP": obj.status.pod_ip,
        "status.nominatedNodeName": obj.status.nominated_node_name,
    }


def _node_fields(obj: core_pb2.Node) -> dict[str, str]:
    return {**_meta_fields(obj), "spec.unschedulable": str(obj.spec.unschedulable).lower()}


def _event_fields(obj: core_pb2.Event) -> dict[str, str]:
    io = obj.involved_object
    return {
        **_meta_fields(obj),
        "involvedObject.kind": io.kind,
        "involvedObject.namespace": io.namespace,
        "involvedObject.name": io.name,
        "involvedObject.uid": io.uid,
        "involvedObject.apiVersion": io.api_version,
        "involvedObject.resourceVersion": io.resource_version,
        "involvedObject.fieldPath": io.field_path,
        "reason": obj.reason,
        "source": obj.source.component,
        "type": obj.type,
    }


def _namespace_fields(obj: core_pb2.Namespace) -> dict[str, str]:
    return {**_meta_fields(obj), "status.phase": obj.status.phase}


def _prepare_pod_create(obj: core_pb2.Pod) -> None:
    # A new pod has no status but its phase and QoS class (the kubelet reports the rest).
    obj.ClearField("status")
    obj.status.phase = "Pending"
    obj.status.qos_class = pod_defaulting.qos_class(obj.spec)


def _prepare_namespace_create(obj: core_pb2.Namespace) -> None:
    if "kubernetes" not in obj.spec.finalizers:
        obj.spec.finalizers.append("kubernetes")
    obj.status.phase = "Active"


def _replicas_fields(obj: core_pb2.ReplicationController | apps_pb2.ReplicaSet) -> dict[str, str]:
    return {**_meta_fields(obj), "status.replicas": str(obj.status.replicas)}


def _job_fields(obj: batch_pb2.Job) -> dict[str, str]:
    return {**_meta_fields(obj), "status.successful": str(obj.status.succeeded)}


def _secret_fields(obj: core_pb2.Secret) -> dict[str, str]:
    return {**_meta_fields(obj), "type": obj.type}


def _clear_status(obj: Message) -> None:
    # A new controller object has observed nothing yet; its controller writes the status.
    obj.ClearField("status")


def _prepare_job_create(obj: batch_pb2.Job) -> None:
    obj.ClearField("status")
    job_defaulting.generate_job_selector(obj)  # needs metadata.uid, which the store has set


def _name_field(obj: core_pb2.PersistentVolume | core_pb2.PersistentVolumeClaim) -> dict[str, str]:
    # Kubernetes keeps a bare "name" selectable for volumes and claims, for compatibility.
    return {**_meta_fields(obj), "name": obj.metadata.name}


def _storage_class_update(
    new: storage_pb2.StorageClass, old: storage_pb2.StorageClass
) -> list[FieldError]:
    # A StorageClass has no spec, so the store does not default it on update (see Secret's).
    storage_defaulting.storage_class(new)
    return storage_validation.storage_class_update(new, old)


def _role_binding_update(new: rbac_pb2.RoleBinding, old: rbac_pb2.RoleBinding) -> list[FieldError]:
    # A binding has no spec, so the store does not default it on update (see Secret's).
    rbac_defaulting.binding(new)
    return rbac_validation.role_binding_update(new, old)


def _cluster_role_binding_update(
    new: rbac_pb2.ClusterRoleBinding, old: rbac_pb2.ClusterRoleBinding
) -> list[FieldError]:
    rbac_defaulting.binding(new)
    return rbac_validation.cluster_role_binding_update(new, old)


def _secret_update(new: core_pb2.Secret, old: core_pb2.Secret) -> list[FieldError]:
    # A Secret has no spec, so the store does not default it on update: stringData is merged into
    # data here, before validation (Kubernetes merges it when decoding the request).
    config_defaulting.secret(new)
    return config_validation.secret_update(new, old)


def _service_fields(obj: service_pb2.Service) -> dict[str, str]:
    return {**_meta_fields(obj), "spec.clusterIP": obj.spec.cluster_ip, "spec.type": obj.spec.type}


def _service_update(new: service_pb2.Service, old: service_pb2.Service) -> list[FieldError]:
    # A status update is not defaulted by the store: its ingress IPs get their mode here, as
    # Kubernetes defaults them when it decodes the request.
    service_defaulting.load_balancer_ip_mode(new)
    return service_validation.service_update(new, old)


def _prepare_endpoints_update(new: service_pb2.Endpoints, old: service_pb2.Endpoints) -> None:
    # Endpoints have no spec, so the store does not default them on update: done here.
    service_defaulting.endpoints(new)


def _prepare_endpoint_slice_update(
    new: discovery_pb2.EndpointSlice, old: discovery_pb2.EndpointSlice
) -> None:
    # An EndpointSlice has no spec, so the store does not default it on update: done here. Its
    # generation counts the changes of its endpoints, ports and address type.
    service_defaulting.endpoint_slice(new)
    if (new.endpoints, new.ports, new.address_type) != (old.endpoints, old.ports, old.address_type):
        new.metadata.generation = old.metadata.generation + 1


# One per kind, by plural: a table of every kind, so of no one message type.
STRATEGIES: dict[str, Strategy[Any]] = {
    s.resource.plural: s
    for s in (
        Strategy(
            resources.POD,
            pod_validation.pod_create,
            pod_validation.pod_update,
            _pod_fields,
            pod_defaulting.pod,
            _prepare_pod_create,
            frozenset(_pod_fields(core_pb2.Pod())) - {"metadata.name"},
        ),
        Strategy(
            resources.NODE,
            others.node,
            _update_as_create(others.node),
            _node_fields,
            selectable=frozenset({"spec.unschedulable"}),
        ),
        Strategy(
            resources.NAMESPACE,
            others.namespace,
            _update_as_create(others.namespace),
            _namespace_fields,
            prepare_for_create=_prepare_namespace_create,
            selectable=frozenset({"status.phase"}),
        ),
        Strategy(
            resources.EVENT,
            others.event,
            _update_as_create(others.event),
            _event_fields,
            selectable=frozenset(_event_fields(core_pb2.Event())),
        ),
        Strategy(resources.LEASE, others.lease, _update_as_create(others.lease)),
        Strategy(
            resources.REPLICATION_CONTROLLER,
            workloads.replication_controller,
            workloads.replication_controller_update,
            _replicas_fields,
            workload_defaulting.replication_controller,
            _clear_status,
            frozenset({"status.replicas"}),
        ),
        Strategy(
            resources.REPLICA_SET,
            workloads.replica_set,
            workloads.replica_set_update,
            _replicas_fields,
            workload_defaulting.replica_set,
            _clear_status,
            frozenset({"status.replicas"}),
        ),
        Strategy(
            resources.DEPLOYMENT,
            workloads.deployment,
            workloads.deployment_update,
            default=workload_defaulting.deployment,
            prepare_for_create=_clear_status,
        ),
        Strategy(
            resources.JOB,
            job_validation.job,
            job_validation.job_update,
            _job_fields,
            job_defaulting.job,
            _prepare_job_create,
            frozenset({"status.successful"}),
        ),
        Strategy(
            resources.CONFIG_MAP, config_validation.config_map, config_validation.config_map_update
        ),
        Strategy(
            resources.SECRET,
            config_validation.secret,
            _secret_update,
            _secret_fields,
            config_defaulting.secret,
            selectable=frozenset({"type"}),
        ),
        Strategy(
            resources.SERVICE_ACCOUNT,
            service_account_validation.service_account,
            service_account_validation.service_account_update,
        ),
        Strategy(
            resources.PERSISTENT_VOLUME,
            storage_validation.persistent_volume,
            storage_validation.persistent_volume_update,
            _name_field,
            storage_defaulting.persistent_volume,
            storage_defaulting.new_persistent_volume_status,
            frozenset({"name"}),
            prepare_for_status_update=storage_defaulting.persistent_volume_status_update,
        ),
        Strategy(
            resources.PERSISTENT_VOLUME_CLAIM,
            storage_validation.persistent_volume_claim,
            storage_validation.persistent_volume_claim_update,
            _name_field,
            storage_defaulting.persistent_volume_claim,
            storage_defaulting.new_persistent_volume_claim_status,
            frozenset({"name"}),
        ),
        Strategy(
            resources.STORAGE_CLASS,
            storage_validation.storage_class,
            _storage_class_update,
            default=storage_defaulting.storage_class,
        ),
        Strategy(
            resources.SERVICE,
            service_validation.service,
            _service_update,
            _service_fields,
            service_defaulting.service,
            service_prepare.prepare_for_create,
            frozenset({"spec.clusterIP", "spec.type"}),
            prepare_for_update=service_prepare.prepare_for_update,
        ),
        Strategy(
            resources.ENDPOINTS,
            endpoints_validation.endpoints,
            endpoints_validation.endpoints_update,
            default=service_defaulting.endpoints,
            prepare_for_update=_prepare_endpoints_update,
        ),
        Strategy(
            resources.ENDPOINT_SLICE,
            endpoints_validation.endpoint_slice,
            endpoints_validation.endpoint_slice_update,
            default=service_defaulting.endpoint_slice,
            prepare_for_update=_prepare_endpoint_slice_update,
        ),
        Strategy(resources.ROLE, rbac_validation.role, rbac_validation.role_update),
        Strategy(
            resources.CLUSTER_ROLE,
            rbac_validation.cluster_role,
            rbac_validation.cluster_role_update,
        ),
        Strategy(
            resources.ROLE_BINDING,
            rbac_validation.role_binding,
            _role_binding_update,
            default=rbac_defaulting.binding,
        ),
        Strategy(
            resources.CLUSTER_ROLE_BINDING,
            rbac_validation.cluster_role_binding,
            _cluster_role_binding_update,
            default=rbac_defaulting.binding,
        ),
    )
}
