"""The kinds the API serves: one table the apiserver, the client and podctl all read."""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from podplane.api.admissionregistration.v1 import admissionregistration_pb2
from podplane.api.apiextensions.v1 import (
    apiextensions_pb2,
    custom_objects_pb2,
    custom_objects_pb2_grpc,
)
from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.authentication.v1 import authentication_pb2
from podplane.api.authorization.v1 import authorization_pb2
from podplane.api.autoscaling.v1 import autoscaling_pb2 as autoscaling_v1_pb2
from podplane.api.autoscaling.v2 import autoscaling_pb2 as autoscaling_v2_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.coordination.v1 import lease_pb2

# services_pb2 registers the service descriptors in the default pool, which server reflection reads.
from podplane.api.core.v1 import core_pb2, quota_pb2, service_pb2, services_pb2, services_pb2_grpc  # noqa: F401
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.events.v1 import events_pb2
from podplane.api.flowcontrol.v1 import flowcontrol_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.api.node.v1 import node_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.api.storage.v1 import csi_pb2, storage_pb2
from podplane.apimachinery.resource_types import ComputedResource as ComputedResource
from podplane.apimachinery.resource_types import CreateOnlyResource as CreateOnlyResource
from podplane.apimachinery.resource_types import M
from podplane.apimachinery.resource_types import MethodRegistry as MethodRegistry
from podplane.apimachinery.resource_types import Resource as Resource

CORE_PACKAGE = "podplane.core.v1"
# The API group of each generated package, podplane.<package>.<version> ("" is the core group).
API_GROUPS = {
    "core": "",
    "apps": "apps",
    "autoscaling": "autoscaling",
    "batch": "batch",
    "policy": "policy",
    "coordination": "coordination.k8s.io",
    "discovery": "discovery.k8s.io",
    "networking": "networking.k8s.io",
    "events": "events.k8s.io",
    "flowcontrol": "flowcontrol.apiserver.k8s.io",
    "rbac": "rbac.authorization.k8s.io",
    "storage": "storage.k8s.io",
    "scheduling": "scheduling.k8s.io",
    "node": "node.k8s.io",
    "apiextensions": "apiextensions.k8s.io",
    "certificates": "certificates.k8s.io",
    "admissionregistration": "admissionregistration.k8s.io",
    "authorization": "authorization.k8s.io",
    "authentication": "authentication.k8s.io",
    "apiregistration": "apiregistration.k8s.io",
}


def _api_version(message: type[Message]) -> str:
    _, package, version = message.DESCRIPTOR.file.package.split(".")
    group = API_GROUPS[package]
    return f"{group}/{version}" if group else version


@dataclass(frozen=True)
class _Service:
    """A kind's gRPC service in the generated code: its full name, stub and servicer adder."""

    name: str
    stub: Callable[[grpc.aio.Channel], Any]
    add_servicer: Callable[[object, MethodRegistry], None]


def _service(message: type[Message], plural: str, name: str = "") -> _Service:
    """The service of a kind's objects: the one named as its plural (Pods for pods), or `name`.
    It is generated beside the messages (apps_pb2_grpc for apps_pb2), the core group's all in
    services_pb2_grpc."""
    package = message.DESCRIPTOR.file.package
    module = (
        services_pb2_grpc
        if package == CORE_PACKAGE
        else importlib.import_module(f"{message.__module__}_grpc")
    )
    if not name:
        stubs = (attr.removesuffix("Stub") for attr in dir(module) if attr.endswith("Stub"))
        name = next(stub for stub in stubs if stub.lower() == plural)
    return _Service(
        name=f"{package}.{name}",
        stub=getattr(module, f"{name}Stub"),
        add_servicer=getattr(module, f"add_{name}Servicer_to_server"),
    )


class Traits(enum.Flag):
    """What a built-in kind is, beyond its names."""

    CLUSTER_SCOPED = 0
    NAMESPACED = enum.auto()
    # It has a status subresource (spec and status written apart).
    HAS_STATUS = enum.auto()
    # `kubectl get all` lists it (the category "all").
    IN_ALL = enum.auto()


