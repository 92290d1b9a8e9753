"""What an eviction decides from a pod and its PodDisruptionBudget, as Kubernetes 1.31's eviction
subresource does: which pods go without looking at budgets, when an unhealthy pod may go without
spending a disruption, and a budget with one disruption spent or the exact refusal (429
TooManyRequests with the DisruptionBudget cause; a Retry-After while the controller lags)."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver import errors
from apiserver.endpoints.rest.status import failure
from apiserver.registry.pod import eviction_budget as budget
from apiserver.registry.pod.eviction import check_type, delete_options
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import manifest


def pod(phase: str = "Running", ready: bool = True, deleting: bool = False) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = "web-1", "default"
    p.status.phase = phase
    p.status.conditions.add(type="Ready", status="True" if ready else "False")
    if deleting:
        p.metadata.deletion_timestamp = "2030-01-01T00:00:00Z"
    return p


def pdb(policy: str | None = None, generation: int = 1, **status: Any) -> Any:
    spec: dict[str, Any] = {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}
    if policy:
        spec["unhealthyPodEvictionPolicy"] = policy
    return manifest.from_dict(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "default", "generation": generation},
            "spec": spec,
            "status": {"observedGeneration": 1, **status},
        }
    )


@pytest.mark.parametrize(
    ("p", "ignored", "enforce_version"),
    [
        (pod("Succeeded"), True, False),
        (pod("Failed"), True, False),
        (pod("Pending"), True, True),
        (pod(deleting=True), True, False),
        (pod("Running"), False, True),
        (pod("Unknown"), False, True),
    ],
    ids=["succeeded", "failed", "pending", "terminating", "running", "unknown"],
)
def test_which_pods_go_without_looking_at_budgets(
    p: core_pb2.Pod, ignored: bool, enforce_version: bool
) -> None:
    assert budget.can_ignore_budget(p) is ignored
    assert budget.should_enforce_resource_version(p) is enforce_version


@pytest.mark.parametrize(
    ("p", "b", "may_go"),
    [
        # A ready pod always spends a disruption.
        (pod(), pdb("AlwaysAllow", currentHealthy=3, desiredHealthy=2), False),
        (pod(ready=False), pdb("AlwaysAllow", currentHealthy=0, desiredHealthy=2), True),
        # IfHealthyBudget, explicit or by default: only while the budget is met without it.
        (pod(ready=False), pdb("IfHealthyBudget", currentHealthy=2, desiredHealthy=2), True),
        (pod(ready=False), pdb(None, currentHealthy=2, desiredHealthy=2), True),
        (pod(ready=False), pdb(None, currentHealthy=1, desiredHealthy=2), False),
        (pod(ready=False), pdb(None, currentHealthy=0, desiredHealthy=0), False),
    ],
)
def test_when_an_unhealthy_pod_may_go_without_spending_a_disruption(
    p: core_pb2.Pod, b: policy_pb2.PodDisruptionBudget, may_go: bool
) -> None:
    assert budget.unhealthy_pod_may_go(p, b) is may_go


def test_spending_the_last_disruption_records_the_pod_and_turns_the_condition() -> None:
    b = pdb(disruptionsAllowed=1, currentHealthy=3, desiredHealthy=2)
    spent = budget.spend_disruption(b, "web-1", dry_run=False)
    assert spent.status.disruptions_allowed == 0
    assert list(spent.status.disrupted_pods) == ["web-1"]
    (cond,) = spent.status.conditions
    assert (cond.type, cond.status, cond.reason) == (
        "DisruptionAllowed",
        "False",
        "InsufficientPods",
    )
    assert b.status.disruptions_allowed == 1  # the budget given is not changed


def test_spending_one_of_several_and_a_dry_run() -> None:
    b = pdb(disruptionsAllowed=2, currentHealthy=4, desiredHealthy=2)
    spent = budget.spend_disruption(b, "web-1", dry_run=True)
    assert spent.status.disruptions_allowed == 1
    assert not spent.status.disrupted_pods and not spent.status.conditions


def status_of(err: errors.APIError) -> tuple[int, dict[str, Any]]:
    code, body = failure(err)
    return code, dict(body)


def test_a_budget_that_allows_no_disruption_refuses_as_kubernetes_does() -> None:
    with pytest.raises(errors.APIError) as refused:
        budget.spend_disruption(
            pdb(disruptionsAllowed=0, currentHealthy=2, desiredHealthy=2), "web-1", dry_run=False
        )
    assert status_of(refused.value) == (
        429,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Cannot evict pod as it would violate the pod's disruption budget.",
            "reason": "TooManyRequests",
            "details": {
                "causes": [
                    {
                        "reason": "DisruptionBudget",
                        "message": "The disruption budget web needs 2 healthy pods and has 2 "
                        "currently",
                    }
                ]
            },
            "code": 429,
        },
    )
    assert refused.value.details is not None
    assert refused.value.details.retry_after_seconds == 0  # no Retry-After: kubectl's own 5 s


def test_a_budget_the_controller_has_not_seen_yet_asks_to_come_back() -> None:
    with pytest.raises(errors.APIError) as refused:
        budget.spend_disruption(pdb(generation=2, disruptionsAllowed=5), "web-1", dry_run=False)
    code, body = status_of(refused.value)
    assert code == 429
    assert body["details"] == {
        "causes": [
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget web is still being processed by the server.",
            }
        ],
        "retryAfterSeconds": 10,
    }


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            {"disruptionsAllowed": -1},
            'poddisruptionbudget.policy "web" is forbidden: pdb disruptions allowed is negative',
        ),
        (
            {
                "disruptionsAllowed": 1,
                "disruptedPods": {f"p{i}": "2030-01-01T00:00:00Z" for i in range(2001)},
            },
            'poddisruptionbudget.policy "web" is forbidden: DisruptedPods map too big - too many '
            "evictions not confirmed by PDB controller",
        ),
    ],
)
def test_a_broken_budget_is_forbidden(status: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.APIError) as refused:
        budget.spend_disruption(pdb(**status), "web-1", dry_run=False)
    assert (failure(refused.value)[0], refused.value.message) == (403, message)


def test_more_than_one_budget_is_a_500_without_a_reason() -> None:
    assert status_of(budget.more_than_one_budget()) == (
        500,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "This pod has more than one PodDisruptionBudget, which the eviction "
            "subresource does not support.",
            "code": 500,
        },
    )


def test_the_evictions_delete_options() -> None:
    options = meta_pb2.DeleteOptions(grace_period_seconds=5, dry_run=["All"])
    options.preconditions.uid = "u-1"
    got = delete_options(options, dry_run=False)
    assert (got.grace_period_seconds, got.dry_run, got.preconditions.uid) == (5, True, "u-1")
    assert delete_options(None, dry_run=True).dry_run
    assert (
        delete_options(meta_pb2.DeleteOptions(orphan_dependents=True), False).propagation_policy
        == "Orphan"
    )
    with pytest.raises(errors.APIError, match='dryRun: Unsupported value: "Some"'):
        delete_options(meta_pb2.DeleteOptions(dry_run=["Some"]), dry_run=False)


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        ("policy/v1", "Eviction", None),
        ("policy/v1beta1", "Eviction", None),
        ("", "", None),
        (
            "policy/v2",
            "Eviction",
            "the API version in the data (policy/v2) does not match the expected API version (v1)",
        ),
        ("policy/v1", "Pod", 'no kind "Pod" is registered for version "policy/v1"'),
    ],
)
def test_which_evictions_are_accepted(api_version: str, kind: str, message: str | None) -> None:
    if message is None:
        check_type(api_version, kind)
        return
    with pytest.raises(errors.APIError) as refused:
        check_type(api_version, kind)
    assert (refused.value.reason, refused.value.message) == ("BadRequest", message)
