"""Integration fixtures: a real etcd process and the real apiserver on a real gRPC port."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from podplane.client import Client
from tests.support import EtcdProcess


@pytest.fixture(scope="session")
def etcd() -> Iterator[EtcdProcess]:
    process = EtcdProcess.start()
    yield process
    process.stop()


@pytest_asyncio.fixture(scope="session")
async def apiserver(etcd: EtcdProcess) -> AsyncIterator[APIServer]:
    server = APIServer([etcd.endpoint], "127.0.0.1:0")
    await server.start(etcd_timeout=20)
    yield server
    await server.stop(0)


@pytest_asyncio.fixture(scope="session")
async def client(apiserver: APIServer) -> AsyncIterator[Client]:
    c = Client(f"127.0.0.1:{apiserver.port}", timeout=10)
    yield c
    await c.close()