def _kind(
    message: type[M],
    plural: str,
    traits: Traits,
    *short_names: str,
    categories: tuple[str, ...] = (),
    service: str = "",
) -> Resource[M]:
    """A built-in kind from its row: the rest (its list and watch event messages, API version,
    gRPC service) follows from the generated code's names."""
    module = sys.modules[message.__module__]
    kind = message.__name__
    grpc_service = _service(message, plural, service)
    return Resource(
        kind=kind,
        plural=plural,
        api_version=_api_version(message),
        namespaced=Traits.NAMESPACED in traits,
        message=message,
        list_message=getattr(module, f"{kind}List"),
        watch_event=getattr(module, f"{kind}WatchEvent"),
        service=grpc_service.name,
        stub=grpc_service.stub,
        add_servicer=grpc_service.add_servicer,
        has_status=Traits.HAS_STATUS in traits,
        short_names=short_names,
        categories=(*(ALL_CATEGORY if Traits.IN_ALL in traits else ()), *categories),
    )


ALL_CATEGORY = ("all",)  # what `kubectl get all` lists

# The built-in kinds, one row each: the object's message, the plural, what it is, its short names.
NAMESPACED, CLUSTER, STATUS, IN_ALL = (
    Traits.NAMESPACED,
    Traits.CLUSTER_SCOPED,
    Traits.HAS_STATUS,
    Traits.IN_ALL,
)
POD = _kind(core_pb2.Pod, "pods", NAMESPACED | STATUS | IN_ALL, "po")
NODE = _kind(core_pb2.Node, "nodes", CLUSTER | STATUS, "no")
NAMESPACE = _kind(core_pb2.Namespace, "namespaces", CLUSTER, "ns")
EVENT = _kind(core_pb2.Event, "events", NAMESPACED, "ev")
LEASE = _kind(lease_pb2.Lease, "leases", NAMESPACED)
REPLICATION_CONTROLLER = _kind(
    core_pb2.ReplicationController, "replicationcontrollers", NAMESPACED | STATUS | IN_ALL, "rc"
)
REPLICA_SET = _kind(apps_pb2.ReplicaSet, "replicasets", NAMESPACED | STATUS | IN_ALL, "rs")
DEPLOYMENT = _kind(apps_pb2.Deployment, "deployments", NAMESPACED | STATUS | IN_ALL, "deploy")
JOB = _kind(batch_pb2.Job, "jobs", NAMESPACED | STATUS | IN_ALL)
CONFIG_MAP = _kind(core_pb2.ConfigMap, "configmaps", NAMESPACED, "cm")
SECRET = _kind(core_pb2.Secret, "secrets", NAMESPACED)
POD_TEMPLATE = _kind(core_pb2.PodTemplate, "podtemplates", NAMESPACED)
LIMIT_RANGE = _kind(quota_pb2.LimitRange, "limitranges", NAMESPACED, "limits")
RESOURCE_QUOTA = _kind(quota_pb2.ResourceQuota, "resourcequotas", NAMESPACED | STATUS, "quota")
SERVICE_ACCOUNT = _kind(core_pb2.ServiceAccount, "serviceaccounts", NAMESPACED, "sa")
PERSISTENT_VOLUME = _kind(core_pb2.PersistentVolume, "persistentvolumes", CLUSTER | STATUS, "pv")
PERSISTENT_VOLUME_CLAIM = _kind(
    core_pb2.PersistentVolumeClaim, "persistentvolumeclaims", NAMESPACED | STATUS, "pvc"
)
STORAGE_CLASS = _kind(storage_pb2.StorageClass, "storageclasses", CLUSTER, "sc")
SERVICE = _kind(service_pb2.Service, "services", NAMESPACED | STATUS | IN_ALL, "svc")
ENDPOINTS = _kind(service_pb2.Endpoints, "endpoints", NAMESPACED, "ep", service="EndpointsService")
ENDPOINT_SLICE = _kind(discovery_pb2.EndpointSlice, "endpointslices", NAMESPACED)
ROLE = _kind(rbac_pb2.Role, "roles", NAMESPACED)
CLUSTER_ROLE = _kind(rbac_pb2.ClusterRole, "clusterroles", CLUSTER)
ROLE_BINDING = _kind(rbac_pb2.RoleBinding, "rolebindings", NAMESPACED)
CLUSTER_ROLE_BINDING = _kind(rbac_pb2.ClusterRoleBinding, "clusterrolebindings", CLUSTER)
DAEMON_SET = _kind(apps_pb2.DaemonSet, "daemonsets", NAMESPACED | STATUS | IN_ALL, "ds")
STATEFUL_SET = _kind(apps_pb2.StatefulSet, "statefulsets", NAMESPACED | STATUS | IN_ALL, "sts")
CONTROLLER_REVISION = _kind(apps_pb2.ControllerRevision, "controllerrevisions", NAMESPACED)
CRON_JOB = _kind(batch_pb2.CronJob, "cronjobs", NAMESPACED | STATUS | IN_ALL, "cj")
POD_DISRUPTION_BUDGET = _kind(
    policy_pb2.PodDisruptionBudget, "poddisruptionbudgets", NAMESPACED | STATUS, "pdb"
)
PRIORITY_CLASS = _kind(scheduling_pb2.PriorityClass, "priorityclasses", CLUSTER, "pc")
RUNTIME_CLASS = _kind(node_pb2.RuntimeClass, "runtimeclasses", CLUSTER)
CUSTOM_RESOURCE_DEFINITION = _kind(
    apiextensions_pb2.CustomResourceDefinition,
    "customresourcedefinitions",
    CLUSTER | STATUS,
    "crd",
    "crds",
    categories=("api-extensions",),
)
CERTIFICATE_SIGNING_REQUEST = _kind(
    certificates_pb2.CertificateSigningRequest,
    "certificatesigningrequests",
    CLUSTER | STATUS,
    "csr",
)
API_SERVICE = _kind(
    apiregistration_pb2.APIService,
    "apiservices",
    CLUSTER | STATUS,
    categories=("api-extensions",),
)
MUTATING_WEBHOOK_CONFIGURATION = _kind(
    admissionregistration_pb2.MutatingWebhookConfiguration,
    "mutatingwebhookconfigurations",
    CLUSTER,
    categories=("api-extensions",),
)
VALIDATING_WEBHOOK_CONFIGURATION = _kind(
    admissionregistration_pb2.ValidatingWebhookConfiguration,
    "validatingwebhookconfigurations",
    CLUSTER,
    categories=("api-extensions",),
)
VALIDATING_ADMISSION_POLICY = _kind(
    admissionregistration_pb2.ValidatingAdmissionPolicy,
    "validatingadmissionpolicies",
    CLUSTER | STATUS,
    categories=("api-extensions",),
)
VALIDATING_ADMISSION_POLICY_BINDING = _kind(
    admissionregistration_pb2.ValidatingAdmissionPolicyBinding,
    "validatingadmissionpolicybindings",
    CLUSTER,
    categories=("api-extensions",),
)
HORIZONTAL_POD_AUTOSCALER = _kind(
    autoscaling_v2_pb2.HorizontalPodAutoscaler,
    "horizontalpodautoscalers",
    NAMESPACED | STATUS | IN_ALL,
    "hpa",
)
INGRESS = _kind(networking_pb2.Ingress, "ingresses", NAMESPACED | STATUS, "ing")
INGRESS_CLASS = _kind(networking_pb2.IngressClass, "ingressclasses", CLUSTER)
NETWORK_POLICY = _kind(networking_pb2.NetworkPolicy, "networkpolicies", NAMESPACED, "netpol")
CSI_DRIVER = _kind(csi_pb2.CSIDriver, "csidrivers", CLUSTER)
CSI_NODE = _kind(csi_pb2.CSINode, "csinodes", CLUSTER)
CSI_STORAGE_CAPACITY = _kind(csi_pb2.CSIStorageCapacity, "csistoragecapacities", NAMESPACED)
VOLUME_ATTACHMENT = _kind(csi_pb2.VolumeAttachment, "volumeattachments", CLUSTER | STATUS)
FLOW_SCHEMA = _kind(flowcontrol_pb2.FlowSchema, "flowschemas", CLUSTER | STATUS)
PRIORITY_LEVEL_CONFIGURATION = _kind(
    flowcontrol_pb2.PriorityLevelConfiguration, "prioritylevelconfigurations", CLUSTER | STATUS
)

