"""networking.k8s.io/v1's Ingress, IngressClass and NetworkPolicy through the clients programs
use, against the real apiserver over real etcd: the official Python client's NetworkingV1Api
(create, read, list, patch, the ingress status, watch, delete), bad objects refused with a 422
naming the field, and grpcurl on the gRPC door."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s

from podplane.api.meta.v1 import meta_pb2
from podplane.api.networking.v1 import networking_pb2
from tests import tools
from tests.integration.networking_kinds import columns, private_namespace, unique
from tests.integration.rest_cluster import RestCluster, in_thread, new_watch, rest_cluster
from tests.support import EtcdProcess


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("networking-clients")) as c:
        yield c


# ------------------------------------------------------------------ the official client


def _ingress_body(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name},
        "spec": {
            "ingressClassName": "example",
            "defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}},
        },
    }


async def test_the_official_client_networking_v1_api(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        api = k8s.NetworkingV1Api(cluster.api_client())
        created = await in_thread(api.create_namespaced_ingress, ns, _ingress_body("py"))
        assert created.spec.default_backend.service.port.name == "http"
        assert created.metadata.generation == 1
        patched = await in_thread(
            api.patch_namespaced_ingress,
            "py",
            ns,
            {"spec": {"tls": [{"hosts": ["py.example.com"], "secretName": "py-tls"}]}},
        )
        assert [t.secret_name for t in patched.spec.tls] == ["py-tls"]
        assert patched.metadata.generation == 2
        # The ingress controller's write: the status subresource, which keeps the spec.
        patched.status = k8s.V1IngressStatus(
            load_balancer=k8s.V1IngressLoadBalancerStatus(
                ingress=[k8s.V1IngressLoadBalancerIngress(ip="192.0.2.10")]
            )
        )
        patched.spec.ingress_class_name = "changed"
        written = await in_thread(api.replace_namespaced_ingress_status, "py", ns, patched)
        assert written.status.load_balancer.ingress[0].ip == "192.0.2.10"
        assert written.spec.ingress_class_name == "example"
        assert written.metadata.generation == 2
        rows = columns(await cluster.kubectl_ok("-n", ns, "get", "ing", "py"))
        assert (rows[0]["ADDRESS"], rows[0]["PORTS"]) == ("192.0.2.10", "80, 443")
        # A spec update keeps the status.
        written.status = None
        written.spec.ingress_class_name = "again"
        replaced = await in_thread(api.replace_namespaced_ingress, "py", ns, written)
        assert replaced.status.load_balancer.ingress[0].ip == "192.0.2.10"
        listed = await in_thread(api.list_namespaced_ingress, ns)
        assert [i.metadata.name for i in listed.items] == ["py"]
        everywhere = await in_thread(api.list_ingress_for_all_namespaces)
        assert ("py", ns) in [(i.metadata.name, i.metadata.namespace) for i in everywhere.items]
        # The generated method declares no model for this answer: the Status as a dict.
        deleted = await in_thread(api.delete_namespaced_ingress, "py", ns)
        assert (deleted["kind"], deleted["status"]) == ("Status", "Success")
        assert (deleted["details"]["name"], deleted["details"]["group"]) == (
            "py",
            "networking.k8s.io",
        )
        with pytest.raises(k8s.ApiException) as missing:
            await in_thread(api.read_namespaced_ingress, "py", ns)
        assert missing.value.status == 404


async def test_the_official_client_watches_network_policies(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        api = k8s.NetworkingV1Api(cluster.api_client())
        listed = await in_thread(api.list_namespaced_network_policy, ns)
        watch = new_watch()

        def first_events() -> list[tuple[str, str, list[str]]]:
            seen = []
            for event in watch.stream(
                api.list_namespaced_network_policy,
                ns,
                resource_version=listed.metadata.resource_version,
                timeout_seconds=20,
            ):
                obj = event["object"]
                seen.append((event["type"], obj.metadata.name, obj.spec.policy_types))
                if len(seen) == 3:
                    watch.stop()
            return seen

        task = asyncio.ensure_future(in_thread(first_events))
        await cluster.watching("networkpolicies", ns)
        body = {
            "metadata": {"name": "watched"},
            "spec": {"podSelector": {}, "egress": [{}]},
        }
        await in_thread(api.create_namespaced_network_policy, ns, body)
        await in_thread(
            api.patch_namespaced_network_policy,
            "watched",
            ns,
            {"spec": {"policyTypes": ["Egress"]}},
        )
        await in_thread(api.delete_namespaced_network_policy, "watched", ns)
        async with asyncio.timeout(30):
            assert await task == [
                ("ADDED", "watched", ["Ingress", "Egress"]),
                ("MODIFIED", "watched", ["Egress"]),
                ("DELETED", "watched", ["Egress"]),
            ]


async def test_the_official_client_ingress_classes(cluster: RestCluster) -> None:
    api = k8s.NetworkingV1Api(cluster.api_client())
    name = unique("params")
    body = {
        "metadata": {"name": name},
        "spec": {
            "controller": "example.com/ingress-controller",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"},
        },
    }
    created = await in_thread(api.create_ingress_class, body)
    try:
        assert created.spec.parameters.scope == "Cluster"  # defaulted
        table = await cluster.kubectl_ok("get", "ingressclass", name)
        assert table.splitlines()[1].split()[:3] == [
            name,
            "example.com/ingress-controller",
            "IngressParameters.k8s.example.com/p",
        ]
        created.spec.controller = "example.com/other"
        with pytest.raises(k8s.ApiException) as refused:
            await in_thread(api.replace_ingress_class, name, created)
        assert refused.value.status == 422
        assert json.loads(refused.value.body or "{}")["message"] == (
            f'IngressClass.networking.k8s.io "{name}" is invalid: spec.controller: Invalid '
            'value: "example.com/other": field is immutable'
        )
    finally:
        await in_thread(api.delete_ingress_class, name)


# ------------------------------------------------------------------ bad objects


BAD_PATH = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad-path
spec:
  rules:
  - host: foo.com
    http:
      paths:
      - path: /x
        backend:
          service:
            name: web
            port:
              number: 80
"""


