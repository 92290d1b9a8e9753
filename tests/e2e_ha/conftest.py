"""End-to-end fixtures of the highly available profile (`make up-ha`): a gRPC client through the
load balancer and a fresh namespace per test. Nothing is faked: the control plane is static pods
on three Docker-in-Docker machines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from podplane.client.clientset import Client
from tests.e2e_ha.ha_cluster import ADMIN, MEMBERS, SERVER, compose
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


@pytest.fixture(autouse=True)
def machines_started() -> Iterator[None]:
    """A fault test starts again the machine it killed before it ends; if it is cut short (its
    time limit stops it between two awaits, where no `finally` runs), this does it, so the next
    test finds three machines."""
    yield
    compose("start", *MEMBERS)