ALL: tuple[Resource, ...] = (
    POD,
    NODE,
    NAMESPACE,
    EVENT,
    LEASE,
    REPLICATION_CONTROLLER,
    REPLICA_SET,
    DEPLOYMENT,
    JOB,
    CONFIG_MAP,
    SECRET,
    PERSISTENT_VOLUME,
    PERSISTENT_VOLUME_CLAIM,
    STORAGE_CLASS,
    SERVICE,
    ENDPOINTS,
    ENDPOINT_SLICE,
    ROLE,
    CLUSTER_ROLE,
    ROLE_BINDING,
    CLUSTER_ROLE_BINDING,
    SERVICE_ACCOUNT,
    DAEMON_SET,
    STATEFUL_SET,
    CONTROLLER_REVISION,
    CRON_JOB,
    POD_DISRUPTION_BUDGET,
    PRIORITY_CLASS,
    RUNTIME_CLASS,
    CUSTOM_RESOURCE_DEFINITION,
    CERTIFICATE_SIGNING_REQUEST,
    API_SERVICE,
    MUTATING_WEBHOOK_CONFIGURATION,
    VALIDATING_WEBHOOK_CONFIGURATION,
    VALIDATING_ADMISSION_POLICY,
    VALIDATING_ADMISSION_POLICY_BINDING,
    POD_TEMPLATE,
    LIMIT_RANGE,
    RESOURCE_QUOTA,
    HORIZONTAL_POD_AUTOSCALER,
    INGRESS,
    INGRESS_CLASS,
    NETWORK_POLICY,
    CSI_DRIVER,
    CSI_NODE,
    CSI_STORAGE_CAPACITY,
    VOLUME_ATTACHMENT,
    FLOW_SCHEMA,
    PRIORITY_LEVEL_CONFIGURATION,
)