async def test_bad_objects_are_refused_naming_the_field(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        ran = await cluster.kubectl("-n", ns, "apply", "-f", "-", stdin=BAD_PATH)
        assert ran.code == 1
        assert ran.err == (
            'The Ingress "bad-path" is invalid: spec.rules[0].http.paths[0].pathType: '
            "Required value: pathType must be specified\n"
        )
        api = k8s.NetworkingV1Api(cluster.api_client())
        policy = {
            "metadata": {"name": "bad-cidr"},
            "spec": {
                "podSelector": {},
                "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}],
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}
                ],
            },
        }
        with pytest.raises(k8s.ApiException) as refused:
            await in_thread(api.create_namespaced_network_policy, ns, policy)
        assert refused.value.status == 422
        status = json.loads(refused.value.body or "{}")
        assert status["reason"] == "Invalid"
        assert status["details"]["causes"] == [
            {
                "reason": "FieldValueInvalid",
                "message": 'Invalid value: "10.0.0.0/33": not a valid CIDR',
                "field": "spec.ingress[0].from[0].ipBlock.cidr",
            },
            {
                "reason": "FieldValueInvalid",
                "message": 'Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
                "field": "spec.egress[0].to[0].ipBlock.except[0]",
            },
        ]
        wildcard = _ingress_body("bad-host")
        wildcard["spec"]["rules"] = [{"host": "foo.*.com"}]
        with pytest.raises(k8s.ApiException) as refused:
            await in_thread(api.create_namespaced_ingress, ns, wildcard)
        assert refused.value.status == 422
        assert json.loads(refused.value.body or "{}")["details"]["causes"][0]["field"] == (
            "spec.rules[0].host"
        )
        both = _ingress_body("both")
        both["spec"]["defaultBackend"]["resource"] = {"kind": "Bucket", "name": "b"}
        ran = await cluster.kubectl("-n", ns, "create", "-f", "-", stdin=json.dumps(both))
        assert ran.err == (
            'The Ingress "both" is invalid: spec.defaultBackend: Invalid value: "": cannot set '
            "both resource and service backends\n"
        )


# ------------------------------------------------------------------ the gRPC door


