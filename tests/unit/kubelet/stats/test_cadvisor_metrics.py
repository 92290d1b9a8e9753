"""/metrics/cadvisor as Prometheus reads it (the compose cluster's `cadvisor` job): text that
Prometheus' parser takes and `promtool check metrics` finds nothing in (each family once, with
its HELP and TYPE, counters named _total, no series twice), with cAdvisor's labels on a pod's
containers (namespace, pod, container, image, name) and on the pod itself (container empty)."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from kubelet.stats.cadvisor_metrics import cadvisor_metrics
from kubelet.stats.summary import ContainerInput, PodInput
from podplane.api.cri import api_pb2 as cri

T0 = 1_700_000_000_000_000_000  # ns


def container(name: str, cpu_ns: int, working_set: int) -> ContainerInput:
    stats = cri.ContainerStats(
        attributes=cri.ContainerAttributes(
            id=f"id-{name}", metadata=cri.ContainerMetadata(name=name)
        ),
        cpu=cri.CpuUsage(timestamp=T0, usage_core_nano_seconds=cri.UInt64Value(value=cpu_ns)),
        memory=cri.MemoryUsage(
            timestamp=T0,
            working_set_bytes=cri.UInt64Value(value=working_set),
            usage_bytes=cri.UInt64Value(value=working_set + 100),
            rss_bytes=cri.UInt64Value(value=working_set // 2),
        ),
    )
    return ContainerInput(stats, "2023-11-14T22:00:01Z")


def coredns_pod(name: str) -> PodInput:
    sandbox = cri.PodSandboxStats(
        linux=cri.LinuxPodSandboxStats(
            cpu=cri.CpuUsage(timestamp=T0, usage_core_nano_seconds=cri.UInt64Value(value=9)),
            memory=cri.MemoryUsage(timestamp=T0, working_set_bytes=cri.UInt64Value(value=5)),
            network=cri.NetworkUsage(
                timestamp=T0,
                default_interface=cri.NetworkInterfaceUsage(
                    name="eth0", rx_bytes=cri.UInt64Value(value=10)
                ),
            ),
        )
    )
    return PodInput(
        name,
        "kube-system",
        f"uid-{name}",
        "2023-11-14T22:00:00Z",
        [container("clusterdns", 3_000_000_000, 2_000_000)],
        sandbox,
    )


def text() -> str:
    pods = [coredns_pod("coredns-a"), coredns_pod("coredns-b")]
    return cadvisor_metrics(pods, {"id-clusterdns": "podplane/clusterdns:dev"})


def test_prometheus_parses_it_and_promtools_lint_finds_nothing() -> None:
    body = text()
    families = list(text_string_to_metric_families(body))
    assert families
    lines = body.splitlines()
    helps = [line.split()[2] for line in lines if line.startswith("# HELP ")]
    types = {line.split()[2]: line.split()[3] for line in lines if line.startswith("# TYPE ")}
    assert len(helps) == len(set(helps)) == len(types)  # each family once, HELP and TYPE
    for name, kind in types.items():
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name  # no camelCase, no colons
        assert name.endswith("_total") == (kind == "counter"), name
    series = [line.rsplit(" ", 2)[0] for line in lines if not line.startswith("#")]
    assert len(series) == len(set(series))  # no series twice in one scrape


def test_a_pods_containers_carry_cadvisors_labels() -> None:
    samples = {
        (s.labels["pod"], s.labels["container"]): s
        for family in text_string_to_metric_families(text())
        if family.name == "container_cpu_usage_seconds"  # the parser drops a counter's _total
        for s in family.samples
    }
    assert samples["coredns-a", "clusterdns"].labels == {
        "namespace": "kube-system",
        "pod": "coredns-a",
        "container": "clusterdns",
        "image": "podplane/clusterdns:dev",
        "name": "id-clusterdns",
        "cpu": "total",
    }
    assert samples["coredns-a", "clusterdns"].value == 3.0
    # The pod's own cgroup, as cAdvisor labels it: no container, image or name.
    assert samples["coredns-b", ""].labels["image"] == ""
    working_set = [
        s
        for family in text_string_to_metric_families(text())
        if family.name == "container_memory_working_set_bytes"
        for s in family.samples
        if s.labels["container"] == "clusterdns"
    ]
    assert sorted(s.labels["pod"] for s in working_set) == ["coredns-a", "coredns-b"]
