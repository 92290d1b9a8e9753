"""What the ingress controller's integration tests stand on: backend HTTP servers on the host
standing in for pods (each answers with its name and the path it was asked for), a Service with
EndpointSlices naming them, a real `python -m ingress` process with real HAProxy, and requests as
a client sends them (a Host header; TLS in tests/tls_hosts.py)."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually, free_port

ROOT = Path(__file__).resolve().parents[3]


class _NamedServer(http.server.ThreadingHTTPServer):
    name = ""
    daemon_threads = True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        assert isinstance(self.server, _NamedServer)
        body = f"{self.server.name} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def host_address() -> str:
    """The host's address toward its default route: an endpoint may not be a loopback address
    (EndpointSlice validation), so the stand-in pods listen here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 9))  # a UDP connect sends nothing
        return str(probe.getsockname()[0])


@contextmanager
def backend_server(name: str) -> Iterator[int]:
    """An HTTP server on the host's address answering `NAME PATH`; its port."""
    server = _NamedServer((host_address(), 0), _Handler)
    server.name = name
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


async def service_with_endpoints(
    client: Client,
    namespace: str,
    name: str,
    port: int,
    target_ports: list[int],
    *,
    port_name: str = "http",
    ready: bool = True,
) -> None:
    """A Service without selector, port `port` (named `port_name`) to target port `http`, and an
    EndpointSlice of the host's address on each of `target_ports` (a slice each)."""
    svc = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ports": [{"name": port_name, "port": port, "targetPort": "http"}]},
        }
    )
    assert isinstance(svc, service_pb2.Service)
    await client.services.create(svc)
    for i, target in enumerate(target_ports):
        slice_ = discovery_pb2.EndpointSlice(address_type="IPv4")
        slice_.metadata.name, slice_.metadata.namespace = f"{name}-{i}", namespace
        slice_.metadata.labels["kubernetes.io/service-name"] = name
        slice_.endpoints.add(addresses=[host_address()]).conditions.ready = ready
        slice_.ports.add(name=port_name, port=target, protocol="TCP")
        await client.endpointslices.create(slice_)


@dataclass
class IngressProcess:
    """One `python -m ingress` serving the class of `controller_class` on loopback ports."""

    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    healthz_port: int
    log_path: Path

    @classmethod
    def start(
        cls, server: str, controller_class: str, state_dir: str, *extra: str
    ) -> IngressProcess:
        ports = free_port(), free_port(), free_port()
        fd, path = tempfile.mkstemp(prefix="podplane-ingress-", suffix=".log")
        with os.fdopen(fd, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ingress",
                    f"--server={server}",
                    f"--controller-class={controller_class}",
                    "--bind-address=127.0.0.1",
                    f"--http-port={ports[0]}",
                    f"--https-port={ports[1]}",
                    f"--healthz-port={ports[2]}",
                    f"--state-dir={state_dir}",
                    *extra,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return cls(process, *ports, Path(path))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def healthy(self) -> None:
        async def answered() -> bool:
            status, _ = await asyncio.to_thread(get, self.healthz_port, "x", "/healthz")
            return status == 200

        try:
            await eventually(answered, 30, what="the controller's /healthz")
        except AssertionError as e:
            raise AssertionError(f"{e}; its log:\n{self.log()}") from None

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) of the process and its descendants (HAProxy's master
        and workers) so far, from /proc."""
        ticks = os.sysconf("SC_CLK_TCK")
        stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # exited meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
        family, total = {self.process.pid}, 0.0
        for pid in sorted(stats):  # children have higher pids than their parents, mostly
            if pid in family or stats[pid][0] in family:
                family.add(pid)
                total += stats[pid][1]
        return total

    def stop(self) -> str:
        """SIGTERM, then its log; it must stop within 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        output = self.log()
        self.log_path.unlink(missing_ok=True)
        return output


def get(port: int, host: str, path: str) -> tuple[int, str]:
    """GET http://HOST:PORT/PATH on 127.0.0.1, a connection of its own: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()
