"""The kubelet's own gRPC API: Kubelet/ContainerLogs streams a container's log from the runtime,
Kubelet/ContainerExec runs a command in a running container (kubelet/server/exec.py),
Kubelet/ContainerAttach streams a container's own process (kubelet/server/attach.py);
ContainerExecInteractive and ContainerAttachInteractive do the same with stdin, terminal resizes
and output flowing both ways (kubelet/server/interactive.py); PortForward relays one connection to
a pod's port (kubelet/server/port_forward.py). The apiserver proxies `Pods.Log`, `Pods.Exec`,
`Pods.Attach` and Kubernetes' exec, attach and portforward subresources here (kubelet server.go
getContainerLogs, getExec, getAttach, getPortForward)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import overload

import grpc

from kubelet.runtime.streams import (
    InteractiveProcess,
    InteractiveStreams,
    PortForwardError,
    PortForwarding,
    StreamOptions,
)
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerStatus,
    LogOptions,
)
from kubelet.server import interactive, port_forward
from kubelet.server.attach import (
    AttachUnsupported,
    attach_or_ended,
    attach_output,
    newest_container_id,
    running_container_to_attach,
)
from kubelet.server.exec import (
    ContainerNotRunning,
    StdinUnsupported,
    exec_output,
    running_container_id,
)
from kubelet.server.log_reads import LogReads
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2, kubelet_pb2_grpc

log = logging.getLogger(__name__)
SERVICE_NAME = kubelet_pb2.DESCRIPTOR.services_by_name["Kubelet"].full_name
# Picks a container instance of a pod by the pod's uid and the container's name.
ContainerFinder = Callable[[ContainerRuntime, str, str], Awaitable[str]]
# What names a pod's container: the unary requests and InteractiveOpen.
ContainerRef = (
    kubelet_pb2.ContainerExecRequest
    | kubelet_pb2.ContainerAttachRequest
    | kubelet_pb2.InteractiveOpen
)


class LogRequestError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _names(containers: list[core_pb2.Container]) -> str:
    return "[" + " ".join(c.name for c in containers) + "]"


def container_name(pod: core_pb2.Pod, requested: str) -> str:
    """The container the request means: the named one, or the pod's only container."""
    name = pod.metadata.name
    if not requested:
        if len(pod.spec.containers) == 1:
            return pod.spec.containers[0].name
        message = (
            f"a container name must be specified for pod {name}, choose one of: "
            f"{_names(list(pod.spec.containers))}"
        )
        if pod.spec.init_containers:
            message += f" or one of the init containers: {_names(list(pod.spec.init_containers))}"
        raise LogRequestError(grpc.StatusCode.INVALID_ARGUMENT, message)
    known = [c.name for c in (*pod.spec.containers, *pod.spec.init_containers)]
    known += [c.name for c in pod.spec.ephemeral_containers]
    if requested not in known:
        raise LogRequestError(
            grpc.StatusCode.INVALID_ARGUMENT, f"container {requested} is not valid for pod {name}"
        )
    return requested


def pick_instance(
    pod: core_pb2.Pod, name: str, instances: list[ContainerStatus], previous: bool
) -> ContainerStatus:
    """The current instance (newest), or with `previous` the one before it."""
    wanted = 1 if previous else 0
    if len(instances) > wanted:
        return instances[wanted]
    if previous:
        raise LogRequestError(
            grpc.StatusCode.NOT_FOUND,
            f'previous terminated container "{name}" in pod "{pod.metadata.name}" not found',
        )
    reason = "ContainerCreating"
    for s in (
        *pod.status.container_statuses,
        *pod.status.init_container_statuses,
        *pod.status.ephemeral_container_statuses,
    ):
        if s.name == name and s.state.HasField("waiting") and s.state.waiting.reason:
            reason = s.state.waiting.reason
    raise LogRequestError(
        grpc.StatusCode.FAILED_PRECONDITION,
        f'container "{name}" in pod "{pod.metadata.name}" is waiting to start: {reason}',
    )


