"""The pods/binding subresource (kubernetes pkg/registry/core/pod/storage BindingREST): the
scheduler's write, which assigns a pod to a node."""

from __future__ import annotations

from collections.abc import Callable

from apiserver import errors
from apiserver.registry.generic.store import Store
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.conditions import set_pod_condition


async def bind(
    pods: Store[core_pb2.Pod],
    binding: core_pb2.Binding,
    cached: Callable[[str, str], core_pb2.Pod | None] | None = None,
) -> core_pb2.Pod:
    """Sets spec.nodeName and PodScheduled=True. `cached(namespace, name)`, the watch cache's copy
    of the pod, saves reading it from etcd first."""
    namespace = binding.metadata.namespace or "default"
    name = binding.metadata.name
    node = binding.target.name
    if not name:
        raise errors.bad_request("metadata.name: Required value: the pod to bind")
    if not node:
        raise errors.bad_request("target.name: Required value: the node to bind to")

    async def assign(pod: core_pb2.Pod) -> core_pb2.Pod:
        if pod.metadata.deletion_timestamp:
            raise errors.conflict(
                pods.resource,
                f"{name}/binding",
                "pod is being deleted, cannot be assigned to a host",
            )
        if pod.spec.node_name:
            raise errors.conflict(
                pods.resource,
                f"{name}/binding",
                f'pod {name} is already assigned to node "{pod.spec.node_name}"',
            )
        pod.spec.node_name = node
        set_pod_condition(pod.status, core_pb2.PodCondition(type="PodScheduled", status="True"))
        return pod

    return await pods.guaranteed_update(
        namespace,
        name,
        assign,
        expected_uid=binding.metadata.uid,
        cached=cached(namespace, name) if cached is not None else None,
    )