def grpcurl(cluster: RestCluster, *args: str, stdin: str | None = None) -> Any:
    pki = cluster.pki
    return subprocess.run(
        [
            tools.tool("grpcurl"),
            "-cacert",
            str(pki / "ca.crt"),
            "-cert",
            str(pki / "admin.crt"),
            "-key",
            str(pki / "admin.key"),
            *args,
        ],
        input=stdin,
        text=True,
        capture_output=True,
        timeout=60,
    )


async def test_grpcurl_on_the_gRPC_door(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        target = f"127.0.0.1:{cluster.server.port}"
        listed = await asyncio.to_thread(grpcurl, cluster, target, "list")
        services = listed.stdout.split()
        for service in ("Ingresses", "IngressClasses", "NetworkPolicies"):
            assert f"podplane.networking.v1.{service}" in services
        policy = {
            "metadata": {"name": "grpc", "namespace": ns},
            "spec": {
                "podSelector": {"matchLabels": {"app": "db"}},
                "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": "5432"}]}],
            },
        }
        ran = await asyncio.to_thread(
            grpcurl, cluster, "-d", "@", target, "podplane.networking.v1.NetworkPolicies/Create",
            stdin=json.dumps(policy),
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        created = json.loads(ran.stdout)  # grpcurl writes the protos' own field names
        assert created["spec"]["policy_types"] == ["Ingress"]
        assert created["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "5432"}]
        # What gRPC wrote, kubectl reads through the REST door.
        rest = json.loads(await cluster.kubectl_ok("-n", ns, "get", "netpol", "grpc", "-o", "json"))
        assert rest["spec"]["ingress"] == [
            {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 5432}]}
        ]
        bad = {
            "metadata": {"name": "bad", "namespace": ns},
            "spec": {"rules": [{"http": {"paths": [{"path": "/"}]}}]},
        }
        ran = await asyncio.to_thread(
            grpcurl, cluster, "-d", "@", target, "podplane.networking.v1.Ingresses/Create",
            stdin=json.dumps(bad),
        )  # fmt: skip
        assert ran.returncode != 0
        assert "InvalidArgument" in ran.stderr
        assert "spec.rules[0].http.paths[0].pathType: Required value" in ran.stderr


async def test_podplanes_own_client(cluster: RestCluster) -> None:
    """The clientset's ingresses, ingressclasses and networkpolicies over the gRPC door; the
    ingress controller's status write through UpdateStatus."""
    async with private_namespace(cluster) as ns:
        client = cluster.grpc
        policy = networking_pb2.NetworkPolicy(
            metadata=meta_pb2.ObjectMeta(name="own", namespace=ns),
            spec=networking_pb2.NetworkPolicySpec(
                egress=[
                    networking_pb2.NetworkPolicyEgressRule(
                        ports=[networking_pb2.NetworkPolicyPort(port="53")]
                    )
                ]
            ),
        )
        created = await client.networkpolicies.create(policy)
        assert list(created.spec.policy_types) == ["Ingress", "Egress"]
        assert created.spec.egress[0].ports[0].protocol == "TCP"
        listed = await client.networkpolicies.list(ns)
        assert [p.metadata.name for p in listed.items] == ["own"]
        ingress = networking_pb2.Ingress(
            metadata=meta_pb2.ObjectMeta(name="own", namespace=ns),
            spec=networking_pb2.IngressSpec(
                default_backend=networking_pb2.IngressBackend(
                    service=networking_pb2.IngressServiceBackend(
                        name="web", port=networking_pb2.ServiceBackendPort(number=80)
                    )
                )
            ),
        )
        stored = await client.ingresses.create(ingress)
        stored.status.load_balancer.ingress.add(hostname="lb.example.com")
        written = await client.ingresses.update_status(stored)
        assert [i.hostname for i in written.status.load_balancer.ingress] == ["lb.example.com"]
        assert (await client.ingresses.get("own", ns)).status == written.status
        name = unique("own")
        ingress_class = networking_pb2.IngressClass(
            metadata=meta_pb2.ObjectMeta(name=name),
            spec=networking_pb2.IngressClassSpec(controller="example.com/own"),
        )
        try:
            await client.ingressclasses.create(ingress_class)
            got = await client.ingressclasses.get(name)
            assert got.spec.controller == "example.com/own"
        finally:
            await client.ingressclasses.delete(name)
