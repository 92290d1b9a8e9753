"""Services through real kubectl against the REST door of the real apiserver: kubectl expose (the
Service kubectl builds from a deployment's selector), create service, get svc/ep/endpointslices
tables, describe service, and the errors Kubernetes words for a taken or out-of-range cluster IP
or node port."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import yaml

from apiserver.server import APIServer
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("services-kubectl")) as c:
        yield c


async def namespace(cluster: RestCluster) -> str:
    name = f"svc-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    return name


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}


async def test_kubectl_expose_deployment(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump(DEPLOYMENT))
    out = await cluster.kubectl_ok("expose", "deployment", "web", "--port", "80", "-n", ns)
    assert out == "service/web exposed\n"
    svc = json.loads(await cluster.kubectl_ok("get", "svc", "web", "-n", ns, "-o", "json"))
    spec = svc["spec"]
    assert spec["selector"] == {"app": "web"}
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["type"] == "ClusterIP"
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["clusterIP"].startswith("10.")
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["sessionAffinity"] == "None" and spec["internalTrafficPolicy"] == "Cluster"
    assert svc["status"] == {"loadBalancer": {}}
    lines = (await cluster.kubectl_ok("get", "svc", "-n", ns)).splitlines()
    assert columns(lines[0]) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    name, type_, ip, external, ports, _age = columns(lines[1])
    assert (name, type_, ip, external, ports) == (
        "web",
        "ClusterIP",
        spec["clusterIP"],
        "<none>",
        "80/TCP",
    )
    wide = (await cluster.kubectl_ok("get", "svc", "web", "-n", ns, "-o", "wide")).splitlines()
    assert columns(wide[0])[-1] == "SELECTOR" and columns(wide[1])[-1] == "app=web"


async def test_create_service_nodeport_and_describe(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    out = await cluster.kubectl_ok(
        "create", "service", "nodeport", "np", "--tcp=8080:80", "--node-port=30080", "-n", ns
    )
    assert out == "service/np created\n"
    row = columns((await cluster.kubectl_ok("get", "svc", "np", "-n", ns)).splitlines()[1])
    assert row[1] == "NodePort" and row[4] == "8080:30080/TCP"
    described = await cluster.kubectl_ok("describe", "svc", "np", "-n", ns)
    assert re.search(r"^Type:\s+NodePort$", described, re.M)
    assert re.search(r"^NodePort:\s+8080-80\s+30080/TCP$", described, re.M)
    assert re.search(r"^External Traffic Policy:\s+Cluster$", described, re.M)
    assert re.search(r"^Endpoints:\s+<none>$", described, re.M)  # no controller: no slices

    taken = await cluster.kubectl(
        "create", "service", "nodeport", "np2", "--tcp=80:80", "--node-port=30080", "-n", ns
    )
    assert taken.code == 1
    assert taken.err.strip().endswith(
        'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port '
        "is already allocated"
    ), taken.err
    outside = await cluster.kubectl(
        "create", "service", "nodeport", "np3", "--tcp=80:80", "--node-port=80", "-n", ns
    )
    assert outside.code == 1
    assert (
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767" in outside.err
    ), outside.err


async def test_cluster_ip_taken_or_out_of_range(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok(
        "create", "service", "clusterip", "a", "--tcp=80:80", "--clusterip=10.96.3.10", "-n", ns
    )
    taken = await cluster.kubectl(
        "create", "service", "clusterip", "b", "--tcp=80:80", "--clusterip=10.96.3.10", "-n", ns
    )
    assert taken.code == 1
    assert (
        'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.3.10"}: failed '
        "to allocate IP 10.96.3.10: provided IP is already allocated" in taken.err
    ), taken.err
    outside = await cluster.kubectl(
        "create", "service", "clusterip", "c", "--tcp=80:80", "--clusterip=1.1.1.1", "-n", ns
    )
    assert outside.code == 1
    assert (
        'spec.clusterIPs: Invalid value: []string{"1.1.1.1"}: failed to allocate IP 1.1.1.1: the '
        "provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is "
        "10.96.0.0/12" in outside.err
    ), outside.err
    headless = await cluster.kubectl_ok(
        "create", "service", "clusterip", "h", "--clusterip=None", "-n", ns
    )
    assert headless == "service/h created\n"
    row = columns((await cluster.kubectl_ok("get", "svc", "h", "-n", ns)).splitlines()[1])
    assert row[1:5] == ["ClusterIP", "None", "<none>", "<none>"]


async def test_external_name_and_the_kubernetes_service(
    cluster: RestCluster, apiserver: APIServer
) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok(
        "create", "service", "externalname", "db", "--external-name", "db.example.com", "-n", ns
    )
    row = columns((await cluster.kubectl_ok("get", "svc", "db", "-n", ns)).splitlines()[1])
    assert row[1:5] == ["ExternalName", "<none>", "db.example.com", "<none>"]
    row = columns((await cluster.kubectl_ok("get", "svc", "kubernetes")).splitlines()[1])
    assert row[:5] == ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]

    # Every apiserver on this etcd publishes itself under its address (the host's), and the
    # session's apiserver runs beside this module's: one address, with the REST port of the
    # one that renewed its lease last, in the Endpoints and the EndpointSlice alike.
    ports = {str(cluster.rest_port), str(apiserver.rest_port)}

    async def published() -> tuple[list[str], list[str]] | None:
        ep = columns((await cluster.kubectl_ok("get", "endpoints", "kubernetes")).splitlines()[1])
        eps = (await cluster.kubectl_ok("get", "endpointslices")).splitlines()
        assert columns(eps[0]) == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        slice_row = columns(eps[1])
        address, _, port = ep[1].rpartition(":")
        consistent = slice_row[:4] == ["kubernetes", "IPv4", port, address]
        return (ep, slice_row) if port in ports and address and consistent else None

    ep, _ = await eventually(published, timeout=40, what="an apiserver in endpoints/kubernetes")
    assert ep[0] == "kubernetes"


async def test_api_resources_list_the_kinds(cluster: RestCluster) -> None:
    listed = (await cluster.kubectl_ok("api-resources")).splitlines()
    rows = {columns(line)[0]: columns(line) for line in listed[1:]}
    assert rows["services"] == ["services", "svc", "v1", "true", "Service"]
    assert rows["endpoints"] == ["endpoints", "ep", "v1", "true", "Endpoints"]
    assert rows["endpointslices"] == [
        "endpointslices",
        "discovery.k8s.io/v1",
        "true",
        "EndpointSlice",
    ]


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {
        "type": "NodePort",
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
    },
}


async def test_apply_patch_and_replace_keep_what_was_allocated(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    manifest = yaml.safe_dump(SERVICE)
    assert await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest) == (
        "service/web created\n"
    )
    first = json.loads(await cluster.kubectl_ok("get", "svc", "web", "-n", ns, "-o", "json"))
    assert await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest) == (
        "service/web unchanged\n"
    )
    # A replace of the manifest without the allocated values keeps them.
    assert await cluster.kubectl_ok("replace", "-n", ns, "-f", "-", stdin=manifest) == (
        "service/web replaced\n"
    )
    again = json.loads(await cluster.kubectl_ok("get", "svc", "web", "-n", ns, "-o", "json"))
    assert again["spec"]["clusterIP"] == first["spec"]["clusterIP"]
    assert again["spec"]["ports"][0]["nodePort"] == first["spec"]["ports"][0]["nodePort"]
    # NodePort -> ClusterIP: the node port and the external traffic policy go.
    await cluster.kubectl_ok("patch", "svc", "web", "-n", ns, "-p", '{"spec":{"type":"ClusterIP"}}')
    patched = json.loads(await cluster.kubectl_ok("get", "svc", "web", "-n", ns, "-o", "json"))
    assert "nodePort" not in patched["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in patched["spec"]
    # A server-side dry run allocates, and keeps nothing.
    dry = json.loads(
        await cluster.kubectl_ok(
            "create",
            "service",
            "nodeport",
            "dry",
            "--tcp=80:80",
            "-n",
            ns,
            "--dry-run=server",
            "-o",
            "json",
        )
    )
    assert dry["spec"]["ports"][0]["nodePort"]
    assert (await cluster.kubectl("get", "svc", "dry", "-n", ns)).code == 1
