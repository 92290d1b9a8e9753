"""kube-proxy's /healthz (healthy unless a change waited longer than the timeout for a sync) and
its command line (kube-proxy's flag names and defaults; bad values refused at start)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import aiohttp
import pytest
import yaml

from podplane.componentbase import pki
from proxy.__main__ import options_from, parse_args
from proxy.healthcheck import HealthzServer, ProxierHealth
from proxy.node_setup import ensure_sysctl, read_sysctl

KUBE_PROXY_ADDON = Path(__file__).parents[3] / "docker" / "addons" / "kube-proxy.yaml"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.mark.parametrize(
    ("events", "healthy"),
    [
        ([], True),
        ([("queued", 0)], True),
        ([("queued", 0), ("wait", 59)], True),
        ([("queued", 0), ("wait", 61)], False),
        ([("queued", 0), ("wait", 30), ("queued", 0), ("wait", 31)], False),  # oldest counts
        ([("queued", 0), ("wait", 61), ("updated", 0)], True),
        ([("updated", 0), ("wait", 3600)], True),  # idle, nothing queued
    ],
    ids=[
        "fresh",
        "queued just now",
        "queued within the timeout",
        "queued past the timeout",
        "the oldest queued change counts",
        "a sync clears it",
        "idle for an hour",
    ],
)
def test_health(events: list[tuple[str, float]], healthy: bool) -> None:
    now = [100.0]
    health = ProxierHealth(timeout=60, clock=lambda: now[0])
    for event, seconds in events:
        if event == "queued":
            health.queued_update()
        elif event == "updated":
            health.updated()
        else:
            now[0] += seconds
    assert health.status()[0] is healthy


async def test_healthz_answers_200_or_503_with_timestamps() -> None:
    now = [1_700_000_000.0]
    health = ProxierHealth(timeout=60, clock=lambda: now[0])
    health.updated()
    server = HealthzServer(health, "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{server.port}"
            async with session.get(f"{url}/healthz") as reply:
                assert reply.status == 200
                body = json.loads(await reply.text())
            assert body == {
                "lastUpdated": "2023-11-14T22:13:20Z",
                "currentTime": "2023-11-14T22:13:20Z",
            }
            health.queued_update()
            now[0] += 120
            async with session.get(f"{url}/livez") as reply:
                assert reply.status == 503
    finally:
        await server.stop()


def test_flags_default_as_kube_proxy() -> None:
    options = options_from(parse_args(["--server", "apiserver:6443", "--hostname-override", "n"]))
    assert (options.hostname, options.cluster_cidr) == ("n", "")
    assert options.metrics_bind_address == "127.0.0.1:10249"
    assert options.healthz_bind_address == "0.0.0.0:10256"
    assert (options.sync_period, options.min_sync_period) == (30.0, 1.0)
    assert (options.masquerade_bit, options.masquerade_all) == (14, False)
    assert options.localhost_nodeports is True
    assert options.credentials is None


def test_flags_of_durations_and_booleans() -> None:
    options = options_from(
        parse_args(
            [
                "--server=apiserver:6443",
                "--cluster-cidr=10.244.0.0/16",
                "--metrics-bind-address=0.0.0.0:10249",
                "--iptables-min-sync-period=500ms",
                "--iptables-sync-period=1m",
                "--masquerade-all=true",
            ]
        )
    )
    assert options.hostname == socket.gethostname().lower()
    assert options.cluster_cidr == "10.244.0.0/16"
    assert (options.min_sync_period, options.sync_period) == (0.5, 60.0)
    assert options.masquerade_all


def daemon_set_command(tmp_path: Path, node: str) -> list[str]:
    """The DaemonSet's command line after `python -m proxy`, as the kubelet runs it on `node`:
    $(NODE_NAME) expanded from the downward API, the service account's files (here in
    tmp_path) where the kubelet mounts them."""
    docs = list(yaml.safe_load_all(KUBE_PROXY_ADDON.read_text()))
    (ds,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["python", "-m", "proxy"]
    assert container["env"] == [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
    ]
    (tmp_path / "token").write_text("a-service-account-token\n")
    pki.ensure_ca(tmp_path)  # ca.crt, as the kubelet mounts the cluster's
    return [
        arg.replace("$(NODE_NAME)", node).replace(SERVICE_ACCOUNT_DIR, str(tmp_path))
        for arg in container["command"][3:]
    ]


def test_flags_as_the_daemon_set_sets_them(tmp_path: Path) -> None:
    """The add-on's kube-proxy: the apiserver's own address and token port (not the
    `kubernetes` Service, which it has yet to program), its service account's token, read again
    whenever the kubelet rewrites it, and the node named by the downward API."""
    options = options_from(parse_args(daemon_set_command(tmp_path, "node-2")))
    assert options.server == "apiserver:6444"
    assert options.hostname == "node-2"
    assert options.credentials is not None
    assert options.credentials.ca_file == str(tmp_path / "ca.crt")
    assert options.credentials.token_file == str(tmp_path / "token")
    assert (options.credentials.cert_file, options.credentials.key_file) == (None, None)
    assert options.cluster_cidr == "10.244.0.0/16"
    # Prometheus scrapes every node's :10249; the pod shares its node's network namespace.
    assert options.metrics_bind_address == "0.0.0.0:10249"
    assert options.healthz_bind_address == "0.0.0.0:10256"


@pytest.mark.parametrize(
    ("override", "expected"), [("node-1", "node-1"), (" Node-1\n", "node-1"), ("", None)]
)
def test_the_node_name_is_the_override_trimmed_and_lower_cased(
    override: str, expected: str | None
) -> None:
    args = parse_args(["--server", "apiserver:6443", "--hostname-override", override])
    assert args.hostname == (expected or socket.gethostname().lower())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cluster-cidr", "10.244.0.0/33"], "is not a CIDR"),
        (["--iptables-masquerade-bit", "32"], "must be in the range 0-31"),
        (["--iptables-min-sync-period", "soon"], "is not a duration"),
        (["--cert-file", "/nonexistent.crt"], "--cert-file"),
        (["--hostname-override", "  "], "--hostname-override: empty hostname is invalid"),
    ],
)
def test_bad_flags_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--server", "apiserver:6443", *argv])
    assert message in capsys.readouterr().err


def test_sysctls(tmp_path: Path) -> None:
    (tmp_path / "net/ipv4/conf/all").mkdir(parents=True)
    path = tmp_path / "net/ipv4/conf/all/route_localnet"
    path.write_text("0\n")
    assert read_sysctl("net/ipv4/conf/all/route_localnet", tmp_path) == 0
    assert ensure_sysctl("net/ipv4/conf/all/route_localnet", 1, tmp_path)
    assert path.read_text() == "1\n"
    assert read_sysctl("net/none", tmp_path) is None
    assert not ensure_sysctl("net/none/x", 1, tmp_path)
