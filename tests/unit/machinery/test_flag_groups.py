"""podplane.componentbase's flag groups (client, serving, leader election): each one's flags parse
to its typed value, and a bad value exits with status 2 naming the flag."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from podplane.client.credentials import Credentials
from podplane.client.leaderelection import LEASE_DURATION, NAMESPACE, LeaderElectionConfig
from podplane.componentbase import client_flags, leaderelection_flags, serving_flags
from tests.pki_support import make_pki


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


def parsed(
    add: Callable[[argparse.ArgumentParser], None], *argv: str
) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="component")
    add(parser)
    return parser, parser.parse_args(list(argv))


def refused(to_value: Callable[[], object], capsys: pytest.CaptureFixture[str]) -> str:
    """The error line a bad flag exits 2 with."""
    with pytest.raises(SystemExit) as exit_info:
        to_value()
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


# ------------------------------------------------------------------ the client
def test_client_flags_give_the_server_and_no_credentials_for_a_plaintext_apiserver() -> None:
    parser, args = parsed(client_flags.add_flags, "--server", "apiserver:6443")
    assert client_flags.config_from_flags(parser, args) == client_flags.ClientConfig(
        "apiserver:6443", None
    )


def test_client_flags_give_the_credentials_they_name(pki_dir: Path) -> None:
    ca, cert, key = (str(pki_dir / f) for f in ("ca.crt", "scheduler.crt", "scheduler.key"))
    parser, args = parsed(
        client_flags.add_flags,
        *("--server", "[::1]:6443", "--ca-file", ca, "--cert-file", cert, "--key-file", key),
    )
    assert client_flags.config_from_flags(parser, args) == client_flags.ClientConfig(
        "[::1]:6443", Credentials(ca, cert, key)
    )


def test_the_client_flags_read_no_user_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODPLANE_CA", "/nonexistent/ca.crt")
    parser, args = parsed(client_flags.add_flags, "--server", "apiserver:6443")
    assert client_flags.config_from_flags(parser, args).credentials is None


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--server", "apiserver"], "--server"),
        (["--server", "apiserver:http"], "--server"),
        (["--server", "a:1", "--cert-file", "/nonexistent/c.crt"], "--cert-file"),
        (["--server", "a:1", "--ca-file", "/nonexistent/ca.crt"], "--ca-file"),
    ],
)
def test_a_bad_client_flag_is_refused_by_name(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser, args = parsed(client_flags.add_flags, *argv)
    line = refused(lambda: client_flags.config_from_flags(parser, args), capsys)
    assert line.startswith(f"component: error: {flag}"), line


def test_a_client_certificate_without_the_ca_is_refused(
    pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = (str(pki_dir / f) for f in ("scheduler.crt", "scheduler.key"))
    parser, args = parsed(
        client_flags.add_flags, "--server", "a:1", "--cert-file", cert, "--key-file", key
    )
    line = refused(lambda: client_flags.config_from_flags(parser, args), capsys)
    assert line == "component: error: --ca-file: required with a client certificate or a token"


def test_a_tool_s_server_flag_is_optional_with_its_default() -> None:
    parser = argparse.ArgumentParser()
    client_flags.add_server_flag(parser, "-s", default="localhost:6443", help="the apiserver")
    assert parser.parse_args([]).server == "localhost:6443"
    assert parser.parse_args(["-s", "a:1"]).server == "a:1"


# ------------------------------------------------------------------ serving
def add_serving(parser: argparse.ArgumentParser) -> None:
    serving_flags.add_health_flags(parser, 10259)
    serving_flags.add_metrics_flag(parser, default="0.0.0.0:10251", help="/metrics")


@pytest.mark.parametrize(
    ("argv", "health", "metrics"),
    [
        ([], "0.0.0.0:10259", "0.0.0.0:10251"),
        (["--bind-address", "::", "--health-port", "0"], "[::]:0", "0.0.0.0:10251"),
        (["--metrics-bind-address", ""], "0.0.0.0:10259", ""),
        (["--metrics-bind-address", "[::1]:9090"], "0.0.0.0:10259", "[::1]:9090"),
    ],
)
def test_serving_flags_give_the_addresses(argv: list[str], health: str, metrics: str) -> None:
    parser, args = parsed(add_serving, *argv)
    assert serving_flags.health_address_from_flags(args) == health
    assert serving_flags.metrics_address_from_flags(parser, args) == metrics


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--health-port", "70000"], "argument --health-port"),
        (["--bind-address", "localhost"], "argument --bind-address"),
        (["--metrics-bind-address", "nohost"], "--metrics-bind-address"),
        (["--metrics-bind-address", "x:99999"], "--metrics-bind-address"),
    ],
)
def test_a_bad_serving_flag_is_refused_by_name(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def value() -> str:
        parser, args = parsed(add_serving, *argv)
        return serving_flags.metrics_address_from_flags(parser, args)

    line = refused(value, capsys)
    assert line.startswith(f"component: error: {flag}"), line


# ------------------------------------------------------------------ leader election
def add_election(parser: argparse.ArgumentParser) -> None:
    leaderelection_flags.add_flags(parser, "kube-scheduler")


def test_leader_election_flags_give_the_election() -> None:
    parser, args = parsed(add_election, "--leader-elect-retry-period", "1s")
    election = leaderelection_flags.election_from_flags(parser, args)
    assert isinstance(election, LeaderElectionConfig)
    assert (election.name, election.namespace) == ("kube-scheduler", NAMESPACE)
    assert (election.lease_duration, election.retry_period) == (LEASE_DURATION, 1.0)


def test_no_election_with_leader_elect_false() -> None:
    parser, args = parsed(add_election, "--leader-elect=false")
    assert leaderelection_flags.election_from_flags(parser, args) is None


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--leader-elect-lease-duration", "5s"], "--leader-elect-*"),
        (["--leader-elect-retry-period", "soon"], "argument --leader-elect-retry-period"),
        (["--leader-elect", "maybe"], "argument --leader-elect"),
    ],
)
def test_a_bad_leader_election_flag_is_refused_by_name(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def value() -> LeaderElectionConfig | None:
        parser, args = parsed(add_election, *argv)
        return leaderelection_flags.election_from_flags(parser, args)

    line = refused(value, capsys)
    assert line.startswith(f"component: error: {flag}"), line
