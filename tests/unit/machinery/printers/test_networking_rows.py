"""The ingress, ingress class and network policy rows, as printIngress, printIngressClass and
printNetworkPolicy write them: hosts (three, then "+ n more..."), the load balancer's addresses
(sorted, deduplicated, whole: the apiserver prints wide), the ports, the parameters' reference
and the pod selector."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.printers.registry import table_for
from tests.unit.machinery.printers.samples import NOW, meta, obj

_BACKEND = {"service": {"name": "web", "port": {"number": 80}}}


def _ingress(spec: dict[str, Any], status: dict[str, Any] | None = None) -> list[Any]:
    ing = obj(
        networking_pb2.Ingress,
        {"metadata": meta("web"), "spec": spec, "status": status or {}},
    )
    return table_for(resources.INGRESS).row(ing, NOW)


def _rules(*hosts: str) -> list[dict[str, Any]]:
    return [{"host": h} if h else {} for h in hosts]


@pytest.mark.parametrize(
    "rules, hosts",
    [
        ([], "*"),
        (_rules(""), "*"),
        (_rules("a.com", "", "b.com"), "a.com,b.com"),
        (_rules("a.com", "b.com", "c.com"), "a.com,b.com,c.com"),
        (_rules("a.com", "b.com", "c.com", "d.com", ""), "a.com,b.com,c.com + 2 more..."),
    ],
)
def test_hosts(rules: list[dict[str, Any]], hosts: str) -> None:
    assert _ingress({"defaultBackend": _BACKEND, "rules": rules})[2] == hosts


def test_ingress_row() -> None:
    status = {
        "loadBalancer": {
            "ingress": [
                {"ip": "192.0.2.9"},
                {"hostname": "lb.example.com"},
                {"ip": "192.0.2.10", "hostname": "ignored.example.com"},
                {"ip": "192.0.2.9"},
            ]
        }
    }
    spec = {
        "ingressClassName": "nginx",
        "rules": _rules("foo.com"),
        "tls": [{"hosts": ["foo.com"], "secretName": "tls"}],
    }
    assert _ingress(spec, status) == [
        "web",
        "nginx",
        "foo.com",
        "192.0.2.10,192.0.2.9,lb.example.com",
        "80, 443",
        "5m",
    ]
    assert _ingress({"defaultBackend": _BACKEND}) == ["web", "<none>", "*", "", "80", "5m"]


@pytest.mark.parametrize(
    "parameters, shown",
    [
        (None, "<none>"),
        ({"kind": "IngressParameters", "name": "p"}, "IngressParameters/p"),
        (
            {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"},
            "IngressParameters.k8s.example.com/p",
        ),
    ],
)
def test_ingress_class_row(parameters: dict[str, str] | None, shown: str) -> None:
    spec: dict[str, Any] = {"controller": "k8s.io/ingress-nginx"}
    if parameters is not None:
        spec["parameters"] = parameters
    ic = obj(networking_pb2.IngressClass, {"metadata": meta("nginx", namespace=""), "spec": spec})
    assert table_for(resources.INGRESS_CLASS).row(ic, NOW) == [
        "nginx",
        "k8s.io/ingress-nginx",
        shown,
        "5m",
    ]


@pytest.mark.parametrize(
    "selector, shown",
    [
        ({}, "<none>"),
        ({"matchLabels": {"role": "db", "app": "x"}}, "app=x,role=db"),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
            "tier in (a,b)",
        ),
    ],
)
def test_network_policy_row(selector: dict[str, Any], shown: str) -> None:
    np = obj(
        networking_pb2.NetworkPolicy, {"metadata": meta("np"), "spec": {"podSelector": selector}}
    )
    assert table_for(resources.NETWORK_POLICY).row(np, NOW) == ["np", shown, "5m"]


def test_kubernetes_column_descriptions() -> None:
    kinds: tuple[Resource, ...] = (
        resources.INGRESS,
        resources.INGRESS_CLASS,
        resources.NETWORK_POLICY,
    )
    described = {(r.plural, c.name): c.description for r in kinds for c in table_for(r).columns}
    assert described[("ingresses", "Ports")] == "Ports of TLS configurations that open"
    assert described[("ingressclasses", "Parameters")] == (
        "A reference to a resource with additional parameters"
    )
    assert described[("networkpolicies", "Pod-Selector")].startswith(
        "Selects the pods to which this NetworkPolicy object applies.  The array of ingress"
    )
