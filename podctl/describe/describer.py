"""describe_object: reads what a kind's description shows besides the object (its events, a
node's pods and lease, a controller's pods or replica sets), then lays it out (kubectl's
DescriberFor and each describer's Describe)."""
from __future__ import annotations

from typing import Any

import grpc

from podctl.describe.common import utc_now
from podctl.describe.namespace import describe_namespace
from podctl.describe.node import NODE_LEASE_NAMESPACE, describe_node
from podctl.describe.pod import describe_pod
from podctl.describe.secret import describe_secret
from podctl.describe.workloads import (describe_deployment, describe_job, describe_replica_set,
                                       describe_replication_controller)
from podctl.workloads.owners import label_query
from podplane.apimachinery import resources
from podplane.client.clientset import Client

DESCRIBABLE = (resources.POD, resources.NODE, resources.NAMESPACE, resources.REPLICATION_CONTROLLER,
               resources.REPLICA_SET, resources.DEPLOYMENT, resources.JOB, resources.SECRET)


async def _pod_events(client: Client, pod: Any) -> list[Any]:
    # As kubectl: name, namespace, kind and uid, so a deleted pod's namesake's events stay out.
    selector = (f"involvedObject.name={pod.metadata.name},"
                f"involvedObject.namespace={pod.metadata.namespace},"
                f"involvedObject.kind=Pod,involvedObject.uid={pod.metadata.uid}")
    events, _ = await client.events.list_all(pod.metadata.namespace, field_selector=selector)
    return list(events)


async def _node_events(client: Client, node: Any) -> list[Any]:
    selector = (f"involvedObject.kind=Node,involvedObject.name={node.metadata.name},"
                f"involvedObject.uid={node.metadata.uid}")
    events, _ = await client.events.list_all("", field_selector=selector)
    return list(events)


async def _object_events(client: Client, obj: Any, kind: str) -> list[Any]:
    selector = (f"involvedObject.name={obj.metadata.name},"
                f"involvedObject.namespace={obj.metadata.namespace},"
                f"involvedObject.kind={kind},involvedObject.uid={obj.metadata.uid}")
    events, _ = await client.events.list_all(obj.metadata.namespace, field_selector=selector)
    return list(events)


async def _describe_workload(client: Client, obj: Any, resource: Any, show_events: bool,
                             now: Any) -> str:
    events = await _object_events(client, obj, resource.kind) if show_events else None
    namespace = obj.metadata.namespace
    if resource is resources.JOB:
        return describe_job(obj, events, now)
    if resource is resources.DEPLOYMENT:
        replica_sets, _ = await client.replicasets.list_all(namespace, label_selector=label_query(obj))
        return describe_deployment(obj, replica_sets, events, now)
    pods, _ = await client.pods.list_all(namespace, label_selector=label_query(obj))
    if resource is resources.REPLICA_SET:
        return describe_replica_set(obj, pods, events, now)
    return describe_replication_controller(obj, pods, events, now)


async def _node_pods(client: Client, node: Any) -> list[Any]:
    selector = (f"spec.nodeName={node.metadata.name},status.phase!=Succeeded,"
                "status.phase!=Failed")
    pods, _ = await client.pods.list_all("", field_selector=selector)
    return [p for p in pods if p.spec.node_name == node.metadata.name
            and p.status.phase not in ("Succeeded", "Failed")]


async def describe_object(client: Client, obj: Any, resource: Any, show_events: bool) -> str:
    now = utc_now()
    if resource is resources.POD:
        return describe_pod(obj, await _pod_events(client, obj) if show_events else None, now)
    if resource is resources.NODE:
        lease, lease_error = None, ""
        try:
            lease = await client.leases.get(obj.metadata.name, NODE_LEASE_NAMESPACE)
        except grpc.aio.AioRpcError as e:
            lease_error = str(e.details())
        events = await _node_events(client, obj) if show_events else None
        return describe_node(obj, await _node_pods(client, obj), events, lease, lease_error, now)
    if resource is resources.NAMESPACE:
        return describe_namespace(obj)
    if resource is resources.SECRET:
        return describe_secret(obj)
    return await _describe_workload(client, obj, resource, show_events, now)
