"""Which pods DefaultPreemption evicts from a node for a higher-priority pod (kubernetes
defaultpreemption SelectVictimsOnNode): only lower-priority pods, as few as needed, the most
important (higher priority, then running longer) given back first, and the pods a
PodDisruptionBudget protects given back before the others; and how PodDisruptionBudgets count
(filterPodsWithPDBViolation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from scheduler.framework.preemption.disruption_budgets import DisruptionBudget, split_by_violation
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState, PodInfo
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.plugins.defaultpreemption import DefaultPreemption
from tests.unit.scheduler.schedtest import budget, node, node_info, pod

EARLY = "2024-05-01T10:00:00Z"
LATE = "2024-05-01T11:00:00Z"


def victims_on_node(
    preemptor: core_pb2.Pod,
    pods: Sequence[core_pb2.Pod],
    budgets: Sequence[DisruptionBudget] = (),
    cpu: str = "4",
) -> tuple[list[str], int, str, Code]:
    """The victims' names, the budgets they break, and the status message and code."""
    fw = Framework(in_tree_registry(), default_profile())
    info = node_info(node("n1", cpu=cpu), *pods)
    state = CycleState()
    state.all_nodes = [info]
    assert fw.run_pre_filter(state, preemptor).is_success
    plugin = fw.plugins["DefaultPreemption"]
    assert isinstance(plugin, DefaultPreemption)
    victims, violations, status = plugin.select_victims_on_node(
        state, preemptor, info.snapshot(), budgets
    )
    assert len(info.pods) == len(pods)  # the dry run worked on a copy
    return [v.metadata.name for v in victims], violations, status.message, status.code


@dataclass
class Case:
    name: str
    preemptor: core_pb2.Pod
    pods: list[core_pb2.Pod]
    victims: list[str]
    violations: int = 0
    budgets: list[DisruptionBudget] = field(default_factory=list)


