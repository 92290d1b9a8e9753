"""The containers' healthcheck (podplane/componentbase/healthcheck.py), run as Docker runs it: by
its path with the standard library only, against a gRPC health service on a local port."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from podplane.componentbase import healthcheck

SCRIPT = Path(healthcheck.__file__)


@pytest_asyncio.fixture
async def health_server() -> AsyncIterator[tuple[int, health.aio.HealthServicer]]:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port, servicer
    await server.stop(0)


async def probe(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        str(SCRIPT),
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode().strip()


async def test_serving_passes_and_anything_else_fails(
    health_server: tuple[int, health.aio.HealthServicer],
) -> None:
    port, servicer = health_server
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await servicer.set("kube", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert await probe(f"127.0.0.1:{port}") == (0, f"127.0.0.1:{port}: SERVING")
    assert await probe(f"127.0.0.1:{port}", "kube") == (1, f"127.0.0.1:{port}: NOT_SERVING")
    # An unknown service is NOT_FOUND, in trailers only.
    code, text = await probe(f"127.0.0.1:{port}", "nothing")
    assert code == 1 and "the call failed" in text


async def test_a_long_service_name_is_sent_whole(
    health_server: tuple[int, health.aio.HealthServicer],
) -> None:
    """A name of 200 bytes: its length is a two-byte varint in the request."""
    port, servicer = health_server
    name = "s" * 200
    await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    assert await probe(f"127.0.0.1:{port}", name) == (0, f"127.0.0.1:{port}: SERVING")


async def test_nothing_listening_or_a_bad_target_fails() -> None:
    code, text = await probe("127.0.0.1:1")
    assert code == 1 and "refused" in text.lower()
    assert (await probe("no-port"))[0] == 2


def test_the_script_imports_nothing_but_the_standard_library() -> None:
    found = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import runpy, sys; runpy.run_path({str(SCRIPT)!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('grpc', 'podplane', 'prometheus_client', 'google')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"
