"""Pod subresources: binding (the scheduler's write), log, exec and attach (proxied to the node's
kubelet)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from apiserver import errors
from apiserver.registry.pod import kubelet_client
from apiserver.registry.store import Store
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2, kubelet_pb2_grpc
from podplane.apimachinery.conditions import set_pod_condition

DEFAULT_KUBELET_PORT = 10250


async def bind(pods: Store, binding: core_pb2.Binding,
               cached: Callable[[str, str], Any | None] | None = None) -> core_pb2.Pod:
    """Sets spec.nodeName and PodScheduled=True. `cached(namespace, name)`, the watch cache's copy
    of the pod, saves reading it from etcd first."""
    namespace = binding.metadata.namespace or "default"
    name = binding.metadata.name
    node = binding.target.name
    if not name:
        raise errors.bad_request("metadata.name: Required value: the pod to bind")
    if not node:
        raise errors.bad_request("target.name: Required value: the node to bind to")

    def assign(pod: Any) -> Any:
        if pod.metadata.deletion_timestamp:
            raise errors.conflict(pods.resource, f"{name}/binding",
                                  "pod is being deleted, cannot be assigned to a host")
        if pod.spec.node_name:
            raise errors.conflict(pods.resource, f"{name}/binding",
                                  f'pod {name} is already assigned to node "{pod.spec.node_name}"')
        pod.spec.node_name = node
        set_pod_condition(pod.status, core_pb2.PodCondition(type="PodScheduled", status="True"))
        return pod

    pod: core_pb2.Pod = await pods.guaranteed_update(
        namespace, name, assign, expected_uid=binding.metadata.uid,
        cached=cached(namespace, name) if cached is not None else None)
    return pod


def _choose_container(pod: Any, requested: str) -> str:
    names: list[str] = [c.name for c in pod.spec.containers]
    every = names + [c.name for c in (*pod.spec.init_containers, *pod.spec.ephemeral_containers)]
    name = pod.metadata.name
    if requested:
        if requested not in every:
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(f"a container name must be specified for pod {name}, "
                             f"choose one of: [{' '.join(names)}]")


def _statuses(pod: Any) -> list[Any]:
    s = pod.status
    return [*s.container_statuses, *s.init_container_statuses, *s.ephemeral_container_statuses]


def _kubelet_address(node: Any) -> str:
    address = next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")
    if not address:
        raise errors.bad_request(f'node "{node.metadata.name}" has no InternalIP address')
    port = node.status.daemon_endpoints.kubelet_endpoint.port or DEFAULT_KUBELET_PORT
    return f"[{address}]:{port}" if ":" in str(address) else f"{address}:{port}"


async def logs(pods: Store, nodes: Store,
               request: core_pb2.PodLogRequest) -> AsyncIterator[core_pb2.LogChunk]:
    pod = await pods.get(request.namespace or "default", request.name)
    container = _choose_container(pod, request.container)
    status = next((s for s in _statuses(pod) if s.name == container), None)
    if not pod.spec.node_name or status is None or (
            status.state.HasField("waiting") and not status.container_id
            and not request.previous):
        reason = status.state.waiting.reason if status and status.state.HasField("waiting") else (
            "ContainerCreating" if pod.spec.node_name else "Pending")
        raise errors.bad_request(f'container "{container}" in pod "{pod.metadata.name}" is '
                                 f"waiting to start: {reason}")
    node = await nodes.get("", pod.spec.node_name)
    kreq = kubelet_pb2.ContainerLogsRequest(
        namespace=pod.metadata.namespace, pod_name=pod.metadata.name, pod_uid=pod.metadata.uid,
        container=container, follow=request.follow, previous=request.previous,
        timestamps=request.timestamps)
    if request.HasField("tail_lines"):
        kreq.tail_lines = request.tail_lines
    if request.HasField("since_seconds"):
        kreq.since_seconds = request.since_seconds
    address = _kubelet_address(node)
    async with kubelet_client.channel(address, node.metadata.name) as channel:
        stream = kubelet_pb2_grpc.KubeletStub(channel).ContainerLogs(kreq, timeout=None)
        async for chunk in _relay(stream, node, address):
            yield chunk


async def _relay(stream: AsyncIterator[Any], node: Any, address: str) -> AsyncIterator[Any]:
    """A kubelet stream's messages, its errors turned into the apiserver's."""
    try:
        async for message in stream:
            yield message
    except grpc.aio.AioRpcError as e:
        if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise errors.unavailable(f"the kubelet on node {node.metadata.name} ({address}) "
                                     f"is unreachable: {e.details()}") from None
        raise errors.APIError(e.code(), "InternalError", e.details() or "") from None


async def exec_command(pods: Store, nodes: Store,
                       request: core_pb2.PodExecRequest) -> AsyncIterator[core_pb2.ExecChunk]:
    """Runs a command in a running container through its node's kubelet (non-interactive)."""
    if not request.command:
        raise errors.bad_request("you must specify at least one command for the container")
    pod = await pods.get(request.namespace or "default", request.name)
    name = pod.metadata.name
    container = _choose_container(pod, request.container)
    if pod.status.phase in ("Succeeded", "Failed"):
        raise errors.bad_request(f"cannot exec into a container in a completed pod; current "
                                 f"phase is {pod.status.phase}")
    if not pod.spec.node_name:
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    status = next((s for s in _statuses(pod) if s.name == container), None)
    if status is None or not status.state.HasField("running"):
        raise errors.bad_request(
            f'unable to upgrade connection: container not found ("{container}")')
    node = await nodes.get("", pod.spec.node_name)
    kreq = kubelet_pb2.ContainerExecRequest(
        namespace=pod.metadata.namespace, pod_name=name, pod_uid=pod.metadata.uid,
        container=container, command=list(request.command))
    if request.HasField("stdin"):
        kreq.stdin = request.stdin
    address = _kubelet_address(node)
    async with kubelet_client.channel(address, node.metadata.name) as channel:
        stream = kubelet_pb2_grpc.KubeletStub(channel).ContainerExec(kreq, timeout=None)
        async for chunk in _relay(stream, node, address):
            yield chunk


async def attach(pods: Store, nodes: Store,
                 request: core_pb2.PodAttachRequest) -> AsyncIterator[core_pb2.ExecChunk]:
    """Attaches to a running container's own process through its node's kubelet: its output from
    the start and, once it ends, its exit code (kubectl attach, without a terminal)."""
    pod = await pods.get(request.namespace or "default", request.name)
    name = pod.metadata.name
    container = _choose_container(pod, request.container)
    if pod.status.phase in ("Succeeded", "Failed"):
        raise errors.bad_request(f"cannot attach to a container in a completed pod; current "
                                 f"phase is {pod.status.phase}")
    if not pod.spec.node_name:
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    status = next((s for s in _statuses(pod) if s.name == container), None)
    if status is None or status.state.HasField("waiting") or not status.container_id:
        raise errors.bad_request(
            f'unable to upgrade connection: container not found ("{container}")')
    node = await nodes.get("", pod.spec.node_name)
    kreq = kubelet_pb2.ContainerAttachRequest(
        namespace=pod.metadata.namespace, pod_name=name, pod_uid=pod.metadata.uid,
        container=container)
    if request.HasField("stdin"):
        kreq.stdin = request.stdin
    address = _kubelet_address(node)
    async with kubelet_client.channel(address, node.metadata.name) as channel:
        stream = kubelet_pb2_grpc.KubeletStub(channel).ContainerAttach(kreq, timeout=None)
        async for chunk in _relay(stream, node, address):
            yield chunk
