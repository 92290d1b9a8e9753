"""Kubelet/ContainerExec's work: finds a pod container's running instance and runs a command in
it, streaming the output and the exit code last (kubelet server.go getExec, non-interactive).
KubeletServicer (kubelet/server/servicer.py) serves it; the apiserver proxies `Pods.Exec` there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from kubelet.runtime.types import ContainerRuntime, ContainerState, StreamingExec
from podplane.api.core.v1 import core_pb2


class ContainerNotRunning(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f'unable to upgrade connection: container not found ("{name}")')


async def running_container_id(runtime: ContainerRuntime, pod_uid: str, name: str) -> str:
    """The runtime id of the container's current instance, which must be running."""
    instances = [c for c in await runtime.list_containers(pod_uid) if c.name == name]
    instances.sort(key=lambda c: (c.restart_count, c.created_at), reverse=True)
    if not instances or instances[0].state != ContainerState.RUNNING:
        raise ContainerNotRunning(name)
    return instances[0].id


class StdinUnsupported(Exception):
    def __init__(self) -> None:
        super().__init__("this node's container runtime cannot pass stdin to a command")


async def exec_output(
    runtime: ContainerRuntime, container_id: str, command: Sequence[str], stdin: bytes | None = None
) -> AsyncIterator[core_pb2.ExecChunk]:
    """The command's output as chunks, streamed when the runtime can, and its exit code last."""
    if isinstance(runtime, StreamingExec):
        async for out in runtime.exec_stream(container_id, command, stdin):
            chunk = core_pb2.ExecChunk(stream=out.stream, data=out.data)
            if out.exit_code is not None:
                chunk.exit_code = out.exit_code
            yield chunk
        return
    # A buffered runtime answers once, stdout and stderr together, and takes no stdin.
    if stdin is not None:
        raise StdinUnsupported()
    code, text = await runtime.exec_in_container(container_id, command, None)
    if text:
        yield core_pb2.ExecChunk(stream="stdout", data=text.encode())
    yield core_pb2.ExecChunk(exit_code=code)
