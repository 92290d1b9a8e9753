"""What the runtime reports for one pod: its sandboxes and every container instance, newest
first."""
from __future__ import annotations

from dataclasses import dataclass, field

from kubelet.runtime.types import ContainerState, ContainerStatus, SandboxStatus


@dataclass
class RuntimePod:
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
        return [c for c in self.containers
                if c.state in (ContainerState.RUNNING, ContainerState.UNKNOWN)]

    @property
    def empty(self) -> bool:
        return not self.sandboxes and not self.containers