# The other served versions of built-in kinds, beside the storage and preferred version ALL holds:
# each reads and writes the same stored objects, converted (apiserver/registry/versions/).
HORIZONTAL_POD_AUTOSCALER_V1 = _kind(
    autoscaling_v1_pb2.HorizontalPodAutoscaler,
    "horizontalpodautoscalers",
    NAMESPACED | STATUS | IN_ALL,
    "hpa",
)
# events.k8s.io/v1 Event: the core v1 Event at another version (short name ev too, as Kubernetes').
EVENT_V1 = _kind(events_pb2.Event, "events", NAMESPACED, "ev")
OTHER_VERSIONS: tuple[Resource, ...] = (HORIZONTAL_POD_AUTOSCALER_V1, EVENT_V1)
# Every served version of every built-in kind.
ALL_VERSIONS: tuple[Resource, ...] = (*ALL, *OTHER_VERSIONS)

# The one service that serves every custom resource, each named by its group, version and
# plural in the request (apiextensions/v1/custom_objects.proto).
CUSTOM_OBJECTS_SERVICE = "podplane.apiextensions.v1.CustomObjects"
CustomResource = Resource[
    custom_objects_pb2.CustomObject,
    custom_objects_pb2.CustomObjectList,
    custom_objects_pb2.CustomObjectWatchEvent,
]


