"""End-to-end fixtures: a client of the compose cluster brought up by `make up` (compose_cluster.py)
and a fresh namespace per test. Nothing here is faked: pods run on the nodes' own Docker engines.

The tests share one cluster side by side (`make test-e2e`: pytest-xdist workers, a module each at
a time), each in namespaces of its own. A test that stops, restarts, cordons or fills what the
others use (a node, a leader, etcd, kube-proxy, the cluster DNS, a node's CPU) is marked
`disruptive`, or its whole module is (the mark's comment says why): those run alone, one after
another, once the others are done."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from podplane.client.clientset import Client
from tests import longest_first, tools
from tests.e2e import kubectl
from tests.e2e.compose_cluster import ADMIN, NODES, SERVER
from tests.e2e.kubectl import Kubectl
from tests.support import new_namespace

# The official Python client's own e2e tests, which test_official_python_client.py runs as that
# client's repository runs them (their own pytest, their own kubeconfig lookup).
collect_ignore = ["official_client"]


@pytest_asyncio.fixture(scope="session")
async def client() -> AsyncIterator[Client]:
    c = Client(SERVER, timeout=20, credentials=ADMIN)
    try:
        nodes = await c.nodes.list()
    except Exception as e:  # the cluster must be up: failing loudly, never skipping
        raise RuntimeError(f"no cluster at {SERVER}: run `make up` first ({e})") from e
    assert {n.metadata.name for n in nodes.items} >= set(NODES), "not every node registered"
    yield c
    await c.close()


@pytest_asyncio.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    """A fresh namespace per test keeps tests independent on the shared cluster; deleting it
    afterwards deletes its pods (the controller-manager's namespace controller), so that nodes
    are not left running them."""
    name = await new_namespace(client, "e2e-")
    yield name
    await client.namespaces.delete(name)


# Whether a test ran kubectl: the run's summary then names the kubectl and its version.
kubectl_used = False


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if kubectl_used and (tools.BIN / "kubectl").exists():
        terminalreporter.write_line(f"kubectl: {tools.BIN / 'kubectl'} ({kubectl.version()})")


@pytest.fixture(scope="module")
def kubectl_namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace per test module for the kubectl and REST client tests, created and deleted
    with kubectl (its pods are deleted with it, by the namespace controller)."""
    global kubectl_used
    kubectl_used = True
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    name = f"e2e-{module}-{secrets.token_hex(3)}"
    assert Kubectl().ok("create", "namespace", name) == f"namespace/{name} created\n"
    yield name
    Kubectl().run("delete", "namespace", name, "--wait=false")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    longest_first.reorder(items, longest_first.E2E)
