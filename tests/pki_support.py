"""Test PKIs: the cluster's real layout (podplane.componentbase.pki) written to a temporary folder,
and client credentials from it."""

from __future__ import annotations

from pathlib import Path

from apiserver.options.aggregator import AggregatorOptions
from apiserver.options.secure_serving import SecureServing
from apiserver.options.service_account import ServiceAccountOptions
from podplane.client.credentials import Credentials
from podplane.componentbase import pki


def make_pki(folder: Path, nodes: tuple[str, ...] = ("node-1",)) -> Path:
    pki.build(folder, list(nodes))
    return folder


# The compose cluster's issuer (kubeadm's default), which the tests' apiservers issue as too.
ISSUER = "https://kubernetes.default.svc.cluster.local"


def apiserver_tls_flags(folder: Path) -> list[str]:
    """The apiserver's serving and client-CA flags for the PKI make_pki wrote in `folder`."""
    return [
        "--tls-cert-file",
        str(folder / "apiserver.crt"),
        "--tls-private-key-file",
        str(folder / "apiserver.key"),
        "--client-ca-file",
        str(folder / "ca.crt"),
    ]


def service_accounts(folder: Path) -> ServiceAccountOptions:
    """Service account tokens signed with the PKI's sa.key, verified with sa.pub."""
    return ServiceAccountOptions((ISSUER,), str(folder / "sa.key"), (str(folder / "sa.pub"),))


def secure_serving(folder: Path, token_address: str | None = "127.0.0.1:0") -> SecureServing:
    return SecureServing(
        str(folder / "apiserver.crt"),
        str(folder / "apiserver.key"),
        str(folder / "ca.crt"),
        str(folder / "tokens.csv"),
        token_address,
        service_accounts=service_accounts(folder),
        enable_bootstrap_token_auth=True,
    )


def cert_credentials(folder: Path, name: str) -> Credentials:
    """Credentials of the client certificate <name>.crt (admin, scheduler, node-1, ...)."""
    return Credentials(
        str(folder / "ca.crt"), str(folder / f"{name}.crt"), str(folder / f"{name}.key")
    )


def token_credentials(folder: Path, user: str) -> Credentials:
    """Credentials of the static token of `user` (admin or viewer)."""
    return Credentials(str(folder / "ca.crt"), token=(folder / f"{user}.token").read_text().strip())


def aggregator_options(folder: Path) -> AggregatorOptions:
    """The front proxy as kubeadm configures it: front-proxy-client's certificate, the
    front-proxy CA published, front-proxy-client the one allowed name."""
    return AggregatorOptions(
        str(folder / "front-proxy-client.crt"),
        str(folder / "front-proxy-client.key"),
        str(folder / "front-proxy-ca.crt"),
        ("front-proxy-client",),
        requestheader_ca=(folder / "front-proxy-ca.crt").read_bytes(),
    )
