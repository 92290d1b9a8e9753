"""The control plane under test when none is given: a real etcd on a fresh data dir and
`python -m apiserver` over it, both on free loopback ports, stopped by PID at the end."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def etcd_binary() -> str:
    binary = shutil.which("etcd") or "/usr/bin/etcd"
    if not os.path.exists(binary):
        raise RuntimeError("etcd is not installed: run `make host` (apt-get install etcd-server)")
    return binary


def etcd_version() -> str:
    """The version the local etcd binary reports, e.g. "3.4.23"."""
    out = subprocess.run([etcd_binary(), "--version"], capture_output=True, text=True).stdout
    match = re.search(r"etcd Version: (\S+)", out)
    return match.group(1) if match else "unknown"


def filesystem_of(path: str) -> str:
    """The filesystem type holding `path` (fsync cost depends on it), from /proc/mounts."""
    path = os.path.realpath(path)
    best, fstype = "", "unknown"
    try:
        with open("/proc/mounts") as mounts:
            entries = [line.split()[1:3] for line in mounts if len(line.split()) >= 3]
    except OSError:
        return fstype
    for mount_point, kind in entries:
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best):  # the deepest mount holding path
            best, fstype = mount_point, kind
    return fstype


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far, all its threads (those that have exited too), to the
    nanosecond: its POSIX process CPU clock, which Linux lets any process read by PID. Not
    /proc/PID/stat's utime and stime: those count clock ticks (10 ms), more than a measured
    phase of a small benchmark may cost, which then reads as zero. OSError when it has exited."""
    return time.clock_gettime(process_cpu_clock(pid))


class CpuMeter:
    """CPU seconds of some processes (by name), of this one ("client") and the wall clock
    ("wall"), sampled together, and what a phase between two samples cost per item."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids

    def sample(self) -> dict[str, float]:
        sample = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        sample["client"] = time.process_time()
        sample["wall"] = time.monotonic()
        return sample

    async def measure(self, count: int, phase: Awaitable[None]) -> dict[str, float]:
        """Microseconds of CPU per item, by process, and the items per second."""
        before = self.sample()
        await phase
        after = self.sample()
        result = {
            f"{name}_us": (after[name] - before[name]) / count * 1e6
            for name in after
            if name != "wall"
        }
        result["per_second"] = count / (after["wall"] - before["wall"])
        return result


def process_cpu_clock(pid: int) -> int:
    """The clock id of `pid`'s whole-process CPU clock, as glibc's clock_getcpuclockid builds it
    (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) in the kernel's posix-timers.h)."""
    cpuclock_sched = 2
    return (~pid << 3) | cpuclock_sched


def container_cpu_seconds(container: str) -> float:
    """CPU time a Docker container's own processes (its init and what descends from it) have
    used so far. Not its cgroup's account: that also counts what `docker exec` runs in it, such
    as the compose file's health checks (a Python process every 2 s), which would bury the
    component's own cost."""
    found = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Pid}}", container],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0 or not found.stdout.strip().isdigit():
        raise OSError(f"no running container {container}: {found.stderr.strip()}")
    total, pending = 0.0, [int(found.stdout)]
    while pending:
        pid = pending.pop()
        total += cpu_seconds(pid)
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            pending.extend(int(child) for child in children.read().split())
    return total


