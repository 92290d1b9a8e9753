"""The HPA's replica calculator for Resource and ContainerResource metrics, with the cases of
Kubernetes' replica_calculator_test.go (its resource cases: utilization and the cpu
initialization period, unready, pending, failed, deleted and missing pods, tolerance,
superfluous metrics, container metrics), its TestGroupPods and TestCalculatePodRequests tables,
and the average-value (calcPlainMetricReplicas) path.

As there, every pod has two containers each requesting the pod's listed request, metric
samples carry a timestamp of the zero time and a one-minute window, and the calculator's
tolerance is 0.1, its cpu initialization period 2 minutes and its initial readiness delay 10 s;
a "hot" pod started now, a "cool" one 3 minutes ago."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from controller.podautoscaler.pods import (
    ContainerRequests,
    MissingRequestError,
    PodInfo,
    PodMetric,
    ReadyCondition,
    group_pods,
    pod_requests,
)
from controller.podautoscaler.replica_calculator import (
    ReplicaCalculationError,
    Tuning,
    plain_metric_replicas,
    utilization_replicas,
)

NOW = 1_900_000_000.0
TUNING = Tuning(
    tolerance=0.1, cpu_initialization_period=120.0, delay_of_initial_readiness_status=10.0
)
HOT, COOL = NOW, NOW - 180.0
ZERO = 0.0  # Go's zero time: long ago


@dataclass
class Case:
    current: int
    expected: int
    requests: list[int]  # per container, millicores
    levels: list[list[int]]  # per pod, per container
    target: int
    utilization: int = 0
    raw: int = 0
    readiness: list[str] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    phase: list[str] = field(default_factory=list)
    deleting: list[bool] = field(default_factory=list)
    container: str = ""
    pod_names: list[str] = field(default_factory=list)


def levels(*per_pod: int) -> list[list[int]]:
    return [[v, v] for v in per_pod]


def pods_of(case: Case) -> list[PodInfo]:
    count = max(case.current, len(case.phase))
    pods = []
    for i in range(count):
        req = {"cpu": case.requests[i]} if i < len(case.requests) else {}
        pods.append(
            PodInfo(
                name=f"test-pod-{i}",
                phase=case.phase[i] if case.phase else "Running",
                deleted=case.deleting[i] if case.deleting else False,
                ready=ReadyCondition(
                    case.readiness[i] if i < len(case.readiness) else "True", ZERO
                ),
                start_time=case.start[i] if case.start else ZERO,
                containers=(
                    ContainerRequests("container1", req),
                    ContainerRequests("container2", req),
                ),
            )
        )
    return pods


def samples_of(case: Case) -> dict[str, PodMetric]:
    out = {}
    for i, per_container in enumerate(case.levels):
        name = case.pod_names[i] if i < len(case.pod_names) else f"test-pod-{i}"
        if case.container:
            index = int(case.container.removeprefix("container")) - 1
            if index >= len(per_container):
                continue  # the container has no sample: the pod has none
            value = per_container[index]
        else:
            value = sum(per_container)
        out[name] = PodMetric(value, ZERO, 60.0)
    return out


def run(case: Case) -> tuple[int, int, int]:
    return utilization_replicas(
        case.current,
        case.target,
        "cpu",
        case.container,
        pods_of(case),
        samples_of(case),
        NOW,
        TUNING,
    )


ONE = 1000
CASES = {
    "scale up": Case(3, 5, [ONE] * 3, levels(300, 500, 700), 30, 50, 2 * 500),
    "container scale up": Case(
        3,
        5,
        [ONE] * 3,
        [[1000, 300], [1000, 500], [1000, 700]],
        30,
        50,
        500,
        container="container2",
    ),
    "scale up, unready pods: less scale": Case(
        3, 4, [ONE] * 3, levels(300, 500, 700), 30, 60, 2 * 600, readiness=["False", "True", "True"]
    ),
    "scale up, container of a hot cpu pod: less scale": Case(
        3,
        4,
        [ONE] * 3,
        [[0, 300], [0, 500], [0, 700]],
        30,
        60,
        600,
        start=[HOT, COOL, COOL],
        container="container2",
    ),
    "scale up, hot cpu pod: less scale": Case(
        3, 4, [ONE] * 3, levels(300, 500, 700), 30, 60, 2 * 600, start=[HOT, COOL, COOL]
    ),
    "scale up, unready pods: no scale": Case(
        3,
        3,
        [ONE] * 3,
        levels(400, 500, 700),
        30,
        40,
        2 * 400,
        readiness=["True", "False", "False"],
    ),
    "hot cpu pods: no scale": Case(
        3,
        3,
        [ONE] * 3,
        levels(400, 500, 700),
        30,
        40,
        2 * 400,
        readiness=["True", "False", "False"],
        start=[COOL, HOT, HOT],
    ),
    "scale up ignores failed pods": Case(
        2,
        4,
        [ONE] * 4,
        levels(500, 700),
        30,
        60,
        2 * 600,
        readiness=["True", "True", "False", "False"],
        phase=["Running", "Running", "Failed", "Failed"],
    ),
    "missing container metric, scale up ignores failed pods": Case(
        2,
        4,
        [ONE] * 4,
        [[1000, 500], [9000, 700], [1000], [9000]],
        30,
        60,
        600,
        readiness=["True", "True", "False", "False"],
        phase=["Running", "Running", "Failed", "Failed"],
        container="container2",
    ),
    "scale up ignores deleted pods": Case(
        2,
        4,
        [ONE] * 4,
        levels(500, 700),
        30,
        60,
        2 * 600,
        readiness=["True", "True", "False", "False"],
        deleting=[False, False, True, True],
    ),
    "scale down": Case(5, 3, [ONE] * 5, levels(100, 300, 500, 250, 250), 50, 28, 2 * 280),
    "container scale down": Case(
        5,
        3,
        [ONE] * 5,
        [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]],
        50,
        28,
        280,
        container="container2",
    ),
    "scale down excludes unready pods": Case(
        5,
        2,
        [ONE] * 5,
        levels(100, 300, 500, 250, 250),
        50,
        30,
        2 * 300,
        readiness=["True", "True", "True", "False", "False"],
    ),
    "scale down excludes unscheduled pods": Case(
        5,
        1,
        [ONE] * 5,
        levels(100),
        50,
        10,
        2 * 100,
        readiness=["True", "False", "False", "False", "False"],
        phase=["Running", "Pending", "Pending", "Pending", "Pending"],
    ),
    "scale down ignores hot cpu pods": Case(
        5,
        2,
        [ONE] * 5,
        levels(100, 300, 500, 250, 250),
        50,
        30,
        2 * 300,
        start=[COOL, COOL, COOL, HOT, HOT],
    ),
    "scale down, container, ignores hot cpu pods": Case(
        5,
        2,
        [ONE] * 5,
        [[1000, 100], [1000, 300], [1000, 500], [1000, 1000], [1000, 1000]],
        50,
        30,
        300,
        start=[COOL, COOL, COOL, HOT, HOT],
        container="container2",
    ),
    "scale down ignores failed pods": Case(
        5,
        3,
        [ONE] * 7,
        levels(100, 300, 500, 250, 250),
        50,
        28,
        2 * 280,
        readiness=["True"] * 5 + ["False"] * 2,
        phase=["Running"] * 5 + ["Failed"] * 2,
    ),
    "scale down ignores deleted pods": Case(
        5,
        3,
        [ONE] * 7,
        levels(100, 300, 500, 250, 250),
        50,
        28,
        2 * 280,
        readiness=["True"] * 5 + ["False"] * 2,
        phase=["Running"] * 7,
        deleting=[False] * 5 + [True] * 2,
    ),
    "scale down ignores deleted pods still running (#83561)": Case(
        5,
        3,
        [ONE] * 7,
        [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]],
        50,
        28,
        280,
        readiness=["True"] * 5 + ["False"] * 2,
        phase=["Running"] * 7,
        deleting=[False] * 5 + [True] * 2,
        container="container2",
    ),
    "tolerance": Case(3, 3, [900, 1000, 1100], levels(1010, 1030, 1020), 100, 102, 2 * 1020),
    "superfluous metrics": Case(
        4, 24, [ONE] * 4, levels(4000, 9500, 3000, 7000, 3200, 2000), 100, 587, 2 * 5875
    ),
    "missing metrics": Case(4, 3, [ONE] * 4, levels(400, 95), 100, 24, 495),
    "missing metrics, no change (equal)": Case(2, 2, [ONE] * 2, levels(1000), 100, 100, 2 * 1000),
    "missing metrics, no change (greater)": Case(2, 2, [ONE] * 2, levels(1900), 100, 190, 2 * 1900),
    "missing metrics, no change (less)": Case(2, 2, [ONE] * 2, levels(600), 100, 60, 2 * 600),
    "missing metrics, unready: no change": Case(
        3, 3, [ONE] * 3, levels(100, 450), 50, 45, 2 * 450, readiness=["False", "True", "True"]
    ),
    "missing metrics, hot cpu: no change": Case(
        3, 3, [ONE] * 3, levels(100, 450), 50, 45, 2 * 450, start=[HOT, COOL, COOL]
    ),
    "missing metrics, unready: scale up": Case(
        3, 4, [ONE] * 3, levels(100, 2000), 50, 200, 2 * 2000, readiness=["False", "True", "True"]
    ),
    "missing metrics, hot cpu: scale up": Case(
        3,
        4,
        [ONE] * 3,
        levels(100, 2000),
        50,
        200,
        2 * 2000,
        readiness=["False", "True", "True"],
        start=[HOT, COOL, COOL],
    ),
    "missing metrics, unready: scale down": Case(
        4,
        3,
        [ONE] * 4,
        levels(100, 100, 100),
        50,
        10,
        2 * 100,
        readiness=["False", "True", "True", "True"],
    ),
    "missing metrics, scale down with a target over 100 %": Case(
        4,
        2,
        [ONE, ONE, 2 * ONE, 2 * ONE],
        levels(200, 100, 100),
        300,
        6,
        2 * 100,
        readiness=["False", "True", "True", "True"],
    ),
    "during a rolling update with max surge": Case(
        2, 2, [ONE] * 3, levels(100, 100), 50, 10, 2 * 100, phase=["Running"] * 3
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_resource_utilization_replicas(case: Case) -> None:
    assert run(case) == (case.expected, case.utilization, case.raw)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            Case(1, 0, [ONE], levels(100), 100, pod_names=["an-older-pod-name"]),
            "no metrics returned matched known pods",
        ),
        (Case(1, 0, [], levels(200), 100), "missing request for cpu in container container1"),
        (Case(0, 0, [], levels(200), 100), "no pods returned by selector"),
        (
            Case(2, 0, [ONE] * 2, levels(100, 100), 50, phase=["Pending", "Pending"]),
            "did not receive metrics for targeted pods (pods might be unready)",
        ),
    ],
)
def test_resource_utilization_errors(case: Case, message: str) -> None:
    with pytest.raises(
        ReplicaCalculationError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        run(case)


@pytest.mark.parametrize("margin", [0.01, 0.004])
def test_computed_tolerance(margin: float) -> None:
    """TestReplicaCalcComputedToleranceAlgImplementation: just past the tolerance scales, just
    inside it does not."""
    start_pods, used = 10, 10 * 150
    requested = 2 * used
    requested_to_used = float(requested // used)
    per_pod = requested // start_pods
    target = abs(1 / (requested_to_used * (1 - 0.1))) + margin
    ratio = used / (requested * target)
    final_pods = math.ceil(ratio * start_pods) if margin == 0.01 else start_pods
    offsets = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0]
    case = Case(
        start_pods,
        final_pods,
        [per_pod + o for o in offsets],
        levels(*[used // 10] * 10),
        int(target * 100),
        used * 100 // requested,
        2 * used // 10,
    )
    assert run(case) == (case.expected, case.utilization, case.raw)


# ---------------------------------------------------------------- average value (raw) targets
@pytest.mark.parametrize(
    ("current", "values", "target", "expected", "usage"),
    [
        (3, [20000, 10000, 30000], 15000, 4, 20000),  # TestReplicaCalcScaleUpCM
        (5, [12000] * 5, 20000, 3, 12000),  # TestReplicaCalcScaleDownCM
        (3, [20000, 21000, 21000], 20000, 3, 20666),  # TestReplicaCalcToleranceCM
        (5, [20000, 19000, 21000], 20000, 5, 20000),  # missing metrics, no change
        (2, [10000, 10000], 17000, 2, 10000),  # rolling update with max surge
    ],
)
def test_plain_metric_replicas(
    current: int, values: list[int], target: int, expected: int, usage: int
) -> None:
    pods = [
        PodInfo(f"test-pod-{i}", ready=ReadyCondition("True", ZERO), start_time=ZERO)
        for i in range(max(current, len(values)))
    ]
    samples = {f"test-pod-{i}": PodMetric(v) for i, v in enumerate(values)}
    assert plain_metric_replicas(current, target, "", pods, samples, NOW, TUNING) == (
        expected,
        usage,
    )


def test_plain_metric_replicas_unready_hot_cpu_pods_for_a_resource() -> None:
    """TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown, as a cpu average value: the
    unready hot pods count as using nothing on the scale-up."""
    ready = [("False", HOT), ("True", COOL), ("False", HOT)]
    pods = [
        PodInfo(f"test-pod-{i}", ready=ReadyCondition(s, ZERO), start_time=t)
        for i, (s, t) in enumerate(ready)
    ]
    samples = {f"test-pod-{i}": PodMetric(v) for i, v in enumerate([50000, 15000, 30000])}
    # Only test-pod-1 is ready: 15000 against 15000, within tolerance.
    assert plain_metric_replicas(3, 15000, "cpu", pods, samples, NOW, TUNING) == (3, 15000)


# ---------------------------------------------------------------- groupPods
def pod(name: str, phase: str = "Succeeded", **kw: object) -> PodInfo:
    return PodInfo(name, phase=phase, **kw)  # type: ignore[arg-type]


def ready(status: str, ago: float) -> ReadyCondition:
    return ReadyCondition(status, NOW - ago)


GROUPS = {
    "void": ([], {}, "cpu", 0, set(), set(), set()),
    "count in a ready pod - memory": (
        [pod("bentham")],
        {"bentham": PodMetric(1, NOW, 60)},
        "memory",
        1,
        set(),
        set(),
        set(),
    ),
    "unready a pod without ready condition - CPU": (
        [pod("lucretius", start_time=NOW)],
        {"lucretius": PodMetric(1)},
        "cpu",
        0,
        {"lucretius"},
        set(),
        set(),
    ),
    "count in a ready pod with fresh metrics during initialization period - CPU": (
        [pod("bentham", start_time=NOW - 60, ready=ready("True", 30))],
        {"bentham": PodMetric(1, NOW, 30)},
        "cpu",
        1,
        set(),
        set(),
        set(),
    ),
    "unready a ready pod without fresh metrics during initialization period - CPU": (
        [pod("bentham", start_time=NOW - 60, ready=ready("True", 30))],
        {"bentham": PodMetric(1, NOW, 60)},
        "cpu",
        0,
        {"bentham"},
        set(),
        set(),
    ),
    "unready an unready pod during initialization period - CPU": (
        [pod("lucretius", start_time=NOW - 600, ready=ready("False", 594))],
        {"lucretius": PodMetric(1)},
        "cpu",
        0,
        {"lucretius"},
        set(),
        set(),
    ),
    "count in a ready pod without fresh metrics after initialization period - CPU": (
        [pod("bentham", start_time=NOW - 180, ready=ready("True", 180))],
        {"bentham": PodMetric(1, NOW - 120, 60)},
        "cpu",
        1,
        set(),
        set(),
        set(),
    ),
    "count in an unready pod that was ready after initialization period - CPU": (
        [pod("lucretius", start_time=NOW - 600, ready=ready("False", 540))],
        {"lucretius": PodMetric(1)},
        "cpu",
        1,
        set(),
        set(),
        set(),
    ),
    "unready pod that has never been ready after initialization period - CPU": (
        [pod("lucretius", start_time=NOW - 600, ready=ready("False", 590))],
        {"lucretius": PodMetric(1)},
        "cpu",
        1,
        set(),
        set(),
        set(),
    ),
    "a missing pod": (
        [pod("epicurus", start_time=NOW - 180)],
        {},
        "cpu",
        0,
        set(),
        {"epicurus"},
        set(),
    ),
    "several pods": (
        [
            pod("lucretius", start_time=NOW),
            pod("niccolo", start_time=NOW - 180, ready=ready("True", 180)),
            pod("epicurus", start_time=NOW - 180),
        ],
        {"lucretius": PodMetric(1), "niccolo": PodMetric(1)},
        "cpu",
        1,
        {"lucretius"},
        {"epicurus"},
        set(),
    ),
    "pending pods are unreadied": (
        [pod("unscheduled", "Pending")],
        {},
        "cpu",
        0,
        {"unscheduled"},
        set(),
        set(),
    ),
    "ignore pods with deletion timestamps": (
        [pod("deleted", "Pending", deleted=True)],
        {"deleted": PodMetric(1)},
        "cpu",
        0,
        set(),
        set(),
        {"deleted"},
    ),
    "ignore pods in a failed state": (
        [pod("failed", "Failed")],
        {"failed": PodMetric(1)},
        "cpu",
        0,
        set(),
        set(),
        {"failed"},
    ),
}


@pytest.mark.parametrize(
    ("pods", "metrics", "resource", "ready_count", "unready", "missing", "ignored"),
    GROUPS.values(),
    ids=GROUPS.keys(),
)
def test_group_pods(
    pods: list[PodInfo],
    metrics: dict[str, PodMetric],
    resource: str,
    ready_count: int,
    unready: set[str],
    missing: set[str],
    ignored: set[str],
) -> None:
    groups = group_pods(pods, metrics, resource, NOW, 120.0, 10.0)
    assert (groups.ready_count, groups.unready, groups.missing, groups.ignored) == (
        ready_count,
        unready,
        missing,
        ignored,
    )


# ---------------------------------------------------------------- calculatePodRequests
def test_pod_requests_sum_containers_or_name_one() -> None:
    p = PodInfo(
        "test-pod",
        containers=(
            ContainerRequests("container1", {"cpu": 100}),
            ContainerRequests("container2", {"cpu": 50}),
        ),
    )
    assert pod_requests([], "", "cpu") == {}
    assert pod_requests([p], "", "cpu") == {"test-pod": 150}
    assert pod_requests([p], "container1", "cpu") == {"test-pod": 100}


def test_pod_requests_missing_request() -> None:
    p = PodInfo("test-pod", containers=(ContainerRequests("container1"),))
    with pytest.raises(MissingRequestError) as e:
        pod_requests([p], "", "cpu")
    assert str(e.value) == "missing request for cpu in container container1 of Pod test-pod"
