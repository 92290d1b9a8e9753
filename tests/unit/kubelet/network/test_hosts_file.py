"""The /etc/hosts the kubelet writes for a pod, byte for byte as Kubernetes writes it: localhost,
the pod's IP and hostname (its FQDN first with a subdomain), then the hostAliases under their own
header; a host-network pod gets the node's file under a header. And the hostname the kernel
gives the pod: the FQDN with setHostnameAsFQDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.network.hosts import HostnameError, kernel_hostname, write_hosts_file
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod

LOCALHOST = (
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)
ALIASES = [
    core_pb2.HostAlias(ip="127.0.0.1", hostnames=["foo.local", "bar.local"]),
    core_pb2.HostAlias(ip="10.1.2.3", hostnames=["foo.remote", "bar.remote"]),
]


def hostaliases_pod(**spec: Any) -> core_pb2.Pod:
    return pod("a", name="hostaliases-pod", host_aliases=ALIASES, **spec)


def test_the_managed_file_with_host_aliases(tmp_path: Path) -> None:
    path = write_hosts_file(tmp_path, hostaliases_pod(), ["10.200.0.5"], "cluster.local")
    assert Path(path).read_text() == LOCALHOST + (
        "10.200.0.5\thostaliases-pod\n"
        "\n"
        "# Entries added by HostAliases.\n"
        "127.0.0.1\tfoo.local\tbar.local\n"
        "10.1.2.3\tfoo.remote\tbar.remote\n"
    )
    assert Path(path) == tmp_path / "etc-hosts" and Path(path).stat().st_mode & 0o777 == 0o644


def test_a_pod_with_a_subdomain_has_its_fqdn(tmp_path: Path) -> None:
    p = pod("a", name="web-0", hostname="web-0", subdomain="web")
    path = write_hosts_file(tmp_path, p, ["10.244.1.7"], "cluster.local")
    assert Path(path).read_text() == LOCALHOST + (
        "10.244.1.7\tweb-0.web.default.svc.cluster.local\tweb-0\n"
    )


def test_a_host_network_pod_gets_the_nodes_file(tmp_path: Path) -> None:
    node_hosts = tmp_path / "node-hosts"
    node_hosts.write_text("127.0.0.1\tlocalhost\n172.18.0.3\tnode-1\n")
    p = hostaliases_pod(host_network=True)
    path = write_hosts_file(tmp_path, p, ["172.18.0.3"], "cluster.local", str(node_hosts))
    assert Path(path).read_text() == (
        "# Kubernetes-managed hosts file (host network).\n"
        "127.0.0.1\tlocalhost\n172.18.0.3\tnode-1\n"
        "\n"
        "# Entries added by HostAliases.\n"
        "127.0.0.1\tfoo.local\tbar.local\n"
        "10.1.2.3\tfoo.remote\tbar.remote\n"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, "web-0"),
        ({"hostname": "h"}, "h"),
        ({"subdomain": "web"}, "web-0"),
        ({"subdomain": "web", "set_hostname_as_fqdn": True}, "web-0.web.default.svc.cluster.local"),
        ({"set_hostname_as_fqdn": True}, "web-0"),  # no subdomain: no FQDN
    ],
)
def test_the_kernel_hostname(spec: dict[str, Any], expected: str) -> None:
    assert kernel_hostname(pod("a", name="web-0", **spec), "cluster.local") == expected


def test_a_long_hostname_is_cut_and_an_fqdn_too_long_fails() -> None:
    assert kernel_hostname(pod("a", name="x" * 70 + "-y"), "cluster.local") == "x" * 63
    too_long = pod("a", name="a" * 40, subdomain="web", set_hostname_as_fqdn=True)
    fqdn = "a" * 40 + ".web.default.svc.cluster.local"
    with pytest.raises(HostnameError) as e:
        kernel_hostname(too_long, "cluster.local")
    assert str(e.value) == (
        f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too "
        f"long (64 characters is the max, {len(fqdn)} characters requested)"
    )
