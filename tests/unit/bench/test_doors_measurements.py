"""What apiserver-doors measures and sends, piece by piece: each watcher's tally of deliveries (the
sync pod, duplicates, misses, latency from write start and from ack), the cell's delivery summary,
the apiserver's CPU per create, the HTTP clients' pod JSON and watch query, and the `get pods`
commands' kubeconfig, environment, rows and timings."""

from __future__ import annotations

import json
import urllib.parse

import pytest
import yaml

from bench.apiserver import watch_delivery
from bench.apiserver_doors import creates, creators, listing, watch
from bench.apiserver_doors.doors import Doors
from bench.apiserver_doors.listing import Timed
from bench.common.pods import NODE_NAME, small_pod
from podplane.apimachinery import codec

DOORS = Doors(
    "127.0.0.1:6443", "https://127.0.0.1:8443", "/pki/ca.crt", "/pki/admin.crt", "/pki/admin.key"
)


def test_a_watcher_counts_each_pod_once_and_the_sync_pod_not_at_all() -> None:
    w = watch.Watcher("sync")
    w.added("sync", "", 99.0)
    w.added("a", str(100_000_000_000), 100.5)
    w.added("a", str(100_000_000_000), 100.9)  # a duplicate
    w.added("b", str(101_000_000_000), 101.002)
    assert w.synced.is_set() and w.duplicates == 1
    result = w.result({"a": 100.25, "b": 101.01, "c": 101.5})  # c never came
    assert result.from_write_start == pytest.approx([0.5, 0.002])
    assert result.from_ack == pytest.approx([0.25, -0.008])  # before the reply: negative
    assert (result.missed, result.duplicates, result.error) == (1, 1, "")


def test_the_delivery_summary_spans_every_watcher() -> None:
    fast, slow = watch.Watcher("s"), watch.Watcher("s")
    for i, w in enumerate((fast, slow)):
        for n in range(10):
            w.added(f"p{n}", str(n * 1_000_000_000), n + 0.01 * (1 + 9 * i))
    slow.error = "HTTP 500"
    acks = {f"p{n}": n + 0.005 for n in range(11)}
    summary = watch_delivery.delivery_summary([fast.result(acks), slow.result(acks)], 10.0)
    assert summary["deliveries"] == 20 and summary["delivered_per_second"] == 2.0
    assert summary["from_write_start"]["p50"] == pytest.approx(0.055)
    assert summary["from_write_start"]["max"] == pytest.approx(0.1)
    assert summary["missed_total"] == 2 and summary["watchers_missing_events"] == 2
    assert summary["stream_errors"] == {"HTTP 500": 1} and summary["duplicates"] == 0


def test_an_http_watch_asks_for_this_cells_pods_from_the_listed_version() -> None:
    query = urllib.parse.parse_qs(watch.watch_query("1234", "bench.podplane.io/cell=watch-http1"))
    assert query == {
        "watch": ["1"],
        "resourceVersion": ["1234"],
        "labelSelector": ["bench.podplane.io/cell=watch-http1"],
    }


@pytest.mark.parametrize(
    "cpu_percent, per_second, expected",
    [(90.0, 900.0, 1.0), (35.0, 215.0, 350 / 215), (None, 100.0, None), (50.0, 0.0, None)],
)
def test_apiserver_cpu_per_create(
    cpu_percent: float | None, per_second: float, expected: float | None
) -> None:
    got = creates.cpu_ms_per_call(cpu_percent, per_second)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_the_http_body_is_the_grpc_clients_pod_in_kubernetes_json() -> None:
    labels = {"bench.podplane.io/run": "abc"}
    template = creators.pod_template(labels)
    body = json.loads(creators.pod_body(template, "bench-abc-http1-0-7"))
    assert body == {
        "apiVersion": "v1",
        "kind": "Pod",
        **codec.encode(small_pod("bench-abc-http1-0-7", labels)),
    }
    assert body["spec"]["nodeName"] == NODE_NAME
    assert template["metadata"].get("name", "") == ""  # the template is left as it was


def test_the_kubeconfig_points_kubectl_at_the_rest_door_as_the_admin() -> None:
    config = yaml.safe_load(yaml.safe_dump(listing.kubeconfig(DOORS, "ns")))
    assert config["current-context"] == "podplane-bench"
    [cluster], [user], [context] = config["clusters"], config["users"], config["contexts"]
    assert cluster["cluster"] == {
        "server": "https://127.0.0.1:8443",
        "certificate-authority": "/pki/ca.crt",
    }
    assert user["user"] == {"client-certificate": "/pki/admin.crt", "client-key": "/pki/admin.key"}
    assert context["context"] == {
        "cluster": cluster["name"],
        "user": user["name"],
        "namespace": "ns",
    }


def test_the_commands_get_pods_of_the_namespace_through_their_doors() -> None:
    assert listing.kubectl_command("/usr/bin/kubectl", "/w/kubeconfig", "ns") == [
        "/usr/bin/kubectl",
        "--kubeconfig",
        "/w/kubeconfig",
        "get",
        "pods",
        "-n",
        "ns",
    ]
    podctl = listing.podctl_command(DOORS, "ns")
    assert podctl[1:] == ["-m", "podctl", "--server", "127.0.0.1:6443", "-n", "ns", "get", "pods"]


def test_the_commands_environment_keeps_the_callers_settings_out() -> None:
    env = listing.command_env(
        {
            "PATH": "/bin",
            "KUBECONFIG": "/mine",
            "PODPLANE_SERVER": "x:1",
            "PODPLANE_TOKEN": "t",
            "HOME": "/root",
        },
        "/w/home",
        DOORS,
    )
    assert env == {
        "PATH": "/bin",
        "HOME": "/w/home",
        "PODPLANE_CA": "/pki/ca.crt",
        "PODPLANE_CERT": "/pki/admin.crt",
        "PODPLANE_KEY": "/pki/admin.key",
    }


@pytest.mark.parametrize(
    "stdout, rows",
    [("NAME READY\na 0/1\nb 0/1\n", 2), ("NAME READY\n", 0), ("", 0), ("NAME\na\n\n", 1)],
)
def test_rows_are_the_lines_but_the_header(stdout: str, rows: int) -> None:
    assert listing.rows(stdout) == rows


def test_timings_report_the_median_of_the_repetitions() -> None:
    runs = [Timed(0.3, 0.2, 1000), Timed(0.1, 0.1, 1000), Timed(0.2, 0.15, 1000)]
    summary = listing.timing_summary(["kubectl", "get", "pods"], runs)
    assert summary == {
        "command": "kubectl get pods",
        "seconds": [0.3, 0.1, 0.2],
        "median": 0.2,
        "min": 0.1,
        "max": 0.3,
        "cpu_seconds_median": 0.15,
        "rows": [1000],
    }
