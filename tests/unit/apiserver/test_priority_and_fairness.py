"""API Priority and Fairness as the doors use it (apiserver/flowcontrol/priority_and_fairness.py):
podplane's identities land on Kubernetes' flow schemas and priority levels, each level gets its
share of the server's seats, a busy level queues its requests and rejects only when a queue is
full or a request has waited too long, the other levels are not slowed by it, and idle levels
lend their seats."""

from __future__ import annotations

import asyncio
import time

import pytest

from apiserver.auth.user import ANONYMOUS, AUTHENTICATED_GROUP, MASTERS_GROUP, NODES_GROUP, UserInfo
from apiserver.flowcontrol.metrics import flow_metrics
from apiserver.flowcontrol.priority_and_fairness import (
    BORROWING_ADJUSTMENT_SECONDS,
    PriorityAndFairness,
    Rejection,
    Seat,
)
from apiserver.flowcontrol.request import RequestDigest
from tests.unit.apiserver.flow_waits import at_once, waiting_after


def user(name: str, *groups: str) -> UserInfo:
    return UserInfo(name, frozenset({*groups, AUTHENTICATED_GROUP}))


ADMIN = user("kubernetes-admin", MASTERS_GROUP)
SCHEDULER = user("system:kube-scheduler")
CONTROLLER_MANAGER = user("system:kube-controller-manager")
NODE = user("system:node:node-1", NODES_GROUP)
VIEWER = user("viewer", "viewers")
BUILDER = user("system:serviceaccount:ci:builder", "system:serviceaccounts")
KUBE_SYSTEM_SA = user("system:serviceaccount:kube-system:ctrl", "system:serviceaccounts")
COORDINATION = "coordination.k8s.io"


def lease(who: UserInfo, verb: str, namespace: str = "kube-system") -> RequestDigest:
    return RequestDigest(who, verb, "leases", COORDINATION, namespace=namespace, name="x")


def pods(who: UserInfo, verb: str, namespace: str = "default") -> RequestDigest:
    return RequestDigest(who, verb, "pods", "", namespace=namespace)


@pytest.mark.parametrize(
    "request_, schema, level",
    [
        (pods(ADMIN, "create"), "exempt", "exempt"),
        (
            RequestDigest(ANONYMOUS, "get", is_resource_request=False, path="/readyz"),
            "probes",
            "exempt",
        ),
        (lease(SCHEDULER, "update"), "system-leader-election", "leader-election"),
        (lease(CONTROLLER_MANAGER, "get"), "system-leader-election", "leader-election"),
        (lease(KUBE_SYSTEM_SA, "create"), "system-leader-election", "leader-election"),
        (lease(SCHEDULER, "delete"), "kube-scheduler", "workload-high"),  # not a renewal
        (
            RequestDigest(SCHEDULER, "create", "pods", "", "binding", "default", "web"),
            "kube-scheduler",
            "workload-high",
        ),
        (pods(CONTROLLER_MANAGER, "create"), "kube-controller-manager", "workload-high"),
        (lease(NODE, "update", "kube-node-lease"), "system-node-high", "node-high"),
        (
            RequestDigest(NODE, "update", "nodes", "", "status", name="node-1"),
            "system-node-high",
            "node-high",
        ),
        (pods(NODE, "watch", ""), "system-nodes", "system"),
        (pods(KUBE_SYSTEM_SA, "list"), "kube-system-service-accounts", "workload-high"),
        (pods(BUILDER, "create", "ci"), "service-accounts", "workload-low"),
        (pods(VIEWER, "list"), "global-default", "global-default"),
        (pods(ANONYMOUS, "create"), "global-default", "global-default"),
        (
            RequestDigest(VIEWER, "get", is_resource_request=False, path="/version"),
            "global-default",
            "global-default",
        ),
        # Neither authenticated nor anonymous: no schema but the mandatory catch-all.
        (pods(UserInfo("nobody"), "get"), "catch-all", "catch-all"),
    ],
)
def test_podplane_identities_map_to_kubernetes_schemas(
    request_: RequestDigest, schema: str, level: str
) -> None:
    matched = PriorityAndFairness(150).classify(request_)
    assert (matched.name, matched.priority_level) == (schema, level)


def test_flows_are_by_user_or_by_namespace() -> None:
    apf = PriorityAndFairness(150)
    scheduler_schema = apf.classify(pods(SCHEDULER, "get", "team-a"))
    assert scheduler_schema.flow_distinguisher(pods(SCHEDULER, "get", "team-a")) == "team-a"
    viewer = pods(VIEWER, "list", "team-a")
    assert apf.classify(viewer).flow_distinguisher(viewer) == "viewer"


