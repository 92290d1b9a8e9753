"""networking.k8s.io/v1's Ingress, IngressClass and NetworkPolicy through kubectl against the real
apiserver over real etcd: create ingress, get (the tables), describe, explain, apply of the
Kubernetes documentation's example manifests, the v1 defaults, and the default IngressClass given
to an Ingress created without a class."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.integration.networking_kinds import columns, private_namespace, unique
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, eventually

HOST_KUBECTL = "/usr/bin/kubectl"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("networking-kubectl")) as c:
        yield c


# ------------------------------------------------------------------ kubectl


async def test_kubectl_create_ingress_get_and_describe(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        out = await cluster.kubectl_ok(
            "-n", ns, "create", "ingress", "simple",
            "--rule=foo.com/bar=svc1:8080,tls=my-cert", "--class=nginx-example",
        )  # fmt: skip
        assert out == "ingress.networking.k8s.io/simple created\n"
        obj = json.loads(await cluster.kubectl_ok("-n", ns, "get", "ing", "simple", "-o", "json"))
        assert obj["metadata"]["generation"] == 1
        assert obj["spec"] == {
            "ingressClassName": "nginx-example",
            "rules": [
                {
                    "host": "foo.com",
                    "http": {
                        "paths": [
                            {
                                "backend": {"service": {"name": "svc1", "port": {"number": 8080}}},
                                "path": "/bar",
                                "pathType": "Exact",
                            }
                        ]
                    },
                }
            ],
            "tls": [{"hosts": ["foo.com"], "secretName": "my-cert"}],
        }
        assert obj["status"] == {"loadBalancer": {}}
        await cluster.kubectl_ok(
            "-n", ns, "create", "ingress", "wild",
            "--rule=*.foo.com/*=svc1:http", "--default-backend=defsvc:http",
        )  # fmt: skip
        table = await cluster.kubectl_ok("-n", ns, "get", "ing")
        assert table.splitlines()[0].split() == [
            "NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"
        ]  # fmt: skip
        rows = {row["NAME"]: row for row in columns(table)}
        assert {k: v for k, v in rows["simple"].items() if k != "AGE"} == {
            "NAME": "simple",
            "CLASS": "nginx-example",
            "HOSTS": "foo.com",
            "ADDRESS": "",
            "PORTS": "80, 443",
        }
        assert (rows["wild"]["CLASS"], rows["wild"]["HOSTS"], rows["wild"]["PORTS"]) == (
            "<none>",
            "*.foo.com",
            "80",
        )
        described = await cluster.kubectl_ok("-n", ns, "describe", "ingress", "simple")
        lines = [line.rstrip() for line in described.splitlines()]
        assert lines[:5] == [
            "Name:             simple",
            "Labels:           <none>",
            f"Namespace:        {ns}",
            "Address:",
            "Ingress Class:    nginx-example",
        ]
        assert lines[lines.index("TLS:") + 1] == "  my-cert terminates foo.com"
        rules = lines.index("Rules:")
        assert lines[rules + 1 : rules + 5] == [
            "  Host        Path  Backends",
            "  ----        ----  --------",
            "  foo.com",
            '              /bar   svc1:8080 (<error: services "svc1" not found>)',
        ]
        described = await cluster.kubectl_ok("-n", ns, "describe", "ingress", "wild")
        assert 'Default backend:  defsvc:http (<error: services "defsvc" not found>)' in described
        assert "  *.foo.com" in [line.rstrip() for line in described.splitlines()]


async def test_kubectl_api_resources(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("api-resources", "--api-group=networking.k8s.io")
    assert [line.split() for line in out.splitlines()] == [
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
        ["ingressclasses", "networking.k8s.io/v1", "false", "IngressClass"],
        ["ingresses", "ing", "networking.k8s.io/v1", "true", "Ingress"],
        ["networkpolicies", "netpol", "networking.k8s.io/v1", "true", "NetworkPolicy"],
    ]


async def test_kubectl_explain(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("explain", "ingress.spec")
    assert out.splitlines()[:4] == [
        "GROUP:      networking.k8s.io",
        "KIND:       Ingress",
        "VERSION:    v1",
        "",
    ]
    assert "FIELD: spec <IngressSpec>" in out
    for field in ("defaultBackend\t<IngressBackend>", "ingressClassName\t<string>"):
        assert f"  {field}" in out
    assert "  rules\t<[]IngressRule>" in out and "  tls\t<[]IngressTLS>" in out
    out = await cluster.kubectl_ok("explain", "ingress.spec.rules")
    assert "  host\t<string>" in out and "  http\t<HTTPIngressRuleValue>" in out
    out = await cluster.kubectl_ok("explain", "netpol.spec.ingress.from.ipBlock")
    assert "  cidr\t<string> -required-" in out and "  except\t<[]string>" in out
    out = await cluster.kubectl_ok("explain", "ingressclass.spec.parameters")
    assert "  scope\t<string>" in out


@pytest.mark.skipif(not os.path.exists(HOST_KUBECTL), reason="no kubectl on the host")
async def test_host_kubectl_creates_and_lists_ingresses(cluster: RestCluster) -> None:
    """The host's kubectl (1.32 here, beside the venv's newer one) too."""
    async with private_namespace(cluster) as ns:

        async def host(*args: str) -> str:
            process = await asyncio.create_subprocess_exec(
                HOST_KUBECTL,
                "--context=admin",
                "-n",
                ns,
                *args,
                env=cluster.env(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            async with asyncio.timeout(60):
                out, err = await process.communicate()
            assert process.returncode == 0, err.decode()
            return out.decode()

        out = await host("create", "ingress", "old", "--rule=foo.com/bar=svc1:8080,tls=my-cert")
        assert out == "ingress.networking.k8s.io/old created\n"
        rows = columns(await host("get", "ing"))
        assert [(r["NAME"], r["CLASS"], r["HOSTS"], r["PORTS"]) for r in rows] == [
            ("old", "<none>", "foo.com", "80, 443")
        ]
        assert "foo.com" in await host("describe", "ing", "old")


# The Kubernetes documentation's examples (concepts/services-networking/ingress and
# network-policies), unchanged but for their namespace.
MINIMAL_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: minimal-ingress
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  ingressClassName: nginx-example
  rules:
  - http:
      paths:
      - path: /testpath
        pathType: Prefix
        backend:
          service:
            name: test
            port:
              number: 80
"""
TEST_NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
"""
DEFAULT_DENY_INGRESS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""
ALLOW_ALL_INGRESS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all-ingress
spec:
  podSelector: {}
  ingress:
  - {}
  policyTypes:
  - Ingress
"""
DEFAULT_DENY_ALL = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
"""
MULTI_PORT_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: multi-port-egress
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
    - Egress
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/24
      ports:
        - protocol: TCP
          port: 32000
          endPort: 32768
"""


