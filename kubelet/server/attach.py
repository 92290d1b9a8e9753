"""Kubelet/ContainerAttach's work: the output of a container's own process, from its start, and
its exit code once it ends (kubelet server.go getAttach, without a terminal). `podctl debug -i`
uses it to give the user an ephemeral container's stdio. KubeletServicer
(kubelet/server/servicer.py) serves it; the apiserver proxies `Pods.Attach` there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from kubelet.runtime.streams import (
    InteractiveProcess,
    InteractiveStreams,
    StreamOptions,
    TerminalSize,
)
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    ExecOutput,
    StreamingAttach,
)
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
    pod_full_name: str, pod: core_pb2.Pod
) -> Callable[[ContainerRuntime, str, str], Awaitable[str]]:
    """The finder of an interactive attach's container: the running instance, as for exec, or
    one that has ended while the pod's status still shows it running (see EndedProcess)."""

    async def find(runtime: ContainerRuntime, pod_uid: str, name: str) -> str:
        try:
            return await running_container_id(runtime, pod_uid, name)
        except ContainerNotRunning:
            ended = await _ended_while_shown_running(runtime, pod, name)
            if ended is None:
                raise AttachTargetNotRunning(name, pod_full_name) from None
            return ended.id

    return find


class EndedProcess:
    """An attach to a container whose process has ended while the pod's status still shows it
    running (the status follows the PLEG's relist, kubelet/pod/sync.py): the output its caller
    has not read, then the exit code. A client that attached on the status's word is not refused
    for losing that race: kubectl 1.35 and 1.36 print a short command's log before they attach
    and all of it again when the attach is refused (kubernetes/kubectl#1848). What it has not
    read is the log past what the kubelet's whole-log reads have served (log_reads.py): the
    output written between kubectl's read and the process's end, which Kubernetes' refusal
    would have kubectl print from the log; none if no read was made, as an attach gives the
    output from the attach on."""

    def __init__(self, exit_code: int, unread: bytes) -> None:
        self._exit_code = exit_code
        self.unread = unread

    @property
    def tty(self) -> bool:
        return False

    async def write_stdin(self, data: bytes) -> None:
        return None

    async def close_stdin(self) -> None:
        return None

    async def resize(self, size: TerminalSize) -> None:
        return None

    async def output(self) -> AsyncIterator[ExecOutput]:
        if self.unread:
            yield ExecOutput("stdout", self.unread)
        yield ExecOutput("", b"", self._exit_code)

    async def close(self) -> None:
        return None


async def _ended_while_shown_running(
    runtime: ContainerRuntime, pod: core_pb2.Pod, name: str
) -> ContainerStatus | None:
    """The container's newest instance if it has ended while the pod's status shows it
    running; None otherwise (an end already reported is refused, as the kubelet's GetAttach
    refuses it)."""
    shown = [
        s
        for s in (
            *pod.status.container_statuses,
            *pod.status.init_container_statuses,
            *pod.status.ephemeral_container_statuses,
        )
        if s.name == name
    ]
    if not shown or not shown[0].state.HasField("running"):
        return None
    instances = [c for c in await runtime.list_containers(pod.metadata.uid) if c.name == name]
    instances.sort(key=lambda c: (c.restart_count, c.created_at), reverse=True)
    if not instances or instances[0].state != ContainerState.EXITED:
        return None
    if shown[0].container_id.rpartition("://")[2] != instances[0].id:
        return None  # the status shows another instance
    return instances[0]


EXIT_RECORDED_WITHIN = 2.0  # seconds; containerd records an exit milliseconds after the task goes
EXIT_POLL = 0.05


async def _exit_recorded(runtime: ContainerRuntime, pod_uid: str, container_id: str) -> None:
    """Once the runtime no longer shows the container running, or after EXIT_RECORDED_WITHIN.
    containerd's CRI deletes an ended process's task before it records the exit
    (handleContainerExit): an attach in between fails with "failed to load task: no running
    task found" while the container still shows running, and would be judged on that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXIT_RECORDED_WITHIN
    while loop.time() < deadline:
        states = {c.id: c.state for c in await runtime.list_containers(pod_uid)}
        if states.get(container_id) != ContainerState.RUNNING:
            return
        await asyncio.sleep(EXIT_POLL)


async def attach_or_ended(
    runtime: ContainerRuntime, pod: core_pb2.Pod, name: str, container_id: str,
    streams: StreamOptions, unread: Callable[[str], Awaitable[bytes]],
) -> InteractiveProcess:  # fmt: skip
    """The runtime's attach to the container, or an EndedProcess if it has ended (before or
    while the runtime attaches) while the pod's status shows it running, with the log that
    `unread` says its caller has not read; a failed attach is judged once the runtime has
    recorded the end (_exit_recorded)."""
    if not isinstance(runtime, InteractiveStreams):
        raise AttachUnsupported()

    async def ended(recorded: bool = False) -> EndedProcess | None:
        # `recorded`: the runtime's attach has ended with the process, so its exit is recorded.
        if not recorded:
            await _exit_recorded(runtime, pod.metadata.uid, container_id)
        found = await _ended_while_shown_running(runtime, pod, name)
        if found is None or found.id != container_id:
            return None
        return EndedProcess(found.exit_code, await unread(container_id) if streams.stdout else b"")

    try:
        attached = await runtime.attach_interactive(container_id, streams)
    except ContainerRuntimeError:
        if (process := await ended()) is None:
            raise
        return process
    return _AttachedProcess(attached, ended)


class _AttachedProcess:
    """The runtime's attach, whose failure before any output (containerd's "failed to load
    task" once the process has gone) ends as an EndedProcess does if the container has ended
    while the pod's status shows it running. An attach that ends with the process and gave no
    output gives, before the exit, what its caller's log read missed (EndedProcess.unread):
    containerd's CRI takes an attach until it has recorded the exit, after the process's output
    has gone to the log, so an attach made between kubectl's log read and that record would give
    nothing of what the command wrote in between (`kubectl run -i -- echo`, 1 of 50 under
    load)."""

    def __init__(
        self, process: InteractiveProcess, ended: Callable[[bool], Awaitable[EndedProcess | None]]
    ) -> None:
        self._process = process
        self._ended = ended

    @property
    def tty(self) -> bool:
        return self._process.tty

    async def write_stdin(self, data: bytes) -> None:
        await self._process.write_stdin(data)

    async def close_stdin(self) -> None:
        await self._process.close_stdin()

    async def resize(self, size: TerminalSize) -> None:
        await self._process.resize(size)

    async def output(self) -> AsyncIterator[ExecOutput]:
        wrote = False
        try:
            async for out in self._process.output():
                ended_silent = out.exit_code is not None and not wrote and not out.data
                if ended_silent and (ended := await self._ended(True)) and ended.unread:
                    yield ExecOutput("stdout", ended.unread)
                wrote = wrote or bool(out.data)
                yield out
        except ContainerRuntimeError:
            ended = None if wrote else await self._ended(False)
            if ended is None:
                raise
            async for out in ended.output():
                yield out

    async def close(self) -> None:
        await self._process.close()


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
