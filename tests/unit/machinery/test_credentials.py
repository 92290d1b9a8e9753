"""podplane.client.credentials: flags, then environment, then ~/.podplane/config; bad settings
named."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from podplane.client.credentials import (
    CredentialsError,
    add_credential_flags,
    credentials_from,
    server_from_config,
)
from tests.pki_support import make_pki


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


def flags(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_credential_flags(p)
    return p.parse_args(list(argv))


def test_nothing_named_is_plaintext(tmp_path: Path) -> None:
    assert credentials_from(flags(), env={}, config_path=tmp_path / "none") is None


def test_flags_then_environment_then_config(pki_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"server: localhost:6444\nca: {pki_dir / 'ca.crt'}\n"
        f"token-file: {pki_dir / 'viewer.token'}\n"
    )
    creds = credentials_from(flags(), env={}, config_path=config)
    assert creds is not None and creds.token == (pki_dir / "viewer.token").read_text().strip()
    assert server_from_config(config) == "localhost:6444"
    env = {
        "PODPLANE_CERT": str(pki_dir / "admin.crt"),
        "PODPLANE_KEY": str(pki_dir / "admin.key"),
        "PODPLANE_CA": str(pki_dir / "ca.crt"),
    }
    creds = credentials_from(flags(), env=env)
    assert creds is not None and creds.cert_file == str(pki_dir / "admin.crt")
    creds = credentials_from(
        flags(
            "--cert-file", str(pki_dir / "node-1.crt"), "--key-file", str(pki_dir / "node-1.key")
        ),
        env=env,
    )
    assert creds is not None and creds.cert_file == str(pki_dir / "node-1.crt")


def test_a_tls_server_name_comes_from_the_flag_the_environment_or_the_config(
    pki_dir: Path, tmp_path: Path
) -> None:
    ca = str(pki_dir / "ca.crt")
    config = tmp_path / "config"
    config.write_text(f"ca: {ca}\ntls-server-name: from-config\n")
    creds = credentials_from(flags(), env={}, config_path=config)
    assert creds is not None and creds.tls_server_name == "from-config"
    env = {"PODPLANE_CA": ca, "PODPLANE_TLS_SERVER_NAME": "apiserver"}
    creds = credentials_from(flags(), env=env, config_path=tmp_path / "none")
    assert creds is not None and creds.tls_server_name == "apiserver"
    assert ("grpc.ssl_target_name_override", "apiserver") in creds.channel_options()
    creds = credentials_from(flags("--tls-server-name", "localhost"), env=env)
    assert creds is not None and creds.tls_server_name == "localhost"
    plain = credentials_from(flags("--ca-file", ca), env={}, config_path=tmp_path / "none")
    assert plain is not None and plain.tls_server_name is None
    assert plain.channel_options() == []


def test_bad_settings_are_named(pki_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=r"^PODPLANE_CA: cannot read /nope"):
        credentials_from(flags(), env={"PODPLANE_CA": "/nope"})
    with pytest.raises(CredentialsError, match=r"^--key-file: cannot read /nope"):
        credentials_from(
            flags(
                "--ca-file",
                str(pki_dir / "ca.crt"),
                "--cert-file",
                str(pki_dir / "admin.crt"),
                "--key-file",
                "/nope",
            ),
            env={},
        )
    with pytest.raises(CredentialsError, match=r"--cert-file and --key-file: give both"):
        credentials_from(
            flags("--ca-file", str(pki_dir / "ca.crt"), "--cert-file", str(pki_dir / "admin.crt")),
            env={},
        )
    with pytest.raises(CredentialsError, match=r"--ca-file: required"):
        credentials_from(flags("--token-file", str(pki_dir / "admin.token")), env={})
    empty = tmp_path / "empty.token"
    empty.write_text("\n")
    with pytest.raises(CredentialsError, match=r"--token-file: .* is empty"):
        credentials_from(
            flags("--ca-file", str(pki_dir / "ca.crt"), "--token-file", str(empty)), env={}
        )
