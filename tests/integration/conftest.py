"""Integration fixtures: a real etcd process and the real apiserver on a real gRPC port."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from podplane.client.clientset import Client
from tests.support import EtcdProcess


@contextlib.contextmanager
def etcd_process() -> Iterator[EtcdProcess]:
    process = EtcdProcess.start()
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def running_apiserver(etcd: EtcdProcess, address: str = "127.0.0.1:0",
                            **options: Any) -> AsyncIterator[APIServer]:
    """The real apiserver on a loopback port (a free one by default), over `etcd`; `options` are
    APIServer's (watch_cache, compaction_interval)."""
    server = APIServer([etcd.endpoint], address, **options)
    await server.start(etcd_timeout=20)
    try:
        yield server
    finally:
        await server.stop(0)


@pytest.fixture(scope="session")
def etcd() -> Iterator[EtcdProcess]:
    with etcd_process() as process:
        yield process


@pytest_asyncio.fixture(scope="session")
async def apiserver(etcd: EtcdProcess) -> AsyncIterator[APIServer]:
    async with running_apiserver(etcd) as server:
        yield server


@pytest_asyncio.fixture(scope="session")
async def client(apiserver: APIServer) -> AsyncIterator[Client]:
    c = Client(f"127.0.0.1:{apiserver.port}", timeout=10)
    yield c
    await c.close()
