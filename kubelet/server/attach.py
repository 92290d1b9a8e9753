"""Kubelet/ContainerAttach's work: the output of a container's own process, from its start, and
its exit code once it ends (kubelet server.go getAttach, without a terminal). `podctl debug -i`
uses it to give the user an ephemeral container's stdio. KubeletServicer
(kubelet/server/servicer.py) serves it; the apiserver proxies `Pods.Attach` there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from kubelet.runtime.types import ContainerRuntime, StreamingAttach
from kubelet.server.exec import ContainerNotRunning, running_container_id
from podplane.api.core.v1 import core_pb2


class AttachUnsupported(Exception):
    def __init__(self) -> None:
        super().__init__("this node's container runtime cannot attach to a container")


async def newest_container_id(runtime: ContainerRuntime, pod_uid: str, name: str) -> str:
    """The container's current instance, running or already ended (its output is still there)."""
    instances = [c for c in await runtime.list_containers(pod_uid) if c.name == name]
    instances.sort(key=lambda c: (c.restart_count, c.created_at), reverse=True)
    if not instances:
        raise ContainerNotRunning(name)
    return instances[0].id


class AttachTargetNotRunning(ContainerNotRunning):
    """The kubelet's GetAttach finds running containers only; its message names the pod by its
    full name, <name>_<namespace>."""

    def __init__(self, name: str, pod_full_name: str) -> None:
        Exception.__init__(
            self, f"unable to upgrade connection: container {name} not found in pod {pod_full_name}"
        )


def running_container_to_attach(
    pod_full_name: str,
) -> Callable[[ContainerRuntime, str, str], Awaitable[str]]:
    """The finder of an interactive attach's container: the running instance, as for exec."""

    async def find(runtime: ContainerRuntime, pod_uid: str, name: str) -> str:
        try:
            return await running_container_id(runtime, pod_uid, name)
        except ContainerNotRunning:
            raise AttachTargetNotRunning(name, pod_full_name) from None

    return find


async def attach_output(
    runtime: ContainerRuntime, container_id: str, stdin: bytes | None
) -> AsyncIterator[core_pb2.ExecChunk]:
    if not isinstance(runtime, StreamingAttach):
        raise AttachUnsupported()
    async for out in runtime.attach_stream(container_id, stdin):
        chunk = core_pb2.ExecChunk(stream=out.stream, data=out.data)
        if out.exit_code is not None:
            chunk.exit_code = out.exit_code
        yield chunk
