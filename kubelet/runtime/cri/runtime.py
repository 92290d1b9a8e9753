"""The CRI implementation of the runtime interface: the kubelet speaks CRI v1
(runtime.v1.RuntimeService and ImageService, kubernetes/cri-api) over gRPC to a container runtime
such as containerd's CRI plugin, as Kubernetes' kubelet has since dockershim went (1.24).

The runtime keeps its own records: a sandbox per pod attempt, containers with their attempt
(the restart count) in their metadata, logs in the CRI log format under the pod's log directory
(/var/log/pods/<namespace>_<name>_<uid>/<container>/<restart>.log). The list calls give each
object's state; a status call adds what they lack (a sandbox's IP, a container's times and exit)
and is made again only when the state has changed, as kuberuntime's PLEG relist asks only for what
changed."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from kubelet.runtime import labels as L
from kubelet.runtime.cri import convert, events, pod_cgroups
from kubelet.runtime.cri.logs import read_log
from kubelet.runtime.cri.stats import CriStats
from kubelet.runtime.cri.streaming import CriProcess, process_output
from kubelet.runtime.pod_port import dial_sandbox
from kubelet.runtime.socket_connection import SocketConnection
from kubelet.runtime.streams import PortForwardError, StreamOptions, wait_for_exit
from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerStatus,
    ExecOutput,
    ExecTimeout,
    ImageInfo,
    ImageNotFound,
    LogOptions,
    RuntimeHandler,
    SandboxConfig,
    SandboxStatus,
)
from podplane.api.cri import api_pb2 as cri
from podplane.api.cri import api_pb2_grpc as cri_grpc
from podplane.client.grpc_status import go_error

R = TypeVar("R")

DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock"
POD_LOGS_ROOT = "/var/log/pods"
# A call's deadline (kuberuntime's --runtime-request-timeout is 2 minutes); a pull has none.
REQUEST_TIMEOUT = 120.0
# The gRPC message size the kubelet accepts from its runtime (kuberuntime's maxMsgSize, 16 MiB).
MAX_MESSAGE = 16 * 1024 * 1024


class NotFound(ContainerRuntimeError):
    """The runtime has no such sandbox, container or image."""


def _error(e: grpc.aio.AioRpcError, what: str) -> ContainerRuntimeError:
    details = e.details() or str(e.code())
    if e.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(details)
    if e.code() == grpc.StatusCode.UNAVAILABLE:
        return ContainerRuntimeError(f"{what}: the runtime is not reachable: {details}")
    return ContainerRuntimeError(details)


class CriRuntime:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        endpoint: str,
        node_name: str = "",
        pod_logs_root: str = POD_LOGS_ROOT,
    ) -> None:
        self._channel = channel
        self.endpoint = endpoint
        self._runtime = cri_grpc.RuntimeServiceStub(channel)
        self._images = cri_grpc.ImageServiceStub(channel)
        self._node_labels = {L.NODE_NAME: node_name} if node_name else {}
        self._pod_logs_root = pod_logs_root
        self.stats = CriStats(self._runtime, self._images, self._node_labels, pod_logs_root)
        # The runtime's name (Version's runtime_name), the scheme of its containers' IDs.
        self._runtime_type = "containerd"
        # Statuses by id with the state they were read in: read again when the state changes.
        self._container_statuses: dict[str, cri.ContainerStatus] = {}
        self._sandbox_ips: dict[str, tuple[int, str]] = {}
        # Each sandbox's config, which the CRI asks for again with every container it creates.
        self._sandbox_configs: dict[str, cri.PodSandboxConfig] = {}

    @classmethod
    async def connect(
        cls, endpoint: str, node_name: str = "", pod_logs_root: str = POD_LOGS_ROOT
    ) -> CriRuntime:
        """A runtime at `endpoint` (unix:///path, as --container-runtime-endpoint takes it) that
        answers Version."""
        channel = grpc.aio.insecure_channel(
            endpoint,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.max_send_message_length", MAX_MESSAGE),
            ],
        )
        runtime = cls(channel, endpoint, node_name, pod_logs_root)
        try:
            await runtime.version()
        except ContainerRuntimeError as e:
            await channel.close()
            raise ContainerRuntimeError(f"cannot reach the CRI runtime at {endpoint}: {e}") from e
        return runtime

    async def _call(
        self,
        method: Callable[..., Awaitable[R]],
        request: Message,
        what: str,
        timeout: float | None = REQUEST_TIMEOUT,
    ) -> R:
        try:
            return await method(request, timeout=timeout)
        except grpc.aio.AioRpcError as e:
            raise _error(e, what) from e

    async def version(self) -> str:
        reply = await self._call(self._runtime.Version, cri.VersionRequest(version="v1"), "version")
        self._runtime_type = reply.runtime_name or self._runtime_type
        return f"{reply.runtime_name}://{reply.runtime_version}"

    async def runtime_handlers(self) -> list[RuntimeHandler]:
        """The default handler, then the runtime's own (CRI 1.31's StatusResponse lists them;
        containerd 1.6 does not yet, and its verbose status's config names them instead)."""
        reply = await self._call(self._runtime.Status, cri.StatusRequest(verbose=True), "status")
        if reply.runtime_handlers:
            return [
                RuntimeHandler(
                    h.name,
                    recursive_read_only_mounts=h.features.recursive_read_only_mounts,
                    user_namespaces=h.features.user_namespaces,
                )
                for h in reply.runtime_handlers
            ]
        names: list[str] = []
        try:
            config = json.loads(reply.info.get("config", "{}"))
            names = sorted((config.get("containerd") or {}).get("runtimes") or {})
        except (ValueError, AttributeError):
            pass
        return [RuntimeHandler(""), *(RuntimeHandler(n) for n in names)]

    # ------------------------------------------------------------------ sandboxes
    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        sandbox = convert.sandbox_config(config, self._pod_logs_root, self._node_labels)
        request = cri.RunPodSandboxRequest(config=sandbox, runtime_handler=config.runtime_handler)
        reply = await self._call(self._runtime.RunPodSandbox, request, "run pod sandbox")
        self._sandbox_configs[reply.pod_sandbox_id] = sandbox
        return str(reply.pod_sandbox_id)

    async def stop_pod_sandbox(self, sandbox_id: str, timeout: int) -> None:
        request = cri.StopPodSandboxRequest(pod_sandbox_id=sandbox_id)
        try:
            await self._call(self._runtime.StopPodSandbox, request, "stop pod sandbox")
        except NotFound:
            pass

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            cgroup = (await self._sandbox_config(sandbox_id)).linux.cgroup_parent
        except NotFound:
            cgroup = ""
        request = cri.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id)
        try:
            await self._call(self._runtime.RemovePodSandbox, request, "remove pod sandbox")
        except NotFound:
            pass
        self._sandbox_configs.pop(sandbox_id, None)
        self._sandbox_ips.pop(sandbox_id, None)
        await asyncio.to_thread(pod_cgroups.remove, cgroup)

    def _selector(self, pod_uid: str | None) -> dict[str, str]:
        return {**self._node_labels, **({L.POD_UID: pod_uid} if pod_uid else {})}

    async def list_pod_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        request = cri.ListPodSandboxRequest(
            filter=cri.PodSandboxFilter(label_selector=self._selector(pod_uid))
        )
        reply = await self._call(self._runtime.ListPodSandbox, request, "list pod sandboxes")
        ips = await asyncio.gather(*(self._sandbox_ip(s) for s in reply.items))
        if pod_uid is None:
            listed = {s.id for s in reply.items}
            for gone in set(self._sandbox_ips) - listed:
                del self._sandbox_ips[gone]
        return [convert.sandbox_status(s, ip) for s, ip in zip(reply.items, ips, strict=True)]

    async def _sandbox_ip(self, sandbox: cri.PodSandbox) -> str:
        known = self._sandbox_ips.get(sandbox.id)
        if known is not None and known[0] == sandbox.state:
            return known[1]
        status = await self._sandbox_status(sandbox.id)
        ip = status.network.ip if status is not None else ""
        self._sandbox_ips[sandbox.id] = (sandbox.state, ip)
        return ip

    async def _sandbox_status(self, sandbox_id: str) -> cri.PodSandboxStatus | None:
        request = cri.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)
        try:
            reply = await self._call(self._runtime.PodSandboxStatus, request, "sandbox status")
        except NotFound:
            return None
        status: cri.PodSandboxStatus = reply.status
        return status

    async def _sandbox_config(self, sandbox_id: str) -> cri.PodSandboxConfig:
        """The config the sandbox was made with: kept, or (after a restart) made again from what
        the runtime reports of it."""
        known = self._sandbox_configs.get(sandbox_id)
        if known is not None:
            return known
        status = await self._sandbox_status(sandbox_id)
        if status is None:
            raise NotFound(f'pod sandbox "{sandbox_id}" not found')
        pod = L.pod_ref(status.labels)
        privileged = status.annotations.get(convert.PRIVILEGED) == "true"
        config = cri.PodSandboxConfig(
            metadata=status.metadata,
            log_directory=convert.pod_log_directory(
                self._pod_logs_root, pod.namespace, pod.name, pod.uid
            ),
            labels=status.labels,
            annotations=status.annotations,
            linux=cri.LinuxPodSandboxConfig(
                cgroup_parent=status.annotations.get(convert.CGROUP_PARENT, ""),
                security_context=cri.LinuxSandboxSecurityContext(
                    namespace_options=status.linux.namespaces.options, privileged=privileged
                ),
            ),
        )
        self._sandbox_configs[sandbox_id] = config
        return config

    # ------------------------------------------------------------------ images
    async def inspect_image(self, image: str) -> ImageInfo | None:
        request = cri.ImageStatusRequest(image=cri.ImageSpec(image=image))
        reply = await self._call(self._images.ImageStatus, request, "image status")
        if not reply.HasField("image"):
            return None
        return convert.image_info(reply.image)

    async def list_images(self) -> list[ImageInfo]:
        reply = await self._call(self._images.ListImages, cri.ListImagesRequest(), "list images")
        return [convert.image_info(i) for i in reply.images]

    async def pull_image(self, image: str) -> ImageInfo:
        request = cri.PullImageRequest(image=cri.ImageSpec(image=image))
        try:
            await self._images.PullImage(request, timeout=None)
        except grpc.aio.AioRpcError as e:
            # The kubelet passes a failed pull's error on whole: "Failed to pull image "nginx":
            # rpc error: code = Unknown desc = failed to pull and unpack image ...".
            if e.code() == grpc.StatusCode.UNAVAILABLE:
                raise _error(e, "pull image") from e
            raise ContainerRuntimeError(go_error(e.code(), e.details() or "")) from e
        info = await self.inspect_image(image)
        if info is None:
            raise ImageNotFound(f"image {image} is not present after pulling it")
        return info

    # ------------------------------------------------------------------ containers
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        request = cri.CreateContainerRequest(
            pod_sandbox_id=sandbox_id,
            config=convert.container_config(config, self._node_labels),
            sandbox_config=await self._sandbox_config(sandbox_id),
        )
        reply = await self._call(self._runtime.CreateContainer, request, "create container")
        return str(reply.container_id)

    async def start_container(self, container_id: str) -> None:
        request = cri.StartContainerRequest(container_id=container_id)
        await self._call(self._runtime.StartContainer, request, "start container")

    async def stop_container(self, container_id: str, timeout: int) -> None:
        request = cri.StopContainerRequest(container_id=container_id, timeout=max(timeout, 0))
        try:
            await self._call(
                self._runtime.StopContainer,
                request,
                "stop container",
                timeout=REQUEST_TIMEOUT + max(timeout, 0),
            )
        except NotFound:
            pass

    async def remove_container(self, container_id: str) -> None:
        request = cri.RemoveContainerRequest(container_id=container_id)
        try:
            await self._call(self._runtime.RemoveContainer, request, "remove container")
        except NotFound:
            pass
        self._container_statuses.pop(container_id, None)

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerStatus]:
        request = cri.ListContainersRequest(
            filter=cri.ContainerFilter(label_selector=self._selector(pod_uid))
        )
        reply = await self._call(self._runtime.ListContainers, request, "list containers")
        statuses = await asyncio.gather(*(self._container_status(c) for c in reply.containers))
        if pod_uid is None:
            listed = {c.id for c in reply.containers}
            for gone in set(self._container_statuses) - listed:
                del self._container_statuses[gone]
        return [
            convert.container_status(c, s, self._runtime_type)
            for c, s in zip(reply.containers, statuses, strict=True)
            if s is not None  # removed meanwhile
        ]

    def container_events(self) -> AsyncIterator[str]:
        """The id of each container and sandbox that changes, as it does (events.py)."""
        return events.container_ids(self._runtime)

    async def _container_status(self, container: cri.Container) -> cri.ContainerStatus | None:
        known = self._container_statuses.get(container.id)
        if known is not None and known.state == container.state:
            return known
        status = await self._status(container.id)
        if status is not None:
            self._container_statuses[container.id] = status
        return status

    async def _status(self, container_id: str) -> cri.ContainerStatus | None:
        request = cri.ContainerStatusRequest(container_id=container_id)
        try:
            reply = await self._call(self._runtime.ContainerStatus, request, "container status")
        except NotFound:
            return None
        status: cri.ContainerStatus = reply.status
        return status

    async def container_logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        status = await self._status(container_id)
        if status is None:
            raise NotFound(f'container "{container_id}" not found')

        async def running() -> bool:
            now = await self._status(container_id)
            return now is not None and now.state == cri.CONTAINER_RUNNING

        async for chunk in read_log(status.log_path, options, running):
            yield chunk

    # ------------------------------------------------------------------ log rotation (kubelet/logs)
    async def running_container_logs(self) -> list[tuple[str, str]]:
        """(id, log path) of the node's running containers."""
        request = cri.ListContainersRequest(
            filter=cri.ContainerFilter(
                state=cri.ContainerStateValue(state=cri.CONTAINER_RUNNING),
                label_selector=self._selector(None),
            )
        )
        reply = await self._call(self._runtime.ListContainers, request, "list containers")
        statuses = await asyncio.gather(*(self._container_status(c) for c in reply.containers))
        return [(s.id, s.log_path) for s in statuses if s is not None and s.log_path]

    async def reopen_container_log(self, container_id: str) -> None:
        request = cri.ReopenContainerLogRequest(container_id=container_id)
        await self._call(self._runtime.ReopenContainerLog, request, "reopen container log")

    async def exec_in_container(
        self, container_id: str, cmd: Sequence[str], timeout: float | None
    ) -> tuple[int, str]:
        seconds = math.ceil(timeout) if timeout else 0
        request = cri.ExecSyncRequest(container_id=container_id, cmd=list(cmd), timeout=seconds)
        try:
            reply = await self._runtime.ExecSync(
                request, timeout=timeout + REQUEST_TIMEOUT if timeout else None
            )
        except grpc.aio.AioRpcError as e:
            # containerd: "timeout 1s exceeded: context deadline exceeded".
            details = e.details() or ""
            timed_out = e.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            if timed_out or ("timeout" in details and "exceeded" in details):
                raise ExecTimeout(f"command {list(cmd)} timed out after {timeout:g}s") from None
            raise _error(e, "exec") from e
        output = bytes(reply.stdout) + bytes(reply.stderr)
        return int(reply.exit_code), output.decode(errors="replace")

    # ------------------------------------------------------------------ streaming (streams.py)
    async def exec_interactive(
        self, container_id: str, cmd: Sequence[str], streams: StreamOptions
    ) -> CriProcess:
        """Exec through the runtime's streaming server (the CRI's Exec gives its URL)."""
        request = cri.ExecRequest(
            container_id=container_id,
            cmd=list(cmd),
            tty=streams.tty,
            stdin=streams.stdin,
            stdout=streams.stdout,
            stderr=streams.stderr and not streams.tty,
        )
        reply = await self._call(self._runtime.Exec, request, "exec")
        return await CriProcess.open(reply.url, streams)

    async def attach_interactive(self, container_id: str, streams: StreamOptions) -> CriProcess:
        """Attach to the container's process, with a terminal if the container has one (as the
        kubelet's GetAttach takes it from the container's spec)."""
        status = await self._status(container_id)
        if status is None:
            raise NotFound(f'container "{container_id}" not found')
        if status.state != cri.CONTAINER_RUNNING:
            raise ContainerRuntimeError(f"container {container_id[:12]} is not running")
        tty = status.annotations.get(convert.TTY) == "true"
        options = StreamOptions(
            stdin=streams.stdin, stdout=streams.stdout, stderr=streams.stderr, tty=tty
        )
        # containerd detaches an attach's output when its stdin ends, unless the container is
        # stdinOnce (then its stdin closes and the output flows until it exits); else the end of
        # the caller's stdin is kept from containerd, so the output runs to the process's end.
        # It also stops the stdin copy once stdout or stderr has ended, which for a container
        # not stdinOnce detaches the other, still draining: there stderr is a second attach's.
        # Not for a stdinOnce one: containerd registers a second attach a while after its
        # connection is up, and stderr written before is lost (`kubectl debug -i`'s `>&2`).
        stdin_once = status.annotations.get(convert.STDIN_ONCE) == "true"
        split = options.stdin and options.stderr and not tty and not stdin_once
        request = cri.AttachRequest(
            container_id=container_id,
            stdin=options.stdin,
            tty=tty,
            stdout=options.stdout,
            stderr=options.stderr and not tty and not split,
        )
        reply = await self._call(self._runtime.Attach, request, "attach")
        stderr_url = None
        if split:
            request = cri.AttachRequest(container_id=container_id, stderr=True)
            stderr_url = (await self._call(self._runtime.Attach, request, "attach")).url

        async def state() -> tuple[bool, int | None]:
            now = await self._status(container_id)
            if now is None:
                return False, None
            return now.state == cri.CONTAINER_RUNNING, now.exit_code

        return await CriProcess.open(
            reply.url,
            options,
            forward_stdin_end=tty or stdin_once,
            exit_code=lambda: wait_for_exit(state),
            stderr_url=stderr_url,
        )

    def exec_stream(
        self, container_id: str, cmd: Sequence[str], stdin: bytes | None = None
    ) -> AsyncIterator[ExecOutput]:
        """A command's output as it comes, then its exit code (types.StreamingExec)."""
        return process_output(
            self.exec_interactive(container_id, cmd, StreamOptions(stdin=stdin is not None)),
            stdin,
        )

    def attach_stream(
        self, container_id: str, stdin: bytes | None = None
    ) -> AsyncIterator[ExecOutput]:
        """The container's output from the attach on (types.StreamingAttach)."""
        return process_output(
            self.attach_interactive(container_id, StreamOptions(stdin=stdin is not None)), stdin
        )

    async def dial_pod_port(self, sandbox_id: str, port: int) -> SocketConnection:
        """localhost:port in the sandbox's network namespace (its pause process's, which the
        verbose status names), as containerd's own port forwarding dials it."""
        request = cri.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id, verbose=True)
        try:
            reply = await self._call(self._runtime.PodSandboxStatus, request, "sandbox status")
        except ContainerRuntimeError as e:
            raise PortForwardError(f'pod sandbox "{sandbox_id}": {e}') from e
        if reply.status.state != cri.SANDBOX_READY:
            raise PortForwardError(f'pod sandbox "{sandbox_id}" is not running')
        try:
            pid = int(json.loads(reply.info.get("info", "{}")).get("pid") or 0)
        except (ValueError, AttributeError):
            pid = 0
        netns = f"/proc/{pid}/ns/net" if pid > 0 else ""
        return await dial_sandbox(netns, reply.status.network.ip, port, sandbox_id)

    def close(self) -> None:
        """Closes the channel (its calls end); the runtime and what runs in it stay."""
        try:
            asyncio.get_running_loop().create_task(self._channel.close())
        except RuntimeError:
            pass  # no loop: the channel goes with the process
