"""End-to-end fixtures of the highly available profile (`make up-ha`): a gRPC client through the
load balancer and a fresh namespace per test. Nothing is faked: the control plane is static pods
on three Docker-in-Docker machines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from podplane.client.clientset import Client
from tests.e2e_ha.ha_cluster import ADMIN, MEMBERS, SERVER
from tests.support import new_namespace


@pytest_asyncio.fixture(scope="session")
async def client() -> AsyncIterator[Client]:
    c = Client(SERVER, timeout=20, credentials=ADMIN)
    try:
        nodes = await c.nodes.list()
    except Exception as e:  # the cluster must be up: failing loudly, never skipping
        raise RuntimeError(f"no cluster at {SERVER}: run `make up-ha` first ({e})") from e
    assert {n.metadata.name for n in nodes.items} >= set(MEMBERS), "a machine is missing"
    yield c
    await c.close()


@pytest_asyncio.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    name = await new_namespace(client, "ha-")
    yield name
    await client.namespaces.delete(name)
