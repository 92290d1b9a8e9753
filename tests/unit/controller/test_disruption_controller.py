"""The disruption controller: the pods a budget expects (from the pods' controllers for a
percentage or maxUnavailable), its healthy pods, the disruptions that allows and the
DisruptionAllowed condition, tables first; then, against an in-memory apiserver whose watch
events arrive when the test delivers them, the status it writes as pods come and go, the
SyncFailed fail-safe, disruptedPods expiring and a stale DisruptionTarget condition reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controller.disruption import stale, status
from controller.disruption.controller import DisruptionController
from controller.disruption.expected import (
    ControllerScales,
    ExpectedCountError,
    expected_pod_count,
)
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import manifest, resources, timeutil
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, running, until

NS = "default"
NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def pdb(name: str = "web", generation: int = 1, **spec: Any) -> policy_pb2.PodDisruptionBudget:
    obj = manifest.from_dict(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": NS, "generation": generation},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
        }
    )
    assert isinstance(obj, policy_pb2.PodDisruptionBudget)
    return obj


def owner(kind: str, name: str, api_version: str = "apps/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": f"uid-{name}",
        "controller": True,
    }


def pod(
    name: str,
    *,
    ready: bool = True,
    owned_by: dict[str, Any] | None = None,
    deleting: bool = False,
    labels: dict[str, str] | None = None,
) -> core_pb2.Pod:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "labels": labels or {"app": "web"}}
    if owned_by:
        meta["ownerReferences"] = [owned_by]
    if deleting:
        meta["deletionTimestamp"] = "2030-01-01T11:59:00Z"
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {
                "phase": "Running",
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True" if ready else "False",
                        "lastTransitionTime": "2030-01-01T11:00:00Z",
                    }
                ],
            },
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


def workload(kind: str, name: str, replicas: int | None, **meta: Any) -> Any:
    api_version = "v1" if kind == "ReplicationController" else "apps/v1"
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    return manifest.from_dict(
        {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", **meta},
            "spec": spec,
        }
    )


def scales(*objects: Any) -> ControllerScales:
    by_kind: dict[str, dict[str, Any]] = {}
    for obj in objects:
        by_kind.setdefault(obj.kind, {})[f"{NS}/{obj.metadata.name}"] = obj
    return ControllerScales(
        *(
            by_kind.get(kind, {}).get
            for kind in ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet")
        )
    )


# ---------------------------------------------------------------- expected pods


DEPLOYMENT = workload("Deployment", "web", 5)
DEPLOYED_RS = workload("ReplicaSet", "web-abc", 5, ownerReferences=[owner("Deployment", "web")])


@pytest.mark.parametrize(
    ("spec", "pods", "objects", "expected", "desired"),
    [
        # An integer minAvailable counts the selected pods, whatever owns them.
        ({"minAvailable": 2}, [pod("a"), pod("b"), pod("c")], [], 3, 2),
        # A percentage of the controllers' scale, rounded up.
        (
            {"minAvailable": "50%"},
            [pod("a", owned_by=owner("ReplicaSet", "web-abc"))],
            [DEPLOYMENT, DEPLOYED_RS],
            5,
            3,
        ),
        (
            {"maxUnavailable": 1},
            [
                pod("a", owned_by=owner("StatefulSet", "db")),
                pod("b", owned_by=owner("StatefulSet", "db")),
            ],
            [workload("StatefulSet", "db", 4)],
            4,
            3,
        ),
        (
            {"maxUnavailable": "30%"},
            [pod("a", owned_by=owner("ReplicationController", "rc", "v1"))],
            [workload("ReplicationController", "rc", 10)],
            10,
            7,
        ),
        # A bare ReplicaSet, its replicas unset: Kubernetes' default of 1.
        (
            {"maxUnavailable": 0},
            [pod("a", owned_by=owner("ReplicaSet", "solo"))],
            [workload("ReplicaSet", "solo", None)],
            1,
            1,
        ),
        # Two controllers: their scales add up.
        (
            {"minAvailable": "100%"},
            [
                pod("a", owned_by=owner("StatefulSet", "db")),
                pod("b", owned_by=owner("ReplicationController", "rc", "v1")),
            ],
            [workload("StatefulSet", "db", 2), workload("ReplicationController", "rc", 3)],
            5,
            5,
        ),
        # Neither set (policy/v1 defaults neither): nothing expected.
        ({}, [pod("a")], [], 0, 0),
    ],
)
def test_expected_and_desired_pods(
    spec: dict[str, Any],
    pods: list[core_pb2.Pod],
    objects: list[Any],
    expected: int,
    desired: int,
) -> None:
    got = expected_pod_count(pdb(**spec), pods, scales(*objects))
    assert (got.expected_pods, got.desired_healthy) == (expected, desired)


def test_unmanaged_pods_are_reported_not_counted() -> None:
    got = expected_pod_count(
        pdb(maxUnavailable=1),
        [pod("a", owned_by=owner("StatefulSet", "db")), pod("loose")],
        scales(workload("StatefulSet", "db", 3)),
    )
    assert (got.expected_pods, got.desired_healthy, got.unmanaged) == (3, 2, ("loose",))


@pytest.mark.parametrize(
    ("ref", "objects", "message"),
    [
        (owner("ReplicaSet", "gone"), [], 'found no controllers for pod "a"'),
        (
            owner("DaemonSet", "agent"),
            [],
            "daemonsets.apps does not implement the scale subresource",
        ),
        (owner("Job", "pi", "batch/v1"), [], "jobs.batch does not implement the scale subresource"),
        (
            owner("Widget", "w", "example.com/v1"),
            [],
            'no matches for kind "Widget" in version "example.com/v1"',
        ),
        # The controller's uid is not the reference's: another object of that name.
        (
            {**owner("StatefulSet", "db"), "uid": "uid-old"},
            [workload("StatefulSet", "db", 3)],
            'found no controllers for pod "a"',
        ),
    ],
)
def test_a_percentage_without_a_scalable_controller_fails(
    ref: dict[str, Any], objects: list[Any], message: str
) -> None:
    with pytest.raises(ExpectedCountError, match=message):
        expected_pod_count(pdb(minAvailable="50%"), [pod("a", owned_by=ref)], scales(*objects))


# ---------------------------------------------------------------- healthy pods and status


def at(delta: timedelta) -> str:
    return timeutil.format_time(NOW + delta)


def test_recorded_disruptions_are_not_healthy_until_they_expire() -> None:
    budget = pdb(minAvailable=1)
    budget.status.disrupted_pods["a"] = at(-timedelta(seconds=30))  # still awaited
    budget.status.disrupted_pods["b"] = at(-timedelta(minutes=3))  # not deleted after all
    budget.status.disrupted_pods["gone"] = at(-timedelta(seconds=10))  # no such pod any more
    pods = [pod("a"), pod("b"), pod("c"), pod("d", deleting=True), pod("e", ready=False)]
    disrupted = status.disrupted_pods(budget, pods, NOW)
    assert disrupted.pods == {"a": budget.status.disrupted_pods["a"]}
    assert disrupted.not_deleted == ("b",)
    assert disrupted.recheck_at == NOW + timedelta(seconds=90)
    # a: just evicted; d: being deleted; e: not ready.
    assert status.count_healthy(pods, disrupted.pods, NOW) == 2


@pytest.mark.parametrize(
    ("healthy", "desired", "expected", "allowed", "condition"),
    [
        (3, 2, 3, 1, ("True", "SufficientPods")),
        (2, 2, 3, 0, ("False", "InsufficientPods")),
        (1, 2, 3, 0, ("False", "InsufficientPods")),
        # No pods expected yet: none may go, whatever the numbers say.
        (3, 0, 0, 0, ("False", "InsufficientPods")),
    ],
)
def test_disruptions_allowed_and_the_condition(
    healthy: int, desired: int, expected: int, allowed: int, condition: tuple[str, str]
) -> None:
    new = status.updated_status(pdb(generation=4), healthy, desired, expected, {})
    assert new is not None
    s = new.status
    assert (s.current_healthy, s.desired_healthy, s.expected_pods) == (healthy, desired, expected)
    assert (s.disruptions_allowed, s.observed_generation) == (allowed, 4)
    (cond,) = s.conditions
    assert (cond.type, cond.status, cond.reason, cond.message) == (
        "DisruptionAllowed",
        *condition,
        "",
    )
    assert cond.observed_generation == 4 and cond.last_transition_time
    # Written once: the same numbers again change nothing.
    assert status.updated_status(new, healthy, desired, expected, {}) is None


def test_the_fail_safe_allows_no_disruption_and_says_why() -> None:
    new = status.updated_status(pdb(), 3, 1, 3, {})
    assert new is not None and new.status.disruptions_allowed == 2
    failed = status.failed_status(new, 'found no controllers for pod "a"')
    assert failed.status.disruptions_allowed == 0
    (cond,) = failed.status.conditions
    assert (cond.status, cond.reason, cond.message) == (
        "False",
        "SyncFailed",
        'found no controllers for pod "a"',
    )


# ---------------------------------------------------------------- stale DisruptionTarget


def marked(since: datetime, reason: str = "EvictionByEvictionAPI", **kw: Any) -> core_pb2.Pod:
    p = pod("a", **kw)
    p.status.conditions.add(
        type="DisruptionTarget",
        status="True",
        reason=reason,
        message="Eviction API: evicting",
        last_transition_time=timeutil.format_time(since),
    )
    return p


def test_when_a_disruption_target_condition_is_stale() -> None:
    assert stale.stale_after(marked(NOW - timedelta(seconds=30)), NOW) == 90.0
    assert stale.stale_after(marked(NOW - timedelta(minutes=5)), NOW) == 0.0
    assert stale.stale_after(marked(NOW, deleting=True), NOW) is None
    assert stale.stale_after(marked(NOW, reason="TerminationByKubelet"), NOW) is None
    assert stale.stale_after(pod("b"), NOW) is None
    cleared = stale.cleared(marked(NOW - timedelta(minutes=5)))
    cond = next(c for c in cleared.status.conditions if c.type == "DisruptionTarget")
    assert (cond.status, cond.reason, cond.message) == ("False", "", "")


# ---------------------------------------------------------------- the controller


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def controller(cluster: FakeCluster, clock: Clock | None = None, **kw: Any) -> DisruptionController:
    return DisruptionController(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        clock=clock or Clock(),
        **kw,
    )


async def stored(cluster: FakeCluster, name: str = "web") -> policy_pb2.PodDisruptionBudget:
    return await cluster.poddisruptionbudgets.get(name, NS)


def budget_status(cluster: FakeCluster, name: str = "web") -> policy_pb2.PodDisruptionBudgetStatus:
    return cluster.poddisruptionbudgets.store[f"{NS}/{name}"].status


async def test_the_status_follows_the_pods() -> None:
    cluster = FakeCluster()
    await cluster.deployments.create(DEPLOYMENT)
    await cluster.replicasets.create(DEPLOYED_RS)
    for name in ("a", "b", "c"):
        await cluster.pods.create(pod(name, owned_by=owner("ReplicaSet", "web-abc")))
    await cluster.pods.create(pod("other", labels={"app": "db"}))
    await cluster.poddisruptionbudgets.create(pdb(minAvailable=2))
    async with running(controller(cluster)):
        await until(
            lambda: budget_status(cluster).disruptions_allowed == 1, "one disruption", cluster
        )
        s = budget_status(cluster)
        assert (s.current_healthy, s.desired_healthy, s.expected_pods) == (3, 2, 3)
        assert s.observed_generation == 1
        assert [(c.type, c.status, c.reason) for c in s.conditions] == [
            ("DisruptionAllowed", "True", "SufficientPods")
        ]
        # A pod stops being ready: none may go any more.
        not_ready = pod("b", ready=False, owned_by=owner("ReplicaSet", "web-abc"))
        not_ready.metadata.resource_version = cluster.pods.store[
            f"{NS}/b"
        ].metadata.resource_version
        await cluster.pods.update_status(not_ready)
        await until(lambda: budget_status(cluster).current_healthy == 2, "two healthy", cluster)
        s = budget_status(cluster)
        assert s.disruptions_allowed == 0
        assert [(c.status, c.reason) for c in s.conditions] == [("False", "InsufficientPods")]
        # Deleting a pod is seen too.
        await cluster.pods.delete("c", NS)
        await until(lambda: budget_status(cluster).current_healthy == 1, "one healthy", cluster)


async def test_a_spec_change_is_observed() -> None:
    cluster = FakeCluster()
    for name in ("a", "b"):
        await cluster.pods.create(pod(name))
    await cluster.poddisruptionbudgets.create(pdb(minAvailable=2))
    async with running(controller(cluster)):
        await until(lambda: budget_status(cluster).observed_generation == 1, "gen 1", cluster)
        assert budget_status(cluster).disruptions_allowed == 0
        changed = policy_pb2.PodDisruptionBudget()
        changed.CopyFrom(await stored(cluster))
        changed.spec.min_available = "1"
        changed.metadata.generation = 2
        await cluster.poddisruptionbudgets.update(changed)
        await until(lambda: budget_status(cluster).observed_generation == 2, "gen 2", cluster)
        assert budget_status(cluster).disruptions_allowed == 1


async def test_a_budget_it_cannot_compute_allows_nothing() -> None:
    cluster = FakeCluster()
    await cluster.pods.create(pod("a", owned_by=owner("DaemonSet", "agent")))
    budget = pdb(minAvailable="50%")
    budget.status.disruptions_allowed = 1  # as a status written before the pod came
    await cluster.poddisruptionbudgets.create(budget)
    async with running(controller(cluster)):
        await until(
            lambda: any(c.reason == "SyncFailed" for c in budget_status(cluster).conditions),
            "SyncFailed",
            cluster,
        )
        s = budget_status(cluster)
        assert s.disruptions_allowed == 0
        (cond,) = s.conditions
        assert cond.message == "daemonsets.apps does not implement the scale subresource"
        await until(
            lambda: any(
                e.reason == "CalculateExpectedPodCountFailed" for e in cluster.events.created
            ),
            "the event",
            cluster,
        )


async def test_an_evicted_pod_is_not_counted_and_its_record_expires() -> None:
    cluster = FakeCluster()
    clock = Clock()
    for name in ("a", "b", "c"):
        await cluster.pods.create(pod(name))
    budget = pdb(minAvailable=1)
    budget.status.observed_generation = 1
    # What the eviction subresource writes: one disruption spent on pod a a moment ago.
    budget.status.disrupted_pods["a"] = timeutil.format_time(clock.now - timedelta(seconds=119))
    await cluster.poddisruptionbudgets.create(budget)
    async with running(controller(cluster, clock)):
        await until(lambda: budget_status(cluster).current_healthy == 2, "a not counted", cluster)
        assert dict(budget_status(cluster).disrupted_pods) == {
            "a": budget.status.disrupted_pods["a"]
        }
        # Two minutes on, a was not deleted after all: it counts again, its record is dropped
        # (the controller looks again when the record expires).
        clock.now += timedelta(seconds=2)
        await until(lambda: budget_status(cluster).current_healthy == 3, "a counted", cluster)
        assert dict(budget_status(cluster).disrupted_pods) == {}
        assert any(e.reason == "NotDeleted" for e in cluster.events.created)


async def test_a_stale_disruption_target_condition_is_reset() -> None:
    cluster = FakeCluster()
    await cluster.pods.create(marked(datetime.now(UTC) - timedelta(seconds=1)))
    reset = DisruptionController(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        stale_pod_disruption_timeout=timedelta(seconds=2),
    )
    async with running(reset):
        await until(
            lambda: any(
                c.type == "DisruptionTarget" and c.status == "False"
                for c in cluster.pods.store[f"{NS}/a"].status.conditions
            ),
            "the condition reset",
            cluster,
        )
    assert [p.metadata.name for p in cluster.pods.status_updates] == ["a"]


async def test_pods_of_other_budgets_and_namespaces_change_nothing() -> None:
    cluster = FakeCluster()
    await cluster.pods.create(pod("a"))
    await cluster.poddisruptionbudgets.create(pdb(minAvailable=1))
    other = pdb("db", minAvailable=1)
    other.spec.selector.match_labels["app"] = "db"
    await cluster.poddisruptionbudgets.create(other)
    async with running(controller(cluster)):
        await until(lambda: budget_status(cluster, "db").observed_generation == 1, "db", cluster)
        assert budget_status(cluster, "db").expected_pods == 0
        assert budget_status(cluster).expected_pods == 1
        writes = len(cluster.poddisruptionbudgets.status_updates)
        elsewhere = pod("x")
        elsewhere.metadata.namespace = "elsewhere"
        await cluster.pods.create(elsewhere)
        cluster.deliver()
        await until(lambda: True, "delivered", cluster)
        assert len(cluster.poddisruptionbudgets.status_updates) == writes


def test_the_controller_reads_its_kinds_from_the_shared_factory() -> None:
    cluster = FakeCluster()
    factory = SharedInformerFactory(cluster)  # type: ignore[arg-type]
    DisruptionController(cluster, factory)  # type: ignore[arg-type]
    plurals = sorted(i.resource.plural for i in factory.informers())
    assert plurals == sorted(
        r.plural
        for r in (
            resources.POD,
            resources.POD_DISRUPTION_BUDGET,
            resources.REPLICATION_CONTROLLER,
            resources.REPLICA_SET,
            resources.DEPLOYMENT,
            resources.STATEFUL_SET,
        )
    )
    assert isinstance(apps_pb2.StatefulSet(), apps_pb2.StatefulSet)
