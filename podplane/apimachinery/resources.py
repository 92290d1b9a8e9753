"""The resource kinds the API serves: one table that the apiserver, the client and podctl all
read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol

import grpc
from google.protobuf.message import Message

from podplane.api.apiextensions.v1 import (
    apiextensions_pb2,
    apiextensions_pb2_grpc,
    custom_objects_pb2,
    custom_objects_pb2_grpc,
)
from podplane.api.apps.v1 import apps_pb2, apps_pb2_grpc
from podplane.api.authentication.v1 import authentication_pb2, authentication_pb2_grpc
from podplane.api.authorization.v1 import authorization_pb2, authorization_pb2_grpc
from podplane.api.batch.v1 import batch_pb2, batch_pb2_grpc
from podplane.api.certificates.v1 import certificates_pb2, certificates_pb2_grpc
from podplane.api.coordination.v1 import lease_pb2, lease_pb2_grpc

# services_pb2 registers the service descriptors in the default pool, which server reflection reads.
from podplane.api.core.v1 import core_pb2, service_pb2, services_pb2, services_pb2_grpc  # noqa: F401
from podplane.api.discovery.v1 import discovery_pb2, discovery_pb2_grpc
from podplane.api.node.v1 import node_pb2, node_pb2_grpc
from podplane.api.policy.v1 import policy_pb2, policy_pb2_grpc
from podplane.api.rbac.v1 import rbac_pb2, rbac_pb2_grpc
from podplane.api.scheduling.v1 import scheduling_pb2, scheduling_pb2_grpc
from podplane.api.storage.v1 import storage_pb2, storage_pb2_grpc

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    # A Resource whose kind is not known statically (by_name(), a loop over ALL) gives untyped
    # messages: a protobuf Message has no metadata, spec or items to type-check against.
    M = TypeVar("M", bound=Message, default=Any)
    L = TypeVar("L", bound=Message, default=Any)
    E = TypeVar("E", bound=Message, default=Any)
else:  # type parameter defaults are a type checker's matter; Python 3.11's TypeVar has none
    from typing import TypeVar

    M = TypeVar("M", bound=Message)
    L = TypeVar("L", bound=Message)
    E = TypeVar("E", bound=Message)


class MethodRegistry(Protocol):
    """What the generated add_*Servicer_to_server functions add a servicer's methods to: a grpc
    server, or podplane.componentbase.serving.MethodTable."""

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None: ...

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None: ...


@dataclass(frozen=True)
class Resource(Generic[M, L, E]):
    """One kind: its names, its messages (the object M, its list L, its watch event E) and its
    gRPC service."""

    kind: str
    plural: str
    api_version: str
    namespaced: bool
    message: type[M]
    list_message: type[L]
    watch_event: type[E]
    # Full gRPC service name, e.g. "podplane.core.v1.Pods".
    service: str
    # The generated client stub class (grpc's generated code has no type stubs).
    stub: Callable[[grpc.aio.Channel], Any]
    # The generated add_*Servicer_to_server(servicer, registry).
    add_servicer: Callable[[object, MethodRegistry], None]
    has_status: bool
    short_names: tuple[str, ...] = ()
    # The groups of resources it belongs to (`kubectl get all` lists the category "all").
    categories: tuple[str, ...] = ()
    # A custom resource's names, as its CustomResourceDefinition gives them; a built-in kind's
    # are its kind's (pods: pod, PodList).
    singular_name: str = ""
    list_kind_name: str = ""

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return self.list_kind_name or f"{self.kind}List"

    @property
    def group(self) -> str:
        """ "" for the core group (apiVersion v1), else the group (apps for apps/v1)."""
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def custom(self) -> bool:
        """Whether the kind is a CustomResourceDefinition's, served as CustomObject messages."""
        return self.message is custom_objects_pb2.CustomObject

    def new(self) -> M:
        return self.message()


# What `kubectl get all` lists.
ALL_CATEGORY = ("all",)

