"""podctl exits as soon as its command is done (issue 41): what it printed is out, and gRPC
core's exit handler, which waits up to 2 s for the library's threads after a TLS channel was
made, is not run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import podctl.__main__ as podctl_main
from tests.pki_support import make_pki

ROOT = Path(__file__).resolve().parents[3]
# What the podctl script runs.
MAIN = "from podctl.__main__ import main; main()"


class Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def test_main_flushes_what_the_command_printed_then_ends_the_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def command(argv: list[str]) -> int:
        print("NAME     STATUS", end="")  # buffered: no newline
        return 3

    def end(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(sys, "argv", ["podctl", "get", "nodes"])
    monkeypatch.setattr(podctl_main, "run", command)
    monkeypatch.setattr(os, "_exit", end)
    with pytest.raises(Exited) as ended:
        podctl_main.main()
    assert ended.value.code == 3
    assert capsys.readouterr().out == "NAME     STATUS"


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_command_over_tls_does_not_wait_for_grpc_cores_exit_handler(
    tmp_path: Path, refusing_port: int
) -> None:
    """After a refused TLS connection gRPC core's exit handler always waits its full 2 s and
    then logs that its wait (`grpc_wait_for_shutdown_with_timeout()`) timed out: a podctl that
    ran it shows the line here, whatever the time it took."""
    pki = make_pki(tmp_path)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PODPLANE_CA": str(pki / "ca.crt"),
        "PODPLANE_CERT": str(pki / "admin.crt"),
        "PODPLANE_KEY": str(pki / "admin.key"),
        # gRPC core logs the wait's end when its API is traced.
        "GRPC_TRACE": "api",
        "GRPC_VERBOSITY": "info",
    }
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "--server", f"127.0.0.1:{refusing_port}", "get", "pods"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1, done
    assert f"The connection to the server 127.0.0.1:{refusing_port} was refused" in done.stderr
    assert "grpc_wait_for_shutdown_with_timeout" not in done.stderr
