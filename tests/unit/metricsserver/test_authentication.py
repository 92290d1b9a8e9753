"""Who the metrics server takes a caller for (k8s.io/apiserver's requestheader and x509
authenticators, with the authenticated group added): the front proxy's certificate, of an
allowed name, makes X-Remote-User and X-Remote-Group the user; another name, or a request with
no user header, is nobody; a cluster certificate is its own user and groups; a certificate of
neither CA is nobody; every user is in system:authenticated."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from metricsserver.api.auth import Authenticator, Trust, User
from podplane.componentbase import pki


def certificate(
    folder: Path, ca_name: str, common_name: str, groups: tuple[str, ...] = ()
) -> bytes:
    ca, key = pki.ensure_ca(folder, ca_name, ca_name)
    pki.issue(folder, pki.CertSpec(common_name, common_name, groups, client=True), ca, key)
    cert = x509.load_pem_x509_certificate((folder / f"{common_name}.crt").read_bytes())
    return cert.public_bytes(Encoding.DER)


@pytest.fixture
def trust(tmp_path: Path) -> Trust:
    certificate(tmp_path, "front-proxy-ca", "front-proxy-client")
    certificate(tmp_path, "ca", "admin", ("system:masters",))
    load = x509.load_pem_x509_certificates
    return Trust(
        client_ca=load((tmp_path / "ca.crt").read_bytes()),
        requestheader_ca=load((tmp_path / "front-proxy-ca.crt").read_bytes()),
        allowed_names=("front-proxy-client",),
        username_headers=("X-Remote-User",),
        group_headers=("X-Remote-Group",),
    )


async def test_the_front_proxy_names_the_user(trust: Trust, tmp_path: Path) -> None:
    who = Authenticator(trust, client=None)  # type: ignore[arg-type]
    proxy = (tmp_path / "front-proxy-client.crt").read_bytes()
    der = x509.load_pem_x509_certificate(proxy).public_bytes(Encoding.DER)
    headers = {"X-Remote-User": ["alice"], "X-Remote-Group": ["devs", "ops"]}
    assert await who.user(der, headers, "") == User(
        "alice", ("devs", "ops", "system:authenticated")
    )
    assert await who.user(der, {}, "") is None
    other = certificate(tmp_path, "front-proxy-ca", "someone-else")
    assert await who.user(other, headers, "") is None


async def test_a_cluster_certificate_is_its_own_user(trust: Trust, tmp_path: Path) -> None:
    who = Authenticator(trust, client=None)  # type: ignore[arg-type]
    admin = x509.load_pem_x509_certificate((tmp_path / "admin.crt").read_bytes())
    assert await who.user(admin.public_bytes(Encoding.DER), {}, "") == User(
        "admin", ("system:masters", "system:authenticated")
    )
    (tmp_path / "elsewhere").mkdir()
    stranger = certificate(tmp_path / "elsewhere", "elsewhere-ca", "mallory")
    assert await who.user(stranger, {"X-Remote-User": ["root"]}, "") is None
    assert await who.user(None, {}, "") is None
