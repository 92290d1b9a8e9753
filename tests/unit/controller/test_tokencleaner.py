"""The token cleaner: kube-system's bootstrap token Secrets are deleted once their expiration
has passed (with their uid as precondition), looked at again when a later one will have; other
Secrets, other namespaces' and tokens without an expiration are left alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from controller.tokencleaner.controller import TokenCleaner
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeCluster, running, until

TOKEN_TYPE = "bootstrap.kubernetes.io/token"


def secret(
    name: str,
    expiration: str | None,
    *,
    namespace: str = "kube-system",
    type_: str = TOKEN_TYPE,
) -> core_pb2.Secret:
    data = {"token-id": name[-6:].encode(), "token-secret": b"0123456789abcdef"}
    if expiration is not None:
        data["expiration"] = expiration.encode()
    return core_pb2.Secret(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace), type=type_, data=data
    )


def at(delta: timedelta) -> str:
    return timeutil.format_time(datetime.now(UTC) + delta)


async def settled(cluster: FakeCluster) -> None:
    for _ in range(20):
        cluster.deliver()
        await asyncio.sleep(0.005)


async def test_expired_token_secrets_are_deleted_and_the_rest_kept() -> None:
    cluster = FakeCluster()
    past, ahead = at(timedelta(hours=-1)), at(timedelta(hours=1))
    for s in (
        secret("bootstrap-token-aaaaaa", past),
        secret("bootstrap-token-bbbbbb", "not a time"),  # counts as expired
        secret("bootstrap-token-cccccc", ahead),
        secret("bootstrap-token-dddddd", None),  # never expires
        secret("bootstrap-token-eeeeee", past, type_="Opaque"),
        secret("bootstrap-token-ffffff", past, namespace="default"),
    ):
        await cluster.secrets.create(s)
    deletes: list[dict[str, Any]] = []
    delete = cluster.secrets.delete

    async def recording_delete(name: str, namespace: str = "", **kwargs: Any) -> Any:
        deletes.append({"name": name, "namespace": namespace, **kwargs})
        return await delete(name, namespace, **kwargs)

    cluster.secrets.delete = recording_delete  # type: ignore[method-assign]
    async with running(TokenCleaner(cluster, SharedInformerFactory(cluster))):  # type: ignore[arg-type]
        await until(lambda: len(cluster.secrets.deleted) == 2, "two deletions", cluster)
        await settled(cluster)
    assert sorted(cluster.secrets.deleted) == ["bootstrap-token-aaaaaa", "bootstrap-token-bbbbbb"]
    assert sorted(cluster.secrets.store) == [
        "default/bootstrap-token-ffffff",
        "kube-system/bootstrap-token-cccccc",
        "kube-system/bootstrap-token-dddddd",
        "kube-system/bootstrap-token-eeeeee",
    ]
    # The uid is the precondition: a Secret made again under the name is not the one expired.
    assert {d["name"]: d["uid"] for d in deletes} == {
        "bootstrap-token-aaaaaa": "uid-bootstrap-token-aaaaaa",
        "bootstrap-token-bbbbbb": "uid-bootstrap-token-bbbbbb",
    }


async def test_a_token_is_deleted_when_its_time_comes_without_another_event() -> None:
    cluster = FakeCluster()
    # An expiration is written to the second: the next whole second but one is 1 to 2 s ahead.
    soon = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    await cluster.secrets.create(secret("bootstrap-token-soon00", timeutil.format_time(soon)))
    cleaner = TokenCleaner(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    async with running(cleaner):
        await settled(cluster)
        assert "kube-system/bootstrap-token-soon00" in cluster.secrets.store
        # The requeue after the time left, 1 to 2 s.
        await waiting.until(lambda: cluster.secrets.deleted, "the token deleted", interval=0.01)
    assert cluster.secrets.deleted == ["bootstrap-token-soon00"]


async def test_reconcile_answers_the_time_left() -> None:
    cluster = FakeCluster()
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    cleaner = TokenCleaner(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        clock=lambda: now,
    )
    await cluster.secrets.create(secret("bootstrap-token-later0", "2026-11-23T12:10:00Z"))
    async with running(cleaner):
        await until(
            lambda: cleaner.secrets.get("kube-system/bootstrap-token-later0") is not None,
            "the cache",
            cluster,
        )
        assert await cleaner.reconcile("kube-system/bootstrap-token-later0") == 600.0
        assert await cleaner.reconcile("kube-system/gone") is None
    assert cluster.secrets.deleted == []
