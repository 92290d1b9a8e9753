"""Running one probe of a container (prober.go runProbe): exec in the container, an HTTP GET, a
TCP connect or a gRPC health check to the pod IP. Each gives a result and what a person should
see of it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from kubelet.prober.grpc_probe import grpc_probe
from kubelet.prober.http_get import HTTPGetError, dial_error, http_get
from kubelet.prober.results import Result
from kubelet.runtime.types import ContainerRuntime, ContainerRuntimeError, ExecTimeout
from podplane.api.core.v1 import core_pb2

DEFAULT_TIMEOUT_SECONDS = 1


class ProbeError(Exception):
    """The probe could not be run at all (a bad port, a failed runtime call): no result."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    output: str = ""


def resolve_port(port: str, container: core_pb2.Container) -> int:
    """A port number, or the name of one of the container's ports."""
    if port.isdigit():
        number = int(port)
    else:
        found = [p.container_port for p in container.ports if p.name == port]
        if not found:
            raise ProbeError(f"couldn't find port: {port} in {container.name}")
        number = found[0]
    if not 0 < number < 65536:
        raise ProbeError(f"invalid port number: {number}")
    return number


def timeout_of(probe: core_pb2.Probe) -> float:
    return float(probe.timeout_seconds or DEFAULT_TIMEOUT_SECONDS)


async def run_exec(
    runtime: ContainerRuntime, container_id: str, command: Sequence[str], timeout: float | None
) -> Outcome:
    try:
        code, output = await runtime.exec_in_container(container_id, command, timeout)
    except ExecTimeout:
        return Outcome(Result.FAILURE, f"command {_go_quote(command)} timed out")
    except ContainerRuntimeError as e:
        raise ProbeError(str(e)) from e
    if code != 0:
        return Outcome(Result.FAILURE, output or f"command {_go_quote(command)} exited with {code}")
    return Outcome(Result.SUCCESS, output)


async def run_http_get(
    action: core_pb2.HTTPGetAction, container: core_pb2.Container, pod_ip: str, timeout: float
) -> Outcome:
    port = resolve_port(action.port, container)
    host = action.host or pod_ip
    headers = [(h.name, h.value) for h in action.http_headers]
    try:
        code = await http_get(action.scheme or "HTTP", host, port, action.path, headers, timeout)
    except HTTPGetError as e:
        return Outcome(Result.FAILURE, str(e))
    if 200 <= code < 400:
        return Outcome(Result.SUCCESS)
    return Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {code}")


async def run_tcp(
    action: core_pb2.TCPSocketAction, container: core_pb2.Container, pod_ip: str, timeout: float
) -> Outcome:
    port = resolve_port(action.port, container)
    host = action.host or pod_ip
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return Outcome(Result.FAILURE, f"dial tcp {host}:{port}: i/o timeout")
    except OSError as e:
        return Outcome(Result.FAILURE, dial_error(host, port, e))
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return Outcome(Result.SUCCESS)


async def run_probe(
    runtime: ContainerRuntime,
    probe: core_pb2.Probe,
    container: core_pb2.Container,
    container_id: str,
    pod_ip: str,
) -> Outcome:
    timeout = timeout_of(probe)
    if probe.HasField("exec"):
        return await run_exec(runtime, container_id, probe.exec.command, timeout)
    if probe.HasField("http_get"):
        if not pod_ip and not probe.http_get.host:
            raise ProbeError("the pod has no IP yet")
        return await run_http_get(probe.http_get, container, pod_ip, timeout)
    if probe.HasField("tcp_socket"):
        if not pod_ip and not probe.tcp_socket.host:
            raise ProbeError("the pod has no IP yet")
        return await run_tcp(probe.tcp_socket, container, pod_ip, timeout)
    if probe.HasField("grpc"):
        if not pod_ip:
            raise ProbeError("the pod has no IP yet")
        action = probe.grpc
        if not 0 < action.port < 65536:
            raise ProbeError(f"invalid port number: {action.port}")
        result, output = await grpc_probe(pod_ip, action.port, action.service, timeout)
        return Outcome(result, output)
    raise ProbeError("missing probe handler")


def _go_quote(command: Sequence[str]) -> str:
    return "[" + " ".join(command) + "]"
