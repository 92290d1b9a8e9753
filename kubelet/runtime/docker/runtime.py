"""The Docker implementation of the runtime interface (Docker SDK 7.x, low-level API).

The SDK blocks, so every call runs in a worker thread. Each pod is a pause container (the sandbox,
which owns the network and IPC namespaces) plus one container per Kubernetes container joined to
it with network_mode=container:<sandbox>. Docker's own restart policy stays "no": restarts are the
kubelet's decision."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

import requests.exceptions

from kubelet.runtime.docker import interactive, port_forward
from kubelet.runtime.docker import labels as L
from kubelet.runtime.docker.attach import attach_output
from kubelet.runtime.docker.exec import exec_output
from kubelet.runtime.docker.handlers import docker_runtime, handlers_from_info
from kubelet.runtime.docker.inspect import InspectCache, starting_view
from kubelet.runtime.docker.logs import stream_logs
from kubelet.runtime.docker.sdk import APIClient, errors, sdk, utils
from kubelet.runtime.docker.security import security_options, unmask_proc
from kubelet.runtime.socket_connection import SocketConnection
from kubelet.runtime.streams import PortForwardError, StreamOptions
from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    DNSConfig,
    ExecOutput,
    ExecTimeout,
    ImageInfo,
    ImageNotFound,
    LogOptions,
    RuntimeHandler,
    SandboxConfig,
    SandboxStatus,
)
from podplane.apimachinery.json_types import JSONObject

log = logging.getLogger(__name__)
R = TypeVar("R")
P = ParamSpec("P")
_ZERO_TIME = "0001-01-01T00:00:00Z"
# Each SDK call holds a thread until the engine answers, and a start can take a second or more on
# a busy engine. The runtime has its own threads (as many as the SDK's connection pool serves):
# in asyncio's default pool (cpu count + 4: six on a 2-core node) a burst of starts left the
# PLEG's and the pod workers' listings and inspects queueing behind them.
DOCKER_THREADS = 32
# Starts (network setup included) in flight at once: as many as the default pool allowed before.
# Docker 20.10's libnetwork has lock-order deadlocks between concurrent starts and network
# changes; more parallel starts would not make a busy engine start pods faster anyway.
STARTS_IN_FLIGHT = 6


def docker_time(value: str | None) -> str:
    """Docker's RFC 3339 nanosecond time -> Kubernetes' second precision; "" for the zero time."""
    if not value or value.startswith("0001-01-01"):
        return ""
    return value[:19] + "Z"


def _state(inspect: JSONObject) -> tuple[ContainerState, int, str, str]:
    """(state, exit code, reason, message) from a container's inspect data."""
    st = inspect.get("State") or {}
    status = st.get("Status", "")
    exit_code = int(st.get("ExitCode") or 0)
    error = st.get("Error") or ""
    if status in ("running", "paused", "restarting"):
        return ContainerState.RUNNING, 0, "", ""
    if status == "created":
        if error:  # the runtime could not start the process: a start failure, not a fresh container
            return ContainerState.EXITED, exit_code or 128, "StartError", error
        return ContainerState.CREATED, 0, "", ""
    if status in ("exited", "dead", "removing"):
        return ContainerState.EXITED, exit_code, "OOMKilled" if st.get("OOMKilled") else "", error
    return ContainerState.UNKNOWN, exit_code, "", error


def _labels(inspect: JSONObject) -> dict[str, str]:
    labels: dict[str, str] = (inspect.get("Config") or {}).get("Labels") or {}
    return labels


