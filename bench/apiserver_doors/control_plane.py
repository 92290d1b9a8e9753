"""The control plane under test: etcd on a fresh data dir and `python -m apiserver` serving both
doors with TLS, as production serves them (kubectl speaks only https, and the gRPC door's cost
includes its TLS), with a test PKI made here (podplane.componentbase.pki: the cluster CA, the
apiserver's serving certificate, the admin's client certificate). Stopped by PID at the end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.apiserver_doors.doors import Doors
from bench.common.pods import NAMESPACE
from bench.common.processes import EtcdProcess, filesystem_of, free_port, tls_apiserver_args
from bench.common.progress import Progress
from bench.common.service_accounts import ensure_default_accounts
from podplane.componentbase import pki

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0  # a graceful stop takes up to its servers' grace (5 s) and more when loaded


@dataclass
class Cluster:
    doors: Doors
    description: str
    pids: dict[str, int]  # the processes whose CPU is observed
    etcd_data_fs: str
    work_dir: str  # the PKI, logs, the kubeconfig; removed at the end


def _grpc_serving(doors: Doors) -> str:
    """ "" when the gRPC door answers SERVING, else what it answered."""
    with grpc.secure_channel(doors.grpc_target, doors.credentials().channel_credentials()) as ch:
        try:
            reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError as e:
            return f"gRPC {e.code().name}"
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            return f"gRPC {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
    return ""


def _rest_ready(doors: Doors) -> str:
    """ "" when the REST door's /readyz answers ok, else what it answered."""
    try:
        with urllib.request.urlopen(
            f"{doors.rest_url}/readyz", timeout=2, context=doors.ssl_context()
        ) as response:
            return "" if response.status == 200 else f"/readyz {response.status}"
    except (urllib.error.URLError, OSError) as e:
        return f"/readyz: {e}"


def wait_ready(doors: Doors, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the apiserver exited with {process.returncode}")
        last = _grpc_serving(doors) or _rest_ready(doors)
        if not last:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the apiserver was not ready after {timeout:.0f} s (last: {last})")


@dataclass
class SecureApiserver:
    process: subprocess.Popen[bytes]
    doors: Doors
    log: IO[bytes]

    @classmethod
    def start(cls, etcd_endpoint: str, pki_dir: Path, log_path: str) -> SecureApiserver:
        grpc_port, rest_port = free_port(), free_port()
        log = open(log_path, "wb")
        process = subprocess.Popen(
            tls_apiserver_args(etcd_endpoint, pki_dir, grpc_port, rest_port, free_port()),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        doors = Doors(
            f"127.0.0.1:{grpc_port}",
            f"https://127.0.0.1:{rest_port}",
            str(pki_dir / "ca.crt"),
            str(pki_dir / "admin.crt"),
            str(pki_dir / "admin.key"),
        )
        server = cls(process, doors, log)
        try:
            wait_ready(doors, process, START_TIMEOUT)
        except RuntimeError as e:
            server.stop()
            raise RuntimeError(f"{e}; see {log_path}") from None
        return server

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@contextlib.contextmanager
def control_plane(progress: Progress, log_dir: str) -> Iterator[Cluster]:
    """etcd and a TLS apiserver with both doors, stopped (by PID) on the way out; the apiserver's
    log is kept in `log_dir`."""
    work_dir = tempfile.mkdtemp(prefix="podplane-bench-doors-")
    etcd: EtcdProcess | None = None
    apiserver: SecureApiserver | None = None
    try:
        progress.step(
            "making a test PKI (CA, apiserver serving certificate, admin client certificate)"
        )
        pki_dir = Path(work_dir) / "pki"
        pki.build(pki_dir, nodes=[])
        progress.step("starting etcd on a fresh data dir")
        etcd = EtcdProcess.start()
        progress.step("starting the apiserver with TLS on both doors")
        apiserver = SecureApiserver.start(
            etcd.endpoint, pki_dir, os.path.join(log_dir, "apiserver-doors.log")
        )
        doors = apiserver.doors
        # No controller-manager here makes the account the benchmark's pods need.
        asyncio.run(ensure_default_accounts(doors.grpc_target, [NAMESPACE], doors.credentials()))
        yield Cluster(
            doors,
            f"started here: `python -m apiserver` (PID {apiserver.process.pid}), gRPC on "
            f"{doors.grpc_target}, REST on {doors.rest_url}, both TLS, over etcd PID "
            f"{etcd.pid}, fresh data dir",
            {"apiserver": apiserver.process.pid, "etcd": etcd.pid},
            filesystem_of(etcd.data_dir),
            work_dir,
        )
    finally:
        if apiserver is not None:
            apiserver.stop()
        if etcd is not None:
            etcd.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