def test_nominal_seats_are_each_levels_share_of_the_server() -> None:
    """ceil(150 x shares / 245), as Kubernetes rounds; exempt has none and needs none."""
    apf = PriorityAndFairness(150)
    nominal = {name: level.nominal for name, level in apf.levels.items()}
    assert nominal == {
        "exempt": 0,
        "catch-all": 4,
        "system": 19,
        "node-high": 25,
        "leader-election": 7,
        "workload-high": 25,
        "workload-low": 62,
        "global-default": 13,
    }
    lower = {name: level.lower for name, level in apf.levels.items()}
    assert lower["leader-election"] == 7  # lends nothing
    assert lower["workload-low"] == 6  # lends 90 %


def test_the_wait_is_a_quarter_of_the_clients_time_at_most_the_limit_from_receipt() -> None:
    now = [100.0]
    apf = PriorityAndFairness(150, request_wait_limit=0.5, clock=lambda: now[0])
    assert apf.wait_deadline(100.0, None) == 100.5
    assert apf.wait_deadline(100.0, 60.0) == 100.5
    assert apf.wait_deadline(100.0, 1.0) == 100.25
    # Received 0.2 s ago with 0.8 s left: the client gave it 1 s, so it may wait until 0.25 s
    # after its receipt.
    assert apf.wait_deadline(99.8, 0.8) == pytest.approx(100.05)


async def test_a_request_that_waited_its_fill_before_arriving_is_refused_at_once() -> None:
    """Time a call spent before flow control saw it (the event loop, its message) counts."""
    apf = PriorityAndFairness(150, request_wait_limit=5)
    queues = apf.levels["leader-election"].queues
    seats = [await apf.admit(lease(SCHEDULER, "update")) for _ in range(queues.limit)]
    late = lease(SCHEDULER, "update")
    rejected = at_once(apf.admit(late, received_at=time.monotonic() - 6))
    assert isinstance(rejected, Rejection) and rejected.reason == "time-out"
    seats[0].release()  # type: ignore[union-attr]
    seat = await apf.admit(late, received_at=time.monotonic() - 6)  # a seat is free: executes
    assert isinstance(seat, Seat)
    for s in [seat, *seats[1:]]:
        assert isinstance(s, Seat)
        s.release()


async def test_a_busy_level_queues_then_serves_in_turn() -> None:
    apf = PriorityAndFairness(150, request_wait_limit=5)
    limit = apf.levels["workload-high"].queues.limit
    seats = [await apf.admit(pods(CONTROLLER_MANAGER, "create")) for _ in range(limit)]
    assert all(isinstance(s, Seat) for s in seats)
    waiting = asyncio.ensure_future(apf.admit(pods(CONTROLLER_MANAGER, "create")))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # queued, not rejected
    assert isinstance(seats[0], Seat)
    seats[0].release()
    async with asyncio.timeout(1):
        served = await waiting
    assert isinstance(served, Seat)
    for seat in [*seats, served]:
        assert isinstance(seat, Seat)
        seat.release()
    assert apf.levels["workload-high"].queues.executing == 0


async def test_other_levels_are_served_while_one_is_saturated() -> None:
    """Lease renewals and node heartbeats go through at once while the controller-manager's
    writes wait for seats of their own level."""
    apf = PriorityAndFairness(150, request_wait_limit=5)
    flood = [
        asyncio.ensure_future(apf.admit(pods(CONTROLLER_MANAGER, "create"))) for _ in range(200)
    ]
    await asyncio.sleep(0)
    assert apf.levels["workload-high"].queues.waiting > 100
    for renewal in (lease(SCHEDULER, "update"), lease(NODE, "update", "kube-node-lease")):
        seat = at_once(apf.admit(renewal))
        assert isinstance(seat, Seat)
        seat.release()
    for f in flood:
        f.cancel()
    await asyncio.gather(*flood, return_exceptions=True)


async def test_a_full_queue_rejects_at_once_with_a_retry_hint() -> None:
    apf = PriorityAndFairness(150, request_wait_limit=5)
    level = apf.levels["global-default"]
    assert level.config.queuing is not None
    capacity = level.queues.limit + level.config.queuing.hand_size * 50  # one user's hand
    admitted = [asyncio.ensure_future(apf.admit(pods(VIEWER, "list"))) for _ in range(capacity)]
    await asyncio.sleep(0)
    rejected = await apf.admit(pods(VIEWER, "list"))
    assert rejected == Rejection("global-default", "global-default", "queue-full", 1)
    other = asyncio.ensure_future(apf.admit(pods(user("alice"), "list")))  # another flow
    await asyncio.sleep(0)
    assert not other.done()  # queued in its own queues, not rejected
    for f in [*admitted, other]:
        f.cancel()
    await asyncio.gather(*admitted, other, return_exceptions=True)
    assert level.queues.waiting == 0


