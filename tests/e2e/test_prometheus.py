"""The compose cluster's Prometheus (localhost:9090): it scrapes every component and etcd, the
kubelets over HTTPS as kube-prometheus does (/metrics, /metrics/cadvisor, /metrics/probes on
10250, their certificates verified, its own client certificate authorized for nodes/metrics), and
its recording rules for Kubernetes' SLOs (API latency, pod start-up, scheduling, work queues) turn
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
    "cadvisor": set(NODES),
    "kubelet-probes": set(NODES),
    "kube-proxy": set(NODES),
    "etcd": {"etcd"},
}

# The kubelets' jobs (docker/prometheus/prometheus.yml) and the path each scrapes on port 10250.
KUBELET_JOBS = {"kubelet": "/metrics", "cadvisor": "/metrics/cadvisor",
                "kubelet-probes": "/metrics/probes"}  # fmt: skip
# Every target is scraped every 30 s: its first scrape, or a new pod's first series, within one
# interval.
SCRAPE_WAIT = 90


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

    await eventually(all_up, SCRAPE_WAIT, interval=1, what="every target up in Prometheus")
    assert instances("etcd_server_has_leader == 1") == {"etcd"}


async def test_every_kubelet_endpoint_is_scraped_over_https_with_verified_certificates() -> None:
    """The targets API: each node's /metrics, /metrics/cadvisor and /metrics/probes up over
    https on 10250, which needs the kubelet's serving certificate to verify against the cluster
    CA for the node's name and Prometheus' client certificate to be allowed nodes/metrics."""
    loaded = yaml.safe_load(api("status/config")["yaml"])
    jobs = {job["job_name"]: job for job in loaded["scrape_configs"]}
    for job in KUBELET_JOBS:
        assert jobs[job]["scheme"] == "https", jobs[job]
        assert jobs[job]["scrape_interval"] == "30s", jobs[job]
        assert jobs[job]["tls_config"]["insecure_skip_verify"] is False, jobs[job]

    wanted = {
        (job, node): f"https://{node}:10250{path}"
        for job, path in KUBELET_JOBS.items()
        for node in NODES
    }

    async def kubelet_targets() -> dict[tuple[str, str], dict[str, Any]] | None:
        found = {
            (t["scrapePool"], t["labels"]["instance"]): t
            for t in api("targets", state="active")["activeTargets"]
            if t["scrapePool"] in KUBELET_JOBS
        }
        if set(found) != set(wanted) or any(t["health"] != "up" for t in found.values()):
            return None
        return found

    try:
        targets = await eventually(
            kubelet_targets, SCRAPE_WAIT, interval=1, what="every kubelet target up"
        )
    except AssertionError:
        # What Prometheus says of the ones that are not: a TLS or 401/403 error names the cause.
        states = {
            (t["scrapePool"], t["labels"].get("instance")): (t["health"], t["lastError"])
            for t in api("targets", state="active")["activeTargets"]
            if t["scrapePool"] in KUBELET_JOBS
        }
        raise AssertionError(f"kubelet targets not all up: {states}") from None
    for key, url in wanted.items():
        target = targets[key]
        assert target["scrapeUrl"] == url, target
        assert target["lastError"] == "", target
        assert target["labels"]["metrics_path"] == KUBELET_JOBS[key[0]], target


async def test_cadvisor_series_of_a_running_pod(client: Client) -> None:
    """container_cpu_usage_seconds_total and container_memory_working_set_bytes of the cluster
    DNS's pods (kube-system/coredns-..., container clusterdns), labelled as cAdvisor labels them
    (namespace, pod, container, image, name) and scraped from the node each pod runs on."""

    async def series_of_every_coredns_pod(metric: str) -> list[dict[str, str]] | None:
        pods = (await client.pods.list("kube-system", label_selector="k8s-app=kube-dns")).items
        nodes = {p.metadata.name: p.spec.node_name for p in pods if p.status.phase == "Running"}
        if not nodes:
            return None
        found = {
            r["metric"]["pod"]: r
            for r in query(
                f'{metric}{{job="cadvisor",namespace="kube-system",'
                f'pod=~"{"|".join(sorted(nodes))}",container="clusterdns"}}'
            )
        }
        if set(found) != set(nodes):
            return None
        for pod, result in found.items():
            labels = result["metric"]
            assert labels["instance"] == nodes[pod], labels  # the node it runs on
            assert labels["metrics_path"] == "/metrics/cadvisor", labels
            assert labels["name"] and labels["image"], labels  # the container's id and image
        return [r["metric"] | {"value": r["value"][1]} for r in found.values()]

    for metric in ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes"):

        async def scraped(metric: str = metric) -> list[dict[str, str]] | None:
            return await series_of_every_coredns_pod(metric)

        found = await eventually(
            scraped, SCRAPE_WAIT, interval=1, what=f"{metric} of every coredns pod"
        )
        assert all(float(labels["value"]) > 0 for labels in found), found


async def test_requests_per_apiserver_and_running_pods_per_node() -> None:
    """The issue's PromQL: apiserver_request_total for every apiserver, kubelet_running_pods for
    every node."""

    async def apiservers() -> bool:
        return instances("apiserver_request_total") == TARGETS["apiserver"]

    await eventually(
        apiservers,
        SCRAPE_WAIT,
        interval=1,
        what="apiserver_request_total of every apiserver",
    )

    async def nodes() -> bool:
        return instances("kubelet_running_pods") == set(NODES)

    await eventually(nodes, SCRAPE_WAIT, interval=1, what="kubelet_running_pods of every node")
    assert all(value(r) >= 0 for r in query("kubelet_running_pods"))


async def test_recording_rules_are_loaded_and_healthy() -> None:
    wanted = {
        rule["record"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }

    # A rule's health is "unknown" until its group's first evaluation, up to an interval (30 s)
    # after Prometheus starts.
    async def evaluated() -> dict[str, Any] | None:
        loaded = {rule["name"]: rule for group in api("rules")["groups"] for rule in group["rules"]}
        assert wanted <= set(loaded), wanted - set(loaded)
        if any(loaded[name]["health"] == "unknown" for name in wanted):
            return None
        return loaded

    loaded = await eventually(evaluated, SCRAPE_WAIT, interval=1, what="every rule evaluated")
    unhealthy = {
        name: rule.get("lastError") for name, rule in loaded.items() if rule["health"] != "ok"
    }
    assert not unhealthy, unhealthy


# What a pod's creation, scheduling and start move in the last two minutes
# (docker/prometheus/rules.yml).
SLO_FIGURES = {
    "scheduled/s": 'result:scheduler_schedule_attempts_total:rate2m{result="scheduled"} > 0',
    "create p99": (
        'cluster_quantile:apiserver_request_duration_seconds:histogram_quantile{verb="POST"}'
    ),
    "pod start p99": "cluster_quantile:kubelet_pod_start_duration_seconds:histogram_quantile",
    "scheduling SLI p99": (
        "cluster_quantile:scheduler_pod_scheduling_sli_duration_seconds:histogram_quantile"
    ),
}


async def test_slo_rules_follow_a_pod_start(client: Client, namespace: str) -> None:
    """A pod scheduled and started now shows in the last two minutes' figures: scheduling attempts,
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

    # Two scrapes after the start (every 30 s) and a rule evaluation after them (every 30 s).
    figures = await eventually(measured, 150, interval=1, what="the SLO rules' figures")
    assert 0 < figures["pod start p99"] <= 120, figures
    assert 0 < figures["create p99"] <= 60, figures
