"""The compose cluster's Prometheus (localhost:9090): it scrapes every component and etcd, and its
recording rules for Kubernetes' SLOs (API latency, pod start-up, scheduling, work queues) turn
the cluster's own activity into numbers, through Prometheus' HTTP API as a dashboard reads them."""

from __future__ import annotations

import json
import math
import os
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import NODES, ROOT
from tests.support import eventually

PROMETHEUS = os.environ.get(
    "PODPLANE_PROMETHEUS", f"http://localhost:{os.environ.get('PODPLANE_PROMETHEUS_PORT', '9090')}"
)
RULES = Path(ROOT / "docker" / "prometheus" / "rules.yml")
# job -> instances (compose services) that must be scraped.
TARGETS = {
    "apiserver": {"apiserver"},
    "scheduler": {"scheduler", "scheduler-2"},
    "controller-manager": {"controller-manager", "controller-manager-2"},
    "kubelet": set(NODES),
    "kube-proxy": set(NODES),
    "etcd": {"etcd"},
}


def api(path: str, **params: str) -> Any:
    url = f"{PROMETHEUS}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def query(promql: str) -> list[dict[str, Any]]:
    return list(api("query", query=promql)["result"])


def instances(promql: str) -> set[str]:
    return {r["metric"]["instance"] for r in query(promql)}


def value(result: dict[str, Any]) -> float:
    return float(result["value"][1])


async def test_every_component_and_etcd_is_scraped() -> None:
    async def all_up() -> bool:
        up = {(r["metric"]["job"], r["metric"]["instance"]) for r in query("up == 1")}
        return all((job, i) in up for job, wanted in TARGETS.items() for i in wanted)

    await eventually(all_up, 60, interval=1, what="every target up in Prometheus")
    assert instances("etcd_server_has_leader == 1") == {"etcd"}


async def test_requests_per_apiserver_and_running_pods_per_node() -> None:
    """The issue's PromQL: apiserver_request_total for every apiserver, kubelet_running_pods for
    every node."""

    async def apiservers() -> bool:
        return instances("apiserver_request_total") == TARGETS["apiserver"]

    await eventually(apiservers, 60, interval=1, what="apiserver_request_total of every apiserver")

    async def nodes() -> bool:
        return instances("kubelet_running_pods") == set(NODES)

    await eventually(nodes, 60, interval=1, what="kubelet_running_pods of every node")
    assert all(value(r) >= 0 for r in query("kubelet_running_pods"))


def test_recording_rules_are_loaded_and_healthy() -> None:
    wanted = {
        rule["record"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    loaded = {rule["name"]: rule for group in api("rules")["groups"] for rule in group["rules"]}
    assert wanted <= set(loaded), wanted - set(loaded)
    unhealthy = {
        name: rule.get("lastError") for name, rule in loaded.items() if rule["health"] != "ok"
    }
    assert not unhealthy, unhealthy


# What a pod's creation, scheduling and start move in the last minute (docker/prometheus/rules.yml).
SLO_FIGURES = {
    "scheduled/s": 'result:scheduler_schedule_attempts_total:rate1m{result="scheduled"} > 0',
    "create p99": (
        'cluster_quantile:apiserver_request_duration_seconds:histogram_quantile{verb="POST"}'
    ),
    "pod start p99": "cluster_quantile:kubelet_pod_start_duration_seconds:histogram_quantile",
    "scheduling SLI p99": (
        "cluster_quantile:scheduler_pod_scheduling_sli_duration_seconds:histogram_quantile"
    ),
}


async def test_slo_rules_follow_a_pod_start(client: Client, namespace: str) -> None:
    """A pod scheduled and started now shows in the last minute's figures: scheduling attempts,
    the API latency of the create, the pod start-up latency."""
    await client.pods.create(
        manifest.from_dict(
            {  # type: ignore[arg-type]
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "measured", "namespace": namespace},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox",
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "300"],
                        }
                    ]
                },
            }
        )
    )

    async def running() -> bool:
        return (await client.pods.get("measured", namespace)).status.phase == "Running"

    await eventually(running, 120, interval=0.5, what="the pod Running")

    def finite(promql: str) -> list[dict[str, Any]]:
        return [r for r in query(promql) if math.isfinite(value(r))]

    async def measured() -> dict[str, float] | None:
        figures = {name: finite(promql) for name, promql in SLO_FIGURES.items()}
        if not all(figures.values()):
            return None
        return {name: value(results[0]) for name, results in figures.items()}

    # A scrape after the start and a rule evaluation after that: 15 s each.
    figures = await eventually(measured, 90, interval=1, what="the SLO rules' figures")
    assert 0 < figures["pod start p99"] <= 120, figures
    assert 0 < figures["create p99"] <= 60, figures
