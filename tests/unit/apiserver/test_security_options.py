"""python -m apiserver's TLS and authentication flags: no TLS without --insecure-serving said
explicitly, and a missing file refused at start with its flag named."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiserver.__main__ import parse_args
from tests.pki_support import apiserver_tls_flags, make_pki

ETCD = ["--etcd-servers", "https://127.0.0.1:2379"]


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_tls_is_required_unless_insecure_serving_is_explicit(
    capsys: pytest.CaptureFixture[str], pki_dir: Path
) -> None:
    assert refused(ETCD, capsys).endswith(
        "--tls-cert-file: required (or --insecure-serving to serve without TLS and authentication)"
    )
    assert parse_args([*ETCD, "--insecure-serving"]).security is None
    assert "cannot be combined with --tls-cert-file" in refused(
        [*ETCD, "--insecure-serving", *apiserver_tls_flags(pki_dir)], capsys
    )


def test_full_configuration(pki_dir: Path) -> None:
    args = parse_args(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            "--token-auth-file",
            str(pki_dir / "tokens.csv"),
            "--etcd-cafile",
            str(pki_dir / "ca.crt"),
            "--etcd-certfile",
            str(pki_dir / "apiserver-etcd-client.crt"),
            "--etcd-keyfile",
            str(pki_dir / "apiserver-etcd-client.key"),
            "--kubelet-certificate-authority",
            str(pki_dir / "ca.crt"),
            "--kubelet-client-certificate",
            str(pki_dir / "apiserver-kubelet-client.crt"),
            "--kubelet-client-key",
            str(pki_dir / "apiserver-kubelet-client.key"),
        ]
    )
    assert args.security.token_address == "0.0.0.0:6444"
    assert args.security.kubelet_client is not None
    assert args.security.etcd_credentials() is not None


def test_bad_files_are_named(
    capsys: pytest.CaptureFixture[str], pki_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "tokens.csv"
    bad.write_text("only-a-token\n")
    assert "--token-auth-file" in refused(
        [*ETCD, *apiserver_tls_flags(pki_dir), "--token-auth-file", str(bad)], capsys
    )
    assert "--client-ca-file: cannot read /nope" in refused(
        [*ETCD, *apiserver_tls_flags(pki_dir)[:4], "--client-ca-file", "/nope"], capsys
    )
    assert "--kubelet-client-key: required" in refused(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            "--kubelet-certificate-authority",
            str(pki_dir / "ca.crt"),
            "--kubelet-client-certificate",
            str(pki_dir / "apiserver-kubelet-client.crt"),
        ],
        capsys,
    )
    assert "--etcd-keyfile: cannot read /nope" in refused(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            "--etcd-cafile",
            str(pki_dir / "ca.crt"),
            "--etcd-certfile",
            str(pki_dir / "apiserver-etcd-client.crt"),
            "--etcd-keyfile",
            "/nope",
        ],
        capsys,
    )


def test_service_account_flags(pki_dir: Path) -> None:
    args = parse_args(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            "--service-account-issuer",
            "https://kubernetes.default.svc.cluster.local",
            "--service-account-issuer",
            "https://old.example",
            "--service-account-signing-key-file",
            str(pki_dir / "sa.key"),
            "--service-account-key-file",
            str(pki_dir / "sa.pub"),
        ]
    )
    options = args.security.service_accounts
    assert options.issuers == (
        "https://kubernetes.default.svc.cluster.local",
        "https://old.example",
    )
    # The API's audiences default to the issuers; the first issuer issues.
    assert options.audiences == options.issuers
    assert options.token_issuer().issuer == "https://kubernetes.default.svc.cluster.local"
    assert [k.public_numbers() for k in options.public_keys] == [
        options.signing_key.public_key().public_numbers()
    ]
    with_audiences = parse_args(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            "--service-account-issuer",
            "https://i",
            "--service-account-signing-key-file",
            str(pki_dir / "sa.key"),
            "--api-audiences",
            "api, vault",
        ]
    ).security.service_accounts
    assert with_audiences.audiences == ("api", "vault")
    # No key file given: the signing key's public half verifies.
    assert len(with_audiences.public_keys) == 1
    assert parse_args([*ETCD, *apiserver_tls_flags(pki_dir)]).security.service_accounts is None


def test_service_account_flags_are_refused_with_the_flag_named(
    capsys: pytest.CaptureFixture[str], pki_dir: Path, tmp_path: Path
) -> None:
    issuer = ["--service-account-issuer", "https://i"]
    signing = ["--service-account-signing-key-file", str(pki_dir / "sa.key")]
    required = "--service-account-signing-key-file and --service-account-issuer are required flags"
    assert refused([*ETCD, *apiserver_tls_flags(pki_dir), *issuer], capsys).endswith(required)
    assert refused([*ETCD, *apiserver_tls_flags(pki_dir), *signing], capsys).endswith(required)
    # An EC key does not sign RS256; a file with no key verifies nothing.
    assert refused(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            *issuer,
            "--service-account-signing-key-file",
            str(pki_dir / "ca.key"),
        ],
        capsys,
    ).endswith("an RSA key is required (tokens are signed RS256)")
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    assert refused(
        [
            *ETCD,
            *apiserver_tls_flags(pki_dir),
            *issuer,
            *signing,
            "--service-account-key-file",
            str(empty),
        ],
        capsys,
    ).endswith(f"--service-account-key-file: {empty}: no RSA public key found")
    assert "cannot be combined with --service-account-issuer" in refused(
        [*ETCD, "--insecure-serving", *issuer, *signing], capsys
    )