POD = Resource(
    kind="Pod",
    plural="pods",
    api_version="v1",
    namespaced=True,
    message=core_pb2.Pod,
    list_message=core_pb2.PodList,
    watch_event=core_pb2.PodWatchEvent,
    service="podplane.core.v1.Pods",
    stub=services_pb2_grpc.PodsStub,
    add_servicer=services_pb2_grpc.add_PodsServicer_to_server,
    has_status=True,
    short_names=("po",),
    categories=ALL_CATEGORY,
)
NODE = Resource(
    kind="Node",
    plural="nodes",
    api_version="v1",
    namespaced=False,
    message=core_pb2.Node,
    list_message=core_pb2.NodeList,
    watch_event=core_pb2.NodeWatchEvent,
    service="podplane.core.v1.Nodes",
    stub=services_pb2_grpc.NodesStub,
    add_servicer=services_pb2_grpc.add_NodesServicer_to_server,
    has_status=True,
    short_names=("no",),
)
NAMESPACE = Resource(
    kind="Namespace",
    plural="namespaces",
    api_version="v1",
    namespaced=False,
    message=core_pb2.Namespace,
    list_message=core_pb2.NamespaceList,
    watch_event=core_pb2.NamespaceWatchEvent,
    service="podplane.core.v1.Namespaces",
    stub=services_pb2_grpc.NamespacesStub,
    add_servicer=services_pb2_grpc.add_NamespacesServicer_to_server,
    has_status=False,
    short_names=("ns",),
)
EVENT = Resource(
    kind="Event",
    plural="events",
    api_version="v1",
    namespaced=True,
    message=core_pb2.Event,
    list_message=core_pb2.EventList,
    watch_event=core_pb2.EventWatchEvent,
    service="podplane.core.v1.Events",
    stub=services_pb2_grpc.EventsStub,
    add_servicer=services_pb2_grpc.add_EventsServicer_to_server,
    has_status=False,
    short_names=("ev",),
)
LEASE = Resource(
    kind="Lease",
    plural="leases",
    api_version="coordination.k8s.io/v1",
    namespaced=True,
    message=lease_pb2.Lease,
    list_message=lease_pb2.LeaseList,
    watch_event=lease_pb2.LeaseWatchEvent,
    service="podplane.coordination.v1.Leases",
    stub=lease_pb2_grpc.LeasesStub,
    add_servicer=lease_pb2_grpc.add_LeasesServicer_to_server,
    has_status=False,
)

