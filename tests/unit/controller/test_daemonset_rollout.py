"""A DaemonSet's per-node decisions and its RollingUpdate, as Kubernetes' daemon controller makes
them: a pod where one is missing, extra and finished ones removed (a failed one after its node's
back-off), and an update that never takes more than maxUnavailable nodes out of service, or with
maxSurge starts new pods beside old ones and removes the old ones once the new are available."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.daemon import placement, rolling
from controller.daemon.backoff import FailedPodBackoff
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from tests.unit.controller.daemonset_objects import daemon_set

NOW = datetime(2030, 1, 1, 0, 10, tzinfo=UTC)
NEW, OLD = "newhash", "oldhash"


def pod(
    name: str,
    node: str,
    hash_: str = NEW,
    *,
    ready: bool = True,
    phase: str = "Running",
    created: str = "2030-01-01T00:00:00Z",
    ready_since: str = "2030-01-01T00:00:00Z",
    deleting: bool = False,
) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = name, "default"
    p.metadata.creation_timestamp = created
    p.metadata.labels[placement.REVISION_HASH_LABEL] = hash_
    if deleting:
        p.metadata.deletion_timestamp = "2030-01-01T00:09:00Z"
    p.spec.node_name = node
    p.status.phase = phase
    p.status.conditions.add(
        type="Ready", status="True" if ready else "False", last_transition_time=ready_since
    )
    return p


def rolling_ds(unavailable: str = "1", surge: str = "0", min_ready: int = 0) -> apps_pb2.DaemonSet:
    return daemon_set(
        strategy={"rollingUpdate": {"maxUnavailable": unavailable, "maxSurge": surge}},
        minReadySeconds=min_ready,
    )


def names(pods: list[core_pb2.Pod]) -> list[str]:
    return sorted(p.metadata.name for p in pods)


# ---------------------------------------------------------------- one node


def plan(
    ds: apps_pb2.DaemonSet,
    pods: list[core_pb2.Pod],
    run: tuple[bool, bool] = (True, True),
    backoff: FailedPodBackoff | None = None,
) -> placement.NodePlan:
    return placement.plan_node(
        ds, "n1", run, pods, NEW, backoff or FailedPodBackoff(clock=lambda: 0.0), NOW
    )


@pytest.mark.parametrize(
    ("ds", "pods", "run", "create", "deleted"),
    [
        (rolling_ds(), [], (True, True), True, []),
        (rolling_ds(), [], (False, False), False, []),
        (rolling_ds(), [pod("a", "n1")], (True, True), False, []),
        (rolling_ds(), [pod("a", "n1")], (False, False), False, ["a"]),
        (rolling_ds(), [pod("a", "n1")], (False, True), False, []),  # a NoSchedule taint only
        (
            rolling_ds(),
            [pod("b", "n1", created="2030-01-01T00:01:00Z"), pod("a", "n1")],
            (True, True),
            False,
            ["b"],
        ),
        (rolling_ds(), [pod("a", "n1", phase="Succeeded")], (True, True), False, ["a"]),
        (rolling_ds(), [pod("a", "n1", deleting=True)], (True, True), False, []),
        # With surge, an old pod stays beside the new one until the new one is available.
        (
            rolling_ds("0", "1"),
            [pod("o", "n1", OLD), pod("n", "n1", ready=False)],
            (True, True),
            False,
            [],
        ),
        (rolling_ds("0", "1"), [pod("o", "n1", OLD), pod("n", "n1")], (True, True), False, ["o"]),
        (
            rolling_ds("0", "1"),
            [pod("o", "n1", OLD, ready=False), pod("n", "n1", ready=False)],
            (True, True),
            False,
            ["o"],
        ),
        (rolling_ds("0", "1"), [pod("a", "n1", deleting=True)], (True, True), True, []),
    ],
    ids=[
        "missing",
        "not-wanted-none-there",
        "there",
        "not-wanted",
        "tainted-keeps-running",
        "two-keeps-the-oldest",
        "finished",
        "being-deleted",
        "surge-new-not-ready",
        "surge-new-available",
        "surge-old-not-ready",
        "surge-only-deleting",
    ],
)
def test_plan_node(
    ds: apps_pb2.DaemonSet,
    pods: list[core_pb2.Pod],
    run: tuple[bool, bool],
    create: bool,
    deleted: list[str],
) -> None:
    p = plan(ds, pods, run)
    assert (p.create, names(p.delete)) == (create, deleted)


def test_a_failed_pod_is_replaced_after_a_growing_back_off() -> None:
    now = [100.0]
    backoff = FailedPodBackoff(clock=lambda: now[0])
    ds = rolling_ds()
    failed = [pod("a", "n1", phase="Failed")]
    first = plan(ds, failed, backoff=backoff)
    assert names(first.delete) == ["a"]
    assert first.events == [
        (
            "Warning",
            "FailedDaemonPod",
            "Found failed daemon pod default/a on node n1, will try to kill it",
        )
    ]
    now[0] += 0.5
    held = plan(ds, failed, backoff=backoff)
    assert held.delete == [] and held.retry_in == pytest.approx(0.5)
    now[0] += 0.6
    assert names(plan(ds, failed, backoff=backoff).delete) == ["a"]  # the delay doubles
    now[0] += 1.5
    assert plan(ds, failed, backoff=backoff).retry_in == pytest.approx(0.5)


def test_pending_pods_of_vanished_nodes_are_removed() -> None:
    pending = pod("p", "")
    pending.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms.add().match_fields.add(
        key="metadata.name", operator="In", values=["gone"]
    )
    bound = pod("b", "gone-too")
    node_pods = placement.pods_by_node([pending, bound])
    assert set(node_pods) == {"gone", "gone-too"}
    assert names(placement.unscheduled_without_node({"n1"}, node_pods)) == ["p"]


# ---------------------------------------------------------------- rolling update


def update(ds: apps_pb2.DaemonSet, node_pods: dict[str, list[core_pb2.Pod]]) -> rolling.Update:
    return rolling.rolling_update(ds, node_pods, lambda n: not n.startswith("x"), NEW, NOW)


@pytest.mark.parametrize(
    ("unavailable", "node_pods", "deleted"),
    [
        ("1", {f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(4)}, 1),
        ("2", {f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(4)}, 2),
        ("50%", {f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(5)}, 3),  # 2.5 up
        ("100%", {f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(4)}, 4),
        # A node waiting for its new pod already uses the one allowed.
        ("1", {"n0": [], **{f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(1, 4)}}, 0),
        # A new pod not ready yet counts too.
        (
            "1",
            {"n0": [pod("new", "n0", ready=False)], "n1": [pod("o1", "n1", OLD)]},
            0,
        ),
    ],
    ids=["one-at-a-time", "two", "percent-rounds-up", "all", "one-missing", "one-not-ready"],
)
def test_without_surge_at_most_max_unavailable_nodes_go_down(
    unavailable: str, node_pods: dict[str, list[core_pb2.Pod]], deleted: int
) -> None:
    result = update(rolling_ds(unavailable), node_pods)
    assert len(result.delete) == deleted and result.create_on == []
    assert all(p.metadata.labels[placement.REVISION_HASH_LABEL] == OLD for p in result.delete)


def test_an_unavailable_old_pod_is_replaced_whatever_the_budget() -> None:
    node_pods = {
        "n0": [pod("o0", "n0", OLD, ready=False)],
        "n1": [pod("o1", "n1", OLD, ready=False)],
        "n2": [pod("o2", "n2", OLD)],
    }
    assert names(update(rolling_ds("1"), node_pods).delete) == ["o0", "o1"]


def test_min_ready_seconds_holds_the_next_step() -> None:
    node_pods = {
        "n0": [pod("new", "n0", ready_since="2030-01-01T00:09:50Z")],  # ready for 10 s
        "n1": [pod("o1", "n1", OLD)],
    }
    assert update(rolling_ds("1", min_ready=30), node_pods).delete == []
    assert names(update(rolling_ds("1", min_ready=5), node_pods).delete) == ["o1"]


def test_with_surge_new_pods_start_beside_old_ones_then_replace_them() -> None:
    ds = rolling_ds("0", "2")
    fresh = {f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(4)}
    first = update(ds, fresh)
    assert first.delete == [] and first.create_on == ["n0", "n1"]
    surging = {
        "n0": [pod("o0", "n0", OLD), pod("w0", "n0", ready=False)],
        "n1": [pod("o1", "n1", OLD), pod("w1", "n1")],
        "n2": [pod("o2", "n2", OLD)],
        "n3": [pod("o3", "n3", OLD, ready=False)],
    }
    step = update(ds, surging)
    assert names(step.delete) == ["o1"]  # its new pod is available
    # n3's old pod serves nothing: a new one at once; n2 waits for room (n0 still surging, and
    # n1's surge counts until its old pod is gone).
    assert step.create_on == ["n3", "n2"]


def test_with_surge_a_node_leaving_the_set_keeps_its_pod_until_others_serve() -> None:
    ds = rolling_ds("0", "1")
    node_pods = {"n0": [pod("w0", "n0", ready=False)], "x-gone": [pod("ox", "x-gone", OLD)]}
    assert update(ds, node_pods).delete == []  # only the leaving node serves
    node_pods["n0"] = [pod("w0", "n0")]
    assert names(update(ds, node_pods).delete) == ["ox"]


def test_zero_and_zero_still_updates_one_node_at_a_time() -> None:
    ds = rolling_ds()
    ds.spec.update_strategy.rolling_update.max_unavailable = "0"
    node_pods = {f"n{i}": [pod(f"o{i}", f"n{i}", OLD)] for i in range(3)}
    assert len(update(ds, node_pods).delete) == 1


@pytest.mark.parametrize(
    ("value", "total", "expected"),
    [("1", 10, 1), ("10%", 10, 1), ("15%", 10, 2), ("0%", 10, 0), ("100%", 3, 3), ("1%", 1, 1)],
)
def test_counts_round_up(value: str, total: int, expected: int) -> None:
    assert placement.scaled(value, total) == expected
