"""The apiserver's identity Lease (kube-system/apiserver-<hash of its hostname>), as kubectl and
the official client read it, renewed while the apiserver runs; and the collector of the leases
of apiservers gone for good, which deletes only expired identity leases of kube-system (the
cases of Kubernetes' test/integration/controlplane TestLeaseGarbageCollection)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from kubernetes import client as k8s

from apiserver.controlplane.identity import SELECTOR, apiserver_id
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("identity")) as c:
        yield c


async def test_kubectl_finds_the_apiserver_by_its_identity_lease(cluster: RestCluster) -> None:
    hostname = socket.gethostname()
    name = apiserver_id(hostname)

    async def listed() -> list[dict[str, object]] | None:
        out = await cluster.kubectl_ok(
            "get", "leases", "-n", "kube-system", "-l", SELECTOR, "-o", "json"
        )
        items: list[dict[str, object]] = json.loads(out)["items"]
        return items or None

    # Every apiserver the tests start runs on this host, so all renew this one lease.
    [lease] = await eventually(listed, timeout=20, what="the identity lease")
    assert lease["metadata"]["name"] == name  # type: ignore[index]
    assert lease["metadata"]["labels"] == {  # type: ignore[index]
        "apiserver.kubernetes.io/identity": "kube-apiserver",
        "kubernetes.io/hostname": hostname,
    }
    spec = lease["spec"]
    assert spec["leaseDurationSeconds"] == 3600  # type: ignore[index]
    holder = spec["holderIdentity"]  # type: ignore[index]
    assert holder.startswith(f"{name}_") and len(holder) == len(name) + 1 + 36
    table = await cluster.kubectl_ok("get", "leases", "-n", "kube-system", "-l", SELECTOR)
    assert table.split()[:4] == ["NAME", "HOLDER", "AGE", name]

    # Renewed: its renewTime moves on with each heartbeat.
    before = await in_thread(_read_lease, cluster, name)
    await cluster.server.identity_lease.renew()
    after = await in_thread(_read_lease, cluster, name)
    assert after.spec.renew_time > before.spec.renew_time
    assert after.metadata.resource_version != before.metadata.resource_version


async def test_only_expired_identity_leases_of_kube_system_are_collected(
    cluster: RestCluster,
) -> None:
    now = datetime.now(UTC)
    cases = {
        # (namespace, name): (renewed this long ago, identity label, collected)
        ("kube-system", "apiserver-expired"): (timedelta(hours=2), True, True),
        ("kube-system", "apiserver-fresh"): (timedelta(minutes=2), True, False),
        ("kube-system", "apiserver-unlabelled"): (timedelta(hours=2), False, False),
        ("default", "apiserver-elsewhere"): (timedelta(hours=2), True, False),
    }
    for (namespace, name), (ago, labelled, _) in cases.items():
        await in_thread(_create_lease, cluster, namespace, name, now - ago, labelled)
    try:
        deleted = await cluster.server.identity_lease_gc.collect()
        assert "apiserver-expired" in deleted
        for (namespace, name), (_, _, collected) in cases.items():
            assert (await in_thread(_exists, cluster, namespace, name)) is not collected, name
        # The running apiserver's own lease is fresh: kept.
        name = apiserver_id(socket.gethostname())
        assert await in_thread(_exists, cluster, "kube-system", name)
    finally:
        for namespace, name in cases:
            await in_thread(_delete, cluster, namespace, name)


def _api(cluster: RestCluster) -> k8s.CoordinationV1Api:
    return k8s.CoordinationV1Api(cluster.api_client())


def _read_lease(cluster: RestCluster, name: str) -> k8s.V1Lease:
    return _api(cluster).read_namespaced_lease(name, "kube-system")


def _create_lease(
    cluster: RestCluster, namespace: str, name: str, renewed: datetime, labelled: bool
) -> None:
    labels = {"apiserver.kubernetes.io/identity": "kube-apiserver"} if labelled else None
    _api(cluster).create_namespaced_lease(
        namespace,
        k8s.V1Lease(
            metadata=k8s.V1ObjectMeta(name=name, labels=labels),
            spec=k8s.V1LeaseSpec(
                holder_identity=name,
                lease_duration_seconds=3600,
                acquire_time=renewed,
                renew_time=renewed,
            ),
        ),
    )


def _exists(cluster: RestCluster, namespace: str, name: str) -> bool:
    try:
        _api(cluster).read_namespaced_lease(name, namespace)
    except k8s.ApiException as e:
        if e.status == 404:
            return False
        raise
    return True


def _delete(cluster: RestCluster, namespace: str, name: str) -> None:
    try:
        _api(cluster).delete_namespaced_lease(name, namespace)
    except k8s.ApiException as e:
        if e.status != 404:
            raise