class KubeletServicer(kubelet_pb2_grpc.KubeletServicer):  # type: ignore[misc]
    def __init__(
        self, runtime: ContainerRuntime, get_pod: Callable[[str], core_pb2.Pod | None]
    ) -> None:
        self.runtime = runtime
        self.get_pod = get_pod
        self.log_reads = LogReads(runtime)

    async def resolve_log(
        self, request: kubelet_pb2.ContainerLogsRequest
    ) -> tuple[ContainerStatus, LogOptions]:
        pod = self.get_pod(f"{request.namespace}/{request.pod_name}")
        if pod is None or (request.pod_uid and request.pod_uid != pod.metadata.uid):
            raise LogRequestError(grpc.StatusCode.NOT_FOUND, f'pods "{request.pod_name}" not found')
        name = container_name(pod, request.container)
        instances = [
            c for c in await self.runtime.list_containers(pod.metadata.uid) if c.name == name
        ]
        instances.sort(key=lambda c: (c.restart_count, c.created_at), reverse=True)
        instance = pick_instance(pod, name, instances, request.previous)
        options = LogOptions(
            follow=request.follow and not request.previous,
            timestamps=request.timestamps,
            tail_lines=request.tail_lines if request.HasField("tail_lines") else None,
            since_seconds=request.since_seconds if request.HasField("since_seconds") else None,
        )
        return instance, options

    async def ContainerLogs(
        self, request: kubelet_pb2.ContainerLogsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.LogChunk]:
        try:
            instance, options = await self.resolve_log(request)
        except LogRequestError as e:
            await context.abort(e.code, e.message)
            return
        except ContainerRuntimeError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"container runtime: {e}")
            return
        try:
            async for chunk in self.log_reads.read(instance.id, options):
                yield core_pb2.LogChunk(data=chunk)
        except ContainerRuntimeError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"reading the log: {e}")

    async def ContainerExec(
        self, request: kubelet_pb2.ContainerExecRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        if not request.command:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "you must specify at least one command for the container",
            )
            return
        container_id = await self._container_id(request, running_container_id, context)
        if container_id is None:
            return
        stdin = request.stdin if request.HasField("stdin") else None
        try:
            async for chunk in exec_output(
                self.runtime, container_id, list(request.command), stdin
            ):
                yield chunk
        except StdinUnsupported as e:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(e))
        except ContainerRuntimeError as e:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"error executing command in container: {e}"
            )

    async def ContainerAttach(
        self, request: kubelet_pb2.ContainerAttachRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        container_id = await self._container_id(request, newest_container_id, context)
        if container_id is None:
            return
        stdin = request.stdin if request.HasField("stdin") else None
        try:
            async for chunk in attach_output(self.runtime, container_id, stdin):
                yield chunk
        except AttachUnsupported as e:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(e))
        except ContainerRuntimeError as e:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"error attaching to the container: {e}"
            )

    async def ContainerExecInteractive(
        self,
        requests: AsyncIterator[kubelet_pb2.InteractiveRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[kubelet_pb2.InteractiveResponse]:
        opened = await _opening(requests, context)
        if opened is None:
            return
        if not opened.command:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "you must specify at least one command for the container",
            )
            return
        container_id = await self._container_id(opened, running_container_id, context)
        if container_id is None:
            return
        runtime = self.runtime
        if not isinstance(runtime, InteractiveStreams):
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                "this node's container runtime cannot run interactive commands",
            )
            return

        def start() -> Awaitable[InteractiveProcess]:
            return runtime.exec_interactive(
                container_id, list(opened.command), _stream_options(opened)
            )

        async for response in self._interactive(
            start, requests, opened, context, "error executing command in container"
        ):
            yield response

    async def ContainerAttachInteractive(
        self,
        requests: AsyncIterator[kubelet_pb2.InteractiveRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[kubelet_pb2.InteractiveResponse]:
        opened = await _opening(requests, context)
        if opened is None:
            return
        # The running instance, as the kubelet's GetAttach finds it: an ended one is "container
        # <name> not found in pod <name>_<namespace>", and kubectl run -i prints the log instead
        # (unless the pod's status still shows it running: attach.py EndedProcess).
        pod = self.get_pod(f"{opened.namespace}/{opened.pod_name}") or core_pb2.Pod()
        find = running_container_to_attach(f"{opened.pod_name}_{opened.namespace}", pod)
        container_id = await self._container_id(opened, find, context)
        if container_id is None:
            return
        if not isinstance(self.runtime, InteractiveStreams):
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(AttachUnsupported()))
            return
        runtime, name = self.runtime, container_name(pod, opened.container)
        streams, unread = _stream_options(opened), self.log_reads.unread

        def start() -> Awaitable[InteractiveProcess]:
            return attach_or_ended(runtime, pod, name, container_id, streams, unread)

        async for response in self._interactive(
            start, requests, opened, context, "error attaching to container"
        ):
            yield response

    async def _interactive(
        self,
        start: Callable[[], Awaitable[InteractiveProcess]],
        requests: AsyncIterator[kubelet_pb2.InteractiveRequest],
        opened: kubelet_pb2.InteractiveOpen,
        context: grpc.aio.ServicerContext,
        failure: str,
    ) -> AsyncIterator[kubelet_pb2.InteractiveResponse]:
        try:
            async for response in interactive.run_interactive(start, requests, opened.stdin):
                yield response
        except ContainerRuntimeError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"{failure}: {e}")

    async def PortForward(
        self,
        requests: AsyncIterator[kubelet_pb2.PortForwardRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[kubelet_pb2.PortForwardResponse]:
        opened = await _opening(requests, context)
        if opened is None:
            return
        if not 0 < opened.port < 65536:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f'port "{opened.port}" must be > 0 and < 65536'
            )
            return
        runtime = self.runtime
        if not isinstance(runtime, PortForwarding):
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED, "this node's container runtime cannot forward ports"
            )
            return
        sandbox_id = await self._sandbox_id(opened, context)
        if sandbox_id is None:
            return
        try:
            connection = await runtime.dial_pod_port(sandbox_id, opened.port)
        except PortForwardError as e:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                port_forward.forwarding_error(opened.port, sandbox_id, str(e)),
            )
            return
        async for response in port_forward.relay(connection, requests):
            yield response

    async def _sandbox_id(
        self, opened: kubelet_pb2.PortForwardOpen, context: grpc.aio.ServicerContext
    ) -> str | None:
        """The pod's running sandbox (its network namespace); None once the call is aborted."""
        pod = self.get_pod(f"{opened.namespace}/{opened.pod_name}")
        if pod is None or (opened.pod_uid and opened.pod_uid != pod.metadata.uid):
            await context.abort(grpc.StatusCode.NOT_FOUND, f'pods "{opened.pod_name}" not found')
            return None
        try:
            return await port_forward.ready_sandbox_id(self.runtime, pod)
        except ContainerRuntimeError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"container runtime: {e}")
        except port_forward.NoSandbox as e:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
        return None

    async def _container_id(
        self, request: ContainerRef, find: ContainerFinder, context: grpc.aio.ServicerContext
    ) -> str | None:
        """The id of the request's container as `find` picks its instance (the running one for
        exec, the newest for attach); None once the call is aborted with the reason."""
        try:
            pod = self.get_pod(f"{request.namespace}/{request.pod_name}")
            if pod is None or (request.pod_uid and request.pod_uid != pod.metadata.uid):
                raise LogRequestError(
                    grpc.StatusCode.NOT_FOUND, f'pods "{request.pod_name}" not found'
                )
            return await find(
                self.runtime, pod.metadata.uid, container_name(pod, request.container)
            )
        except LogRequestError as e:
            await context.abort(e.code, e.message)
        except ContainerNotRunning as e:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
        except ContainerRuntimeError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"container runtime: {e}")
        return None


