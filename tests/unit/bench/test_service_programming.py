"""podplane-bench service-programming's pieces: the cluster IPs it picks, the clients' probe
loop, and the Docker log timestamps its reach times come from."""

from __future__ import annotations

import ipaddress
import random

import pytest

from bench.kube_proxy.programming import SERVICE_CIDR, client_script, docker_timestamp, pick_ips


def test_the_ips_are_consecutive_in_one_slash_24_of_the_service_cidr() -> None:
    for seed in range(20):
        ips = pick_ips(50, random.Random(seed))
        addresses = [ipaddress.IPv4Address(ip) for ip in ips]
        assert all(a in SERVICE_CIDR for a in addresses)
        assert len({ipaddress.IPv4Network(f"{a}/24", strict=False) for a in addresses}) == 1
        # Not the first /24s, where the apiserver allocates (10.96.0.1 is `kubernetes`).
        assert addresses[0] >= SERVICE_CIDR.network_address + 16 * 256


def test_the_client_tries_each_ip_in_turn_with_fresh_connections() -> None:
    script = client_script(["10.100.3.1", "10.100.3.2"])
    assert script.startswith("for ip in 10.100.3.1 10.100.3.2; do ")
    assert 'timeout 2 wget -qO /dev/null "http://$ip/"' in script
    assert 'echo "reached $ip"' in script


@pytest.mark.parametrize(
    ("line", "seconds", "rest"),
    [
        ("2026-11-22T12:30:00.250000000Z reached 10.100.3.1", 1795350600.25, "reached 10.100.3.1"),
        ("2026-11-22T12:30:00Z reached 10.100.3.2", 1795350600.0, "reached 10.100.3.2"),
    ],
)
def test_docker_timestamps(line: str, seconds: float, rest: str) -> None:
    when, text = docker_timestamp(line)
    assert when == pytest.approx(seconds, abs=1e-6)
    assert text == rest
