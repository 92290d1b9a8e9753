"""The load test's workloads modelled on scheduler_perf's (Unschedulable, SchedulingWithMixedChurn,
PreemptionAsync, SchedulingDaemonset): their objects ask for what the templates ask for, the
bindings are checked against what they allow, the runs are judged by their floors, and the churn
makes and removes its objects as scheduler_perf's churn op does."""

from __future__ import annotations

from typing import Any

import pytest

from bench.scheduler.churn import (
    CHURN_POD,
    CHURN_SERVICE,
    PreemptorChurn,
    RecreateChurn,
    churn_service,
    preemptor_name,
)
from bench.scheduler.load import Observed
from bench.scheduler.options import Options
from bench.scheduler.result import run_result
from bench.scheduler.workloads import (
    DAEMONSET_NODE_PODS,
    HIGH_PRIORITY_CLASS,
    SCHEDULER_PERF_FLOORS,
    UNSCHEDULABLE_INIT_PODS,
    WORKLOADS,
    bench_pod,
    fits,
    high_priority_pod,
    hollow_node,
    node_name,
    preemption_split,
    unschedulable_init_pod,
)
from podplane.api.core.v1 import core_pb2
from scheduler.framework.types import NodeInfo
from scheduler.plugins.nodeaffinity import required_matches

NOW = "2026-11-21T18:00:00Z"


def test_the_new_workloads_are_choices_with_scheduler_perfs_floors() -> None:
    assert SCHEDULER_PERF_FLOORS == {
        "mixed": 590.0,
        "unschedulable": 590.0,
        "mixed-churn": 710.0,
        "preemption-async": 570.0,
        "daemonset": 1100.0,
    }
    assert set(SCHEDULER_PERF_FLOORS) <= set(WORKLOADS)


def test_daemonset_pods_are_pinned_to_the_first_node_by_its_name() -> None:
    nodes = [hollow_node(node_name("r", i), i, "daemonset", "r", NOW) for i in range(5)]
    pod = bench_pod("pod-0", "ns", 0, "daemonset", "r")
    term = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    [field] = term.node_selector_terms[0].match_fields
    assert (field.key, field.operator, list(field.values)) == (
        "metadata.name",
        "In",
        [node_name("r", 0)],
    )
    # The daemonset-pod.yaml template requests nothing.
    assert not pod.spec.containers[0].resources.requests
    assert [required_matches(pod, n) for n in nodes] == [True, False, False, False, False]
    assert [fits("daemonset", 7, j) for j in range(3)] == [True, False, False]
    # node-with-name.yaml holds 90000 pods; the others the default 110.
    pods = [NodeInfo.for_node(n).allocatable.allowed_pod_number for n in nodes[:2]]
    assert pods == [int(DAEMONSET_NODE_PODS), 110]
    assert hollow_node("x", 0, "basic", "r", NOW).status.capacity["pods"] == "110"


def test_an_unschedulable_init_pod_asks_for_more_cpu_than_any_node_has() -> None:
    pod = unschedulable_init_pod("init-000000", "ns", "r")
    node = NodeInfo.for_node(hollow_node(node_name("r", 0), 0, "unschedulable", "r", NOW))
    assert pod.spec.containers[0].resources.requests["cpu"] == "9"
    assert node.allocatable.milli_cpu == 4000
    assert not pod.spec.priority_class_name  # pod-large-cpu.yaml has no priority
    assert UNSCHEDULABLE_INIT_PODS == 200
    # The measured pods are SchedulingBasic's, and fit every node.
    measured = bench_pod("pod-0", "ns", 0, "unschedulable", "r")
    assert measured.spec.containers[0].resources.requests["cpu"] == "100m"
    assert all(fits("unschedulable", 0, j) for j in range(10))


def test_preemption_async_splits_pods_as_preemption_does_and_creates_preemptors() -> None:
    assert preemption_split(100, 500, "preemption-async") == (400, 100)
    with pytest.raises(ValueError, match="1 to 100 measured pods: --pods between 401 and 500"):
        preemption_split(100, 400, "preemption-async")
    preemptor = high_priority_pod(preemptor_name(3), "ns", "r", {"cpu": "3000m"})
    assert preemptor.metadata.name == "preemptor-000003"
    assert preemptor.spec.priority_class_name == HIGH_PRIORITY_CLASS
    assert bench_pod("pod-0", "ns", 0, "preemption-async", "r").spec.priority_class_name == ""


