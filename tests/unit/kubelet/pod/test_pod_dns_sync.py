"""What a pod's sync gives its sandbox and containers: the resolv.conf of its dnsPolicy, the
Services' variables, and a warning event when the kubelet has no cluster DNS."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.network.dns import DNSConfigurer
from kubelet.runtime.types import DNSConfig
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import SyncHarness, state_of


class Services:
    has_synced = True

    def list(self) -> list[service_pb2.Service]:
        return [
            service_pb2.Service(
                metadata=meta_pb2.ObjectMeta(name="web", namespace="default"),
                spec=service_pb2.ServiceSpec(
                    cluster_ip="10.96.0.50",
                    cluster_ips=["10.96.0.50"],
                    ports=[service_pb2.ServicePort(port=80, protocol="TCP")],
                ),
            )
        ]


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 192.168.65.7\nsearch example.com\n")
    harness = SyncHarness(tmp_path)
    harness.syncer.dns = DNSConfigurer(("10.96.0.10",), "cluster.local", str(resolv))
    harness.syncer.starter.services = Services()
    return harness


async def test_sandbox_gets_the_cluster_resolver_and_containers_the_service_variables(
    h: SyncHarness,
) -> None:
    p = pod("main")
    await h.sync(p)
    assert state_of(p, "main") == "running"
    (sandbox,) = h.runtime.sandbox_configs.values()
    assert sandbox.dns == DNSConfig(
        ("10.96.0.10",),
        ("default.svc.cluster.local", "svc.cluster.local", "cluster.local", "example.com"),
        ("ndots:5",),
    )
    (config,) = h.runtime.configs.values()
    env = dict(config.env)
    assert env["WEB_SERVICE_HOST"] == "10.96.0.50" and env["WEB_PORT"] == "tcp://10.96.0.50:80"


async def test_no_service_variables_with_enable_service_links_false(h: SyncHarness) -> None:
    p = pod("main", enable_service_links=False)
    await h.sync(p)
    (config,) = h.runtime.configs.values()
    assert not any(name.startswith("WEB_") for name, _ in config.env)


async def test_dns_policy_none_uses_dns_config_only(h: SyncHarness) -> None:
    p = pod(
        "main",
        dns_policy="None",
        dns_config=core_pb2.PodDNSConfig(nameservers=["1.1.1.1"], searches=["example.org"]),
    )
    await h.sync(p)
    (sandbox,) = h.runtime.sandbox_configs.values()
    assert sandbox.dns == DNSConfig(("1.1.1.1",), ("example.org",), ())
