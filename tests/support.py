"""Test helpers shared by the integration and end-to-end suites: a real etcd process and polling."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPOSITORY = Path(__file__).resolve().parents[1]


def worker_index() -> int:
    """This pytest-xdist worker's number (gw2: 2); 0 in a run without workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


# free_port's ports: a block of its own per xdist worker, below the kernel's ephemeral range
# (ip_local_port_range, 32768-60999 by default), from which bind(("127.0.0.1", 0)) and every
# outgoing connection draw. A port from bind(0) is free only until the socket closes: another
# worker's bind(0) or a connection could take it before the server it was for listens.
PORT_BLOCK_START = 20000
PORT_BLOCK_SIZE = 500
# Where this process starts in its block: another test process on the host starts elsewhere.
_port_offsets = itertools.count(random.randrange(PORT_BLOCK_SIZE))


def free_port() -> int:
    """A port nothing on 127.0.0.1 listens on, for a server about to start: from this worker's
    block (PORT_BLOCK_START), in turn, so no other worker and no port the kernel picks takes it
    in between."""
    first = PORT_BLOCK_START + worker_index() * PORT_BLOCK_SIZE
    for _ in range(PORT_BLOCK_SIZE):
        port = first + next(_port_offsets) % PORT_BLOCK_SIZE
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use
            return port
    raise RuntimeError(f"no free port in {first}-{first + PORT_BLOCK_SIZE - 1}")


def thread_wake_ups(thread: threading.Thread) -> int:
    """How many times a thread of this process has gone to sleep and been woken so far (its
    voluntary context switches): a thread that waits for work without polling adds none."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return int(status.split("voluntary_ctxt_switches:")[1].split()[0])


@dataclass
class EtcdProcess:
    """A single-member etcd on loopback with its own data dir, started from Debian's etcd-server."""

    process: subprocess.Popen[bytes]
    endpoint: str
    data_dir: str

    @classmethod
    def start(cls) -> EtcdProcess:
        binary = shutil.which("etcd") or "/usr/bin/etcd"
        if not os.path.exists(binary):
            raise RuntimeError(
                "etcd is not installed: run `make host-tests` (apt-get install etcd-server)"
            )
        data_dir = tempfile.mkdtemp(prefix="podplane-etcd-")
        client, peer = free_port(), free_port()
        endpoint = f"http://127.0.0.1:{client}"
        log = open(os.path.join(data_dir, "etcd.log"), "wb")
        process = subprocess.Popen(
            [
                binary,
                "--name",
                "test",
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
                f"test=http://127.0.0.1:{peer}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        etcd = cls(process, endpoint, data_dir)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"etcd exited: see {data_dir}/etcd.log")
            try:
                with socket.create_connection(("127.0.0.1", client), timeout=0.2):
                    return etcd
            except OSError:
                time.sleep(0.05)
        etcd.stop()
        raise RuntimeError("etcd did not start within 20 s")

    def etcdctl_bytes(self, *args: str) -> bytes:
        env = {**os.environ, "ETCDCTL_API": "3"}
        return subprocess.run(
            ["etcdctl", f"--endpoints={self.endpoint}", *args],
            env=env,
            check=True,
            capture_output=True,
        ).stdout

    def etcdctl(self, *args: str) -> str:
        return self.etcdctl_bytes(*args).decode("utf-8", "replace")

    def watchers(self) -> int:
        """How many watches etcd serves now, every client's (etcd_debugging_mvcc_watcher_total)."""
        with urllib.request.urlopen(f"{self.endpoint}/metrics", timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith("etcd_debugging_mvcc_watcher_total "):
                    return int(float(line.split()[1]))
        raise AssertionError("etcd does not report etcd_debugging_mvcc_watcher_total")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    """`await awaitable`, or TimeoutError after `seconds`: asyncio.wait_for without its Python 3.11
    defect (a cancellation that comes as the call finishes is lost, gh-86296), for the places a
    statement cannot be wrapped in `async with asyncio.timeout(...)` (a comprehension, a loop's
    condition)."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def eventually(
    check: Callable[[], Awaitable[T | None]],
    timeout: float = 30.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Polls `check` until it returns a truthy value (returned) or raises AssertionError on timeout;
    the last exception or falsy value is reported."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = await check()
            if result:
                return result
            last = result
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}"
            )
        await asyncio.sleep(interval)


async def held(
    get: Callable[[], object | None], what: str, timeout: float = 30.0, present: bool = True
) -> None:
    """Until `get()` answers something (with `present` False: until it answers None): a watch
    cache or the RBAC cache holding an object that was just written, or no longer holding one just
    deleted, which its consumers read as Kubernetes' informers' listers are read."""

    async def seen() -> bool:
        return (get() is not None) == present

    await eventually(seen, timeout, interval=0.02, what=what)


async def new_namespace(client: Any, prefix: str = "t-") -> str:
    """Creates a namespace with a fresh name (objects are refused in one that does not exist)."""
    from podplane.api.core.v1 import core_pb2
    from podplane.api.meta.v1 import meta_pb2

    name = prefix + os.urandom(4).hex()
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name)))
    return name


class ComponentProcess:
    """`python -m COMPONENT ARGS...` from the repository, its output (stdout and stderr) written to
    `log`. Not a pipe: a pipe that nobody reads while the component runs fills at 64 KiB, and the
    component then blocks at its next log line, its event loop with it (a controller-manager
    logging its warnings stopped making pods that way)."""

    def __init__(self, log: Path, *argv: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", *argv],
                cwd=REPOSITORY,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then its exit code once it has exited."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)
