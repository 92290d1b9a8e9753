"""What the networking.k8s.io modules share: a namespace of their own, unique cluster-scoped
names, kubectl's tables read by column."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from tests.integration.rest_cluster import RestCluster


@contextlib.asynccontextmanager
async def private_namespace(cluster: RestCluster) -> AsyncIterator[str]:
    name = f"net-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    try:
        yield name
    finally:
        await cluster.kubectl("delete", "namespace", name, "--wait=false")


def unique(prefix: str) -> str:
    """A cluster-scoped name no other module on the session's etcd uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def columns(table: str) -> list[dict[str, str]]:
    """kubectl's table as rows of cells, cut at the header's column starts (a cell may be
    empty or hold spaces: ADDRESS, PORTS)."""
    header, *rows = table.splitlines()
    names = header.split()
    starts = [header.index(f"{n} " if i < len(names) - 1 else n) for i, n in enumerate(names)]
    ends = [*starts[1:], None]
    return [
        {n: row[s:e].strip() for n, s, e in zip(names, starts, ends, strict=True)} for row in rows
    ]
