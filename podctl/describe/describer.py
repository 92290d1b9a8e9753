"""describe_object: reads what a kind's description shows besides the object (its events, a
node's pods and lease, a controller's pods or replica sets), then lays it out (kubectl's
DescriberFor and each describer's Describe)."""

from __future__ import annotations

from datetime import datetime

import grpc
from google.protobuf.message import Message

from podctl.describe.common import utc_now
from podctl.describe.cronjob import describe_cron_job
from podctl.describe.namespace import describe_namespace
from podctl.describe.node import NODE_LEASE_NAMESPACE, describe_node
from podctl.describe.pod import describe_pod
from podctl.describe.secret import describe_secret
from podctl.describe.service import (
    describe_endpoint_slice,
    describe_endpoints,
    describe_service,
)
from podctl.describe.storage import (
    claim_users,
    describe_persistent_volume,
    describe_persistent_volume_claim,
    describe_storage_class,
)
from podctl.describe.workloads import (
    describe_daemon_set,
    describe_deployment,
    describe_job,
    describe_replica_set,
    describe_replication_controller,
    describe_stateful_set,
)
from podctl.workloads.owners import Workload, label_query
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.service import SERVICE_NAME_LABEL
from podplane.client.clientset import Client

# The label that names a Service's EndpointSlices (discoveryv1.LabelServiceName).
# What events are looked up for.
Described = (
    Workload
    | batch_pb2.CronJob
    | service_pb2.Service
    | service_pb2.Endpoints
    | discovery_pb2.EndpointSlice
)

DESCRIBABLE = (
    resources.POD,
    resources.NODE,
    resources.NAMESPACE,
    resources.REPLICATION_CONTROLLER,
    resources.REPLICA_SET,
    resources.DEPLOYMENT,
    resources.DAEMON_SET,
    resources.STATEFUL_SET,
    resources.JOB,
    resources.CRON_JOB,
    resources.SECRET,
    resources.PERSISTENT_VOLUME,
    resources.PERSISTENT_VOLUME_CLAIM,
    resources.STORAGE_CLASS,
    resources.SERVICE,
    resources.ENDPOINTS,
    resources.ENDPOINT_SLICE,
)


async def _pod_events(client: Client, pod: core_pb2.Pod) -> list[core_pb2.Event]:
    # As kubectl: name, namespace, kind and uid, so a deleted pod's namesake's events stay out.
    selector = (
        f"involvedObject.name={pod.metadata.name},"
        f"involvedObject.namespace={pod.metadata.namespace},"
        f"involvedObject.kind=Pod,involvedObject.uid={pod.metadata.uid}"
    )
    events, _ = await client.events.list_all(pod.metadata.namespace, field_selector=selector)
    return list(events)


async def _node_events(client: Client, node: core_pb2.Node) -> list[core_pb2.Event]:
    selector = (
        f"involvedObject.kind=Node,involvedObject.name={node.metadata.name},"
        f"involvedObject.uid={node.metadata.uid}"
    )
    events, _ = await client.events.list_all("", field_selector=selector)
    return list(events)


async def _object_events(client: Client, obj: Described, kind: str) -> list[core_pb2.Event]:
    selector = (
        f"involvedObject.name={obj.metadata.name},"
        f"involvedObject.namespace={obj.metadata.namespace},"
        f"involvedObject.kind={kind},involvedObject.uid={obj.metadata.uid}"
    )
    events, _ = await client.events.list_all(obj.metadata.namespace, field_selector=selector)
    return list(events)


async def _events_of(client: Client, obj: Message, kind: str) -> list[core_pb2.Event]:
    """The events about an object of any kind, in its namespace (every namespace for a
    cluster-scoped one)."""
    meta = object_meta(obj)
    selector = (
        f"involvedObject.name={meta.name},involvedObject.kind={kind},involvedObject.uid={meta.uid}"
    )
    events, _ = await client.events.list_all(meta.namespace, field_selector=selector)
    return list(events)