def custom_resource(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool,
    has_status: bool = False,
    singular: str = "",
    list_kind: str = "",
    short_names: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> CustomResource:
    """The Resource of one served version of a CustomResourceDefinition: its objects are
    CustomObject messages, served by the CustomObjects service."""
    return Resource(
        kind=kind,
        plural=plural,
        api_version=f"{group}/{version}",
        namespaced=namespaced,
        message=custom_objects_pb2.CustomObject,
        list_message=custom_objects_pb2.CustomObjectList,
        watch_event=custom_objects_pb2.CustomObjectWatchEvent,
        service=CUSTOM_OBJECTS_SERVICE,
        stub=custom_objects_pb2_grpc.CustomObjectsStub,
        add_servicer=custom_objects_pb2_grpc.add_CustomObjectsServicer_to_server,
        has_status=has_status,
        short_names=short_names,
        categories=categories,
        singular_name=singular,
        list_kind_name=list_kind,
    )


def _create_only(message: type[M], plural: str, traits: Traits) -> CreateOnlyResource[M]:
    """A create-only kind from its row, as _kind derives a stored one's."""
    grpc_service = _service(message, plural)
    return CreateOnlyResource(
        kind=message.__name__,
        plural=plural,
        api_version=_api_version(message),
        namespaced=Traits.NAMESPACED in traits,
        message=message,
        service=grpc_service.name,
        stub=grpc_service.stub,
        add_servicer=grpc_service.add_servicer,
    )


# The create-only kinds, one row each (message, plural, scope).
SELF_SUBJECT_ACCESS_REVIEW = _create_only(
    authorization_pb2.SelfSubjectAccessReview, "selfsubjectaccessreviews", CLUSTER
)
SELF_SUBJECT_RULES_REVIEW = _create_only(
    authorization_pb2.SelfSubjectRulesReview, "selfsubjectrulesreviews", CLUSTER
)
SUBJECT_ACCESS_REVIEW = _create_only(
    authorization_pb2.SubjectAccessReview, "subjectaccessreviews", CLUSTER
)
LOCAL_SUBJECT_ACCESS_REVIEW = _create_only(
    authorization_pb2.LocalSubjectAccessReview, "localsubjectaccessreviews", NAMESPACED
)
SELF_SUBJECT_REVIEW = _create_only(
    authentication_pb2.SelfSubjectReview, "selfsubjectreviews", CLUSTER
)
TOKEN_REVIEW = _create_only(authentication_pb2.TokenReview, "tokenreviews", CLUSTER)

# Served (discovery, both doors, authorization), never stored, listed, watched or deleted.
CREATE_ONLY: tuple[CreateOnlyResource, ...] = (
    SELF_SUBJECT_ACCESS_REVIEW,
    SELF_SUBJECT_RULES_REVIEW,
    SUBJECT_ACCESS_REVIEW,
    LOCAL_SUBJECT_ACCESS_REVIEW,
    SELF_SUBJECT_REVIEW,
    TOKEN_REVIEW,
)


def _computed(
    message: type[M], plural: str, traits: Traits, *short_names: str
) -> ComputedResource[M]:
    """A computed kind from its row, as _kind derives a stored one's."""
    grpc_service = _service(message, plural)
    return ComputedResource(
        kind=message.__name__,
        plural=plural,
        api_version=_api_version(message),
        namespaced=Traits.NAMESPACED in traits,
        message=message,
        list_message=getattr(sys.modules[message.__module__], f"{message.__name__}List"),
        service=grpc_service.name,
        stub=grpc_service.stub,
        add_servicer=grpc_service.add_servicer,
        short_names=short_names,
    )


# v1 ComponentStatus: computed on each read from probes of the control plane's components.
COMPONENT_STATUS = _computed(core_pb2.ComponentStatus, "componentstatuses", CLUSTER, "cs")
# Served (discovery, both doors, authorization) with get and list; never stored or watched.
COMPUTED: tuple[ComputedResource, ...] = (COMPONENT_STATUS,)

# Every kind a request may name: what authorization, discovery and the doors' routing know. The
# other versions come first, so that a table by plural built from it (plural -> group) ends with
# the storage version's group: "events" is the core group's, whose rules also name
# events.k8s.io. What is listed in order (discovery's groups) reads IN_TABLE_ORDER.
SERVED: tuple[Resource | CreateOnlyResource, ...] = (*OTHER_VERSIONS, *ALL, *CREATE_ONLY)
# SERVED in the table's order: the storage versions first, then the other versions.
IN_TABLE_ORDER: tuple[Resource | CreateOnlyResource, ...] = (*ALL_VERSIONS, *CREATE_ONLY)

# Every spelling a user may type (kubectl accepts kind, singular, plural and short names).
_BY_NAME: dict[str, Resource] = {}
for _r in ALL:
    _group = _r.api_version.rpartition("/")[0]
    for _n in (_r.kind.lower(), _r.plural, *_r.short_names):
        _BY_NAME[_n] = _r
        if _group:  # kubectl's fully qualified spellings: deployments.apps, job.batch
            _BY_NAME[f"{_n}.{_group}"] = _r


def by_name(name: str) -> Resource:
    """Looks a resource up by kind, plural or short name, case-insensitively."""
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f'the server doesn\'t have a resource type "{name}"') from None


def by_kind(kind: str, api_version: str) -> Resource:
    """The resource a manifest's `kind` and `apiVersion` name; KeyError with kubectl's wording if
    none."""
    for r in ALL:
        if r.kind == kind:
            if r.api_version != api_version:
                raise KeyError(
                    f'no matches for kind "{kind}" in version "{api_version}"'
                    f' (expected apiVersion "{r.api_version}")'
                )
            return r
    raise KeyError(f'no matches for kind "{kind}" in version "{api_version}"')


def by_message(msg: M) -> Resource[M]:
    """The resource of a message's kind; KeyError if it is not an API object."""
    for r in ALL:
        if isinstance(msg, r.message):
            return r
    raise KeyError(type(msg).__name__)
