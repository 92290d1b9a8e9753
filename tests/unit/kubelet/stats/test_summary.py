"""The Summary and the resource metrics from fake CRI stats and fake cgroup files: figures where
the kubelet's CRI stats provider puts them, usageNanoCores from two readings, and the metric
families metrics-server reads, under their names, labels and help texts."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from kubelet.stats import summary
from kubelet.stats.cgroup import read_node_cgroup
from kubelet.stats.cpu_usage import NanoCoresCache
from kubelet.stats.resource_metrics import resource_metrics
from podplane.api.cri import api_pb2 as cri

T0 = 1_700_000_000_000_000_000  # ns


def cgroup_v2(folder: Path) -> Path:
    (folder / "cgroup.controllers").write_text("cpu memory\n")
    (folder / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    (folder / "memory.current").write_text("104857600\n")
    (folder / "memory.max").write_text("max\n")
    (folder / "memory.stat").write_text(
        "anon 52428800\nfile 41943040\ninactive_file 20971520\npgfault 1000\npgmajfault 7\n"
    )
    meminfo = folder / "meminfo"
    meminfo.write_text("MemTotal:        1048576 kB\nMemFree:          524288 kB\n")
    return meminfo


def test_the_node_cgroup_v2_reading(tmp_path: Path) -> None:
    meminfo = cgroup_v2(tmp_path)
    sample = read_node_cgroup(str(tmp_path), str(meminfo), clock=lambda: T0)
    assert sample.cpu_usage_ns == 2_500_000_000
    assert (sample.memory_usage, sample.memory_working_set) == (104857600, 83886080)
    assert (sample.memory_rss, sample.page_faults, sample.major_page_faults) == (52428800, 1000, 7)
    assert sample.memory_limit == 1024 * 1024 * 1024  # memory.max "max": the machine's
    node = summary.node(
        summary.NodeInput("node-1", "2024-01-01T00:00:00Z", sample, nano_cores=250_000_000)
    )
    assert node["cpu"] == {
        "time": "2023-11-14T22:13:20Z",
        "usageNanoCores": 250_000_000,
        "usageCoreNanoSeconds": 2_500_000_000,
    }
    assert node["memory"] == {
        "time": "2023-11-14T22:13:20Z",
        "availableBytes": 1024 * 1024 * 1024 - 83886080,
        "usageBytes": 104857600,
        "workingSetBytes": 83886080,
        "rssBytes": 52428800,
        "pageFaults": 1000,
        "majorPageFaults": 7,
    }


def test_usage_nano_cores_from_two_readings() -> None:
    cache = NanoCoresCache()
    assert cache.update("c", T0, 1_000_000_000) is None  # the first reading gives none
    # 0.5 s of CPU over 2 s: a quarter of a core.
    assert cache.update("c", T0 + 2_000_000_000, 1_500_000_000) == 250_000_000
    assert cache.update("c", T0 + 2_000_000_000, 1_500_000_000) == 250_000_000  # same reading
    assert cache.update("c", T0 + 3_000_000_000, 10) is None  # went back: a new container


def container_stats(name: str, cpu_ns: int, working_set: int) -> cri.ContainerStats:
    return cri.ContainerStats(
        attributes=cri.ContainerAttributes(
            id=f"id-{name}", metadata=cri.ContainerMetadata(name=name)
        ),
        cpu=cri.CpuUsage(timestamp=T0, usage_core_nano_seconds=cri.UInt64Value(value=cpu_ns)),
        memory=cri.MemoryUsage(
            timestamp=T0,
            working_set_bytes=cri.UInt64Value(value=working_set),
            usage_bytes=cri.UInt64Value(value=working_set + 100),
        ),
        writable_layer=cri.FilesystemUsage(
            timestamp=T0,
            used_bytes=cri.UInt64Value(value=4096),
            inodes_used=cri.UInt64Value(value=3),
        ),
    )


def a_pod() -> summary.PodInput:
    return summary.PodInput(
        name="web",
        namespace="default",
        uid="uid-1",
        start_time="2023-11-14T22:00:00Z",
        containers=[
            summary.ContainerInput(
                container_stats("app", 3_000_000_000, 2_000_000),
                "2023-11-14T22:00:01Z",
                nano_cores=5_000_000,
                logs=(100, 1),
            ),
            summary.ContainerInput(
                container_stats("sidecar", 1_000_000_000, 1_000_000), "2023-11-14T22:00:02Z"
            ),
        ],
    )


def test_a_pod_without_sandbox_stats_sums_its_containers() -> None:
    pod = summary.pod(a_pod(), None, None)
    assert pod["podRef"] == {"name": "web", "namespace": "default", "uid": "uid-1"}
    assert pod["cpu"] == {"time": "2023-11-14T22:13:20Z", "usageCoreNanoSeconds": 4_000_000_000}
    assert pod["memory"] == {
        "time": "2023-11-14T22:13:20Z",
        "usageBytes": 3_000_200,
        "workingSetBytes": 3_000_000,
    }
    app = pod["containers"][0]
    assert app["name"] == "app" and app["startTime"] == "2023-11-14T22:00:01Z"
    assert app["cpu"]["usageNanoCores"] == 5_000_000
    assert app["rootfs"] == {"time": "2023-11-14T22:13:20Z", "usedBytes": 4096, "inodesUsed": 3}
    assert app["logs"]["usedBytes"] == 100
    assert pod["ephemeral-storage"]["usedBytes"] == 4096 * 2 + 100


def test_sandbox_stats_are_the_pods_figures() -> None:
    sandbox = cri.PodSandboxStats(
        linux=cri.LinuxPodSandboxStats(
            cpu=cri.CpuUsage(
                timestamp=T0,
                usage_core_nano_seconds=cri.UInt64Value(value=9_000_000_000),
                usage_nano_cores=cri.UInt64Value(value=7),
            ),
            memory=cri.MemoryUsage(timestamp=T0, working_set_bytes=cri.UInt64Value(value=5)),
            network=cri.NetworkUsage(
                timestamp=T0,
                default_interface=cri.NetworkInterfaceUsage(
                    name="eth0",
                    rx_bytes=cri.UInt64Value(value=10),
                    tx_bytes=cri.UInt64Value(value=20),
                ),
            ),
        )
    )
    base = a_pod()
    pod = summary.pod(
        summary.PodInput(
            base.name, base.namespace, base.uid, base.start_time, base.containers, sandbox
        ),
        None,
        None,
    )
    assert pod["cpu"]["usageNanoCores"] == 7
    assert pod["cpu"]["usageCoreNanoSeconds"] == 9_000_000_000
    assert pod["memory"] == {"time": "2023-11-14T22:13:20Z", "workingSetBytes": 5}
    assert pod["network"]["name"] == "eth0" and pod["network"]["rxBytes"] == 10
    assert pod["network"]["interfaces"][0]["txBytes"] == 20


def test_resource_metrics_from_a_summary(tmp_path: Path) -> None:
    meminfo = cgroup_v2(tmp_path)
    node = summary.NodeInput(
        "node-1", "2024-01-01T00:00:00Z", read_node_cgroup(str(tmp_path), str(meminfo), lambda: T0)
    )
    text = resource_metrics(summary.summary(node, [a_pod()]))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    cpu = families["container_cpu_usage_seconds"]  # the parser drops a counter's _total
    assert cpu.documentation == (
        "[STABLE] Cumulative cpu time consumed by the container in core-seconds"
    )
    samples = {s.labels["container"]: s for s in cpu.samples}
    assert samples["app"].labels == {"container": "app", "pod": "web", "namespace": "default"}
    assert samples["app"].value == 3.0 and samples["app"].timestamp == T0 / 1e9
    assert families["node_cpu_usage_seconds"].samples[0].value == 2.5
    assert families["node_memory_working_set_bytes"].samples[0].value == 83886080
    assert families["pod_memory_working_set_bytes"].samples[0].value == 3_000_000
    assert families["container_start_time_seconds"].samples[0].value == 1699999201.0
    assert families["resource_scrape_error"].samples[0].value == 0
    # scrape_error, deprecated in 1.29.0, is hidden from 1.30 on.
    assert "scrape_error" not in families
    assert (
        "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node "
        "in core-seconds\n" in text
    )
    assert (
        'container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 3 '
        "1700000000000\n" in text
    )


def test_a_failed_reading_is_a_scrape_error() -> None:
    assert resource_metrics(None) == (
        "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container "
        "metrics, 0 otherwise\n# TYPE resource_scrape_error gauge\nresource_scrape_error 1\n"
    )