async def _describe_storage(client: Client, obj: Message, show_events: bool) -> str | None:
    """A persistent volume, claim or storage class; None for another kind."""
    now = utc_now()
    if isinstance(obj, core_pb2.PersistentVolume):
        events = await _events_of(client, obj, "PersistentVolume") if show_events else None
        return describe_persistent_volume(obj, events, now)
    if isinstance(obj, core_pb2.PersistentVolumeClaim):
        pods, _ = await client.pods.list_all(obj.metadata.namespace)
        events = await _events_of(client, obj, "PersistentVolumeClaim") if show_events else None
        return describe_persistent_volume_claim(
            obj, claim_users(pods, obj.metadata.name), events, now
        )
    if isinstance(obj, storage_pb2.StorageClass):
        events = await _events_of(client, obj, "StorageClass") if show_events else None
        return describe_storage_class(obj, events, now)
    return None


async def _describe_workload(
    client: Client, obj: Workload, resource: Resource, show_events: bool, now: datetime
) -> str:
    events = await _object_events(client, obj, resource.kind) if show_events else None
    namespace = obj.metadata.namespace
    if isinstance(obj, batch_pb2.Job):
        return describe_job(obj, events, now)
    if isinstance(obj, apps_pb2.Deployment):
        replica_sets, _ = await client.replicasets.list_all(
            namespace, label_selector=label_query(obj)
        )
        return describe_deployment(obj, replica_sets, events, now)
    pods, _ = await client.pods.list_all(namespace, label_selector=label_query(obj))
    if isinstance(obj, apps_pb2.DaemonSet):
        return describe_daemon_set(obj, pods, events, now)
    if isinstance(obj, apps_pb2.StatefulSet):
        return describe_stateful_set(obj, pods, events, now)
    if isinstance(obj, apps_pb2.ReplicaSet):
        return describe_replica_set(obj, pods, events, now)
    return describe_replication_controller(obj, pods, events, now)


async def _node_pods(client: Client, node: core_pb2.Node) -> list[core_pb2.Pod]:
    selector = f"spec.nodeName={node.metadata.name},status.phase!=Succeeded,status.phase!=Failed"
    pods, _ = await client.pods.list_all("", field_selector=selector)
    return [
        p
        for p in pods
        if p.spec.node_name == node.metadata.name and p.status.phase not in ("Succeeded", "Failed")
    ]


async def describe_object(
    client: Client, obj: Message, resource: Resource, show_events: bool
) -> str:
    """`obj`, an object of `resource` (one of DESCRIBABLE), as kubectl describe shows it."""
    now = utc_now()
    if isinstance(obj, core_pb2.Pod):
        return describe_pod(obj, await _pod_events(client, obj) if show_events else None, now)
    if isinstance(obj, core_pb2.Node):
        lease, lease_error = None, ""
        try:
            lease = await client.leases.get(obj.metadata.name, NODE_LEASE_NAMESPACE)
        except grpc.aio.AioRpcError as e:
            lease_error = str(e.details())
        events = await _node_events(client, obj) if show_events else None
        return describe_node(obj, await _node_pods(client, obj), events, lease, lease_error, now)
    if isinstance(obj, core_pb2.Namespace):
        return describe_namespace(obj)
    if isinstance(obj, core_pb2.Secret):
        return describe_secret(obj)
    storage = await _describe_storage(client, obj, show_events)
    if storage is not None:
        return storage
    if isinstance(obj, service_pb2.Service):
        slices, _ = await client.endpointslices.list_all(
            obj.metadata.namespace, label_selector=f"{SERVICE_NAME_LABEL}={obj.metadata.name}"
        )
        events = await _object_events(client, obj, resource.kind) if show_events else None
        return describe_service(obj, list(slices), events, now)
    if isinstance(obj, service_pb2.Endpoints):
        events = await _object_events(client, obj, resource.kind) if show_events else None
        return describe_endpoints(obj, events, now)
    if isinstance(obj, discovery_pb2.EndpointSlice):
        events = await _object_events(client, obj, resource.kind) if show_events else None
        return describe_endpoint_slice(obj, events, now)
    if isinstance(obj, batch_pb2.CronJob):
        events = await _object_events(client, obj, resource.kind) if show_events else None
        return describe_cron_job(obj, events, now)
    if not isinstance(obj, Workload):
        raise TypeError(f"describing {resource.plural} is not supported")
    return await _describe_workload(client, obj, resource, show_events, now)
