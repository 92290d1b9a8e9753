"""The container runtime interface the kubelet's pod logic is written against (a small CRI).

Containers and sandboxes carry labels naming their pod, so everything the kubelet needs to know
about what runs is read back from the runtime; a restarted kubelet adopts what already runs."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ContainerRuntimeError(Exception):
    """A runtime call failed; the message is the runtime's own, for a person to act on."""


class ImageNotFound(ContainerRuntimeError):
    """The image is not present locally, or the registry does not have it."""


class ExecTimeout(ContainerRuntimeError):
    """A command run in a container did not finish within its timeout."""


class Unimplemented(ContainerRuntimeError):
    """The runtime does not have this call (an older CRI runtime's UNIMPLEMENTED)."""


class ContainerState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PodRef:
    """The pod a sandbox or container belongs to."""

    uid: str
    name: str
    namespace: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    read_only: bool = False
    # Read-only all the way down, submounts included (only where the runtime supports it).
    recursive_read_only: bool = False


# The kinds of a seccomp or AppArmor profile (the CRI's SecurityProfile.ProfileType).
RUNTIME_DEFAULT = "RuntimeDefault"
UNCONFINED = "Unconfined"
LOCALHOST = "Localhost"


@dataclass(frozen=True)
class SecurityProfile:
    """A seccomp or AppArmor profile (the CRI's SecurityProfile): the runtime's default, none, or
    one of the node's: a seccomp profile's file, an AppArmor profile's loaded name."""

    kind: str
    localhost_ref: str = ""


@dataclass(frozen=True)
class SELinuxOptions:
    """The SELinux label of a container's processes (the CRI's SELinuxOption)."""

    user: str = ""
    role: str = ""
    type: str = ""
    level: str = ""


@dataclass(frozen=True)
class RuntimeHandler:
    """One of the runtime's handlers (the CRI's RuntimeHandler): a RuntimeClass's handler names
    one; "" is the default. What it can do decides what the kubelet may ask of it."""

    name: str
    recursive_read_only_mounts: bool = False
    user_namespaces: bool = False


@dataclass(frozen=True)
class DNSConfig:
    """The pod's resolv.conf (the CRI's DNSConfig): nameservers, search domains, options."""

    servers: Sequence[str] = ()
    searches: Sequence[str] = ()
    options: Sequence[str] = ()


@dataclass(frozen=True)
class SandboxConfig:
    pod: PodRef
    attempt: int
    hostname: str
    image: str
    host_network: bool = False
    termination_grace_seconds: int = 30
    labels: Mapping[str, str] = field(default_factory=dict)
    # What every container of the pod finds in /etc/resolv.conf; None: the runtime's default.
    dns: DNSConfig | None = None
    # The pod's namespaced sysctls (securityContext.sysctls), set in the sandbox's namespaces.
    sysctls: Mapping[str, str] = field(default_factory=dict)
    # The RuntimeClass's handler the pod's sandbox and containers run with; "": the default.
    runtime_handler: str = ""
    # Whether any of the pod's containers is privileged (the CRI refuses a privileged container
    # in a sandbox that is not), and whether they share one process namespace.
    privileged: bool = False
    share_process_namespace: bool = False
    # The pod's cgroup (/kubepods/<class>/pod<uid>), which the sandbox and the pod's containers
    # run under; "": the runtime's default.
    cgroup_parent: str = ""


@dataclass(frozen=True)
class SandboxStatus:
    id: str
    pod: PodRef
    attempt: int
    ready: bool
    ip: str
    created_at: str


@dataclass(frozen=True)
class ContainerConfig:
    pod: PodRef
    name: str
    image: str
    restart_count: int
    # Docker's ENTRYPOINT and CMD; None keeps the image's own.
    entrypoint: Sequence[str] | None = None
    cmd: Sequence[str] | None = None
    env: Sequence[tuple[str, str]] = ()
    working_dir: str = ""
    mounts: Sequence[Mount] = ()
    memory_limit: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False
    user: str | None = None
    privileged: bool = False
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()
    read_only_rootfs: bool = False
    # Docker's --security-opt (seccomp/apparmor unconfined, no-new-privileges) and device rules.
    security_opt: Sequence[str] = ()
    # The seccomp and AppArmor profiles (None: the runtime's default) and the SELinux label.
    seccomp: SecurityProfile | None = None
    apparmor: SecurityProfile | None = None
    selinux: SELinuxOptions | None = None
    # procMount Unmasked: /proc without the runtime's masked and read-only paths.
    unmasked_proc: bool = False
    device_cgroup_rules: Sequence[str] = ()
    share_process_namespace: bool = False
    # The id of a container whose process namespace this one joins (an ephemeral container's
    # target, Docker's --pid=container:<id>); it wins over share_process_namespace.
    pid_namespace_of: str = ""
    termination_grace_seconds: int = 30
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerStatus:
    id: str
    pod: PodRef
    name: str
    sandbox_id: str
    restart_count: int
    state: ContainerState
    created_at: str
    started_at: str = ""
    finished_at: str = ""
    exit_code: int = 0
    # OOMKilled, or StartError when the runtime could not start the process.
    reason: str = ""
    message: str = ""
    image: str = ""
    image_ref: str = ""
    termination_grace_seconds: int = 30
    # The container paths of its recursively read-only mounts (the CRI's Mount.recursiveReadOnly).
    recursive_read_only_paths: frozenset[str] = frozenset()
    # The runtime's name, the scheme of containerStatuses[].containerID (docker://, containerd://).
    runtime_type: str = "docker"
    # What containerStatuses[].imageID shows; "": the image ref under the runtime's scheme, as
    # dockershim had it (docker://sha256:...). A CRI runtime's image ref is shown as it is.
    image_id: str = ""

    @property
    def container_uri(self) -> str:
        return f"{self.runtime_type}://{self.id}"

    @property
    def image_uri(self) -> str:
        if self.image_id:
            return self.image_id
        return f"{self.runtime_type}://{self.image_ref}" if self.image_ref else ""


