"""The cluster's PKI (podplane.componentbase.pki): the apiserver's serving certificate names what
in-cluster clients dial (the `kubernetes` Service's names and its cluster IP, the first address of
the Services' range), a certificate written before a name was added is issued again while a
complete one is kept, and the service account key pair is an RSA key and its public half."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from podplane.componentbase import pki


def names(crt: Path) -> tuple[set[str], set[str]]:
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(sans.get_values_for_type(x509.DNSName)), {
        str(ip) for ip in sans.get_values_for_type(x509.IPAddress)
    }


@pytest.mark.parametrize(
    ("cidr", "first"),
    [("10.96.0.0/12", "10.96.0.1"), ("10.0.0.0/24", "10.0.0.1"), ("fd00::/108", "fd00::1")],
)
def test_the_first_service_ip(cidr: str, first: str) -> None:
    assert pki.first_service_ip(cidr) == first


def test_the_apiserver_certificate_names_the_kubernetes_service(tmp_path: Path) -> None:
    pki.build(tmp_path, [], service_cidr="10.100.0.0/16")
    dns, ips = names(tmp_path / "apiserver.crt")
    assert dns == {
        "apiserver",
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    }
    assert ips == {"127.0.0.1", "10.100.0.1"}


def test_a_certificate_missing_a_name_is_issued_again_a_complete_one_kept(tmp_path: Path) -> None:
    ca, ca_key = pki.ensure_ca(tmp_path)
    old = pki.CertSpec("apiserver", "kube-apiserver", dns_names=("apiserver",), server=True)
    pki.issue(tmp_path, old, ca, ca_key)
    pki.build(tmp_path, [])
    assert "kubernetes.default.svc" in names(tmp_path / "apiserver.crt")[0]
    assert ipaddress.ip_address("10.96.0.1") in {
        ipaddress.ip_address(ip) for ip in names(tmp_path / "apiserver.crt")[1]
    }
    written = (tmp_path / "apiserver.crt").read_bytes(), (tmp_path / "sa.key").read_bytes()
    pki.build(tmp_path, [])
    assert ((tmp_path / "apiserver.crt").read_bytes(), (tmp_path / "sa.key").read_bytes()) == (
        written
    )


def test_the_service_account_key_pair(tmp_path: Path) -> None:
    pki.build(tmp_path, [])
    key = serialization.load_pem_private_key((tmp_path / "sa.key").read_bytes(), None)
    public = serialization.load_pem_public_key((tmp_path / "sa.pub").read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == key.public_key().public_numbers()


def test_a_control_plane_of_three_gets_member_certificates_and_one_apiserver_name(
    tmp_path: Path,
) -> None:
    members = pki.parse_members("--control-plane", "cp-1=10.250.0.11,cp-2=10.250.0.12")
    pki.build(tmp_path, [], control_plane=members, load_balancer=pki.Member("lb", "10.250.0.10"))
    dns, ips = names(tmp_path / "apiserver.crt")
    assert {"lb", "cp-1", "cp-2", "kubernetes.default.svc"} <= dns
    assert {"10.250.0.10", "10.250.0.11", "10.250.0.12", "10.96.0.1"} <= ips
    # Every member's etcd certificate names every member: one TLS name checks whichever answers.
    for member in ("cp-1", "cp-2"):
        dns, ips = names(tmp_path / f"etcd-{member}.crt")
        assert {"cp-1", "cp-2", "localhost"} <= dns
        assert {"10.250.0.11", "10.250.0.12", "127.0.0.1"} <= ips
        # Each member is a node too: its kubelet's client and serving certificates.
        assert (tmp_path / f"{member}.crt").exists()
        assert (tmp_path / f"{member}-kubelet-server.crt").exists()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("cp-1", '--control-plane: "cp-1" is not NAME=IP'),
        ("=10.0.0.1", '--control-plane: "=10.0.0.1" is not NAME=IP'),
        ("cp-1=cp-1.example", '--control-plane: "cp-1.example" is not an IP address'),
    ],
)
def test_control_plane_members_that_are_not_name_and_address(value: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        pki.parse_members("--control-plane", value)