class DockerRuntime:
    def __init__(self, api: APIClient, node_name: str = "") -> None:
        self._api = api
        # With a node name, only containers labelled with it are this runtime's: kubelets (or
        # tests) sharing one engine then never touch each other's pods.
        self._node_labels = {L.NODE_NAME: node_name} if node_name else {}
        self._threads = ThreadPoolExecutor(DOCKER_THREADS, thread_name_prefix="docker")
        self._inspects = InspectCache(lambda cid: self._call(self._api.inspect_container, cid))
        # The containers whose start call is under way (see starting_view).
        self._starting: set[str] = set()
        self._start_slots = asyncio.Semaphore(STARTS_IN_FLIGHT)
        # The engine runtime of each sandbox (its containers run with it), as created or read back.
        self._sandbox_runtimes: dict[str, str] = {}

    @classmethod
    async def connect(
        cls, docker_host: str, node_name: str = "", timeout: float = 120.0
    ) -> DockerRuntime:
        def make() -> APIClient:
            return sdk.APIClient(
                base_url=docker_host, version="auto", timeout=timeout, max_pool_size=64
            )

        try:
            return cls(await asyncio.to_thread(make), node_name)
        except (errors.DockerException, requests.exceptions.RequestException) as e:
            raise ContainerRuntimeError(
                f"cannot reach the Docker engine at {docker_host}: {e}"
            ) from e

    async def _in_thread(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, functools.partial(fn, *args, **kwargs)
        )

    async def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await self._in_thread(fn, *args, **kwargs)
        except errors.ImageNotFound as e:
            raise ImageNotFound(str(e.explanation or e)) from e
        except errors.APIError as e:
            raise ContainerRuntimeError(str(e.explanation or e)) from e
        except (errors.DockerException, requests.exceptions.RequestException) as e:
            raise ContainerRuntimeError(str(e)) from e

    async def _ignore_missing(
        self, fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        try:
            await self._in_thread(fn, *args, **kwargs)
        except errors.NotFound:
            pass
        except errors.APIError as e:
            in_progress = e.status_code == 409 and "in progress" in str(e.explanation)
            if e.status_code == 304 or in_progress:
                return  # stopped already / being removed already
            raise ContainerRuntimeError(str(e.explanation or e)) from e
        except (errors.DockerException, requests.exceptions.RequestException) as e:
            raise ContainerRuntimeError(str(e)) from e

    async def version(self) -> str:
        info = await self._call(self._api.version)
        return f"docker://{info.get('Version', 'unknown')}"

    async def runtime_handlers(self) -> list[RuntimeHandler]:
        return handlers_from_info(await self._call(self._api.info))

    async def _sandbox_runtime(self, sandbox_id: str) -> str:
        """The engine runtime of a sandbox ("" for the default), read back after a restart."""
        if sandbox_id not in self._sandbox_runtimes:
            data = await self._call(self._api.inspect_container, sandbox_id)
            self._sandbox_runtimes[sandbox_id] = (data.get("HostConfig") or {}).get("Runtime") or ""
        return self._sandbox_runtimes[sandbox_id]

    # ------------------------------------------------------------------ sandboxes
    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        # The sandbox's resolv.conf is every container's: they join its network namespace. Docker
        # refuses DNS options beside the host's network ("conflicting options"): a host-network
        # sandbox's copy of the node's resolv.conf is written over once it exists instead
        # (dockershim's rewriteResolvFile).
        dns = config.dns if not config.host_network else None
        runtime = None
        if config.runtime_handler:
            handlers = await self.runtime_handlers()
            runtime = docker_runtime(config.runtime_handler, (h.name for h in handlers))
        host_config = self._api.create_host_config(
            network_mode="host" if config.host_network else "bridge",
            ipc_mode="shareable",
            restart_policy={"Name": "no"},
            dns=list(dns.servers) or None if dns else None,
            dns_search=list(dns.searches) or None if dns else None,
            dns_opt=list(dns.options) or None if dns else None,
            # The pod's sysctls go into the sandbox's namespaces, which its containers join.
            sysctls=dict(config.sysctls) or None,
            runtime=runtime,
        )
        labels = {
            **config.labels,
            **self._node_labels,
            **L.pod_labels(config.pod),
            L.CONTAINER_NAME: L.SANDBOX_CONTAINER_NAME,
            L.CONTAINER_TYPE: L.TYPE_SANDBOX,
            L.SANDBOX_ATTEMPT: str(config.attempt),
            L.GRACE_PERIOD: str(config.termination_grace_seconds),
        }
        name = L.docker_name(config.pod, L.SANDBOX_CONTAINER_NAME, config.attempt)
        created = await self._create(
            name,
            config.image,
            hostname=None if config.host_network else config.hostname,
            labels=labels,
            host_config=host_config,
        )
        self._sandbox_runtimes[created] = runtime or ""
        await self._start(created)
        # Docker writes the file when the container starts; the pod's containers come after.
        if config.host_network and config.dns is not None:
            await self._rewrite_resolv_conf(created, config.dns)
        return created

    async def _rewrite_resolv_conf(self, container_id: str, dns: DNSConfig) -> None:
        data = await self._call(self._api.inspect_container, container_id)
        path = data.get("ResolvConfPath") or ""
        lines = [f"nameserver {s}" for s in dns.servers]
        lines += [f"search {' '.join(dns.searches)}"] if dns.searches else []
        lines += [f"options {' '.join(dns.options)}"] if dns.options else []
        try:
            await asyncio.to_thread(Path(path).write_text, "\n".join(lines) + "\n")
        except OSError as e:
            # A kubelet that does not share the engine's filesystem cannot: the node's stays.
            log.warning("cannot write the host-network sandbox's resolv.conf %s: %s", path, e)

    async def stop_pod_sandbox(self, sandbox_id: str, timeout: int) -> None:
        await self.stop_container(sandbox_id, timeout)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        self._sandbox_runtimes.pop(sandbox_id, None)
        await self.remove_container(sandbox_id)

    async def list_pod_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        result = []
        for data in await self._list(L.TYPE_SANDBOX, pod_uid):
            labels = _labels(data)
            networks = data.get("NetworkSettings") or {}
            state, *_ = _state(data)
            result.append(
                SandboxStatus(
                    id=data["Id"],
                    pod=L.pod_ref(labels),
                    attempt=L.int_label(labels, L.SANDBOX_ATTEMPT),
                    ready=state == ContainerState.RUNNING,
                    ip=networks.get("IPAddress") or "",
                    created_at=docker_time(data.get("Created")),
                )
            )
        return result

    # ------------------------------------------------------------------ images
    async def inspect_image(self, image: str) -> ImageInfo | None:
        try:
            data = await self._call(self._api.inspect_image, image)
        except ImageNotFound:
            return None
        except ContainerRuntimeError as e:
            if "no such image" in str(e).lower():
                return None
            raise
        return ImageInfo(
            id=data["Id"],
            repo_digests=tuple(data.get("RepoDigests") or ()),
            size=int(data.get("Size") or 0),
        )

    async def list_images(self) -> list[ImageInfo]:
        images = await self._call(self._api.images)
        return [
            ImageInfo(
                id=i["Id"],
                repo_digests=tuple(i.get("RepoDigests") or ()),
                size=int(i.get("Size") or 0),
                repo_tags=tuple(i.get("RepoTags") or ()),
            )
            for i in images
        ]

    async def pull_image(self, image: str) -> ImageInfo:
        repository, tag = utils.parse_repository_tag(image)

        def pull() -> None:
            for event in self._api.pull(repository, tag=tag or "latest", stream=True, decode=True):
                if isinstance(event, dict) and event.get("error"):
                    raise ContainerRuntimeError(str(event["error"]))

        await self._call(pull)
        info = await self.inspect_image(image)
        if info is None:
            raise ImageNotFound(f"image {image} is not present after pulling it")
        return info

    # ------------------------------------------------------------------ containers
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = f"container:{sandbox_id}"
        if any(m.recursive_read_only for m in config.mounts):
            raise ContainerRuntimeError(
                "runtime handler does not support recursive read-only mounts"
            )
        runtime = await self._sandbox_runtime(sandbox_id)
        host_config = self._api.create_host_config(
            network_mode=sandbox,
            ipc_mode=sandbox,
            pid_mode=(
                f"container:{config.pid_namespace_of}"
                if config.pid_namespace_of
                else sandbox
                if config.share_process_namespace
                else None
            ),
            binds=[
                f"{m.host_path}:{m.container_path}:{'ro' if m.read_only else 'rw'}"
                for m in config.mounts
            ]
            or None,
            mem_limit=config.memory_limit,
            nano_cpus=config.nano_cpus,
            cpu_shares=config.cpu_shares,
            privileged=config.privileged,
            cap_add=list(config.cap_add) or None,
            cap_drop=list(config.cap_drop) or None,
            read_only=config.read_only_rootfs or None,
            restart_policy={"Name": "no"},
            security_opt=security_options(config) or None,
            device_cgroup_rules=list(config.device_cgroup_rules) or None,
            # No swap beyond the memory limit, as Kubernetes.
            memswap_limit=config.memory_limit,
            runtime=runtime or None,
        )
        if config.unmasked_proc:
            unmask_proc(host_config)
        labels = {
            **config.labels,
            **self._node_labels,
            **L.pod_labels(config.pod),
            L.CONTAINER_NAME: config.name,
            L.CONTAINER_TYPE: L.TYPE_CONTAINER,
            L.RESTART_COUNT: str(config.restart_count),
            L.SANDBOX_ID: sandbox_id,
            L.GRACE_PERIOD: str(config.termination_grace_seconds),
        }
        name = L.docker_name(config.pod, config.name, config.restart_count)
        return await self._create(
            name,
            config.image,
            entrypoint=list(config.entrypoint) if config.entrypoint else None,
            command=list(config.cmd) if config.cmd is not None else None,
            environment=[f"{k}={v}" for k, v in config.env],
            working_dir=config.working_dir or None,
            labels=labels,
            host_config=host_config,
            tty=config.tty,
            stdin_open=config.stdin,
            user=config.user,
        )

    async def _create(self, name: str, image: str, **kwargs: object) -> str:
        try:
            created = await self._call(self._api.create_container, image, name=name, **kwargs)
        except ContainerRuntimeError as e:
            if "conflict" not in str(e).lower():
                raise
            # A leftover of an earlier attempt holds the name (e.g. a crash between create and
            # label-based listing): it is ours, so it goes.
            log.warning("removing %s, which holds the name of a new container", name)
            await self._ignore_missing(self._api.remove_container, name, force=True)
            created = await self._call(self._api.create_container, image, name=name, **kwargs)
        return str(created["Id"])

    async def start_container(self, container_id: str) -> None:
        await self._start(container_id)

    async def _start(self, container_id: str) -> None:
        async with self._start_slots:
            self._starting.add(container_id)
            try:
                await self._call(self._api.start, container_id)
            finally:  # a failed start leaves the state "created" but sets an error: inspect again
                self._starting.discard(container_id)
                self._inspects.forget(container_id)

    async def stop_container(self, container_id: str, timeout: int) -> None:
        self._inspects.forget(container_id)
        await self._ignore_missing(self._api.stop, container_id, timeout=max(timeout, 0))

    async def remove_container(self, container_id: str) -> None:
        self._inspects.forget(container_id)
        await self._ignore_missing(self._api.remove_container, container_id, force=True, v=True)

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerStatus]:
        result = []
        for data in await self._list(L.TYPE_CONTAINER, pod_uid):
            labels = _labels(data)
            state, exit_code, reason, message = _state(data)
            st = data.get("State") or {}
            result.append(
                ContainerStatus(
                    id=data["Id"],
                    pod=L.pod_ref(labels),
                    name=labels.get(L.CONTAINER_NAME, ""),
                    sandbox_id=labels.get(L.SANDBOX_ID, ""),
                    restart_count=L.int_label(labels, L.RESTART_COUNT),
                    state=state,
                    created_at=docker_time(data.get("Created")),
                    started_at=docker_time(st.get("StartedAt")),
                    finished_at=docker_time(st.get("FinishedAt")),
                    exit_code=exit_code,
                    reason=reason,
                    message=message,
                    image=data["Config"].get("Image", ""),
                    image_ref=data.get("Image", ""),
                    termination_grace_seconds=L.int_label(labels, L.GRACE_PERIOD, 30),
                )
            )
        return result

    async def _list(self, kind: str, pod_uid: str | None) -> list[JSONObject]:
        """Inspect data of every sandbox or container (of one pod), from the cache when fresh."""
        filters = [f"{L.CONTAINER_TYPE}={kind}"]
        filters += [f"{key}={value}" for key, value in self._node_labels.items()]
        if pod_uid:
            filters.append(f"{L.POD_UID}={pod_uid}")
        summaries = await self._call(self._api.containers, all=True, filters={"label": filters})
        inspected = await asyncio.gather(*(self._inspect(s) for s in summaries))
        if pod_uid is None:  # forget containers removed behind our back
            self._inspects.forget_missing(
                (s["Id"] for s in summaries),
                lambda data: _labels(data).get(L.CONTAINER_TYPE) == kind,
            )
        return [data for data in inspected if data is not None]  # None: removed meanwhile

    async def _inspect(self, summary: JSONObject) -> JSONObject | None:
        if summary["Id"] in self._starting and summary.get("State") == "created":
            return starting_view(summary)  # an inspect would wait for the start to end
        return await self._inspects.get(summary["Id"], summary.get("State", ""))

    def container_logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        return stream_logs(self._api, container_id, options)

    async def exec_in_container(
        self, container_id: str, cmd: Sequence[str], timeout: float | None
    ) -> tuple[int, str]:
        def run() -> tuple[int, str]:
            created = self._api.exec_create(container_id, list(cmd), stdout=True, stderr=True)
            output = self._api.exec_start(created["Id"])
            code = self._api.exec_inspect(created["Id"]).get("ExitCode")
            text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
            return (int(code) if code is not None else -1), text

        try:
            # Docker cannot cancel an exec: one that times out runs on, unobserved.
            async with asyncio.timeout(timeout):
                return await self._call(run)
        except TimeoutError:
            raise ExecTimeout(f"command {list(cmd)} timed out after {timeout:g}s") from None

    def exec_stream(
        self, container_id: str, cmd: Sequence[str], stdin: bytes | None = None
    ) -> AsyncIterator[ExecOutput]:
        return exec_output(self._api, container_id, cmd, stdin)

    def attach_stream(
        self, container_id: str, stdin: bytes | None = None
    ) -> AsyncIterator[ExecOutput]:
        return attach_output(self._api, container_id, stdin)

    # ------------------------------------------------------------------ streaming (streams.py)
    async def exec_interactive(
        self, container_id: str, cmd: Sequence[str], streams: StreamOptions
    ) -> interactive.DockerProcess:
        return await interactive.exec_interactive(self._api, self._call, container_id, cmd, streams)

    async def attach_interactive(
        self, container_id: str, streams: StreamOptions
    ) -> interactive.DockerProcess:
        return await interactive.attach_interactive(self._api, self._call, container_id, streams)

    async def dial_pod_port(self, sandbox_id: str, port: int) -> SocketConnection:
        try:
            inspect = await self._call(self._api.inspect_container, sandbox_id)
        except ContainerRuntimeError as e:
            raise PortForwardError(f'pod sandbox "{sandbox_id}": {e}') from e
        return await port_forward.dial(inspect, port)

    def close(self) -> None:
        self._api.close()
        self._threads.shutdown(wait=False)
