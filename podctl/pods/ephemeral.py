"""What `podctl debug` does to a pod (kubectl's debug.go, ephemeral-container mode): an ephemeral
container added through the pods/ephemeralcontainers subresource, then awaited until it runs."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from podctl.errors import CommandError
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.ephemeral_containers import status_of
from podplane.client.clientset import Client, is_conflict

# Kubernetes' utilrand alphabet: no vowels, no look-alikes.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POLL_SECONDS = 0.5
# Waiting reasons that will not clear up by themselves: shown to the user at once.
_FAILING = (
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "CreateContainerError",
    "CreateContainerConfigError",
    "InvalidImageName",
)


def debug_container_name() -> str:
    """debugger-xxxxx, as kubectl names it when -c is not given."""
    return "debugger-" + "".join(random.choice(_NAME_ALPHABET) for _ in range(5))


@dataclass(frozen=True)
class DebugContainer:
    name: str
    image: str
    command: Sequence[str] = ()
    target: str = ""
    stdin: bool = False
    tty: bool = False
    image_pull_policy: str = ""
    env: Sequence[tuple[str, str]] = field(default_factory=tuple)

    def message(self) -> core_pb2.EphemeralContainer:
        ec = core_pb2.EphemeralContainer(
            name=self.name,
            image=self.image,
            command=list(self.command),
            target_container_name=self.target,
            stdin=self.stdin,
            tty=self.tty,
            # Its stdin closes when the attached podctl's does, so `sh` ends with the input.
            stdin_once=self.stdin,
            image_pull_policy=self.image_pull_policy,
            termination_message_policy="File",
        )
        for name, value in self.env:
            ec.env.add(name=name, value=value)
        return ec


async def add_ephemeral_container(
    client: Client, namespace: str, pod_name: str, container: DebugContainer, attempts: int = 5
) -> core_pb2.Pod:
    """Adds the container to the pod's ephemeral containers, again on a concurrent write."""
    for attempt in range(attempts):
        pod = await client.pods.get(pod_name, namespace)
        if container.target and container.target not in [c.name for c in pod.spec.containers]:
            raise CommandError(
                f'error: container "{container.target}" not found in pod "{pod_name}"'
            )
        request = core_pb2.Pod(metadata=pod.metadata)  # the resourceVersion it read
        request.spec.ephemeral_containers.extend(pod.spec.ephemeral_containers)
        request.spec.ephemeral_containers.append(container.message())
        try:
            return await client.update_ephemeral_containers(request)
        except Exception as e:
            if not is_conflict(e) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def wait_until_started(
    client: Client, namespace: str, pod_name: str, name: str, timeout: float
) -> core_pb2.ContainerStatus:
    """The container's status once it runs or has already ended; its waiting reason, when it is
    one that does not clear up by itself, is printed once as kubectl's warning."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    warned = ""
    while True:
        pod = await client.pods.get(pod_name, namespace)
        status = status_of(pod.status, name)
        if status is not None:
            if status.state.HasField("running") or status.state.HasField("terminated"):
                return status
            reason = status.state.waiting.reason
            if reason in _FAILING and reason != warned:
                warned = reason
                print(
                    f"Warning: container {name}: {reason}: {status.state.waiting.message}",
                    file=sys.stderr,
                )
        if pod.status.phase in ("Succeeded", "Failed"):
            raise CommandError(
                f"error: pod {pod_name} is {pod.status.phase}: its ephemeral "
                f"container {name} will not run"
            )
        if loop.time() >= deadline:
            raise CommandError(
                f"error: timed out waiting for container {name} in pod {pod_name} to start"
            )
        await asyncio.sleep(POLL_SECONDS)