def _stop(process: subprocess.Popen[bytes], log: IO[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


@dataclass
class EtcdProcess:
    """A single-member etcd on loopback with its own data dir."""

    process: subprocess.Popen[bytes]
    endpoint: str
    data_dir: str
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(cls, parent_dir: str | None = None) -> EtcdProcess:
        data_dir = tempfile.mkdtemp(prefix="podplane-bench-etcd-", dir=parent_dir)
        client, peer = free_port(), free_port()
        endpoint = f"http://127.0.0.1:{client}"
        log = open(os.path.join(data_dir, "etcd.log"), "wb")
        process = subprocess.Popen(
            [
                etcd_binary(),
                "--name",
                "bench",
                "--data-dir",
                os.path.join(data_dir, "data"),
                "--listen-client-urls",
                endpoint,
                "--advertise-client-urls",
                endpoint,
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-cluster",
                f"bench=http://127.0.0.1:{peer}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        etcd = cls(process, endpoint, data_dir, log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"etcd exited with {process.returncode}: see {data_dir}/etcd.log"
                )
            try:
                with socket.create_connection(("127.0.0.1", client), timeout=0.2):
                    return etcd
            except OSError:
                time.sleep(0.05)
        etcd.stop()
        raise RuntimeError(f"etcd did not listen within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        _stop(self.process, self.log)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def wait_serving(
    target: str,
    timeout: float = START_TIMEOUT,
    process: subprocess.Popen[bytes] | None = None,
    channel: grpc.Channel | None = None,
) -> None:
    """Polls the gRPC health service at host:port until it reports SERVING; over `channel` when
    given (a TLS one, which the caller closes), else over a plaintext channel of its own."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    own = channel is None
    ch = grpc.insecure_channel(target) if channel is None else channel
    try:
        stub = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{target}: the process exited with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.RpcError as e:
                last = f"{e.code().name}: {e.details()}"
            time.sleep(0.1)
    finally:
        if own:
            ch.close()
    raise RuntimeError(f"{target} not SERVING after {timeout:.0f} s (last: {last})")


def tls_apiserver_args(
    etcd_endpoint: str,
    pki_dir: Path,
    grpc_port: int,
    rest_port: int,
    metrics_port: int,
    run: Sequence[str] = ("-m",),
) -> list[str]:
    """`python <run> apiserver` over `etcd_endpoint` on loopback with TLS on both doors from the
    test PKI in `pki_dir` (apiserver.crt/key, ca.crt); `rest_port` 0 serves no REST door. `run`
    may put a wrapper module before `apiserver` (bench.common.profiled)."""
    return [
        sys.executable,
        *run,
        "apiserver",
        "--etcd-servers",
        etcd_endpoint,
        "--bind-address",
        "127.0.0.1",
        "--port",
        str(grpc_port),
        "--rest-port",
        str(rest_port),
        "--token-port",
        "0",
        "--metrics-bind-address",
        f"127.0.0.1:{metrics_port}",
        "--log-level",
        "WARNING",
        "--tls-cert-file",
        str(pki_dir / "apiserver.crt"),
        "--tls-private-key-file",
        str(pki_dir / "apiserver.key"),
        "--client-ca-file",
        str(pki_dir / "ca.crt"),
    ]


def _apiserver_help() -> str:
    """The apiserver's --help, to pass only flags the version in this tree has."""
    return subprocess.run(
        [sys.executable, "-m", "apiserver", "--help"], capture_output=True, text=True, timeout=60
    ).stdout


@dataclass
class ApiserverProcess:
    """`python -m apiserver` over the given etcd, on a free loopback port."""

    process: subprocess.Popen[bytes]
    target: str
    log_path: str
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(
        cls,
        etcd_endpoint: str,
        log_dir: str,
        extra_args: Sequence[str] = (),
        profile_out: str | None = None,
    ) -> ApiserverProcess:
        """With `profile_out`, runs under cProfile (bench.common.profiled: its event loop thread's
        CPU time, not the etcd watch threads'), which writes its stats there when SIGTERM stops
        the apiserver gracefully."""
        port = free_port()
        run = (
            ["-m", "bench.common.profiled", profile_out, "apiserver"]
            if profile_out
            else ["-m", "apiserver"]
        )
        args = [
            sys.executable,
            *run,
            "--etcd-servers",
            etcd_endpoint,
            "--bind-address",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "WARNING",
            *extra_args,
        ]
        if "--insecure-serving" in _apiserver_help():  # the benchmarks talk plaintext
            args.append("--insecure-serving")
        if "--rest-port" in _apiserver_help() and "--rest-port" not in extra_args:
            # No REST door unless asked for: its default 8443 may be another apiserver's.
            args += ["--rest-port", "0"]
        if "--metrics-bind-address" in _apiserver_help():
            # Not the default 0.0.0.0:8080, which another apiserver on this host may hold.
            args += ["--metrics-bind-address", f"127.0.0.1:{free_port()}"]
        log_path = os.path.join(log_dir, "apiserver.log")
        log = open(log_path, "wb")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        server = cls(process, f"127.0.0.1:{port}", log_path, log)
        try:
            wait_serving(server.target, process=process)
        except RuntimeError as e:
            server.stop()
            raise RuntimeError(f"apiserver did not start: {e}; see {log_path}") from None
        return server

    def stop(self) -> None:
        # A graceful stop takes up to 5 s (its servers' grace); under cProfile, writing the
        # stats takes a few more.
        _stop(self.process, self.log, timeout=30.0)
