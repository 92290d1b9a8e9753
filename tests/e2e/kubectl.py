"""The real kubectl against the compose cluster's REST API (build/kubeconfig, which `make up`
writes: the admin's client certificate and the cluster's CA; build/kubeconfig-viewer: the
read-only viewer's token).

Which kubectl: the project's, in .venv/bin (the version requirements-dev.txt pins and
docs/setup.md names; tests/tools.py), never the host's. The e2e run's summary names it and its
version (conftest.py's pytest_terminal_summary)."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import pty
import queue
import re
import select
import shutil
import struct
import subprocess
import tempfile
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests import tools
from tests.e2e.compose_cluster import ROOT

KUBECONFIG = ROOT / "build" / "kubeconfig"
VIEWER_KUBECONFIG = ROOT / "build" / "kubeconfig-viewer"


# kubectl's discovery cache and any ~/.kube/config of the user's are kept out of the tests'
# way: every run has a HOME of its own.
HOME = tempfile.mkdtemp(prefix="podplane-kubectl-home-")
atexit.register(shutil.rmtree, HOME, ignore_errors=True)


# `kubectl wait` checks the object, then watches it through an informer, and cancels that when
# the condition is met. When the condition comes true between the check and the informer's list,
# it is met before the watch request has its answer's headers, and client-go's reflector logs
# the cancelled request as a failed watch: kubectl's own line, against any cluster, on a host
# slow enough for the window (1 in 10 loops of the shared end-to-end tests under load).
CANCELLED_WATCH = re.compile(
    r'^E\d{4} [\d:.]+ +\d+ reflector\.go:\d+\] "Failed to watch" .*context canceled.*\n', re.M
)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


class Kubectl:
    """kubectl as a user runs it: KUBECONFIG set, in one namespace (-n) unless told otherwise."""

    def __init__(self, namespace: str | None = None, kubeconfig: Path = KUBECONFIG) -> None:
        self.namespace = namespace
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": HOME,
            "KUBECONFIG": str(kubeconfig),
        }

    def argv(self, args: tuple[str, ...]) -> list[str]:
        namespace = ["-n", self.namespace] if self.namespace else []
        return [tools.kubectl(), *namespace, *args]

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 90,
    ) -> Result:
        done = subprocess.run(
            self.argv(args),
            input=stdin,
            text=True,
            capture_output=True,
            env={**self.env, **(env or {})},
            cwd=ROOT,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def wait(self, *args: str, timeout: float = 90) -> Result:
        """`kubectl wait ARGS`, less the one line kubectl's client-go logs when the condition
        comes true while its informer is opening a watch (CANCELLED_WATCH)."""
        result = self.run("wait", *args, timeout=timeout)
        return Result(result.code, result.out, CANCELLED_WATCH.sub("", result.err))

    def ok(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        """Runs kubectl and returns its output; fails the test unless it exits 0."""
        result = self.run(*args, stdin=stdin, env=env)
        assert result.code == 0, f"kubectl {' '.join(args)}: {result}"
        return result.out

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A kubectl that keeps running (get -w, logs -f, port-forward), its output in pipes."""
        return subprocess.Popen(
            self.argv(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=ROOT,
        )


def version() -> str:
    """kubectl's version and the server's, as `kubectl version` reports them."""
    try:
        result = Kubectl().run("version", "-o", "json", timeout=30)
        versions = json.loads(result.out)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    client = versions.get("clientVersion", {}).get("gitVersion", "?")
    server = versions.get("serverVersion", {}).get("gitVersion", "no server")
    return f"client {client}, server {server}"


class Terminal:
    """A kubectl run under a pseudo-terminal, as a person at a shell runs `kubectl exec -it`:
    what it prints is read from the terminal, what is typed is written to it."""

    def __init__(self, kubectl: Kubectl, args: tuple[str, ...], rows: int = 40, cols: int = 120):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            kubectl.argv(args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=kubectl.env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = bytearray()

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):  # EIO: the other side closed
                self.seen.extend(os.read(self.master, 65536))

    def expect(self, pattern: bytes, timeout: float = 30) -> None:
        """Reads until `pattern` (a regular expression) is on the screen."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, bytes(self.seen)):
            assert time.monotonic() < deadline, f"no {pattern!r} in {bytes(self.seen)!r}"
            self._read(0.1)

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def wait(self, timeout: float = 30) -> int:
        """kubectl's exit code, once it exits (its output read meanwhile)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, f"kubectl still running: {bytes(self.seen)!r}"
            self._read(0.1)
        self._read(0)
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


class Lines:
    """The lines a running process (kubectl -w, logs -f, port-forward; an operator) prints on
    stdout (or `stream`), read by a thread as they come."""

    def __init__(self, proc: subprocess.Popen[str], stream: IO[str] | None = None) -> None:
        stream = stream or proc.stdout
        assert stream is not None
        self.proc = proc
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.reader.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def until(self, pattern: str, timeout: float = 60) -> list[str]:
        """The lines read so far, once one matches `pattern` (a regular expression)."""
        deadline = time.monotonic() + timeout
        while not any(re.search(pattern, line) for line in self.seen):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no line matching {pattern!r} in {self.seen}"
            try:
                line = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, f"the process exited before {pattern!r}: {self.seen}"
            self.seen.append(line)
        return self.seen

    def stop(self) -> list[str]:
        """Ends the process (SIGTERM, as Ctrl-C would); every line it printed."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        while (line := self.queue.get_nowait() if not self.queue.empty() else None) is not None:
            self.seen.append(line)
        return self.seen
