"""What every namespace gets from the controller-manager, against an in-memory apiserver: the
`default` ServiceAccount (the service account controller) and the kube-root-ca.crt ConfigMap
with the cluster's CA (the root CA publisher), each made again when deleted, the ConfigMap
restored when changed; a namespace being deleted gets neither."""

from __future__ import annotations

import asyncio

from controller.rootcacertpublisher.controller import DESCRIPTION, RootCACertPublisher
from controller.serviceaccount.controller import ServiceAccountsController
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, running, until

CA = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"


def namespace(name: str, phase: str = "Active", deleting: bool = False) -> core_pb2.Namespace:
    return core_pb2.Namespace(
        metadata=meta_pb2.ObjectMeta(
            name=name, deletion_timestamp="2026-11-21T15:00:00Z" if deleting else ""
        ),
        status=core_pb2.NamespaceStatus(phase=phase),
    )


async def settled(cluster: FakeCluster) -> None:
    for _ in range(20):
        cluster.deliver()
        await asyncio.sleep(0.005)


async def test_every_active_namespace_gets_a_default_account_made_again_when_deleted() -> None:
    cluster = FakeCluster()
    await cluster.namespaces.create(namespace("team"))
    await cluster.namespaces.create(namespace("going", phase="Terminating", deleting=True))
    async with running(ServiceAccountsController(cluster, SharedInformerFactory(cluster))):  # type: ignore[arg-type]
        await until(lambda: "team/default" in cluster.serviceaccounts.store, "default", cluster)
        await cluster.namespaces.create(namespace("later"))
        await until(lambda: "later/default" in cluster.serviceaccounts.store, "later", cluster)
        first_uid = cluster.serviceaccounts.store["team/default"].metadata.uid
        await cluster.serviceaccounts.delete("default", "team")
        await until(lambda: "team/default" in cluster.serviceaccounts.store, "again", cluster)
        # Other accounts are the users': deleting one makes nothing.
        await cluster.serviceaccounts.create(
            core_pb2.ServiceAccount(metadata=meta_pb2.ObjectMeta(name="robot", namespace="team"))
        )
        await cluster.serviceaccounts.delete("robot", "team")
        await settled(cluster)
    assert first_uid
    assert sorted(cluster.serviceaccounts.store) == ["later/default", "team/default"]
    assert [sa.metadata.name for sa in cluster.serviceaccounts.created].count("default") == 3


async def test_every_active_namespace_gets_the_root_ca_kept_as_published() -> None:
    cluster = FakeCluster()
    await cluster.namespaces.create(namespace("team"))
    await cluster.namespaces.create(namespace("going", phase="Terminating", deleting=True))
    key = "team/kube-root-ca.crt"
    publisher = RootCACertPublisher(cluster, SharedInformerFactory(cluster), CA)  # type: ignore[arg-type]
    async with running(publisher):
        await until(lambda: key in cluster.configmaps.store, "the config map", cluster)
        published = cluster.configmaps.store[key]
        assert dict(published.data) == {"ca.crt": CA}
        assert dict(published.metadata.annotations) == {"kubernetes.io/description": DESCRIPTION}

        changed = core_pb2.ConfigMap()
        changed.CopyFrom(published)
        changed.data["ca.crt"] = "not the CA"
        changed.data["extra"] = "x"
        await cluster.configmaps.update(changed)
        await until(
            lambda: dict(cluster.configmaps.store[key].data) == {"ca.crt": CA},
            "the config map restored",
            cluster,
        )
        await cluster.configmaps.delete("kube-root-ca.crt", "team")
        await until(lambda: key in cluster.configmaps.store, "the config map again", cluster)
        await settled(cluster)
    assert sorted(cluster.configmaps.store) == [key]


async def test_without_a_root_ca_nothing_is_published() -> None:
    cluster = FakeCluster()
    await cluster.namespaces.create(namespace("team"))
    async with running(RootCACertPublisher(cluster, SharedInformerFactory(cluster), "")):  # type: ignore[arg-type]
        await settled(cluster)
    assert cluster.configmaps.store == {}