async def test_kubectl_apply_of_the_documentation_examples(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        manifests = "---\n".join(
            (
                MINIMAL_INGRESS,
                TEST_NETWORK_POLICY,
                DEFAULT_DENY_INGRESS,
                ALLOW_ALL_INGRESS,
                DEFAULT_DENY_ALL,
                MULTI_PORT_EGRESS,
            )
        )
        out = await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=manifests)
        assert out.splitlines() == [
            "ingress.networking.k8s.io/minimal-ingress created",
            "networkpolicy.networking.k8s.io/test-network-policy created",
            "networkpolicy.networking.k8s.io/default-deny-ingress created",
            "networkpolicy.networking.k8s.io/allow-all-ingress created",
            "networkpolicy.networking.k8s.io/default-deny-all created",
            "networkpolicy.networking.k8s.io/multi-port-egress created",
        ]
        # Applied again: nothing changed.
        out = await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=manifests)
        assert all(line.endswith(" unchanged") for line in out.splitlines())
        table = await cluster.kubectl_ok("-n", ns, "get", "netpol")
        assert table.splitlines()[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
        selectors = {row["NAME"]: row["POD-SELECTOR"] for row in columns(table)}
        assert selectors == {
            "allow-all-ingress": "<none>",
            "default-deny-all": "<none>",
            "default-deny-ingress": "<none>",
            "multi-port-egress": "role=db",
            "test-network-policy": "role=db",
        }
        got = json.loads(
            await cluster.kubectl_ok("-n", ns, "get", "netpol", "allow-all-ingress", "-o", "json")
        )
        assert got["spec"] == {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}
        got = json.loads(
            await cluster.kubectl_ok("-n", ns, "get", "netpol", "multi-port-egress", "-o", "json")
        )
        assert got["spec"]["egress"][0]["ports"] == [
            {"protocol": "TCP", "port": 32000, "endPort": 32768}
        ]
        ingress = json.loads(
            await cluster.kubectl_ok("-n", ns, "get", "ing", "minimal-ingress", "-o", "json")
        )
        assert ingress["spec"]["rules"] == [
            {
                "http": {
                    "paths": [
                        {
                            "path": "/testpath",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "test", "port": {"number": 80}}},
                        }
                    ]
                }
            }
        ]
        rows = columns(await cluster.kubectl_ok("-n", ns, "get", "ing"))
        assert [(r["NAME"], r["CLASS"], r["HOSTS"], r["PORTS"]) for r in rows] == [
            ("minimal-ingress", "nginx-example", "*", "80")
        ]


