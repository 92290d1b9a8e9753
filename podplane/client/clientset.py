"""The typed asyncio client every component and podctl use to talk to the apiserver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

import grpc
from google.protobuf.message import Message

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.authentication.v1 import authentication_pb2, token_request_pb2
from podplane.api.authorization.v1 import authorization_pb2
from podplane.api.autoscaling.v2 import autoscaling_pb2 as autoscaling_v2_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2, quota_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.events.v1 import events_pb2
from podplane.api.flowcontrol.v1 import flowcontrol_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.api.node.v1 import node_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.api.storage.v1 import csi_pb2, storage_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.openapi import KUBERNETES_VERSION
from podplane.apimachinery.resources import CustomResource, Resource
from podplane.client import metered_channel
from podplane.client.admission_clients import AdmissionClients
from podplane.client.credentials import Credentials, aio_channel
from podplane.client.custom_objects import CustomObjectClient, by_name
from podplane.client.resource_client import (
    ResourceClient,
    WatchStream,
    is_already_exists,
    is_conflict,
    is_namespace_terminating,
    is_not_found,
    status_code,
)
from podplane.client.retry_after import call_with_retry

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    T = TypeVar("T", bound=Message)
    # A bare WatchStream (its kind not known statically) streams untyped objects.
    W = TypeVar("W", bound=Message, default=Any)
else:  # type parameter defaults are a type checker's matter; Python 3.11's TypeVar has none
    from typing import TypeVar

    T = TypeVar("T", bound=Message)
    W = TypeVar("W", bound=Message)

__all__ = [
    "Client",
    "ResourceClient",
    "WatchStream",
    "is_already_exists",
    "is_conflict",
    "is_namespace_terminating",
    "is_not_found",
    "status_code",
]

DEFAULT_TIMEOUT = 30.0
# Large pages of nodes or pods exceed gRPC's 4 MiB default.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Reconnecting after the apiserver restarts or a node's network returns: later attempts back
    # off up to 120 s by default, so leaders missed their 10 s renew deadline over a 3 s apiserver
    # restart. Attempts are repeated at most 2 s apart (client-go dials afresh for each request).
    # An attempt made while the apiserver's address was gone hangs on unanswered SYNs (by
    # default until gRPC's 20 s connect timeout, and a cut node took 20 s to come back): where
    # the cluster runs, the machines give a connect up after 3 s (net.ipv4.tcp_syn_retries=1,
    # docker-compose.yml). Not gRPC's minimum connect timeout (grpc.min_reconnect_backoff_ms):
    # at 2 s it doubled the wake-ups of every idle channel's threads (`podplane-bench
    # idle-channels`), about a point of a core over the cluster at rest (docs/benchmarks.md).
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


def separate_channel(target: str, credentials: Credentials | None) -> grpc.aio.Channel:
    """A channel on a TCP connection of its own (gRPC otherwise shares one connection between
    channels to the same target with the same options)."""
    return aio_channel(
        target, credentials, [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
    )


class _PodsStub(Protocol):
    """The part of the generated PodsStub that binds (grpc's generated code has no type stubs)."""

    Bind: grpc.aio.UnaryUnaryMultiCallable


def binding(namespace: str, name: str, node_name: str, uid: str = "") -> core_pb2.Binding:
    """The Binding of pod namespace/name (of that uid, when given) to node `node_name`."""
    return core_pb2.Binding(
        metadata=meta_pb2.ObjectMeta(namespace=namespace, name=name, uid=uid),
        target=core_pb2.ObjectReference(kind="Node", name=node_name),
    )


async def _bind(
    stub: _PodsStub, timeout: float, namespace: str, name: str, node_name: str, uid: str
) -> None:
    request = binding(namespace, name, node_name, uid)
    await call_with_retry(  # retried as ResourceClient._call
        lambda t: stub.Bind(request, timeout=t, wait_for_ready=True), timeout
    )


def user_agent(component: str) -> str:
    """A component's user agent, as client-go's: `kubelet/v1.31.0`. The apiserver names the
    manager of the component's writes (metadata.managedFields) after its first word."""
    return f"{component}/{KUBERNETES_VERSION}"


class Client(AdmissionClients):
    """One channel to the apiserver and a typed client per resource. Create it inside the event
    loop. `agent` names the client in the calls' user agent (user_agent()): the apiserver
    records its writes as that manager's, as Kubernetes does for client-go's."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        credentials: Credentials | None = None,
        agent: str | None = None,
    ) -> None:
        self.target = target
        self.credentials = credentials  # for the extra connections a caller may open
        options: list[tuple[str, int | str]] = list(CHANNEL_OPTIONS)
        if agent is not None:
            options.append(("grpc.primary_user_agent", agent))
        # Every call is counted and timed into client-go's rest_client_* metrics.
        # TLS with `credentials` (the cluster CA, a client certificate or token), else plaintext.
        self.channel: grpc.aio.Channel = metered_channel.MeteredChannel(
            aio_channel(target, credentials, options), target
        )
        self._add_cluster_clients(timeout)
        self._add_workload_clients(timeout)
        self._add_config_and_storage_clients(timeout)
        self._add_csi_clients(timeout)
        self._add_service_clients(timeout)
        self._add_networking_clients(timeout)
        self._add_flowcontrol_clients(timeout)
        self._add_access_clients(timeout)
        self._add_admission_clients(timeout)
        self._add_policy_clients(timeout)
        self._custom: dict[str, CustomObjectClient] = {}
        self._pods_stub = resources.POD.stub(self.channel)
        self._service_accounts_stub = resources.SERVICE_ACCOUNT.stub(self.channel)
        self._subject_access_reviews_stub = resources.SUBJECT_ACCESS_REVIEW.stub(self.channel)
        self._token_reviews_stub = resources.TOKEN_REVIEW.stub(self.channel)
        self.timeout = timeout

    def _add_cluster_clients(self, timeout: float) -> None:
        """The objects every component reads: pods, nodes, namespaces, events, leases."""
        self.pods: ResourceClient[core_pb2.Pod] = ResourceClient(
            self.channel, resources.POD, timeout
        )
        self.nodes: ResourceClient[core_pb2.Node] = ResourceClient(
            self.channel, resources.NODE, timeout
        )
        self.namespaces: ResourceClient[core_pb2.Namespace] = ResourceClient(
            self.channel, resources.NAMESPACE, timeout
        )
        self.events: ResourceClient[core_pb2.Event] = ResourceClient(
            self.channel, resources.EVENT, timeout
        )
        # The same events at events.k8s.io/v1.
        self.events_v1: ResourceClient[events_pb2.Event] = ResourceClient(
            self.channel, resources.EVENT_V1, timeout
        )
        self.leases: ResourceClient[lease_pb2.Lease] = ResourceClient(
            self.channel, resources.LEASE, timeout
        )

    def _add_workload_clients(self, timeout: float) -> None:
        """The workload controllers' objects."""
        self.replicationcontrollers: ResourceClient[core_pb2.ReplicationController] = (
            ResourceClient(self.channel, resources.REPLICATION_CONTROLLER, timeout)
        )
        self.replicasets: ResourceClient[apps_pb2.ReplicaSet] = ResourceClient(
            self.channel, resources.REPLICA_SET, timeout
        )
        self.deployments: ResourceClient[apps_pb2.Deployment] = ResourceClient(
            self.channel, resources.DEPLOYMENT, timeout
        )
        self.jobs: ResourceClient[batch_pb2.Job] = ResourceClient(
            self.channel, resources.JOB, timeout
        )
        self.daemonsets: ResourceClient[apps_pb2.DaemonSet] = ResourceClient(
            self.channel, resources.DAEMON_SET, timeout
        )
        self.statefulsets: ResourceClient[apps_pb2.StatefulSet] = ResourceClient(
            self.channel, resources.STATEFUL_SET, timeout
        )
        self.controllerrevisions: ResourceClient[apps_pb2.ControllerRevision] = ResourceClient(
            self.channel, resources.CONTROLLER_REVISION, timeout
        )
        self.cronjobs: ResourceClient[batch_pb2.CronJob] = ResourceClient(
            self.channel, resources.CRON_JOB, timeout
        )

    def _add_config_and_storage_clients(self, timeout: float) -> None:
        """What pods mount: configuration, identities and volumes."""
        self.configmaps: ResourceClient[core_pb2.ConfigMap] = ResourceClient(
            self.channel, resources.CONFIG_MAP, timeout
        )
        self.secrets: ResourceClient[core_pb2.Secret] = ResourceClient(
            self.channel, resources.SECRET, timeout
        )
        self.serviceaccounts: ResourceClient[core_pb2.ServiceAccount] = ResourceClient(
            self.channel, resources.SERVICE_ACCOUNT, timeout
        )
        self.podtemplates: ResourceClient[core_pb2.PodTemplate] = ResourceClient(
            self.channel, resources.POD_TEMPLATE, timeout
        )
        self.limitranges: ResourceClient[quota_pb2.LimitRange] = ResourceClient(
            self.channel, resources.LIMIT_RANGE, timeout
        )
        self.resourcequotas: ResourceClient[quota_pb2.ResourceQuota] = ResourceClient(
            self.channel, resources.RESOURCE_QUOTA, timeout
        )
        self.horizontalpodautoscalers: ResourceClient[
            autoscaling_v2_pb2.HorizontalPodAutoscaler
        ] = ResourceClient(self.channel, resources.HORIZONTAL_POD_AUTOSCALER, timeout)
        self.persistentvolumes: ResourceClient[core_pb2.PersistentVolume] = ResourceClient(
            self.channel, resources.PERSISTENT_VOLUME, timeout
        )
        self.persistentvolumeclaims: ResourceClient[core_pb2.PersistentVolumeClaim] = (
            ResourceClient(self.channel, resources.PERSISTENT_VOLUME_CLAIM, timeout)
        )
        self.storageclasses: ResourceClient[storage_pb2.StorageClass] = ResourceClient(
            self.channel, resources.STORAGE_CLASS, timeout
        )

    def _add_csi_clients(self, timeout: float) -> None:
        """CSI drivers, what each node has registered, and what the drivers attach."""
        self.csidrivers: ResourceClient[csi_pb2.CSIDriver] = ResourceClient(
            self.channel, resources.CSI_DRIVER, timeout
        )
        self.csinodes: ResourceClient[csi_pb2.CSINode] = ResourceClient(
            self.channel, resources.CSI_NODE, timeout
        )
        self.csistoragecapacities: ResourceClient[csi_pb2.CSIStorageCapacity] = ResourceClient(
            self.channel, resources.CSI_STORAGE_CAPACITY, timeout
        )
        self.volumeattachments: ResourceClient[csi_pb2.VolumeAttachment] = ResourceClient(
            self.channel, resources.VOLUME_ATTACHMENT, timeout
        )

    def _add_service_clients(self, timeout: float) -> None:
        """Services and their endpoints."""
        self.services: ResourceClient[service_pb2.Service] = ResourceClient(
            self.channel, resources.SERVICE, timeout
        )
        self.endpoints: ResourceClient[service_pb2.Endpoints] = ResourceClient(
            self.channel, resources.ENDPOINTS, timeout
        )
        self.endpointslices: ResourceClient[discovery_pb2.EndpointSlice] = ResourceClient(
            self.channel, resources.ENDPOINT_SLICE, timeout
        )

    def _add_networking_clients(self, timeout: float) -> None:
        """What routes traffic to services and what may reach pods: networking.k8s.io."""
        self.ingresses: ResourceClient[networking_pb2.Ingress] = ResourceClient(
            self.channel, resources.INGRESS, timeout
        )
        self.ingressclasses: ResourceClient[networking_pb2.IngressClass] = ResourceClient(
            self.channel, resources.INGRESS_CLASS, timeout
        )
        self.networkpolicies: ResourceClient[networking_pb2.NetworkPolicy] = ResourceClient(
            self.channel, resources.NETWORK_POLICY, timeout
        )

    def _add_flowcontrol_clients(self, timeout: float) -> None:
        """API Priority and Fairness' configuration: flowcontrol.apiserver.k8s.io."""
        self.flowschemas: ResourceClient[flowcontrol_pb2.FlowSchema] = ResourceClient(
            self.channel, resources.FLOW_SCHEMA, timeout
        )
        self.prioritylevelconfigurations: ResourceClient[
            flowcontrol_pb2.PriorityLevelConfiguration
        ] = ResourceClient(self.channel, resources.PRIORITY_LEVEL_CONFIGURATION, timeout)

    def _add_access_clients(self, timeout: float) -> None:
        """Who may do what: RBAC and certificate signing requests."""
        self.roles: ResourceClient[rbac_pb2.Role] = ResourceClient(
            self.channel, resources.ROLE, timeout
        )
        self.clusterroles: ResourceClient[rbac_pb2.ClusterRole] = ResourceClient(
            self.channel, resources.CLUSTER_ROLE, timeout
        )
        self.rolebindings: ResourceClient[rbac_pb2.RoleBinding] = ResourceClient(
            self.channel, resources.ROLE_BINDING, timeout
        )
        self.clusterrolebindings: ResourceClient[rbac_pb2.ClusterRoleBinding] = ResourceClient(
            self.channel, resources.CLUSTER_ROLE_BINDING, timeout
        )
        self.certificatesigningrequests: ResourceClient[
            certificates_pb2.CertificateSigningRequest
        ] = ResourceClient(self.channel, resources.CERTIFICATE_SIGNING_REQUEST, timeout)

    def _add_policy_clients(self, timeout: float) -> None:
        """Disruption budgets, priorities, runtime classes, definitions and API services."""
        self.poddisruptionbudgets: ResourceClient[policy_pb2.PodDisruptionBudget] = ResourceClient(
            self.channel, resources.POD_DISRUPTION_BUDGET, timeout
        )
        self.priorityclasses: ResourceClient[scheduling_pb2.PriorityClass] = ResourceClient(
            self.channel, resources.PRIORITY_CLASS, timeout
        )
        self.runtimeclasses: ResourceClient[node_pb2.RuntimeClass] = ResourceClient(
            self.channel, resources.RUNTIME_CLASS, timeout
        )
        self.customresourcedefinitions: ResourceClient[
            apiextensions_pb2.CustomResourceDefinition
        ] = ResourceClient(self.channel, resources.CUSTOM_RESOURCE_DEFINITION, timeout)
        self.apiservices: ResourceClient[apiregistration_pb2.APIService] = ResourceClient(
            self.channel, resources.API_SERVICE, timeout
        )

    def for_resource(self, resource: Resource[T]) -> ResourceClient[T]:
        """The typed client of a resource (untyped for a resource not known statically); a
        custom resource's is a CustomObjectClient, made on first use."""
        if resource.custom:
            found = self._custom.get(resource.api_version + "/" + resource.plural)
            if found is None:
                found = CustomObjectClient(
                    self.channel, cast(CustomResource, resource), self.timeout
                )
                self._custom[resource.api_version + "/" + resource.plural] = found
            custom: ResourceClient[T] = found  # type: ignore[assignment]
            return custom
        client: ResourceClient[T] = getattr(self, resource.plural)
        return client

    def custom_objects(self, group: str, version: str, plural: str) -> CustomObjectClient:
        """The client of a custom resource, by the group, version and plural of its path."""
        client = self.for_resource(by_name(group, version, plural))
        assert isinstance(client, CustomObjectClient)
        return client

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> None:
        """Assigns a pod to a node (POST pods/<name>/binding); raises if it was not."""
        await _bind(self._pods_stub, self.timeout, namespace, name, node_name, uid)

    async def evict(
        self,
        namespace: str,
        name: str,
        delete_options: meta_pb2.DeleteOptions | None = None,
    ) -> None:
        """Evicts a pod (the pods/eviction subresource): deletes it, with `delete_options`, if
        its PodDisruptionBudget allows; raises RESOURCE_EXHAUSTED (429) when it does not."""
        request = policy_pb2.Eviction(
            api_version="policy/v1",
            kind="Eviction",
            metadata=meta_pb2.ObjectMeta(namespace=namespace, name=name),
        )
        if delete_options is not None:
            request.delete_options.CopyFrom(delete_options)
        await call_with_retry(  # retried as ResourceClient._call
            lambda timeout: self._pods_stub.Evict(request, timeout=timeout), self.timeout
        )

    def pod_logs(
        self,
        namespace: str,
        name: str,
        *,
        container: str = "",
        follow: bool = False,
        previous: bool = False,
        tail_lines: int | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[core_pb2.LogChunk]:
        request = core_pb2.PodLogRequest(
            namespace=namespace,
            name=name,
            container=container,
            follow=follow,
            previous=previous,
            timestamps=timestamps,
        )
        if tail_lines is not None:
            request.tail_lines = tail_lines
        return cast(AsyncIterator[core_pb2.LogChunk], self._pods_stub.Log(request))

    def pod_exec(
        self,
        namespace: str,
        name: str,
        command: Sequence[str],
        *,
        container: str = "",
        stdin: bytes | None = None,
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        """Runs `command` in a running container: its stdout and stderr chunks as they come, the
        exit code in the last one. `stdin`, when given, is the command's whole standard input."""
        request = core_pb2.PodExecRequest(
            namespace=namespace, name=name, container=container, command=list(command)
        )
        if stdin is not None:
            request.stdin = stdin
        return cast(AsyncIterator[core_pb2.ExecChunk], self._pods_stub.Exec(request))

    async def create_token(
        self, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest:
        """A token of the service account the request's metadata names (the
        serviceaccounts/token subresource): the request with its defaults and status.token."""
        return cast(
            token_request_pb2.TokenRequest,
            await call_with_retry(  # retried as ResourceClient._call
                lambda timeout: self._service_accounts_stub.CreateToken(request, timeout=timeout),
                self.timeout,
            ),
        )

    async def create_subject_access_review(
        self, review: authorization_pb2.SubjectAccessReview
    ) -> authorization_pb2.SubjectAccessReview:
        """Whether the review's user may do what it asks about: the review with its status."""
        return cast(
            authorization_pb2.SubjectAccessReview,
            await call_with_retry(  # retried as ResourceClient._call
                lambda timeout: self._subject_access_reviews_stub.Create(review, timeout=timeout),
                self.timeout,
            ),
        )

    async def create_token_review(
        self, review: authentication_pb2.TokenReview
    ) -> authentication_pb2.TokenReview:
        """Who the review's bearer token names: the review with its status."""
        return cast(
            authentication_pb2.TokenReview,
            await call_with_retry(  # retried as ResourceClient._call
                lambda timeout: self._token_reviews_stub.Create(review, timeout=timeout),
                self.timeout,
            ),
        )

    async def update_ephemeral_containers(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        """Replaces the pod's spec.ephemeralContainers (the pods/ephemeralcontainers subresource:
        they may only be added to); the rest of `pod` is not looked at."""
        return cast(
            core_pb2.Pod,
            await call_with_retry(  # retried as ResourceClient._call
                lambda timeout: self._pods_stub.UpdateEphemeralContainers(pod, timeout=timeout),
                self.timeout,
            ),
        )

    def pod_attach(
        self, namespace: str, name: str, *, container: str = "", stdin: bytes | None = None
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        """The output of a container's own process from its start, then its exit code once it
        ends; `stdin`, when given, is written to the process's standard input, then closed."""
        request = core_pb2.PodAttachRequest(namespace=namespace, name=name, container=container)
        if stdin is not None:
            request.stdin = stdin
        return cast(AsyncIterator[core_pb2.ExecChunk], self._pods_stub.Attach(request))

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
