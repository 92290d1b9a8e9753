"""python -m clusterdns's command line: defaults, and each bad setting refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterdns.options import parse_args


def test_defaults_are_coredns_ports_and_ttls() -> None:
    o = parse_args(["--server", "apiserver:6443"])
    assert (o.cluster_domain, o.dns_port, o.ttl, o.negative_ttl) == ("cluster.local", 53, 30, 5)
    assert (o.health_address, o.ready_address, o.metrics_address) == (":8080", ":8181", ":9153")
    assert o.upstreams == () and o.dns_service == ("kube-system", "kube-dns")


def test_upstreams_from_a_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example.com\nnameserver 172.18.0.1\nnameserver 1.1.1.1\n")
    o = parse_args(["--server", "a:1", "--upstream", str(conf), "--cluster-domain", "Corp.Local."])
    assert o.upstreams == ("172.18.0.1", "1.1.1.1") and o.cluster_domain == "corp.local"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster-domain", "no_such domain"], '--cluster-domain: "no_such domain" is not'),
        (["--ttl", "4000"], "--ttl: must be between 0 and 3600 seconds"),
        (["--negative-ttl", "-1"], "--negative-ttl: must be between 0 and 3600 seconds"),
        (["--upstream", "8.8.8.8,dns.google"], '--upstream: "dns.google" is not an IP address'),
        (["--upstream", "/nonexistent/resolv.conf"], "--upstream: cannot read"),
        (["--dns-service", "kube-dns"], '--dns-service: "kube-dns" is not NAMESPACE/NAME'),
        (["--pods", "all"], "--pods: invalid choice"),
        (["--lameduck", "-2"], "--lameduck: must not be negative"),
        (["--metrics-address", "nohost:x"], "--metrics-address"),
    ],
)
def test_bad_settings_are_refused_by_name(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--server", "apiserver:6443", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