REPLICATION_CONTROLLER = Resource(
    kind="ReplicationController",
    plural="replicationcontrollers",
    api_version="v1",
    namespaced=True,
    message=core_pb2.ReplicationController,
    list_message=core_pb2.ReplicationControllerList,
    watch_event=core_pb2.ReplicationControllerWatchEvent,
    service="podplane.core.v1.ReplicationControllers",
    stub=services_pb2_grpc.ReplicationControllersStub,
    add_servicer=services_pb2_grpc.add_ReplicationControllersServicer_to_server,
    has_status=True,
    short_names=("rc",),
    categories=ALL_CATEGORY,
)
REPLICA_SET = Resource(
    kind="ReplicaSet",
    plural="replicasets",
    api_version="apps/v1",
    namespaced=True,
    message=apps_pb2.ReplicaSet,
    list_message=apps_pb2.ReplicaSetList,
    watch_event=apps_pb2.ReplicaSetWatchEvent,
    service="podplane.apps.v1.ReplicaSets",
    stub=apps_pb2_grpc.ReplicaSetsStub,
    add_servicer=apps_pb2_grpc.add_ReplicaSetsServicer_to_server,
    has_status=True,
    short_names=("rs",),
    categories=ALL_CATEGORY,
)
DEPLOYMENT = Resource(
    kind="Deployment",
    plural="deployments",
    api_version="apps/v1",
    namespaced=True,
    message=apps_pb2.Deployment,
    list_message=apps_pb2.DeploymentList,
    watch_event=apps_pb2.DeploymentWatchEvent,
    service="podplane.apps.v1.Deployments",
    stub=apps_pb2_grpc.DeploymentsStub,
    add_servicer=apps_pb2_grpc.add_DeploymentsServicer_to_server,
    has_status=True,
    short_names=("deploy",),
    categories=ALL_CATEGORY,
)
JOB = Resource(
    kind="Job",
    plural="jobs",
    api_version="batch/v1",
    namespaced=True,
    message=batch_pb2.Job,
    list_message=batch_pb2.JobList,
    watch_event=batch_pb2.JobWatchEvent,
    service="podplane.batch.v1.Jobs",
    stub=batch_pb2_grpc.JobsStub,
    add_servicer=batch_pb2_grpc.add_JobsServicer_to_server,
    has_status=True,
    categories=ALL_CATEGORY,
)
CONFIG_MAP = Resource(
    kind="ConfigMap",
    plural="configmaps",
    api_version="v1",
    namespaced=True,
    message=core_pb2.ConfigMap,
    list_message=core_pb2.ConfigMapList,
    watch_event=core_pb2.ConfigMapWatchEvent,
    service="podplane.core.v1.ConfigMaps",
    stub=services_pb2_grpc.ConfigMapsStub,
    add_servicer=services_pb2_grpc.add_ConfigMapsServicer_to_server,
    has_status=False,
    short_names=("cm",),
)
SECRET = Resource(
    kind="Secret",
    plural="secrets",
    api_version="v1",
    namespaced=True,
    message=core_pb2.Secret,
    list_message=core_pb2.SecretList,
    watch_event=core_pb2.SecretWatchEvent,
    service="podplane.core.v1.Secrets",
    stub=services_pb2_grpc.SecretsStub,
    add_servicer=services_pb2_grpc.add_SecretsServicer_to_server,
    has_status=False,
)
SERVICE_ACCOUNT = Resource(
    kind="ServiceAccount",
    plural="serviceaccounts",
    api_version="v1",
    namespaced=True,
    message=core_pb2.ServiceAccount,
    list_message=core_pb2.ServiceAccountList,
    watch_event=core_pb2.ServiceAccountWatchEvent,
    service="podplane.core.v1.ServiceAccounts",
    stub=services_pb2_grpc.ServiceAccountsStub,
    add_servicer=services_pb2_grpc.add_ServiceAccountsServicer_to_server,
    has_status=False,
    short_names=("sa",),
)
PERSISTENT_VOLUME = Resource(
    kind="PersistentVolume",
    plural="persistentvolumes",
    api_version="v1",
    namespaced=False,
    message=core_pb2.PersistentVolume,
    list_message=core_pb2.PersistentVolumeList,
    watch_event=core_pb2.PersistentVolumeWatchEvent,
    service="podplane.core.v1.PersistentVolumes",
    stub=services_pb2_grpc.PersistentVolumesStub,
    add_servicer=services_pb2_grpc.add_PersistentVolumesServicer_to_server,
    has_status=True,
    short_names=("pv",),
)
PERSISTENT_VOLUME_CLAIM = Resource(
    kind="PersistentVolumeClaim",
    plural="persistentvolumeclaims",
    api_version="v1",
    namespaced=True,
    message=core_pb2.PersistentVolumeClaim,
    list_message=core_pb2.PersistentVolumeClaimList,
    watch_event=core_pb2.PersistentVolumeClaimWatchEvent,
    service="podplane.core.v1.PersistentVolumeClaims",
    stub=services_pb2_grpc.PersistentVolumeClaimsStub,
    add_servicer=services_pb2_grpc.add_PersistentVolumeClaimsServicer_to_server,
    has_status=True,
    short_names=("pvc",),
)
STORAGE_CLASS = Resource(
    kind="StorageClass",
    plural="storageclasses",
    api_version="storage.k8s.io/v1",
    namespaced=False,
    message=storage_pb2.StorageClass,
    list_message=storage_pb2.StorageClassList,
    watch_event=storage_pb2.StorageClassWatchEvent,
    service="podplane.storage.v1.StorageClasses",
    stub=storage_pb2_grpc.StorageClassesStub,
    add_servicer=storage_pb2_grpc.add_StorageClassesServicer_to_server,
    has_status=False,
    short_names=("sc",),
)
SERVICE = Resource(
    kind="Service",
    plural="services",
    api_version="v1",
    namespaced=True,
    message=service_pb2.Service,
    list_message=service_pb2.ServiceList,
    watch_event=service_pb2.ServiceWatchEvent,
    service="podplane.core.v1.Services",
    stub=services_pb2_grpc.ServicesStub,
    add_servicer=services_pb2_grpc.add_ServicesServicer_to_server,
    has_status=True,
    short_names=("svc",),
    categories=ALL_CATEGORY,
)
ENDPOINTS = Resource(
    kind="Endpoints",
    plural="endpoints",
    api_version="v1",
    namespaced=True,
    message=service_pb2.Endpoints,
    list_message=service_pb2.EndpointsList,
    watch_event=service_pb2.EndpointsWatchEvent,
    service="podplane.core.v1.EndpointsService",
    stub=services_pb2_grpc.EndpointsServiceStub,
    add_servicer=services_pb2_grpc.add_EndpointsServiceServicer_to_server,
    has_status=False,
    short_names=("ep",),
)
ENDPOINT_SLICE = Resource(
    kind="EndpointSlice",
    plural="endpointslices",
    api_version="discovery.k8s.io/v1",
    namespaced=True,
    message=discovery_pb2.EndpointSlice,
    list_message=discovery_pb2.EndpointSliceList,
    watch_event=discovery_pb2.EndpointSliceWatchEvent,
    service="podplane.discovery.v1.EndpointSlices",
    stub=discovery_pb2_grpc.EndpointSlicesStub,
    add_servicer=discovery_pb2_grpc.add_EndpointSlicesServicer_to_server,
    has_status=False,
)
ROLE = Resource(
    kind="Role",
    plural="roles",
    api_version="rbac.authorization.k8s.io/v1",
    namespaced=True,
    message=rbac_pb2.Role,
    list_message=rbac_pb2.RoleList,
    watch_event=rbac_pb2.RoleWatchEvent,
    service="podplane.rbac.v1.Roles",
    stub=rbac_pb2_grpc.RolesStub,
    add_servicer=rbac_pb2_grpc.add_RolesServicer_to_server,
    has_status=False,
)
CLUSTER_ROLE = Resource(
    kind="ClusterRole",
    plural="clusterroles",
    api_version="rbac.authorization.k8s.io/v1",
    namespaced=False,
    message=rbac_pb2.ClusterRole,
    list_message=rbac_pb2.ClusterRoleList,
    watch_event=rbac_pb2.ClusterRoleWatchEvent,
    service="podplane.rbac.v1.ClusterRoles",
    stub=rbac_pb2_grpc.ClusterRolesStub,
    add_servicer=rbac_pb2_grpc.add_ClusterRolesServicer_to_server,
    has_status=False,
)
ROLE_BINDING = Resource(
    kind="RoleBinding",
    plural="rolebindings",
    api_version="rbac.authorization.k8s.io/v1",
    namespaced=True,
    message=rbac_pb2.RoleBinding,
    list_message=rbac_pb2.RoleBindingList,
    watch_event=rbac_pb2.RoleBindingWatchEvent,
    service="podplane.rbac.v1.RoleBindings",
    stub=rbac_pb2_grpc.RoleBindingsStub,
    add_servicer=rbac_pb2_grpc.add_RoleBindingsServicer_to_server,
    has_status=False,
)
CLUSTER_ROLE_BINDING = Resource(
    kind="ClusterRoleBinding",
    plural="clusterrolebindings",
    api_version="rbac.authorization.k8s.io/v1",
    namespaced=False,
    message=rbac_pb2.ClusterRoleBinding,
    list_message=rbac_pb2.ClusterRoleBindingList,
    watch_event=rbac_pb2.ClusterRoleBindingWatchEvent,
    service="podplane.rbac.v1.ClusterRoleBindings",
    stub=rbac_pb2_grpc.ClusterRoleBindingsStub,
    add_servicer=rbac_pb2_grpc.add_ClusterRoleBindingsServicer_to_server,
    has_status=False,
)
DAEMON_SET = Resource(
    kind="DaemonSet",
    plural="daemonsets",
    api_version="apps/v1",
    namespaced=True,
    message=apps_pb2.DaemonSet,
    list_message=apps_pb2.DaemonSetList,
    watch_event=apps_pb2.DaemonSetWatchEvent,
    service="podplane.apps.v1.DaemonSets",
    stub=apps_pb2_grpc.DaemonSetsStub,
    add_servicer=apps_pb2_grpc.add_DaemonSetsServicer_to_server,
    has_status=True,
    short_names=("ds",),
    categories=ALL_CATEGORY,
)
STATEFUL_SET = Resource(
    kind="StatefulSet",
    plural="statefulsets",
    api_version="apps/v1",
    namespaced=True,
    message=apps_pb2.StatefulSet,
    list_message=apps_pb2.StatefulSetList,
    watch_event=apps_pb2.StatefulSetWatchEvent,
    service="podplane.apps.v1.StatefulSets",
    stub=apps_pb2_grpc.StatefulSetsStub,
    add_servicer=apps_pb2_grpc.add_StatefulSetsServicer_to_server,
    has_status=True,
    short_names=("sts",),
    categories=ALL_CATEGORY,
)
CONTROLLER_REVISION = Resource(
    kind="ControllerRevision",
    plural="controllerrevisions",
    api_version="apps/v1",
    namespaced=True,
    message=apps_pb2.ControllerRevision,
    list_message=apps_pb2.ControllerRevisionList,
    watch_event=apps_pb2.ControllerRevisionWatchEvent,
    service="podplane.apps.v1.ControllerRevisions",
    stub=apps_pb2_grpc.ControllerRevisionsStub,
    add_servicer=apps_pb2_grpc.add_ControllerRevisionsServicer_to_server,
    has_status=False,
)
CRON_JOB = Resource(
    kind="CronJob",
    plural="cronjobs",
    api_version="batch/v1",
    namespaced=True,
    message=batch_pb2.CronJob,
    list_message=batch_pb2.CronJobList,
    watch_event=batch_pb2.CronJobWatchEvent,
    service="podplane.batch.v1.CronJobs",
    stub=batch_pb2_grpc.CronJobsStub,
    add_servicer=batch_pb2_grpc.add_CronJobsServicer_to_server,
    has_status=True,
    short_names=("cj",),
    categories=ALL_CATEGORY,
)
POD_DISRUPTION_BUDGET = Resource(
    kind="PodDisruptionBudget",
    plural="poddisruptionbudgets",
    api_version="policy/v1",
    namespaced=True,
    message=policy_pb2.PodDisruptionBudget,
    list_message=policy_pb2.PodDisruptionBudgetList,
    watch_event=policy_pb2.PodDisruptionBudgetWatchEvent,
    service="podplane.policy.v1.PodDisruptionBudgets",
    stub=policy_pb2_grpc.PodDisruptionBudgetsStub,
    add_servicer=policy_pb2_grpc.add_PodDisruptionBudgetsServicer_to_server,
    has_status=True,
    short_names=("pdb",),
)
PRIORITY_CLASS = Resource(
    kind="PriorityClass",
    plural="priorityclasses",
    api_version="scheduling.k8s.io/v1",
    namespaced=False,
    message=scheduling_pb2.PriorityClass,
    list_message=scheduling_pb2.PriorityClassList,
    watch_event=scheduling_pb2.PriorityClassWatchEvent,
    service="podplane.scheduling.v1.PriorityClasses",
    stub=scheduling_pb2_grpc.PriorityClassesStub,
    add_servicer=scheduling_pb2_grpc.add_PriorityClassesServicer_to_server,
    has_status=False,
    short_names=("pc",),
)
RUNTIME_CLASS = Resource(
    kind="RuntimeClass",
    plural="runtimeclasses",
    api_version="node.k8s.io/v1",
    namespaced=False,
    message=node_pb2.RuntimeClass,
    list_message=node_pb2.RuntimeClassList,
    watch_event=node_pb2.RuntimeClassWatchEvent,
    service="podplane.node.v1.RuntimeClasses",
    stub=node_pb2_grpc.RuntimeClassesStub,
    add_servicer=node_pb2_grpc.add_RuntimeClassesServicer_to_server,
    has_status=False,
)
CUSTOM_RESOURCE_DEFINITION = Resource(
    kind="CustomResourceDefinition",
    plural="customresourcedefinitions",
    api_version="apiextensions.k8s.io/v1",
    namespaced=False,
    message=apiextensions_pb2.CustomResourceDefinition,
    list_message=apiextensions_pb2.CustomResourceDefinitionList,
    watch_event=apiextensions_pb2.CustomResourceDefinitionWatchEvent,
    service="podplane.apiextensions.v1.CustomResourceDefinitions",
    stub=apiextensions_pb2_grpc.CustomResourceDefinitionsStub,
    add_servicer=apiextensions_pb2_grpc.add_CustomResourceDefinitionsServicer_to_server,
    has_status=True,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
)
CERTIFICATE_SIGNING_REQUEST = Resource(
    kind="CertificateSigningRequest",
    plural="certificatesigningrequests",
    api_version="certificates.k8s.io/v1",
    namespaced=False,
    message=certificates_pb2.CertificateSigningRequest,
    list_message=certificates_pb2.CertificateSigningRequestList,
    watch_event=certificates_pb2.CertificateSigningRequestWatchEvent,
    service="podplane.certificates.v1.CertificateSigningRequests",
    stub=certificates_pb2_grpc.CertificateSigningRequestsStub,
    add_servicer=certificates_pb2_grpc.add_CertificateSigningRequestsServicer_to_server,
    has_status=True,
    short_names=("csr",),
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
)

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


