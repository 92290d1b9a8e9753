"""The proxier's syncs against an in-memory iptables (fake_iptables.py): nothing before both
informers have listed, a full first sync that hooks the chains in, partial syncs that leave
unchanged services' chains alone and end in the same tables as a full sync would, stale chains
of a previous run deleted, a failed restore retried in full, a flushed table put back."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from proxy import metrics
from proxy.healthcheck import ProxierHealth
from proxy.iptables import chains as ch
from proxy.iptables.proxier import Proxier
from proxy.iptables.rules import RulesConfig
from proxy.state.tracker import ProxyState
from tests.unit.proxy.fake_iptables import FakeIptables
from tests.unit.proxy.objects import endpoint_slice, ep, service
from tests.unit.waiting import until

CONFIG = RulesConfig(cluster_cidr="10.244.0.0/16")


def proxier(fake: FakeIptables | None = None, **kwargs: Any) -> Proxier:
    p = Proxier(ProxyState("node-1"), fake or FakeIptables(), CONFIG, **kwargs)
    return p


def synced(p: Proxier) -> Proxier:
    p.services_synced()
    p.slices_synced()
    return p


def web(name: str = "web", ip: str = "10.96.0.20", **spec: Any) -> service_pb2.Service:
    return service(name=name, spec={"clusterIP": ip, "clusterIPs": [ip], **spec})


def web_slice(name: str = "web", *ips: str) -> discovery_pb2.EndpointSlice:
    return endpoint_slice(f"{name}-1", [ep(ip) for ip in ips], service_name=name)


def test_nothing_is_synced_before_both_informers_have_listed() -> None:
    fake = FakeIptables()
    p = proxier(fake)
    p.on_service(web())
    assert not p.sync_proxy_rules()
    p.services_synced()
    assert not p.sync_proxy_rules()
    assert fake.restores == []
    p.slices_synced()
    assert p.sync_proxy_rules()
    assert len(fake.restores) == 1


def test_the_first_sync_hooks_the_chains_into_the_built_in_ones() -> None:
    fake = FakeIptables()
    p = synced(proxier(fake))
    p.on_service(web())
    p.on_slice(web_slice("web", "10.244.2.3"))
    assert p.sync_proxy_rules()
    nat = fake.tables["nat"]
    assert nat["PREROUTING"] == [
        '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    ]
    assert nat["OUTPUT"] == ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES']
    assert nat["POSTROUTING"] == [
        '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
    ]
    assert "-j KUBE-FORWARD" in " ".join(fake.tables["filter"]["FORWARD"])
    assert fake.tables["filter"]["INPUT"][0] == "-j KUBE-FIREWALL"
    svc_chain = ch.service_chains("ns/web:http", "tcp")[0]
    assert len(nat[svc_chain]) == 2  # masquerade off-cluster sources, one endpoint


def test_a_partial_sync_rewrites_only_what_changed() -> None:
    fake = FakeIptables()
    p = synced(proxier(fake))
    p.on_service(web())
    p.on_slice(web_slice("web", "10.244.2.3"))
    p.sync_proxy_rules()
    web_chain = ch.service_chains("ns/web:http", "tcp")[0]
    api_chain = ch.service_chains("ns/api:http", "tcp")[0]

    p.on_service(web("api", "10.96.0.30"))
    p.on_slice(web_slice("api", "10.244.3.4"))
    assert p.sync_proxy_rules()
    data = fake.restores[-1]
    assert f":{api_chain} - [0:0]" in data
    assert web_chain not in data.replace(f"-j {web_chain}", "")  # only KUBE-SERVICES' jump
    assert fake.tables["nat"][web_chain]  # kept from the first sync

    # Nothing changed: the top-level chains are rewritten, no service chain.
    assert p.sync_proxy_rules()
    assert "KUBE-SEP-" not in fake.restores[-1]


def test_a_deleted_service_loses_its_chains() -> None:
    fake = FakeIptables()
    p = synced(proxier(fake))
    p.on_service(web())
    p.on_slice(web_slice("web", "10.244.2.3"))
    p.sync_proxy_rules()
    p.on_service(web(), deleted=True)
    p.sync_proxy_rules()
    assert not [c for c in fake.tables["nat"] if ch.is_service_chain(c)]
    # Its slice outlives it for a moment: no rules without the service.
    assert "10.244.2.3" not in fake.restores[-1]


def test_a_restarted_proxier_deletes_the_chains_of_services_gone_meanwhile() -> None:
    fake = FakeIptables()
    first = synced(proxier(fake))
    for name, ip in (("web", "10.96.0.20"), ("api", "10.96.0.30")):
        first.on_service(web(name, ip))
        first.on_slice(web_slice(name, "10.244.2.3"))
    first.sync_proxy_rules()

    second = proxier(fake)
    second.on_service(web("web", "10.96.0.20"))
    second.on_slice(web_slice("web", "10.244.2.3"))
    synced(second).sync_proxy_rules()
    service_chains = {c for c in fake.tables["nat"] if ch.is_service_chain(c)}
    assert service_chains == {
        ch.service_chains("ns/web:http", "tcp")[0],
        ch.endpoint_chain("ns/web:http", "tcp", "10.244.2.3:8080"),
    }


def test_a_failed_restore_is_retried_in_full() -> None:
    fake = FakeIptables()
    p = synced(proxier(fake))
    p.on_service(web())
    p.on_slice(web_slice("web", "10.244.2.3"))
    assert p.sync_proxy_rules()
    failures = metrics.IPTABLES_RESTORE_FAILURES._value.get()
    partial_failures = metrics.IPTABLES_PARTIAL_RESTORE_FAILURES._value.get()

    p.on_slice(web_slice("web", "10.244.2.3", "10.244.3.4"))
    fake.fail_restores = 1
    assert not p.sync_proxy_rules()
    assert metrics.IPTABLES_RESTORE_FAILURES._value.get() == failures + 1
    assert metrics.IPTABLES_PARTIAL_RESTORE_FAILURES._value.get() == partial_failures + 1
    # The change was taken by the failed sync; the full one that follows still has it.
    assert p.sync_proxy_rules()
    assert "10.244.3.4" in fake.restores[-1]
    svc_chain = ch.service_chains("ns/web:http", "tcp")[0]
    assert len(fake.tables["nat"][svc_chain]) == 3


def test_health_follows_queued_changes_and_syncs() -> None:
    now = [1000.0]
    health = ProxierHealth(timeout=60, clock=lambda: now[0])
    p = synced(proxier(health=health))
    p.on_service(web())  # queued: initialized, and a change
    assert health.oldest_pending_queued == 1000.0
    now[0] += 61
    assert health.status()[0] is False
    p.sync_proxy_rules()
    assert health.status() == (True, 1061.0, 1061.0)


async def test_syncs_follow_events_and_a_flushed_table_is_rewritten() -> None:
    fake = FakeIptables()
    p = proxier(fake, min_sync_period=0.0, sync_period=60.0)
    # The canaries checked every 0.2 s, the runner's periodic syncs (60 s) out of the count.
    p.sync_period = 0.2
    running = asyncio.create_task(p.run())
    try:
        p.on_service(web())
        p.on_slice(web_slice("web", "10.244.2.3"))
        synced(p)
        svc_chain = ch.service_chains("ns/web:http", "tcp")[0]
        await until(lambda: svc_chain in fake.tables["nat"], "the service's chain")
        assert len(fake.tables["nat"][svc_chain]) == 2  # a jump to its one endpoint
        await until(lambda: ch.KUBE_PROXY_CANARY in fake.tables["mangle"], "the canary chains")

        syncs = p.syncs
        p.on_slice(web_slice("web", "10.244.2.3", "10.244.3.4"))
        await until(lambda: p.syncs > syncs, "a sync after the event")
        assert len(fake.tables["nat"][svc_chain]) == 3  # the second endpoint in
        await asyncio.sleep(0.1)
        assert p.syncs == syncs + 1  # and one only

        for table in ("nat", "filter", "mangle"):
            fake.flush(table)
        await until(lambda: svc_chain in fake.tables["nat"], "the service's chain rewritten")
        assert len(fake.tables["nat"][svc_chain]) == 3
        assert fake.tables["nat"]["PREROUTING"]  # the jumps are back too
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


# ------------------------------------------------------------------ partial == full
NAMES = ("a", "b", "c")
IPS = ("10.244.1.2", "10.244.2.3", "10.244.3.4", "10.244.1.9")
event = st.one_of(
    st.tuples(
        st.just("service"),
        st.sampled_from(NAMES),
        st.sampled_from(["ClusterIP", "NodePort", "None", "ClientIP", "deleted"]),
    ),
    st.tuples(
        st.just("slice"),
        st.sampled_from(NAMES),
        st.lists(st.tuples(st.sampled_from(IPS), st.booleans()), max_size=3),
    ),
    st.tuples(st.just("sync"), st.just(""), st.just("")),
)


def apply(p: Proxier, kind: str, name: str, arg: Any) -> None:
    if kind == "sync":
        p.sync_proxy_rules()
        return
    ip = f"10.96.0.{NAMES.index(name) + 10}"
    if kind == "service" and arg == "deleted":
        p.on_service(web(name, ip), deleted=True)
    elif kind == "service":
        spec: dict[str, Any] = {}
        if arg == "NodePort":
            spec = {
                "type": "NodePort",
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30010}],
            }
        elif arg == "ClientIP":
            spec = {"sessionAffinity": "ClientIP"}
        elif arg == "None":
            spec = {"clusterIP": "None", "clusterIPs": ["None"]}
            p.on_service(web(name, "None", **spec))
            return
        p.on_service(web(name, ip, **spec))
    else:
        slice_ = endpoint_slice(
            f"{name}-1", [ep(a, ready=ready) for a, ready in arg], service_name=name
        )
        p.on_slice(slice_)


@settings(max_examples=60, deadline=None)
@given(st.lists(event, max_size=25))
def test_partial_syncs_end_where_a_full_sync_would(events: list[Any]) -> None:
    fake = FakeIptables()
    p = synced(proxier(fake))
    p.sync_proxy_rules()
    for kind, name, arg in events:
        apply(p, kind, name, arg)
    p.sync_proxy_rules()

    fresh = FakeIptables()
    q = synced(proxier(fresh))
    for kind, name, arg in events:
        if kind != "sync":
            apply(q, kind, name, arg)
    q.sync_proxy_rules()
    for table in ("nat", "filter"):
        assert fake.kube_chains(table) == fresh.kube_chains(table)