CASES = [
    Case(
        "the lowest priorities go, the highest are given back first",
        pod("high", cpu="2", priority=10),
        [pod(n, cpu="1", priority=p) for n, p in (("p1", 1), ("p2", 2), ("p3", 3), ("p4", 4))],
        ["p2", "p1"],
    ),
    Case(
        "one victim is enough when one frees the room",
        pod("high", cpu="1", priority=10),
        [pod(n, cpu="1", priority=p) for n, p in (("p1", 1), ("p2", 2), ("p3", 3), ("p4", 4))],
        ["p1"],
    ),
    Case(
        "of equal priorities, the pod started last goes",
        pod("high", cpu="2", priority=10),
        [
            pod("older", cpu="2", priority=1, start_time=EARLY),
            pod("newer", cpu="2", priority=1, start_time=LATE),
        ],
        ["newer"],
    ),
    Case(
        "a pod not started yet counts as the newest",
        pod("high", cpu="2", priority=10),
        [
            pod("starting", cpu="2", priority=1),
            pod("running", cpu="2", priority=1, start_time=EARLY),
        ],
        ["starting"],
    ),
    Case(
        "a pod its budget protects is given back before a more important one",
        pod("high", cpu="2", priority=10),
        [
            pod("web", cpu="2", priority=1, labels={"app": "web"}),
            pod("db", cpu="2", priority=2, labels={"app": "db"}),
        ],
        ["db"],
        budgets=[budget(match_labels={"app": "web"}, allowed=0)],
    ),
    Case(
        "without the budget the less important one goes",
        pod("high", cpu="2", priority=10),
        [
            pod("web", cpu="2", priority=1, labels={"app": "web"}),
            pod("db", cpu="2", priority=2, labels={"app": "db"}),
        ],
        ["web"],
    ),
    Case(
        "a budget is broken when nothing else makes room, and counted",
        pod("high", cpu="4", priority=10),
        [pod("web", cpu="4", priority=1, labels={"app": "web"})],
        ["web"],
        violations=1,
        budgets=[budget(match_labels={"app": "web"}, allowed=0)],
    ),
    Case(
        "a budget allowing one disruption: the second victim breaks it; victims sorted again",
        pod("high", cpu="4", priority=10),
        [
            pod("web-a", cpu="2", priority=1, labels={"app": "web"}, start_time=EARLY),
            pod("web-b", cpu="2", priority=1, labels={"app": "web"}, start_time=LATE),
            pod("other", cpu="0", memory="1Mi", priority=0),
        ],
        ["web-a", "web-b"],
        violations=1,
        budgets=[budget(match_labels={"app": "web"}, allowed=1)],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_victims(case: Case) -> None:
    victims, violations, _, code = victims_on_node(case.preemptor, case.pods, case.budgets)
    assert code is Code.SUCCESS
    assert (victims, violations) == (case.victims, case.violations)


def test_pods_of_the_same_or_higher_priority_are_never_victims() -> None:
    pods = [pod("same", cpu="3", priority=10), pod("low", cpu="1", priority=1)]
    victims, _, message, code = victims_on_node(pod("high", cpu="2", priority=10), pods)
    assert (victims, message, code) == ([], "Insufficient cpu", Code.UNSCHEDULABLE)


def test_a_node_without_lower_priority_pods_has_no_victims() -> None:
    pods = [pod("same", cpu="4", priority=10)]
    _, _, message, code = victims_on_node(pod("high", cpu="2", priority=10), pods)
    assert message == "No preemption victims found for incoming pod"
    assert code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def test_a_pod_without_priority_counts_as_priority_zero() -> None:
    victims, _, _, _ = victims_on_node(
        pod("high", cpu="2", priority=1), [pod("unset", cpu="4"), pod("neg", priority=-5)]
    )
    assert victims == ["unset"]


def _infos(*pods: core_pb2.Pod) -> list[PodInfo]:
    return [PodInfo.of(p) for p in pods]


WEB = {"app": "web"}


@pytest.mark.parametrize(
    ("pods", "budgets", "violating"),
    [
        pytest.param(
            _infos(pod("a", labels=WEB), pod("b", labels=WEB), pod("c", labels=WEB)),
            [budget(match_labels=WEB, allowed=2)],
            ["c"],
            id="the budget runs out at the third",
        ),
        pytest.param(
            _infos(pod("a", labels=WEB), pod("b", labels=WEB)),
            [budget(match_labels=WEB, allowed=0, disrupted=["a"])],
            ["b"],
            id="a pod the budget already counts as disrupted takes nothing",
        ),
        pytest.param(
            _infos(pod("a", labels=WEB, namespace="other")),
            [budget(match_labels=WEB, allowed=0)],
            [],
            id="a budget covers its own namespace only",
        ),
        pytest.param(
            _infos(pod("a", labels=WEB)),
            [budget(match_labels={}, allowed=0), budget(match_labels=None, allowed=0)],
            [],
            id="an empty or missing selector covers nothing",
        ),
        pytest.param(
            _infos(pod("a")),
            [budget(match_labels={}, allowed=0)],
            [],
            id="a pod without labels is covered by none",
        ),
        pytest.param(
            _infos(pod("a", labels={"app": "web", "tier": "x"})),
            [budget(match_labels={"tier": "x"}, allowed=1), budget(match_labels=WEB, allowed=0)],
            ["a"],
            id="any of the pod's budgets broken makes it violating",
        ),
    ],
)
def test_budget_violations(
    pods: list[PodInfo], budgets: list[DisruptionBudget], violating: list[str]
) -> None:
    bad, good = split_by_violation(pods, budgets)
    names = [p.pod.metadata.name for p in pods]
    # Both keep the order they were given in.
    assert [p.pod.metadata.name for p in bad] == violating
    assert [p.pod.metadata.name for p in good] == [n for n in names if n not in violating]


def test_a_pod_disruption_budget_reads_as_preemption_needs_it() -> None:
    pdb = policy_pb2.PodDisruptionBudget(
        metadata=meta_pb2.ObjectMeta(name="web", namespace="shop"),
        spec=policy_pb2.PodDisruptionBudgetSpec(
            selector=meta_pb2.LabelSelector(match_labels={"app": "web"})
        ),
    )
    pdb.status.disruptions_allowed = 2
    pdb.status.disrupted_pods["web-0"] = "2024-05-01T12:00:00Z"
    read = DisruptionBudget.of(pdb)
    assert (read.namespace, read.disruptions_allowed, read.disrupted_pods) == (
        "shop",
        2,
        frozenset({"web-0"}),
    )
    assert read.covers(PodInfo.of(pod("w", namespace="shop", labels={"app": "web"})))
    assert not read.covers(PodInfo.of(pod("w", namespace="shop", labels={"app": "db"})))
    pdb.spec.ClearField("selector")
    assert DisruptionBudget.of(pdb).selector is None
    pdb.spec.selector.match_expressions.add(key="app", operator="Sideways")
    assert DisruptionBudget.of(pdb).selector is None  # invalid: covers nothing