def _stream_options(opened: kubelet_pb2.InteractiveOpen) -> StreamOptions:
    return StreamOptions(
        stdin=opened.stdin, stdout=opened.stdout, stderr=opened.stderr, tty=opened.tty
    )


@overload
async def _opening(
    requests: AsyncIterator[kubelet_pb2.InteractiveRequest], context: grpc.aio.ServicerContext
) -> kubelet_pb2.InteractiveOpen | None: ...


@overload
async def _opening(
    requests: AsyncIterator[kubelet_pb2.PortForwardRequest], context: grpc.aio.ServicerContext
) -> kubelet_pb2.PortForwardOpen | None: ...


async def _opening(
    requests: AsyncIterator[kubelet_pb2.InteractiveRequest]
    | AsyncIterator[kubelet_pb2.PortForwardRequest],
    context: grpc.aio.ServicerContext,
) -> kubelet_pb2.InteractiveOpen | kubelet_pb2.PortForwardOpen | None:
    """The `open` message that must come first; None once the call is aborted."""
    first: kubelet_pb2.InteractiveRequest | kubelet_pb2.PortForwardRequest | None = await anext(
        aiter(requests), None
    )
    if first is None or first.WhichOneof("kind") != "open":
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, "the first message of the stream must be `open`"
        )
        return None
    return first.open
