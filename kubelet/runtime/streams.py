"""The runtime's streaming interface (the CRI's Exec, Attach and PortForward): interactive
processes, whose stdin, terminal size and output flow while they run, and connections to a pod's
ports. kubelet/server/ serves them as the kubelet API's bidirectional streams; Docker
(docker/interactive.py, docker/port_forward.py) and the hollow runtime implement them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kubelet.runtime.types import ContainerRuntimeError, ExecOutput

# How long a runtime may take to report a process ended once its output has.
EXIT_WAIT_SECONDS = 5.0


async def wait_for_exit(status: Callable[[], Awaitable[tuple[bool, int | None]]]) -> int | None:
    """The exit code once `status` says the process no longer runs; None if it still runs."""
    deadline = asyncio.get_running_loop().time() + EXIT_WAIT_SECONDS
    while True:
        running, code = await status()
        if not running:
            return code
        if asyncio.get_running_loop().time() > deadline:
            return None
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class TerminalSize:
    width: int
    height: int


@dataclass(frozen=True)
class StreamOptions:
    """Which of the process's streams the caller uses; `tty` asks an exec for a terminal (an
    attach has the container's own)."""

    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False


class InteractiveProcess(Protocol):
    """An exec'd command or a container's own process, attached to while it runs."""

    @property
    def tty(self) -> bool:
        """Whether its output comes from a terminal (all on stdout)."""
        ...

    async def write_stdin(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None:
        """The end of stdin: the process reads end-of-file (through a terminal, the terminal's
        end-of-file character, ^D, since a terminal's input stays open)."""
        ...

    async def resize(self, size: TerminalSize) -> None:
        """Resizes its terminal; ignored without one or once the process has ended."""
        ...

    def output(self) -> AsyncIterator[ExecOutput]:
        """stdout and stderr as they come; when the process has ended, a last item with its exit
        code. The output may also end without one (an attach whose process runs on)."""
        ...

    async def close(self) -> None:
        """Detaches; a command that still runs is left running (Docker cannot cancel an exec)."""
        ...


@runtime_checkable
class InteractiveStreams(Protocol):
    """A runtime that can run interactive commands and attach to containers (kubectl exec -it,
    kubectl attach -it)."""

    async def exec_interactive(
        self, container_id: str, cmd: Sequence[str], streams: StreamOptions
    ) -> InteractiveProcess: ...

    async def attach_interactive(
        self, container_id: str, streams: StreamOptions
    ) -> InteractiveProcess: ...


class PortForwardError(ContainerRuntimeError):
    """The pod's port could not be reached; the message says why, in Kubernetes' words
    ('failed to connect to localhost:80 inside namespace "<sandbox>", IPv4: ...')."""


class PodConnection(Protocol):
    """A TCP connection to a pod's port."""

    async def read(self) -> bytes:
        """The next bytes from the pod; b"" once the pod has closed its side."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close_write(self) -> None:
        """Half-closes: the pod reads end-of-file, and may still answer."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class PortForwarding(Protocol):
    """A runtime that can connect to a port inside a pod's network namespace (kubectl
    port-forward)."""

    async def dial_pod_port(self, sandbox_id: str, port: int) -> PodConnection:
        """Connects to localhost:`port` in the sandbox's network namespace; raises
        PortForwardError when nothing accepts."""
        ...
