"""A pod's resolv.conf by its dnsPolicy and dnsConfig (pkg/kubelet/network/dns GetPodDNS), as
tables of cases: the node's resolv.conf, the kubelet's --cluster-dns/--cluster-domain, and what
every container of the pod then reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.network.dns import DNSConfigError, DNSConfigurer, parse_resolv_conf
from kubelet.runtime.types import DNSConfig
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2

NODE_RESOLV_CONF = """# the node's resolver
nameserver 192.168.65.7
nameserver 192.168.65.8
search corp.example.com example.com.
options ndots:1 timeout:2
"""


def pod(namespace: str = "shop", **spec: Any) -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name="web", namespace=namespace, uid="u1"),
        spec=core_pb2.PodSpec(containers=[core_pb2.Container(name="c")], **spec),
    )


def dns_config(
    nameservers: tuple[str, ...] = (),
    searches: tuple[str, ...] = (),
    options: tuple[tuple[str, str | None], ...] = (),
) -> core_pb2.PodDNSConfig:
    return core_pb2.PodDNSConfig(
        nameservers=nameservers,
        searches=searches,
        options=[
            core_pb2.PodDNSConfigOption(name=n, **({} if v is None else {"value": v}))
            for n, v in options
        ],
    )


@pytest.fixture
def node_resolv(tmp_path: Path) -> str:
    path = tmp_path / "resolv.conf"
    path.write_text(NODE_RESOLV_CONF)
    return str(path)


CLUSTER_SEARCH = ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")
HOST_SEARCH = ("corp.example.com", "example.com")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # ClusterFirst: the cluster DNS alone, the cluster's search path then the node's, ndots:5.
        (
            {"dns_policy": "ClusterFirst"},
            DNSConfig(("10.96.0.10",), CLUSTER_SEARCH + HOST_SEARCH, ("ndots:5",)),
        ),
        # The apiserver defaults dnsPolicy; a pod without one (a static pod's file) is ClusterFirst.
        ({}, DNSConfig(("10.96.0.10",), CLUSTER_SEARCH + HOST_SEARCH, ("ndots:5",))),
        # A host-network pod with ClusterFirst (or Default) keeps the node's own resolv.conf,
        # the runtime's (None) ...
        ({"dns_policy": "ClusterFirst", "host_network": True}, None),
        ({"dns_policy": "Default", "host_network": True}, None),
        # ... unless it has a dnsConfig to add.
        (
            {
                "dns_policy": "Default",
                "host_network": True,
                "dns_config": dns_config(searches=("example.org",)),
            },
            DNSConfig(
                ("192.168.65.7", "192.168.65.8"),
                (*HOST_SEARCH, "example.org"),
                ("ndots:1", "timeout:2"),
            ),
        ),
        # ... unless it asks for ClusterFirstWithHostNet.
        (
            {"dns_policy": "ClusterFirstWithHostNet", "host_network": True},
            DNSConfig(("10.96.0.10",), CLUSTER_SEARCH + HOST_SEARCH, ("ndots:5",)),
        ),
        (
            {"dns_policy": "Default"},
            DNSConfig(("192.168.65.7", "192.168.65.8"), HOST_SEARCH, ("ndots:1", "timeout:2")),
        ),
        # None: only what dnsConfig says.
        (
            {
                "dns_policy": "None",
                "dns_config": dns_config(("1.1.1.1",), ("example.org",), (("ndots", "2"),)),
            },
            DNSConfig(("1.1.1.1",), ("example.org",), ("ndots:2",)),
        ),
        # dnsConfig on top of a policy: appended without duplicates, an option of the same name
        # replaced in place, a new one added.
        (
            {
                "dns_policy": "ClusterFirst",
                "dns_config": dns_config(
                    ("10.96.0.10", "1.1.1.1"),
                    ("svc.cluster.local", "example.org"),
                    (("ndots", "2"), ("edns0", None)),
                ),
            },
            DNSConfig(
                ("10.96.0.10", "1.1.1.1"),
                CLUSTER_SEARCH + HOST_SEARCH + ("example.org",),
                ("ndots:2", "edns0"),
            ),
        ),
    ],
)
def test_resolv_conf_by_policy(
    node_resolv: str, spec: dict[str, Any], expected: DNSConfig | None
) -> None:
    configurer = DNSConfigurer(("10.96.0.10",), "cluster.local", node_resolv)
    got = configurer.pod_dns(pod(**spec))
    assert got.config == expected
    assert got.warnings == ()


def test_cluster_first_without_cluster_dns_falls_back_to_default(node_resolv: str) -> None:
    got = DNSConfigurer((), "cluster.local", node_resolv).pod_dns(pod(dns_policy="ClusterFirst"))
    assert got.config is not None
    assert got.config.servers == ("192.168.65.7", "192.168.65.8")
    assert [reason for reason, _ in got.warnings] == ["MissingClusterDNS"]
    assert 'Falling back to "Default" policy' in got.warnings[0][1]


def test_without_node_resolv_conf_default_pods_cannot_resolve() -> None:
    # --resolv-conf "": Kubernetes points Default pods at 127.0.0.1 with an empty search path.
    got = DNSConfigurer(("10.96.0.10",), "cluster.local", "").pod_dns(pod(dns_policy="Default"))
    assert got.config == DNSConfig(("127.0.0.1",), (".",), ())


@pytest.mark.parametrize(
    ("extra", "servers", "searches", "warned"),
    [
        # Four nameservers: the resolver reads three.
        (
            dns_config(("1.1.1.1", "1.0.0.1", "8.8.8.8")),
            ("10.96.0.10", "1.1.1.1", "1.0.0.1"),
            None,
            "Nameserver limits were exceeded, some nameservers have been omitted, the applied "
            "nameserver line is: 10.96.0.10 1.1.1.1 1.0.0.1",
        ),
        # 5 + 30 search domains: 32 kept.
        (
            dns_config(searches=tuple(f"d{i}.example" for i in range(30))),
            ("10.96.0.10",),
            32,
            "Search Line limits were exceeded, some search paths have been omitted",
        ),
    ],
)
def test_limits_are_applied_with_a_warning(
    node_resolv: str,
    extra: core_pb2.PodDNSConfig,
    servers: tuple[str, ...],
    searches: int | None,
    warned: str,
) -> None:
    configurer = DNSConfigurer(("10.96.0.10",), "cluster.local", node_resolv)
    got = configurer.pod_dns(pod(dns_policy="ClusterFirst", dns_config=extra))
    assert got.config is not None
    assert got.config.servers == servers
    if searches is not None:
        assert len(got.config.searches) == searches
    assert [reason for reason, _ in got.warnings] == ["DNSConfigForming"]
    assert got.warnings[0][1].startswith(warned)


def test_unreadable_node_resolv_conf_is_an_error(tmp_path: Path) -> None:
    configurer = DNSConfigurer(("10.96.0.10",), "cluster.local", str(tmp_path / "missing"))
    with pytest.raises(DNSConfigError, match="cannot read --resolv-conf"):
        configurer.pod_dns(pod())


@pytest.mark.parametrize(
    ("text", "nameservers", "searches", "options"),
    [
        ("nameserver 1.1.1.1\nnameserver 8.8.8.8\n", ("1.1.1.1", "8.8.8.8"), (), ()),
        # The last search and options lines win; comments and junk are skipped.
        (
            "search a.example\n# x\n; y\nsearch b.example c.example.\noptions ndots:2\n",
            (),
            ("b.example", "c.example"),
            ("ndots:2",),
        ),
        ("nameserver\nbogus line\n", (), (), ()),
    ],
)
def test_parse_resolv_conf(
    text: str, nameservers: tuple[str, ...], searches: tuple[str, ...], options: tuple[str, ...]
) -> None:
    got = parse_resolv_conf(text)
    assert (got.nameservers, got.searches, got.options) == (nameservers, searches, options)