@dataclass(frozen=True)
class CreateOnlyResource(Generic[M]):
    """A kind that is only created and never stored (Kubernetes' access and token reviews): a
    create is a question, answered with the object sent and its status filled in. Served at both
    doors with the create verb alone; it has no list, watch or storage."""

    kind: str
    plural: str
    api_version: str
    namespaced: bool
    message: type[M]
    # Full gRPC service name, e.g. "podplane.authorization.v1.SelfSubjectAccessReviews".
    service: str
    stub: Callable[[grpc.aio.Channel], Any]
    add_servicer: Callable[[object, MethodRegistry], None]

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def new(self) -> M:
        return self.message()


SELF_SUBJECT_ACCESS_REVIEW = CreateOnlyResource(
    kind="SelfSubjectAccessReview",
    plural="selfsubjectaccessreviews",
    api_version="authorization.k8s.io/v1",
    namespaced=False,
    message=authorization_pb2.SelfSubjectAccessReview,
    service="podplane.authorization.v1.SelfSubjectAccessReviews",
    stub=authorization_pb2_grpc.SelfSubjectAccessReviewsStub,
    add_servicer=authorization_pb2_grpc.add_SelfSubjectAccessReviewsServicer_to_server,
)
SELF_SUBJECT_RULES_REVIEW = CreateOnlyResource(
    kind="SelfSubjectRulesReview",
    plural="selfsubjectrulesreviews",
    api_version="authorization.k8s.io/v1",
    namespaced=False,
    message=authorization_pb2.SelfSubjectRulesReview,
    service="podplane.authorization.v1.SelfSubjectRulesReviews",
    stub=authorization_pb2_grpc.SelfSubjectRulesReviewsStub,
    add_servicer=authorization_pb2_grpc.add_SelfSubjectRulesReviewsServicer_to_server,
)
SUBJECT_ACCESS_REVIEW = CreateOnlyResource(
    kind="SubjectAccessReview",
    plural="subjectaccessreviews",
    api_version="authorization.k8s.io/v1",
    namespaced=False,
    message=authorization_pb2.SubjectAccessReview,
    service="podplane.authorization.v1.SubjectAccessReviews",
    stub=authorization_pb2_grpc.SubjectAccessReviewsStub,
    add_servicer=authorization_pb2_grpc.add_SubjectAccessReviewsServicer_to_server,
)
LOCAL_SUBJECT_ACCESS_REVIEW = CreateOnlyResource(
    kind="LocalSubjectAccessReview",
    plural="localsubjectaccessreviews",
    api_version="authorization.k8s.io/v1",
    namespaced=True,
    message=authorization_pb2.LocalSubjectAccessReview,
    service="podplane.authorization.v1.LocalSubjectAccessReviews",
    stub=authorization_pb2_grpc.LocalSubjectAccessReviewsStub,
    add_servicer=authorization_pb2_grpc.add_LocalSubjectAccessReviewsServicer_to_server,
)
SELF_SUBJECT_REVIEW = CreateOnlyResource(
    kind="SelfSubjectReview",
    plural="selfsubjectreviews",
    api_version="authentication.k8s.io/v1",
    namespaced=False,
    message=authentication_pb2.SelfSubjectReview,
    service="podplane.authentication.v1.SelfSubjectReviews",
    stub=authentication_pb2_grpc.SelfSubjectReviewsStub,
    add_servicer=authentication_pb2_grpc.add_SelfSubjectReviewsServicer_to_server,
)
TOKEN_REVIEW = CreateOnlyResource(
    kind="TokenReview",
    plural="tokenreviews",
    api_version="authentication.k8s.io/v1",
    namespaced=False,
    message=authentication_pb2.TokenReview,
    service="podplane.authentication.v1.TokenReviews",
    stub=authentication_pb2_grpc.TokenReviewsStub,
    add_servicer=authentication_pb2_grpc.add_TokenReviewsServicer_to_server,
)

# The create-only kinds: served (discovery, both doors, authorization) but in none of ALL's
# places that store, list, watch or delete.
CREATE_ONLY: tuple[CreateOnlyResource, ...] = (
    SELF_SUBJECT_ACCESS_REVIEW,
    SELF_SUBJECT_RULES_REVIEW,
    SUBJECT_ACCESS_REVIEW,
    LOCAL_SUBJECT_ACCESS_REVIEW,
    SELF_SUBJECT_REVIEW,
    TOKEN_REVIEW,
)
# Every kind a request may name: what authorization, discovery and the doors' routing know.
SERVED: tuple[Resource | CreateOnlyResource, ...] = (*ALL, *CREATE_ONLY)

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