async def test_server_side_apply_of_a_network_policy(cluster: RestCluster) -> None:
    """Its lists are atomic, as Kubernetes declares them: a manager owns each whole."""
    async with private_namespace(cluster) as ns:
        out = await cluster.kubectl_ok(
            "-n", ns, "apply", "--server-side", "-f", "-", stdin=TEST_NETWORK_POLICY
        )
        assert out == "networkpolicy.networking.k8s.io/test-network-policy serverside-applied\n"
        got = json.loads(
            await cluster.kubectl_ok(
                "-n",
                ns,
                "get",
                "netpol",
                "test-network-policy",
                "-o",
                "json",
                "--show-managed-fields",
            )
        )
        [entry] = got["metadata"]["managedFields"]
        assert (entry["manager"], entry["operation"]) == ("kubectl", "Apply")
        assert entry["fieldsV1"] == {
            "f:spec": {
                "f:egress": {},
                "f:ingress": {},
                "f:podSelector": {},
                "f:policyTypes": {},
            }
        }
        assert got["spec"]["ingress"][0]["from"][0] == {
            "ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}
        }


async def test_network_policy_defaults(cluster: RestCluster) -> None:
    """policyTypes is Ingress, and Egress too when there are egress rules; ports are TCP."""
    async with private_namespace(cluster) as ns:
        policy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "defaulted"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [{"ports": [{"port": "http"}]}],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53}]}],
            },
        }
        await cluster.kubectl_ok("-n", ns, "create", "-f", "-", stdin=json.dumps(policy))
        got = json.loads(
            await cluster.kubectl_ok("-n", ns, "get", "netpol", "defaulted", "-o", "json")
        )
        assert got["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert got["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": "http"}]}]
        assert got["spec"]["egress"] == [
            {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
        ]


# ------------------------------------------------------------------ the default class

DEFAULT_CLASS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  labels:
    app.kubernetes.io/component: controller
  name: {name}
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
"""


async def test_an_ingress_without_a_class_gets_the_default_one(cluster: RestCluster) -> None:
    name = unique("nginx-example")
    try:
        out = await cluster.kubectl_ok("apply", "-f", "-", stdin=DEFAULT_CLASS.format(name=name))
        assert out == f"ingressclass.networking.k8s.io/{name} created\n"
        table = await cluster.kubectl_ok("get", "ingressclass", name)
        assert table.splitlines()[0].split() == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]
        assert table.splitlines()[1].split()[:3] == [name, "k8s.io/ingress-nginx", "<none>"]
        # The plugin reads the IngressClasses' watch cache, as Kubernetes' reads its informer.
        ingress_classes = cluster.server.cachers["ingressclasses"]
        await eventually(
            lambda: _true(ingress_classes.peek("", name) is not None), what=f"{name} cached"
        )
        async with private_namespace(cluster) as ns:
            await cluster.kubectl_ok(
                "-n", ns, "create", "ingress", "defaulted", "--rule=foo.com/=web:80"
            )
            obj = json.loads(
                await cluster.kubectl_ok("-n", ns, "get", "ing", "defaulted", "-o", "json")
            )
            assert obj["spec"]["ingressClassName"] == name
            # A class named by the old annotation is kept, and no class is added.
            manifest = MINIMAL_INGRESS.replace("  ingressClassName: nginx-example\n", "").replace(
                "  annotations:\n",
                '  annotations:\n    kubernetes.io/ingress.class: "other"\n',
            )
            await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=manifest)
            obj = json.loads(
                await cluster.kubectl_ok("-n", ns, "get", "ing", "minimal-ingress", "-o", "json")
            )
            assert "ingressClassName" not in obj["spec"]
    finally:
        await cluster.kubectl("delete", "ingressclass", name)


async def _true(value: bool) -> bool:
    return value
