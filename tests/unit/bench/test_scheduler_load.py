"""The scheduler load test's pure parts: the workloads' nodes and pods, the fit check its result is
validated with, and the throughput and latency figures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from bench.scheduler.load import in_flight, paced
from bench.scheduler.stats import histogram, latencies, latency_summary, throughput
from bench.scheduler.workloads import (
    AFFINITY_ZONES,
    HIGH_PRIORITY_CLASS,
    MISSING_LABEL,
    TAINT_KEY,
    WORKLOADS,
    ZONE_LABEL,
    bench_pod,
    expected_unschedulable,
    fits,
    hollow_node,
    low_priority_pod,
    max_zone_skew,
    node_name,
    preemption_split,
    zone_of,
)
from podplane.api.core.v1 import core_pb2
from scheduler.framework.types import NodeInfo
from scheduler.plugins.helper.taints import first_untolerated
from scheduler.plugins.nodeaffinity import required_matches
from tests.unit.waiting import TIMEOUT, until

NOW = "2026-11-21T18:00:00Z"
ROOT = Path(__file__).resolve().parents[3]


def test_a_hollow_node_is_ready_with_scheduler_perfs_capacity_and_its_own_pod_cidr() -> None:
    a = hollow_node("hollow-a", 0, "basic", "run1", NOW)
    b = hollow_node("hollow-b", 257, "basic", "run1", NOW)
    info = NodeInfo.for_node(a)
    assert info.ready and not info.unschedulable and not info.taints
    assert (
        info.allocatable.milli_cpu,
        info.allocatable.memory,
        info.allocatable.allowed_pod_number,
    ) == (4000, 32 * 2**30, 110)
    assert a.spec.pod_cidr == "100.64.0.0/24" and b.spec.pod_cidr == "100.65.1.0/24"
    assert a.metadata.labels[ZONE_LABEL] == "zone-0" and b.metadata.labels[ZONE_LABEL] == "zone-2"


def test_no_daemonset_of_the_cluster_selects_a_hollow_node() -> None:
    """The compose cluster's kube-proxy DaemonSet would otherwise make a pod per hollow node,
    scheduled in the middle of the run and left Pending (no kubelet runs there)."""
    manifest = yaml.safe_load_all((ROOT / "docker" / "addons" / "kube-proxy.yaml").read_text())
    [daemonset] = [d for d in manifest if d and d["kind"] == "DaemonSet"]
    selector = daemonset["spec"]["template"]["spec"]["nodeSelector"]
    for i in (0, 1, 999):
        labels = hollow_node(f"h{i}", i, "basic", "r", NOW).metadata.labels
        assert not all(labels.get(k) == v for k, v in selector.items()), labels


def test_too_many_hollow_nodes_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        hollow_node("x", 1 << 14, "basic", "run1", NOW)


@pytest.mark.parametrize("workload", WORKLOADS)
def test_fits_agrees_with_the_scheduler_plugins_on_every_pod_and_node_kind(workload: str) -> None:
    nodes = [hollow_node(node_name("r", i), i, workload, "r", NOW) for i in range(20)]
    cpu = {"preemption": "3000m", "daemonset": None}.get(workload, "100m")
    for i in range(20):
        pod = bench_pod(f"pod-{i}", "ns", i, workload, "r")
        assert pod.spec.containers[0].resources.requests.get("cpu") == cpu
        for j, node in enumerate(nodes):
            admitted = (
                required_matches(pod, node)
                and first_untolerated(node.spec.taints, pod.spec.tolerations) is None
            )
            assert fits(workload, i, j) == admitted, (workload, i, j)


def test_workloads_ask_for_what_they_say() -> None:
    affinity = [bench_pod(f"p{i}", "ns", i, "node-affinity", "r") for i in range(2)]
    assert affinity[0].spec.node_selector[ZONE_LABEL] == AFFINITY_ZONES[0]
    term = affinity[
        1
    ].spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms[
        0
    ]
    assert list(term.match_expressions[0].values) == list(AFFINITY_ZONES)
    spread = bench_pod("s", "ns", 0, "topology-spread", "r").spec.topology_spread_constraints[0]
    assert (spread.max_skew, spread.topology_key, spread.when_unsatisfiable) == (
        1,
        ZONE_LABEL,
        "DoNotSchedule",
    )
    tainted = [hollow_node(f"n{i}", i, "taints", "r", NOW) for i in range(4)]
    assert [bool(n.spec.taints) for n in tainted] == [False, True, False, True]
    assert bench_pod("t", "ns", 0, "taints", "r").spec.tolerations[0].key == TAINT_KEY
    mixed = [bench_pod(f"m{i}", "ns", i, "mixed", "r") for i in range(10)]
    assert [MISSING_LABEL in p.spec.node_selector for p in mixed].count(True) == 1
    assert expected_unschedulable("mixed", 1000) == 100
    assert expected_unschedulable("basic", 1000) == 0
    with pytest.raises(ValueError, match="workload"):
        bench_pod("x", "ns", 0, "nope", "r")


def test_zone_skew_counts_empty_zones() -> None:
    assert max_zone_skew({zone_of(i): 2 for i in range(5)}) == 0
    assert max_zone_skew({"zone-0": 3, "zone-1": 2}) == 3


def test_throughput_averages_over_the_run_and_buckets_each_second() -> None:
    start = 100.0
    bound = [100.5, 101.2, 101.4, 101.9, 102.1, 103.5]
    tp = throughput(start, bound)
    assert tp.per_second == (1, 3, 1, 1)
    assert tp.average == pytest.approx(6 / 3.5)
    # The last, partial second does not count towards the peak or the median.
    assert tp.peak == 3 and tp.p50_of_seconds == 1
    assert throughput(start, []).average == 0


def test_latency_is_from_create_to_bind_for_the_pods_that_were_bound() -> None:
    created = {"a": 1.0, "b": 2.0, "c": 3.0}
    bound = {"a": 1.5, "b": 4.0}
    assert latencies(created, bound) == [0.5, 2.0]
    summary = latency_summary([0.5, 2.0])
    assert summary["count"] == 2 and summary["p50"] == pytest.approx(1.25)
    assert latency_summary([])["p99"] is None


def test_histogram_bins_from_zero_to_the_largest_value() -> None:
    edges, counts = histogram([0.1, 0.2, 1.0], bins=4)
    assert edges == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert counts == [2, 0, 0, 1]
    assert histogram([]) == ([], [])


def test_a_pod_never_names_a_node() -> None:
    pod = bench_pod("p", "ns", 0, "basic", "r")
    assert isinstance(pod, core_pb2.Pod) and not pod.spec.node_name


def test_the_preemption_workload_is_scheduler_perfs_preemption_basic() -> None:
    low = low_priority_pod("low-0", "ns", "r")
    high = bench_pod("pod-0", "ns", 0, "preemption", "r")
    # The preemptors' class gives them priority 10 (the Priority admission plugin sets it).
    assert not low.spec.priority_class_name and not low.spec.HasField("priority")
    assert high.spec.priority_class_name == HIGH_PRIORITY_CLASS
    assert not high.spec.HasField("priority")
    assert dict(low.spec.containers[0].resources.requests) == {"cpu": "900m", "memory": "500Mi"}
    assert dict(high.spec.containers[0].resources.requests) == {"cpu": "3000m", "memory": "500Mi"}
    # Its victims' deletion is graceful (the pod's default 30 s), finished by the hollow kubelet.
    assert not low.spec.HasField("termination_grace_period_seconds")
    assert preemption_split(100, 500) == (400, 100)
    assert preemption_split(500, 2500) == (2000, 500)
    for pods in (400, 501):
        with pytest.raises(ValueError, match="--pods between 401 and 500"):
            preemption_split(100, pods)


async def test_a_paced_load_does_not_wait_for_slow_answers() -> None:
    """--rate is an open loop, as clusterloader2's qpsLoad: a create still unanswered does not
    hold back the next, so a slow apiserver shows as latency, not as fewer creates a second."""
    started = 0
    answered = asyncio.Event()

    async def slow_create(i: int) -> None:
        nonlocal started
        started += 1
        await answered.wait()  # no answer until every create has started, however long it takes

    load = asyncio.create_task(paced(20, 100.0, slow_create))
    # A closed loop would wait here for ever: its first create is not answered.
    await until(lambda: started == 20, "every create started before the first was answered")
    answered.set()
    async with asyncio.timeout(TIMEOUT):
        await load


async def test_an_unpaced_load_keeps_its_creates_in_flight() -> None:
    running, most = 0, 0
    order: list[int] = []

    async def create(i: int) -> None:
        nonlocal running, most
        order.append(i)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    await in_flight(30, 4, create)
    assert most == 4 and order == list(range(30))
