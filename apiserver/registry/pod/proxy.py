"""The pods/log, pods/exec and pods/attach subresources (kubernetes pkg/registry/core/pod/rest):
each finds the pod, its container and its node, and streams from the node's kubelet."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc

from apiserver import errors
from apiserver.objects import pod_containers
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import kubelet_client
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2, kubelet_pb2_grpc
from podplane.apimachinery import kubelet_endpoints

M = TypeVar("M")

# Refuses (raises an APIError) a container not ready for the request: given the pod, the
# container's name and its status (None: none reported yet).
ContainerCheck = Callable[[core_pb2.Pod, str, core_pb2.ContainerStatus | None], None]
# Opens the kubelet's stream on its stub.
KubeletCall = Callable[[kubelet_pb2_grpc.KubeletStub], AsyncIterator[M]]


def _choose_container(pod: core_pb2.Pod, requested: str) -> str:
    names: list[str] = [c.name for c in pod.spec.containers]
    every = {c.name for c in pod_containers(pod.spec)}
    name = pod.metadata.name
    if requested:
        if requested not in every:
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    )


def _status(pod: core_pb2.Pod, container: str) -> core_pb2.ContainerStatus | None:
    s = pod.status
    return next(
        (
            c
            for c in (
                *s.container_statuses,
                *s.init_container_statuses,
                *s.ephemeral_container_statuses,
            )
            if c.name == container
        ),
        None,
    )


def _kubelet_address(node: core_pb2.Node) -> str:
    """podplane's gRPC kubelet service of the node: its InternalIP, at the port its
    podplane.io/kubelet-grpc-port annotation names (10350 without one); the HTTPS kubelet API
    at status.daemonEndpoints' port is the nodes/proxy subresource's."""
    address = kubelet_endpoints.internal_ip(node)
    if not address:
        raise errors.bad_request(f'node "{node.metadata.name}" has no InternalIP address')
    return kubelet_endpoints.host_port(address, kubelet_endpoints.grpc_port(node))


@dataclass(frozen=True)
class Target:
    """Where a proxied request goes: the pod's container on the node at the kubelet's address."""

    pod: core_pb2.Pod
    container: str
    node: core_pb2.Node
    address: str

    async def stream(self, call: KubeletCall[M]) -> AsyncIterator[M]:
        """The kubelet stream `call` opens, its errors turned into the apiserver's."""
        async with kubelet_client.channel(self.address, self.node.metadata.name) as channel:
            try:
                async for message in call(kubelet_pb2_grpc.KubeletStub(channel)):
                    yield message
            except grpc.aio.AioRpcError as e:
                if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise errors.unavailable(
                        f"the kubelet on node {self.node.metadata.name} ({self.address}) is "
                        f"unreachable: {e.details()}"
                    ) from None
                raise errors.APIError(e.code(), "InternalError", e.details() or "") from None


async def _target(
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
    namespace: str,
    name: str,
    container: str,
    check: ContainerCheck,
) -> Target:
    """The pod, its container (the one asked for, or its only one), its node and the node's
    kubelet address; `check` refuses first a container not ready for the request."""
    pod = await pods.get(namespace or "default", name)
    chosen = _choose_container(pod, container)
    check(pod, chosen, _status(pod, chosen))
    node = await nodes.get("", pod.spec.node_name)
    return Target(pod, chosen, node, _kubelet_address(node))


def _started(
    pod: core_pb2.Pod, container: str, status: core_pb2.ContainerStatus | None, previous: bool
) -> None:
    """Logs: the container has started (or, for its previous instance, has run)."""
    if (
        not pod.spec.node_name
        or status is None
        or (status.state.HasField("waiting") and not status.container_id and not previous)
    ):
        reason = (
            status.state.waiting.reason
            if status and status.state.HasField("waiting")
            else ("ContainerCreating" if pod.spec.node_name else "Pending")
        )
        raise errors.bad_request(
            f'container "{container}" in pod "{pod.metadata.name}" is waiting to start: {reason}'
        )


def _attachable(action: str, ready: Callable[[core_pb2.ContainerStatus], bool]) -> ContainerCheck:
    """Exec and attach: the pod has not completed, is on a node, and its container is `ready`."""

    def check(pod: core_pb2.Pod, container: str, status: core_pb2.ContainerStatus | None) -> None:
        if pod.status.phase in ("Succeeded", "Failed"):
            raise errors.bad_request(
                f"cannot {action} a container in a completed pod; current "
                f"phase is {pod.status.phase}"
            )
        if not pod.spec.node_name:
            raise errors.bad_request(f"pod {pod.metadata.name} does not have a host assigned")
        if status is None or not ready(status):
            raise errors.bad_request(
                f'unable to upgrade connection: container not found ("{container}")'
            )

    return check