@pytest.mark.parametrize(
    ("workload", "threshold"),
    [("basic", 680.0), ("mixed", 590.0), ("daemonset", 1100.0), ("preemption-async", 570.0)],
)
def test_a_run_is_judged_by_its_workloads_floor(workload: str, threshold: float) -> None:
    result = _result(workload)
    assert result["targets"]["scheduler_perf"]["threshold"] == threshold


def test_preemption_has_no_floor_and_a_pod_bound_off_its_node_is_a_violation() -> None:
    assert _result("preemption")["targets"] is None
    seen = Observed(
        created_at={"pod-000000": 0.0, "pod-000001": 0.0},
        bound_at={"pod-000000": 1.0, "pod-000001": 1.0},
        node_of={"pod-000000": node_name("r", 0), "pod-000001": node_name("r", 1)},
        last_create=0.5,
    )
    assert _result("daemonset", seen)["constraint_violations"] == 1


def _result(workload: str, seen: Observed | None = None) -> dict[str, Any]:
    seen = seen or Observed(
        created_at={"pod-000000": 0.0},
        bound_at={"pod-000000": 1.0},
        node_of={"pod-000000": node_name("r", 0)},
        last_create=0.5,
    )
    cpu = {"wall": 0.0, "host": 0.0}
    done = {"wall": 2.0, "host": 1.0}

    class Hollow:
        renewals = renewal_errors = renewals_skipped = 0
        renewals_per_second = 0.0

    options = Options(workload=workload, nodes=2, pods=len(seen.created_at))
    return run_result(options, seen, cpu, done, Hollow(), "r", len(seen.created_at))  # type: ignore[arg-type]


class _Objects:
    """A fake resource client: creates and deletes by name, the deleted object returned."""

    def __init__(self, log: list[str], kind: str) -> None:
        self.log, self.kind = log, kind
        self.live: dict[str, Any] = {}

    async def create(self, obj: Any) -> Any:
        assert obj.metadata.name not in self.live, f"{self.kind} {obj.metadata.name} exists"
        self.live[obj.metadata.name] = obj
        self.log.append(f"create {self.kind} {obj.metadata.name}")
        return obj

    async def delete(self, name: str, namespace: str = "", **_: Any) -> Any:
        self.log.append(f"delete {self.kind} {name}")
        return self.live.pop(name)


class _Client:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.nodes = _Objects(self.log, "node")
        self.pods = _Objects(self.log, "pod")
        self.services = _Objects(self.log, "service")


async def test_the_recreate_churn_makes_each_object_then_removes_it_every_other_tick() -> None:
    client = _Client()
    churn = RecreateChurn(client, "ns", "r", 3, "mixed-churn")  # type: ignore[arg-type]
    await churn.tick(0)
    # The node is named as the run's next hollow node, so its pods are checked as any.
    assert sorted(client.log) == [
        f"create node {node_name('r', 3)}",
        f"create pod {CHURN_POD}",
        f"create service {CHURN_SERVICE}",
    ]
    pod = client.pods.live[CHURN_POD]
    assert pod.spec.containers[0].resources.requests["cpu"] == "9"
    assert pod.spec.priority_class_name == HIGH_PRIORITY_CLASS
    pod.spec.node_name = node_name("r", 0)  # as if the scheduler had bound it: it must not
    await churn.tick(1)
    assert not (client.nodes.live or client.pods.live or client.services.live)
    assert (churn.created, churn.deleted, churn.churn_pod_bound) == (3, 3, 1)
    await churn.tick(2)
    assert churn.report()["objects_created"] == 6
    await churn.clean_up()
    assert not (client.nodes.live or client.pods.live or client.services.live)
    await churn.clean_up()  # nothing left: logged, not raised


async def test_the_create_churn_makes_a_new_preemptor_each_tick() -> None:
    client = _Client()
    churn = PreemptorChurn(client, "ns", "r")  # type: ignore[arg-type]
    for n in range(3):
        await churn.tick(n)
    assert sorted(client.pods.live) == [preemptor_name(n) for n in range(3)]
    assert churn.report() == {
        "mode": "create",
        "interval_seconds": 0.2,
        "objects_created": 3,
        "errors": 0,
    }


def test_the_churned_service_selects_no_pod_of_the_run() -> None:
    service = churn_service("ns", "r")
    assert dict(service.spec.selector) == {"app": "foo"}
    assert service.spec.ports[0].port == 8080
    pod = bench_pod("pod-0", "ns", 0, "mixed-churn", "r")
    assert "app" not in pod.metadata.labels
    assert isinstance(pod, core_pb2.Pod)