async def test_a_request_that_waits_too_long_is_rejected() -> None:
    apf = PriorityAndFairness(150, request_wait_limit=0.05)
    limit = apf.levels["leader-election"].queues.limit
    seats = [await apf.admit(lease(SCHEDULER, "update")) for _ in range(limit)]
    queues = apf.levels["leader-election"].queues
    started = asyncio.get_running_loop().time()
    waiting = asyncio.ensure_future(apf.admit(lease(SCHEDULER, "update")))
    await asyncio.sleep(0)  # queued, its wait's timer set
    assert queues.waiting == 1 and not waiting.done()
    # Out of the queue by its limit (0.05 s), not later; and not before it.
    assert await waiting_after(0.06, queues) == 0
    rejected = await waiting
    assert isinstance(rejected, Rejection) and rejected.reason == "time-out"
    assert asyncio.get_running_loop().time() - started > 0.04
    for seat in seats:
        assert isinstance(seat, Seat)
        seat.release()


async def test_a_client_that_goes_away_leaves_its_queue() -> None:
    apf = PriorityAndFairness(150, request_wait_limit=5)
    queues = apf.levels["leader-election"].queues
    seats = [await apf.admit(lease(SCHEDULER, "update")) for _ in range(queues.limit)]
    waiting = asyncio.ensure_future(apf.admit(lease(SCHEDULER, "update")))
    await asyncio.sleep(0)
    assert queues.waiting == 1
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert queues.waiting == 0
    for seat in seats:
        assert isinstance(seat, Seat)
        seat.release()
    assert queues.executing == 0


async def test_system_masters_never_wait() -> None:
    apf = PriorityAndFairness(2)
    seats = [await apf.admit(pods(ADMIN, "create")) for _ in range(500)]
    assert all(isinstance(s, Seat) for s in seats)


async def test_the_retry_hint_grows_while_a_level_keeps_rejecting() -> None:
    now = [1000.0]
    apf = PriorityAndFairness(150, clock=lambda: now[0])
    level = apf.levels["catch-all"]  # rejects rather than queues
    nobody = pods(UserInfo("nobody"), "get")
    for _ in range(level.queues.limit):
        await apf.admit(nobody)
    hints = []
    for _ in range(8):
        for _ in range(10):
            outcome = await apf.admit(nobody)
        assert isinstance(outcome, Rejection) and outcome.reason == "concurrency-limit"
        hints.append(outcome.retry_after)
        now[0] += 1
    assert hints[0] == 1 and max(hints) >= 4, hints
    assert hints == sorted(hints)


def test_idle_levels_lend_their_seats_to_a_busy_one() -> None:
    now = [1000.0]
    apf = PriorityAndFairness(150, clock=lambda: now[0])
    busy = apf.levels["workload-high"]
    for _ in range(400):  # demand far over its nominal 25 seats
        busy.queues.start(0, flow_metrics("workload-high", "kube-controller-manager"))
    now[0] += BORROWING_ADJUSTMENT_SECONDS
    apf.adjust_limits()
    others = sum(level.lower for name, level in apf.levels.items() if name != "workload-high")
    assert busy.queues.limit == apf.nominal_sum - others  # everything the others may lend
    assert busy.queues.limit > busy.nominal
    assert apf.levels["leader-election"].queues.limit == 7  # lends nothing


def test_a_level_in_use_keeps_what_it_uses_up_to_its_nominal_seats() -> None:
    now = [1000.0]
    apf = PriorityAndFairness(150, clock=lambda: now[0])
    nodes = apf.levels["node-high"]
    for _ in range(22):
        nodes.queues.start(0, flow_metrics("node-high", "system-node-high"))
    now[0] += BORROWING_ADJUSTMENT_SECONDS
    apf.adjust_limits()
    assert nodes.queues.limit >= 22


def test_a_flood_of_exempt_requests_leaves_a_busy_level_its_nominal_seats() -> None:
    """The exempt level has no nominal seats, so however many requests it executes it takes
    only the seats the others would borrow (Kubernetes 1.28+'s allocation): a load generator as
    system:masters does not starve the scheduler's level down to what it may lend."""
    now = [1000.0]
    apf = PriorityAndFairness(75, clock=lambda: now[0])
    exempt, busy = apf.levels["exempt"], apf.levels["workload-high"]
    for _ in range(300):
        exempt.queues.start(0, flow_metrics("exempt", "exempt"))
    for _ in range(60):  # demand far over its nominal seats
        busy.queues.start(0, flow_metrics("workload-high", "kube-scheduler"))
    now[0] += BORROWING_ADJUSTMENT_SECONDS
    apf.adjust_limits()
    assert busy.nominal == 13 and busy.lower == 6
    assert busy.queues.limit >= busy.nominal
    # What the idle levels lend is shared between the two by their demand.
    assert busy.queues.limit < apf.nominal_sum - sum(
        level.lower for name, level in apf.levels.items() if name not in ("workload-high", "exempt")
    )