@dataclass
class RuntimePod:
    """What the runtime reports for one pod: its sandboxes and every container instance."""

    sandboxes: list[SandboxStatus] = field(default_factory=list)
    containers: list[ContainerStatus] = field(default_factory=list)

    def latest_sandbox(self) -> SandboxStatus | None:
        if not self.sandboxes:
            return None
        return max(self.sandboxes, key=lambda s: (s.attempt, s.created_at))

    def ready_sandboxes(self) -> list[SandboxStatus]:
        return [s for s in self.sandboxes if s.ready]

    def instances(self, name: str) -> list[ContainerStatus]:
        """Every instance of the named container, the newest first."""
        found = [c for c in self.containers if c.name == name]
        found.sort(key=lambda c: (c.restart_count, c.created_at), reverse=True)
        return found

    def latest(self, name: str) -> ContainerStatus | None:
        found = self.instances(name)
        return found[0] if found else None

    def latest_in(self, name: str, sandbox_id: str) -> ContainerStatus | None:
        """The newest instance of the named container that runs in the given sandbox."""
        for c in self.instances(name):
            if c.sandbox_id == sandbox_id:
                return c
        return None

    def running(self) -> list[ContainerStatus]:
        return [
            c
            for c in self.containers
            if c.state in (ContainerState.RUNNING, ContainerState.UNKNOWN)
        ]

    @property
    def empty(self) -> bool:
        return not self.sandboxes and not self.containers


@dataclass(frozen=True)
class ImageInfo:
    id: str
    repo_digests: Sequence[str] = ()
    size: int = 0
    repo_tags: Sequence[str] = ()


@dataclass(frozen=True)
class ExecOutput:
    """A piece of an exec'd command's output ("stdout" or "stderr"); the last one carries the
    command's exit code (and may have no data)."""

    stream: str
    data: bytes
    exit_code: int | None = None


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None
    timestamps: bool = False
    since_seconds: int | None = None


class ContainerRuntime(Protocol):
    async def version(self) -> str:
        """e.g. "docker://20.10.24", as nodeInfo.containerRuntimeVersion shows it."""
        ...

    async def runtime_handlers(self) -> list[RuntimeHandler]:
        """The handlers a RuntimeClass may name ("" first: the default) and their features."""
        ...

    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        """Starts the sandbox; a handler the runtime does not have fails it, in the words of the
        CRI's runtimes: 'failed to get sandbox runtime: no runtime for "x" is configured'. Its
        containers run with the same handler."""
        ...

    async def stop_pod_sandbox(self, sandbox_id: str, timeout: int) -> None: ...

    async def remove_pod_sandbox(self, sandbox_id: str) -> None: ...

    async def list_pod_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]: ...

    async def inspect_image(self, image: str) -> ImageInfo | None: ...

    async def list_images(self) -> list[ImageInfo]: ...

    async def pull_image(self, image: str) -> ImageInfo: ...

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, timeout: int) -> None: ...

    async def remove_container(self, container_id: str) -> None: ...

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerStatus]:
        """App and init containers (never sandboxes), of one pod or of every pod."""
        ...

    def container_logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]: ...

    async def exec_in_container(
        self, container_id: str, cmd: Sequence[str], timeout: float | None
    ) -> tuple[int, str]:
        """Runs a command in a running container (the CRI's ExecSync): (exit code, stdout and
        stderr). Raises ExecTimeout when it takes longer than `timeout` seconds."""
        ...


@runtime_checkable
class StreamingExec(Protocol):
    """A runtime that can stream an exec'd command's output as it comes (Docker); others are
    served through ContainerRuntime.exec_in_container's buffered result."""

    def exec_stream(
        self, container_id: str, cmd: Sequence[str], stdin: bytes | None = None
    ) -> AsyncIterator[ExecOutput]:
        """stdout and stderr as they come, then a last item with the exit code; `stdin`, when
        given, is written to the command's standard input, which is then closed."""
        ...


@runtime_checkable
class StreamingAttach(Protocol):
    """A runtime that can attach to a container's own process (Docker); kubectl attach."""

    def attach_stream(
        self, container_id: str, stdin: bytes | None = None
    ) -> AsyncIterator[ExecOutput]:
        """The process's output from its start, as it comes, then a last item with its exit code
        once it has ended; `stdin`, when given, is written to its standard input, then closed."""
        ...
