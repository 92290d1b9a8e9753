"""The load balancer address pool: CIDRs, ranges and single addresses; the lowest free address
first; an address held by one Service at a time, reused once released; spec.loadBalancerIP
honoured when in the pool and free; exhaustion; the default pool from the network's route."""

from __future__ import annotations

import ipaddress
import re

import pytest

from controller.__main__ import parse_args
from controller.servicelb.network import connected_network, default_pool, pool_for
from controller.servicelb.pool import AddressPool, AddressRefused, PoolExhausted


@pytest.mark.parametrize(
    ("spec", "addresses"),
    [
        ("10.0.0.200-10.0.0.202", ["10.0.0.200", "10.0.0.201", "10.0.0.202"]),
        ("10.0.0.0/30", ["10.0.0.1", "10.0.0.2"]),  # network and broadcast addresses left out
        ("10.0.0.8/31", ["10.0.0.8", "10.0.0.9"]),
        ("10.0.0.7, 10.0.0.9-10.0.0.10", ["10.0.0.7", "10.0.0.9", "10.0.0.10"]),
        ("", []),
    ],
)
def test_a_pool_is_cidrs_ranges_and_addresses(spec: str, addresses: list[str]) -> None:
    pool = AddressPool(spec)
    assert list(pool.addresses()) == addresses
    assert pool.size == len(addresses)


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("10.0.0.9-10.0.0.1", "must not be after"),
        ("10.0.0.1-fd00::1", "must not be after"),
        ("nonsense", "does not appear to be an IPv4 or IPv6 address"),
        ("10.0.0.0/8", "larger than 65536 addresses"),
    ],
)
def test_bad_pools_are_refused(spec: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        AddressPool(spec)


def test_addresses_go_lowest_first_and_come_back_when_released() -> None:
    pool = AddressPool("10.0.0.200-10.0.0.201")
    assert pool.allocate("ns/a") == "10.0.0.200"
    assert pool.allocate("ns/a") == "10.0.0.200"  # a Service keeps its address
    assert pool.allocate("ns/b") == "10.0.0.201"
    with pytest.raises(
        PoolExhausted,
        match=re.escape("no available IP in the load balancer pool 10.0.0.200-10.0.0.201"),
    ):
        pool.allocate("ns/c")
    assert pool.release("ns/a") == "10.0.0.200"
    assert pool.release("ns/a") is None
    assert pool.allocate("ns/c") == "10.0.0.200"
    assert pool.free == 0


def test_a_requested_address_is_given_when_in_the_pool_and_free() -> None:
    pool = AddressPool("10.0.0.200-10.0.0.210")
    assert pool.allocate("ns/a", "10.0.0.205") == "10.0.0.205"
    assert pool.allocate("ns/b") == "10.0.0.200"
    with pytest.raises(
        AddressRefused, match=re.escape("requested IP 10.0.0.205 is already allocated to ns/a")
    ):
        pool.allocate("ns/c", "10.0.0.205")
    with pytest.raises(
        AddressRefused,
        match=re.escape("requested IP 10.1.0.1 is not in the load balancer pool 10.0.0.200-"),
    ):
        pool.allocate("ns/c", "10.1.0.1")
    # A Service that asks for another address lets go of its old one.
    assert pool.allocate("ns/a", "10.0.0.207") == "10.0.0.207"
    assert pool.holder("10.0.0.205") is None


def test_addresses_seen_in_services_are_held_once() -> None:
    pool = AddressPool("10.0.0.200-10.0.0.201")
    assert pool.hold("ns/a", "10.0.0.201")
    assert not pool.hold("ns/b", "10.0.0.201")  # held by another
    assert not pool.hold("ns/b", "192.168.0.1")  # outside the pool
    assert pool.allocate("ns/b") == "10.0.0.200"


ROUTES = """\
Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
cni0\t0001F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""


def test_the_default_pool_is_the_top_of_the_connected_network() -> None:
    network = connected_network("172.18.0.5", ROUTES)
    assert network == ipaddress.IPv4Network("172.18.0.0/16")
    assert pool_for(network) == "172.18.255.200-172.18.255.250"
    assert connected_network("10.244.1.7", ROUTES) == ipaddress.IPv4Network("10.244.1.0/24")
    assert connected_network("192.168.9.9", ROUTES) is None
    assert pool_for(ipaddress.IPv4Network("192.168.5.0/24")) == "192.168.5.200-192.168.5.250"
    assert pool_for(ipaddress.IPv4Network("192.168.5.0/25")) == ""
    assert pool_for(ipaddress.IPv4Network("127.0.0.0/8")) == ""


def test_the_default_pool_waits_for_the_name_and_is_none_on_loopback() -> None:
    assert default_pool("127.0.0.1:6443") == ""
    with pytest.raises(OSError, match=re.escape("cannot resolve no-such-host.invalid:6443")):
        default_pool("no-such-host.invalid:6443")


def test_the_flags() -> None:
    args = parse_args(["--server", "apiserver:6443"])  # resolved when the controller starts
    assert args.options.load_balancer_ip_pool == "auto"
    assert args.options.apiserver == "apiserver:6443"
    args = parse_args(
        ["--server", "x:1", "--load-balancer-ip-pool", "10.0.0.0/28", "--load-balancer-class", "c"]
    )
    assert args.options.load_balancer_ip_pool == "10.0.0.0/28"
    assert args.options.load_balancer_class == "c"
    with pytest.raises(SystemExit):
        parse_args(["--server", "x:1", "--load-balancer-ip-pool", "10.0.0.9-10.0.0.1"])
