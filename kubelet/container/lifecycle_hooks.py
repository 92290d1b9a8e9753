"""Container lifecycle hooks (pkg/kubelet/lifecycle/handlers.go): postStart runs right after a
container starts, preStop before it is stopped. A hook execs a command in the container, GETs a URL
of the pod (only a failed request fails it, not the status code, as with Kubernetes) or sleeps."""

from __future__ import annotations

import asyncio
import logging

from kubelet.prober.http_get import HTTPGetError, http_get
from kubelet.prober.probes import ProbeError, resolve_port
from kubelet.runtime.types import ContainerRuntime, ContainerRuntimeError, ExecTimeout
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)
# A hook that never returns must not hold the pod worker forever.
HOOK_TIMEOUT_SECONDS = 300.0


class HookError(Exception):
    """The hook failed; the message is what the FailedPostStartHook / FailedPreStopHook event and
    the waiting reason's message say."""


def _pod_name(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.name}_{pod.metadata.namespace}({pod.metadata.uid})"


async def run_hook(
    runtime: ContainerRuntime,
    pod: core_pb2.Pod,
    container: core_pb2.Container,
    container_id: str,
    handler: core_pb2.LifecycleHandler,
    pod_ip: str,
    timeout: float = HOOK_TIMEOUT_SECONDS,
) -> None:
    """Runs one handler; raises HookError if it failed."""
    if handler.HasField("exec"):
        command = list(handler.exec.command)
        try:
            code, output = await runtime.exec_in_container(container_id, command, timeout)
        except ExecTimeout as e:
            raise HookError(
                f'Exec lifecycle hook ({command}) for Container "{container.name}" '
                f'in Pod "{_pod_name(pod)}" failed - error: {e}'
            ) from e
        except ContainerRuntimeError as e:
            raise HookError(
                f'Exec lifecycle hook ({command}) for Container "{container.name}" '
                f'in Pod "{_pod_name(pod)}" failed - error: {e}'
            ) from e
        if code != 0:
            raise HookError(
                f'Exec lifecycle hook ({command}) for Container "{container.name}" '
                f'in Pod "{_pod_name(pod)}" failed - error: command '
                f"'{' '.join(command)}' exited with {code}: {output}, "
                f'message: "{output}"'
            )
        return
    if handler.HasField("http_get"):
        action = handler.http_get
        try:
            port = resolve_port(action.port, container)
        except ProbeError as e:
            raise HookError(
                f"HTTP lifecycle hook ({action.path}) for Container "
                f'"{container.name}" in Pod "{_pod_name(pod)}" failed - error: '
                f"{e}"
            ) from e
        headers = [(h.name, h.value) for h in action.http_headers]
        try:
            await http_get(
                action.scheme or "HTTP", action.host or pod_ip, port, action.path, headers, timeout
            )
        except HTTPGetError as e:
            raise HookError(
                f"HTTP lifecycle hook ({action.path}) for Container "
                f'"{container.name}" in Pod "{_pod_name(pod)}" failed - error: '
                f"{e}"
            ) from e
        return
    if handler.HasField("sleep"):
        await asyncio.sleep(min(float(handler.sleep.seconds), timeout))
        return
    raise HookError(
        f"Cannot run handler: unknown or unsupported handler type "
        f'(tcpSocket is not supported) for Container "{container.name}"'
    )
