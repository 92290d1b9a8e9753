"""Pods, nodes, namespaces, events, replication controllers, config maps, secrets, service
accounts, pod templates, limit ranges and resource quotas (kubernetes pkg/registry/core/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import config as config_defaulting
from apiserver.defaulting import disabled_features, pod_prepare
from apiserver.defaulting import pod as pod_defaulting
from apiserver.defaulting import quota as quota_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from apiserver.defaulting.disabled_features import drop_disabled_template_fields
from apiserver.registry.strategies import templates
from apiserver.registry.strategies.base import (
    StatusWrite,
    Strategy,
    clear_status,
    copy_status,
    meta_fields,
    update_as_create,
)
from apiserver.validation import config as config_validation
from apiserver.validation import limit_range, others, resource_quota, template, workloads
from apiserver.validation import pod as pod_validation
from apiserver.validation import pod_update as pod_update_validation
from apiserver.validation import service_account as service_account_validation
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2, quota_pb2
from podplane.apimachinery import qos, resources

# The label every namespace carries with its name (v1.LabelMetadataName).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _pod_fields(obj: core_pb2.Pod) -> dict[str, str]:
    return {
        **meta_fields(obj),
        "spec.nodeName": obj.spec.node_name,
        "spec.restartPolicy": obj.spec.restart_policy,
        "spec.schedulerName": obj.spec.scheduler_name,
        "spec.serviceAccountName": obj.spec.service_account_name,
        "status.phase": obj.status.phase,
        "status.podIP": obj.status.pod_ip,
        "status.nominatedNodeName": obj.status.nominated_node_name,
    }


def _node_fields(obj: core_pb2.Node) -> dict[str, str]:
    return {**meta_fields(obj), "spec.unschedulable": str(obj.spec.unschedulable).lower()}


def event_fields(obj: core_pb2.Event) -> dict[str, str]:
    io = obj.involved_object
    return {
        **meta_fields(obj),
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
    return {**meta_fields(obj), "status.phase": obj.status.phase}


def _prepare_pod_create(obj: core_pb2.Pod) -> None:
    # A new pod has no status but its phase and QoS class (the kubelet reports the rest).
    obj.ClearField("status")
    obj.status.phase = "Pending"
    obj.status.qos_class = qos.qos_class(obj.spec)
    pod_prepare.prepare_for_create(obj)


def _prepare_pod_update(new: core_pb2.Pod, old: core_pb2.Pod) -> None:
    disabled_features.drop_disabled_pod_fields(new, old)


def _prepare_pod_status_update(new: core_pb2.Pod, old: core_pb2.Pod) -> None:
    disabled_features.drop_disabled_status_fields(new, old)


def _label_namespace_name(obj: core_pb2.Namespace) -> None:
    """kubernetes.io/metadata.name=<name> on every namespace with a name (SetDefaults_Namespace,
    and namespaceStrategy's Canonicalize for a name generated or a label changed): what
    namespaceSelectors of webhooks, policies and NetworkPolicies name a namespace by."""
    if obj.metadata.name:
        obj.metadata.labels[NAMESPACE_NAME_LABEL] = obj.metadata.name


def _prepare_namespace_update(new: core_pb2.Namespace, old: core_pb2.Namespace) -> None:
    _label_namespace_name(new)


def _prepare_namespace_create(obj: core_pb2.Namespace) -> None:
    if "kubernetes" not in obj.spec.finalizers:
        obj.spec.finalizers.append("kubernetes")
    obj.status.phase = "Active"


def _replicas_fields(obj: core_pb2.ReplicationController) -> dict[str, str]:
    return {**meta_fields(obj), "status.replicas": str(obj.status.replicas)}


def _secret_fields(obj: core_pb2.Secret) -> dict[str, str]:
    return {**meta_fields(obj), "type": obj.type}


def _secret_update(new: core_pb2.Secret, old: core_pb2.Secret) -> list[FieldError]:
    # A Secret has no spec, so the store does not default it on update: stringData is merged into
    # data here, before validation (Kubernetes merges it when decoding the request).
    config_defaulting.secret(new)
    return config_validation.secret_update(new, old)


def _prepare_template_create(obj: core_pb2.PodTemplate) -> None:
    drop_disabled_template_fields(obj.template, None)


def _prepare_template_update(new: core_pb2.PodTemplate, old: core_pb2.PodTemplate) -> None:
    drop_disabled_template_fields(new.template, old.template)


def _template_changed(new: core_pb2.PodTemplate, old: core_pb2.PodTemplate) -> bool:
    """Any change to the template moves the generation (podTemplateStrategy)."""
    return bool(new.template != old.template)


def _keep_quota_spec(new: quota_pb2.ResourceQuota, stored: quota_pb2.ResourceQuota) -> None:
    """A status write keeps the stored spec (resourcequotaStatusStrategy)."""
    new.spec.CopyFrom(stored.spec)


_POD_TEMPLATE = Strategy(
    resources.POD_TEMPLATE,
    template.pod_template_object,
    template.pod_template_object_update,
    default=quota_defaulting.pod_template,
    prepare_for_create=_prepare_template_create,
    prepare_for_update=_prepare_template_update,
    generation_changed=_template_changed,
)
_LIMIT_RANGE = Strategy(
    resources.LIMIT_RANGE,
    limit_range.limit_range,
    limit_range.limit_range_update,
    default=quota_defaulting.limit_range,
)
_RESOURCE_QUOTA = Strategy(
    resources.RESOURCE_QUOTA,
    resource_quota.resource_quota,
    resource_quota.resource_quota_update,
    prepare_for_create=clear_status,
    status_writes={
        "status": StatusWrite(
            copy_status, _keep_quota_spec, resource_quota.resource_quota_status_update
        )
    },
)

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.POD,
        pod_validation.pod_create,
        pod_update_validation.pod_update,
        _pod_fields,
        pod_defaulting.pod,
        _prepare_pod_create,
        frozenset(_pod_fields(core_pb2.Pod())) - {"metadata.name"},
        prepare_for_status_update=_prepare_pod_status_update,
        prepare_for_update=_prepare_pod_update,
    ),
    Strategy(
        resources.NODE,
        others.node,
        others.node_update,
        _node_fields,
        selectable=frozenset({"spec.unschedulable"}),
    ),
    Strategy(
        resources.NAMESPACE,
        others.namespace,
        update_as_create(others.namespace),
        _namespace_fields,
        _label_namespace_name,
        prepare_for_create=_prepare_namespace_create,
        prepare_for_update=_prepare_namespace_update,
        canonicalize=_label_namespace_name,
        selectable=frozenset({"status.phase"}),
    ),
    Strategy(
        resources.EVENT,
        others.event,
        update_as_create(others.event),
        event_fields,
        selectable=frozenset(event_fields(core_pb2.Event())),
    ),
    Strategy(
        resources.REPLICATION_CONTROLLER,
        workloads.replication_controller,
        workloads.replication_controller_update,
        _replicas_fields,
        workload_defaulting.replication_controller,
        templates.prepare_create,
        frozenset({"status.replicas"}),
        prepare_for_update=templates.prepare_update,
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
    _POD_TEMPLATE,
    _LIMIT_RANGE,
    _RESOURCE_QUOTA,
)