_EXECUTABLE = _attachable("exec into", lambda s: s.state.HasField("running"))
_ATTACHABLE = _attachable(
    "attach to", lambda s: not s.state.HasField("waiting") and bool(s.container_id)
)


async def logs(
    pods: Store[core_pb2.Pod], nodes: Store[core_pb2.Node], request: core_pb2.PodLogRequest
) -> AsyncIterator[core_pb2.LogChunk]:
    target = await _target(
        pods,
        nodes,
        request.namespace,
        request.name,
        request.container,
        lambda pod, container, status: _started(pod, container, status, request.previous),
    )
    pod = target.pod
    kreq = kubelet_pb2.ContainerLogsRequest(
        namespace=pod.metadata.namespace,
        pod_name=pod.metadata.name,
        pod_uid=pod.metadata.uid,
        container=target.container,
        follow=request.follow,
        previous=request.previous,
        timestamps=request.timestamps,
    )
    if request.HasField("tail_lines"):
        kreq.tail_lines = request.tail_lines
    if request.HasField("since_seconds"):
        kreq.since_seconds = request.since_seconds
    async for chunk in target.stream(lambda kubelet: kubelet.ContainerLogs(kreq, timeout=None)):
        yield chunk


async def exec_command(
    pods: Store[core_pb2.Pod], nodes: Store[core_pb2.Node], request: core_pb2.PodExecRequest
) -> AsyncIterator[core_pb2.ExecChunk]:
    """Runs a command in a running container through its node's kubelet (non-interactive)."""
    if not request.command:
        raise errors.bad_request("you must specify at least one command for the container")
    target = await _target(
        pods, nodes, request.namespace, request.name, request.container, _EXECUTABLE
    )
    pod = target.pod
    kreq = kubelet_pb2.ContainerExecRequest(
        namespace=pod.metadata.namespace,
        pod_name=pod.metadata.name,
        pod_uid=pod.metadata.uid,
        container=target.container,
        command=list(request.command),
    )
    if request.HasField("stdin"):
        kreq.stdin = request.stdin
    async for chunk in target.stream(lambda kubelet: kubelet.ContainerExec(kreq, timeout=None)):
        yield chunk


async def attach(
    pods: Store[core_pb2.Pod], nodes: Store[core_pb2.Node], request: core_pb2.PodAttachRequest
) -> AsyncIterator[core_pb2.ExecChunk]:
    """Attaches to a running container's own process through its node's kubelet: its output from
    the start and, once it ends, its exit code (kubectl attach, without a terminal)."""
    target = await _target(
        pods, nodes, request.namespace, request.name, request.container, _ATTACHABLE
    )
    pod = target.pod
    kreq = kubelet_pb2.ContainerAttachRequest(
        namespace=pod.metadata.namespace,
        pod_name=pod.metadata.name,
        pod_uid=pod.metadata.uid,
        container=target.container,
    )
    if request.HasField("stdin"):
        kreq.stdin = request.stdin
    async for chunk in target.stream(lambda kubelet: kubelet.ContainerAttach(kreq, timeout=None)):
        yield chunk


# ------------------------------------------------------------------ interactive streams
# The interactive exec and attach and the port-forward of the REST door (WebSockets) reach the
# same kubelet, after the same checks, as the gRPC door's calls above.


async def exec_target(
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
    namespace: str,
    name: str,
    container: str,
) -> Target:
    """Where an exec goes: a running container of a pod that has not completed."""
    return await _target(pods, nodes, namespace, name, container, _EXECUTABLE)


async def attach_target(
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
    namespace: str,
    name: str,
    container: str,
) -> Target:
    """Where an attach goes: a started container of a pod that has not completed."""
    return await _target(pods, nodes, namespace, name, container, _ATTACHABLE)


async def port_forward_target(
    pods: Store[core_pb2.Pod], nodes: Store[core_pb2.Node], namespace: str, name: str
) -> Target:
    """Where a port-forward goes: a running pod on a node (PortForwardREST's check)."""
    pod = await pods.get(namespace or "default", name)
    if pod.status.phase != "Running" or not pod.spec.node_name:
        raise errors.bad_request(
            f"unable to forward port because pod is not running. Current "
            f"status={pod.status.phase or 'Pending'}"
        )
    node = await nodes.get("", pod.spec.node_name)
    return Target(pod, "", node, _kubelet_address(node))


@contextlib.asynccontextmanager
async def kubelet_stub(target: Target) -> AsyncIterator[kubelet_pb2_grpc.KubeletStub]:
    """The kubelet of the target's node, over the apiserver's kubelet client connection."""
    async with kubelet_client.channel(target.address, target.node.metadata.name) as channel:
        yield kubelet_pb2_grpc.KubeletStub(channel)
