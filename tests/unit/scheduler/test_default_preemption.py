"""DefaultPreemption as a PostFilter: who may preempt, which node it picks, what it says when
preemption cannot help, how many candidates it looks at, its arguments; and the writes that carry
a preemption out (kubernetes defaultpreemption and framework/preemption)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from scheduler.algorithm import SchedulingAlgorithm
from scheduler.backend.queue.nominator import Nominator
from scheduler.framework.handle import StaticListers
from scheduler.framework.nominating import CLEAR_NOMINATED_NODE, NominatingInfo, NominatingMode
from scheduler.framework.preemption.candidates import Candidate
from scheduler.framework.preemption.executor import Executor
from scheduler.framework.runtime import Framework, PluginSpec, Profile
from scheduler.framework.status import Code, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.plugins.defaultpreemption import DefaultPreemption, new
from tests.unit.scheduler import placementtest as pt
from tests.unit.scheduler.fakes import FakeClient
from tests.unit.scheduler.schedtest import node, node_info, pod

TAINT = {"key": "k", "value": "v", "effect": "NoSchedule"}


class Events:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str, str, str]] = []

    def record(self, obj: Any, type_: str, reason: str, message: str, *, action: str = "") -> None:
        self.recorded.append((obj.metadata.name, type_, reason, message, action))


def preempt(
    preemptor: core_pb2.Pod,
    nodes: list[NodeInfo],
    *,
    budgets: Sequence[policy_pb2.PodDisruptionBudget] = (),
    framework: Framework | None = None,
) -> tuple[NominatingInfo | None, Status]:
    """Schedules the pod against `nodes`, with `budgets` the PodDisruptionBudgets the framework's
    handle lists; when nothing fits, runs the PostFilter plugins and answers their nomination
    and status."""
    fw = framework or Framework(
        in_tree_registry(),
        default_profile(),
        handle=StaticListers({"poddisruptionbudgets": budgets}),
    )
    state = CycleState()
    result = SchedulingAlgorithm(fw, random.Random(0)).schedule(preemptor, nodes, state)
    assert result.status.is_rejected, result
    post, status = fw.run_post_filter(state, preemptor, result.diagnosis.node_statuses())
    return (post.nominating_info if post is not None else None), status


def pdb(name: str, match_labels: dict[str, str], allowed: int) -> policy_pb2.PodDisruptionBudget:
    """A PodDisruptionBudget as the disruption controller leaves it: status.disruptionsAllowed."""
    out = policy_pb2.PodDisruptionBudget(
        metadata=meta_pb2.ObjectMeta(name=name, namespace="default"),
        spec=policy_pb2.PodDisruptionBudgetSpec(
            selector=meta_pb2.LabelSelector(match_labels=match_labels)
        ),
    )
    out.status.disruptions_allowed = allowed
    return out


def full(name: str, *pods: core_pb2.Pod, **node_args: Any) -> NodeInfo:
    return node_info(node(name, cpu="2", **node_args), *pods)


def to(name: str) -> NominatingInfo:
    return NominatingInfo(name, NominatingMode.OVERRIDE)


HIGH = pod("high", cpu="2", priority=100)


def test_the_node_with_the_cheapest_victims_is_nominated() -> None:
    nodes = [
        full("n1", pod("a", cpu="2", priority=50)),
        full("n2", pod("b", cpu="1", priority=10), pod("c", cpu="1", priority=10)),
        full("n3", pod("d", cpu="2", priority=10)),
    ]
    nominating, status = preempt(HIGH, nodes)
    assert (nominating, status) == (to("n3"), Status())


def test_a_candidate_breaking_no_budget_beats_a_cheaper_one_that_does() -> None:
    nodes = [
        full("n1", pod("web", cpu="2", priority=1, labels={"app": "web"})),
        full("n2", pod("db", cpu="2", priority=50, labels={"app": "db"})),
    ]
    assert preempt(HIGH, nodes)[0] == to("n1")
    assert preempt(HIGH, nodes, budgets=[pdb("web", {"app": "web"}, 0)])[0] == to("n2")
    assert preempt(HIGH, nodes, budgets=[pdb("web", {"app": "web"}, 1)])[0] == to("n1")


def test_a_pod_with_preemption_policy_never_does_not_preempt() -> None:
    never = pod("never", cpu="2", priority=100, preemption_policy="Never")
    nominating, status = preempt(never, [full("n1", pod("a", cpu="2", priority=1))])
    assert nominating is None  # its nomination, if any, is kept
    assert (status.code, status.message) == (
        Code.UNSCHEDULABLE,
        "preemption: not eligible due to preemptionPolicy=Never.",
    )


def test_a_pod_waiting_for_its_victims_to_terminate_does_not_preempt_again() -> None:
    victim = pod("victim", cpu="2", priority=1, deletion_timestamp="2024-05-01T12:00:30Z")
    victim.status.conditions.add(
        type="DisruptionTarget", status="True", reason="PreemptionByScheduler"
    )
    waiting = pod("high", cpu="2", priority=100, nominated_node_name="n1")
    nominating, status = preempt(waiting, [full("n1", victim), full("n2", pod(cpu="2"))])
    assert nominating is None
    assert status.message == (
        "preemption: not eligible due to a terminating pod on the nominated node."
    )
    # A pod terminating for another reason (no DisruptionTarget from a scheduler) does not stop it.
    del victim.status.conditions[:]
    nominating, status = preempt(waiting, [full("n1", victim), full("n2", pod(cpu="2"))])
    assert nominating is not None and status.is_success


def test_a_pod_whose_nominated_node_can_no_longer_take_it_preempts_elsewhere() -> None:
    victim = pod("victim", cpu="2", priority=1, deletion_timestamp="2024-05-01T12:00:30Z")
    victim.status.conditions.add(
        type="DisruptionTarget", status="True", reason="PreemptionByScheduler"
    )
    waiting = pod("high", cpu="2", priority=100, nominated_node_name="n1")
    nodes = [full("n1", victim, taints=[TAINT]), full("n2", pod("low", cpu="2", priority=1))]
    assert preempt(waiting, nodes) == (to("n2"), Status())


def test_when_preemption_cannot_help_it_says_why_node_by_node_and_clears_the_nomination() -> None:
    nodes = [
        full("tainted", taints=[TAINT]),
        full("equal", pod("peer", cpu="2", priority=100)),
        full("too-small", pod("low", cpu="500m", priority=1)),
    ]
    nodes[2] = node_info(node("too-small", cpu="1"), pod("low", cpu="500m", priority=1))
    nominating, status = preempt(HIGH, nodes)
    assert nominating == CLEAR_NOMINATED_NODE
    assert status.code is Code.UNSCHEDULABLE
    assert status.message == (
        "preemption: 0/3 nodes are available: 1 Insufficient cpu, "
        "1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling."
    )


@pytest.mark.parametrize(
    ("nodes", "percentage", "absolute", "wanted"),
    [
        (50, 10, 100, 50),
        (500, 10, 100, 100),
        (5000, 10, 100, 500),
        (1000, 5, 10, 50),
        (10, 0, 3, 3),
        (0, 10, 100, 0),
    ],
)
def test_how_many_candidates_are_looked_for(
    nodes: int, percentage: int, absolute: int, wanted: int
) -> None:
    fw = Framework(in_tree_registry(), default_profile())
    plugin = DefaultPreemption(
        fw, min_candidate_nodes_percentage=percentage, min_candidate_nodes_absolute=absolute
    )
    assert plugin.num_candidates(nodes) == wanted


def test_the_dry_run_stops_once_enough_candidates_are_found() -> None:
    profile = Profile(
        plugins=(
            *default_profile().plugins[:-3],
            PluginSpec(
                "DefaultPreemption",
                args={"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 2},
            ),
        )
    )
    fw = Framework(in_tree_registry(), profile)
    plugin = fw.plugins["DefaultPreemption"]
    assert isinstance(plugin, DefaultPreemption)
    looked_at: list[str] = []
    select, by_sum = plugin.select_victims_on_node, plugin.victims_by_sum

    def counting(*args: Any) -> Any:
        looked_at.append(args[2].name)
        return select(*args)

    def counting_sums(*args: Any) -> Any:
        on_node = by_sum(*args)
        if on_node is None:
            return None

        def counting_on_node(node: Any, budgets: Any) -> Any:
            answer = on_node(node, budgets)
            if answer is not None:
                looked_at.append(node.name)
            return answer

        return counting_on_node

    plugin.select_victims_on_node = counting  # type: ignore[method-assign,assignment]
    plugin.victims_by_sum = counting_sums  # type: ignore[method-assign,assignment]
    nodes = [full(f"n{i}", pod(f"low{i}", cpu="2", priority=1)) for i in range(6)]
    nominating, status = preempt(HIGH, nodes, framework=fw)
    assert status.is_success and len(looked_at) == 2
    assert nominating is not None and nominating.nominated_node_name in looked_at


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            {"minCandidateNodesPercentage": 101},
            "DefaultPreemption: minCandidateNodesPercentage: Invalid value: 101: not in valid "
            "range [0, 100]",
        ),
        (
            {"minCandidateNodesAbsolute": -1},
            "DefaultPreemption: minCandidateNodesAbsolute: Invalid value: -1: not in valid "
            "range [0, inf)",
        ),
        (
            {"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0},
            "cannot be zero at the same time as minCandidateNodesAbsolute",
        ),
    ],
)
def test_arguments_are_validated(args: dict[str, int], error: str) -> None:
    fw = Framework(in_tree_registry(), default_profile())
    with pytest.raises(ValueError, match=re.escape(error)):
        new(args, fw)
    defaults = new({}, fw)
    assert (defaults.min_candidate_nodes_percentage, defaults.min_candidate_nodes_absolute) == (
        10,
        100,
    )


# ---------------------------------------------------------------------- the writes
async def test_victims_are_marked_deleted_and_told_and_lower_nominations_cleared() -> None:
    victim = pod("victim", priority=1, node_name="n1")
    going = pod("going", priority=1, node_name="n1", deletion_timestamp="2024-05-01T12:00:30Z")
    gone = pod("gone", priority=1, node_name="n1")
    lower = pod("lower", priority=5, nominated_node_name="n1")
    higher = pod("higher", priority=500, nominated_node_name="n1")
    preemptor = pod("high", priority=100, uid="uid-high")
    client = FakeClient([], [victim, going, lower, higher])
    nominator = Nominator()
    for p in (lower, higher):
        nominator.add_nominated_pod(p, None)
    events = Events()
    fw = Framework(in_tree_registry(), default_profile())
    fw.connect(client=client, nominator=nominator, events=events)  # type: ignore[arg-type]

    status = await Executor(fw).prepare_candidate(Candidate("n1", (victim, going, gone)), preemptor)

    assert status.is_success
    assert client.pods.deleted == [("default", "victim", victim.metadata.uid)]
    marked = client.pods.status_updates[0]
    condition = marked.status.conditions[0]
    assert (marked.metadata.name, condition.type, condition.status, condition.reason) == (
        "victim",
        "DisruptionTarget",
        "True",
        "PreemptionByScheduler",
    )
    assert condition.message == "default-scheduler: preempting to accommodate a higher priority pod"
    assert condition.last_transition_time
    assert events.recorded == [
        ("victim", "Normal", "Preempted", "Preempted by pod uid-high on node n1", "Preempting")
    ]
    cleared = [p for p in client.pods.status_updates if p.metadata.name in ("lower", "higher")]
    assert [(p.metadata.name, p.status.nominated_node_name) for p in cleared] == [("lower", "")]


async def test_a_failed_deletion_fails_the_preemption() -> None:
    victim = pod("victim", priority=1, node_name="n1")
    client = FakeClient([], [victim])

    async def refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError("etcd is having a bad day")

    client.pods.delete = refuse  # type: ignore[method-assign]
    fw = Framework(in_tree_registry(), default_profile())
    fw.connect(client=client)  # type: ignore[arg-type]
    status = await Executor(fw).prepare_candidate(Candidate("n1", (victim,)), pod("high"))
    assert status.is_error
    assert status.message == "preempting pod default/victim: etcd is having a bad day"


# ---------------------------------------------------------------------- PreFilter extensions
def test_a_victim_its_anti_affinity_rejects_is_preempted() -> None:
    # The dry run takes "web" away from the inter-pod affinity counts too (RemovePod).
    web = pt.pod("web", {"app": "web"}, cpu="100m", priority=1)
    keeper = pt.with_affinity(
        pt.pod("keeper", cpu="100m", priority=100), anti=[pt.term(match={"app": "web"})]
    )
    nominating, status = preempt(keeper, [node_info(node("n1"), web)])
    assert (nominating, status) == (to("n1"), Status())


def test_victims_that_skew_the_spread_are_preempted() -> None:
    spread = {"app": "spread"}
    nodes = [
        node_info(
            pt.zone_node("n1", "a"),
            pt.pod("s1", spread, cpu="100m", priority=1),
            pt.pod("s2", spread, cpu="100m", priority=1),
        ),
        node_info(pt.zone_node("n2", "b"), pod("blocker", cpu="4", priority=1000)),
    ]
    spreader = pt.with_spread(pt.pod("new", spread, cpu="100m", priority=100), match=spread)
    fw = Framework(in_tree_registry(), default_profile())
    state = CycleState()
    SchedulingAlgorithm(fw, random.Random(0)).schedule(spreader, nodes, state)
    plugin = fw.plugins["DefaultPreemption"]
    assert isinstance(plugin, DefaultPreemption)
    victims, _, status = plugin.select_victims_on_node(state, spreader, nodes[0].snapshot(), [])
    assert status.is_success
    assert sorted(v.metadata.name for v in victims) == ["s1", "s2"]
