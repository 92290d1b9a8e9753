"""A hollow runtime (like kubemark's): sandboxes and containers exist only in memory. Containers
"run" until stopped or until told to exit, so pod logic can be exercised without Docker, in unit
tests and in load tests with many nodes on one machine."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace

from kubelet.runtime.hollow_streams import EchoConnection, HollowProcess
from kubelet.runtime.streams import PortForwardError, StreamOptions
from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    ImageInfo,
    ImageNotFound,
    LogOptions,
    RuntimeHandler,
    SandboxConfig,
    SandboxStatus,
)
from podplane.apimachinery import timeutil

ExecHandler = Callable[[ContainerStatus, Sequence[str]], Awaitable[tuple[int, str]]]


class HollowRuntime:
    def __init__(
        self,
        images: tuple[str, ...] = ("busybox:latest", "podplane/pause:3.9"),
        pullable: tuple[str, ...] = (),
    ) -> None:
        self.images = set(images)
        self.pullable = set(pullable)
        self.sandboxes: dict[str, SandboxStatus] = {}
        self.containers: dict[str, ContainerStatus] = {}
        self.configs: dict[str, ContainerConfig] = {}
        self.sandbox_configs: dict[str, SandboxConfig] = {}
        self.logs: dict[str, bytes] = {}
        self.calls: list[tuple[str, str]] = []
        # Containers whose start fails with this message, by container name.
        self.fail_start: dict[str, str] = {}
        # What a command run in a container does; without one every command succeeds at once.
        self.exec_handler: ExecHandler | None = None
        # (container id, timeout) of every stop, in order.
        self.stops: list[tuple[str, int]] = []
        # Interactive processes started (exec and attach), in order; pod ports that accept.
        self.processes: list[HollowProcess] = []
        self.listening_ports: set[int] = set()
        # The handlers a RuntimeClass may name: the default and runc, as on a Docker node.
        self.handlers = [RuntimeHandler(""), RuntimeHandler("runc")]
        self._ids = itertools.count(1)
        self._ips = itertools.count(2)

    @staticmethod
    def _now() -> str:
        return timeutil.now()

    # ------------------------------------------------------------------ test controls
    def exit_container(
        self, container_id: str, exit_code: int, reason: str = "", finished_at: str | None = None
    ) -> None:
        c = self.containers[container_id]
        self.containers[container_id] = replace(
            c,
            state=ContainerState.EXITED,
            exit_code=exit_code,
            reason=reason,
            finished_at=finished_at or timeutil.now(),
        )

    def kill_sandbox(self, sandbox_id: str) -> None:
        self.sandboxes[sandbox_id] = replace(self.sandboxes[sandbox_id], ready=False)

    def by_name(self, name: str) -> list[ContainerStatus]:
        """Instances of the named container, newest first."""
        found = [c for c in self.containers.values() if c.name == name]
        return sorted(found, key=lambda c: c.restart_count, reverse=True)

    # ------------------------------------------------------------------ the runtime interface
    async def version(self) -> str:
        return "hollow://0.1"

    async def runtime_handlers(self) -> list[RuntimeHandler]:
        return list(self.handlers)

    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        if config.runtime_handler not in {h.name for h in self.handlers}:
            raise ContainerRuntimeError(
                f'failed to get sandbox runtime: no runtime for "{config.runtime_handler}" is '
                f"configured"
            )
        sandbox_id = f"sandbox-{next(self._ids)}"
        self.calls.append(("run_pod_sandbox", config.pod.name))
        self.sandbox_configs[sandbox_id] = config
        ip = config.labels.get("ip") or f"10.244.0.{next(self._ips)}"
        self.sandboxes[sandbox_id] = SandboxStatus(
            id=sandbox_id,
            pod=config.pod,
            attempt=config.attempt,
            ready=True,
            ip=ip,
            created_at=self._now(),
        )
        return sandbox_id

    async def stop_pod_sandbox(self, sandbox_id: str, timeout: int) -> None:
        self.calls.append(("stop_pod_sandbox", sandbox_id))
        if sandbox_id in self.sandboxes:
            self.kill_sandbox(sandbox_id)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        self.calls.append(("remove_pod_sandbox", sandbox_id))
        self.sandboxes.pop(sandbox_id, None)

    async def list_pod_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        return [s for s in self.sandboxes.values() if pod_uid in (None, s.pod.uid)]

    async def inspect_image(self, image: str) -> ImageInfo | None:
        return ImageInfo(id=f"sha256:{abs(hash(image)):x}") if image in self.images else None

    async def list_images(self) -> list[ImageInfo]:
        return [
            ImageInfo(id=f"sha256:{abs(hash(image)):x}", repo_tags=(image,))
            for image in sorted(self.images)
        ]

    async def pull_image(self, image: str) -> ImageInfo:
        self.calls.append(("pull_image", image))
        if image not in self.pullable:
            raise ImageNotFound(f"pull access denied for {image}")
        self.images.add(image)
        return ImageInfo(id=f"sha256:{abs(hash(image)):x}")

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        if config.image not in self.images:
            raise ImageNotFound(f"No such image: {config.image}")
        handler = (
            self.sandbox_configs[sandbox_id].runtime_handler
            if sandbox_id in self.sandbox_configs
            else ""
        )
        rro = next(
            (h.recursive_read_only_mounts for h in self.handlers if h.name == handler), False
        )
        if any(m.recursive_read_only for m in config.mounts) and not rro:
            raise ContainerRuntimeError(
                "runtime handler does not support recursive read-only mounts"
            )
        container_id = f"container-{next(self._ids)}"
        self.calls.append(("create_container", config.name))
        self.configs[container_id] = config
        self.containers[container_id] = ContainerStatus(
            id=container_id,
            pod=config.pod,
            name=config.name,
            sandbox_id=sandbox_id,
            restart_count=config.restart_count,
            state=ContainerState.CREATED,
            created_at=self._now(),
            image=config.image,
            image_ref="sha256:hollow",
            termination_grace_seconds=config.termination_grace_seconds,
            recursive_read_only_paths=frozenset(
                m.container_path for m in config.mounts if m.recursive_read_only
            ),
        )
        return container_id

    async def start_container(self, container_id: str) -> None:
        c = self.containers[container_id]
        self.calls.append(("start_container", c.name))
        if c.name in self.fail_start:
            message = self.fail_start[c.name]
            self.containers[container_id] = replace(
                c, state=ContainerState.EXITED, exit_code=128, reason="StartError", message=message
            )
            raise ContainerRuntimeError(message)
        self.containers[container_id] = replace(
            c, state=ContainerState.RUNNING, started_at=timeutil.now()
        )

    async def stop_container(self, container_id: str, timeout: int) -> None:
        self.calls.append(("stop_container", container_id))
        self.stops.append((container_id, timeout))
        c = self.containers.get(container_id)
        if c is not None and c.state == ContainerState.RUNNING:
            self.exit_container(container_id, 137)
        elif container_id in self.sandboxes:
            self.kill_sandbox(container_id)

    async def remove_container(self, container_id: str) -> None:
        self.calls.append(("remove_container", container_id))
        self.containers.pop(container_id, None)

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerStatus]:
        return [c for c in self.containers.values() if pod_uid in (None, c.pod.uid)]

    async def container_logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        if container_id not in self.containers:
            raise ContainerRuntimeError(f"No such container: {container_id}")
        data = self.logs.get(container_id, b"")
        if data:
            yield data

    async def exec_in_container(
        self, container_id: str, cmd: Sequence[str], timeout: float | None
    ) -> tuple[int, str]:
        self.calls.append(("exec_in_container", container_id))
        c = self.containers.get(container_id)
        if c is None or c.state != ContainerState.RUNNING:
            raise ContainerRuntimeError(f"container {container_id} is not running")
        if self.exec_handler is None:
            return 0, ""
        return await self.exec_handler(c, cmd)

    # ------------------------------------------------------------------ streaming (streams.py)
    def _running(self, container_id: str) -> ContainerStatus:
        c = self.containers.get(container_id)
        if c is None or c.state != ContainerState.RUNNING:
            raise ContainerRuntimeError(f"container {container_id} is not running")
        return c

    async def exec_interactive(
        self, container_id: str, cmd: Sequence[str], streams: StreamOptions
    ) -> HollowProcess:
        self._running(container_id)
        self.calls.append(("exec_interactive", container_id))
        self.processes.append(HollowProcess(streams.tty))
        return self.processes[-1]

    async def attach_interactive(self, container_id: str, streams: StreamOptions) -> HollowProcess:
        self._running(container_id)
        self.calls.append(("attach_interactive", container_id))
        self.processes.append(HollowProcess(self.configs[container_id].tty))
        return self.processes[-1]

    async def dial_pod_port(self, sandbox_id: str, port: int) -> EchoConnection:
        self.calls.append(("dial_pod_port", f"{sandbox_id}:{port}"))
        if port not in self.listening_ports:
            raise PortForwardError(
                f'failed to connect to localhost:{port} inside namespace "{sandbox_id}", '
                f"IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused "
                f"IPv6 dial tcp6 [::1]:{port}: connect: connection refused"
            )
        return EchoConnection()
