"""Fair queuing for server requests (apiserver/flowcontrol/queueset.py), on a clock the test moves:
flows share a level's seats equally in seat-time, a flow that sends rarely is served ahead of a
flood, a flow's queues hold a bounded number of requests while other flows still get in, waiting
requests time out, and a level without queues rejects at its limit."""

from __future__ import annotations

from collections import Counter

import pytest

from apiserver.flowcontrol.configuration import Queuing
from apiserver.flowcontrol.metrics import flow_metrics
from apiserver.flowcontrol.queueset import (
    CONCURRENCY_LIMIT,
    EXECUTING,
    QUEUE_FULL,
    REJECTED,
    TIME_OUT,
    WAITING,
    QueueSet,
    Request,
)
from apiserver.flowcontrol.shufflesharding import Dealer, hash_flow

METRICS = flow_metrics("test-level", "test-schema")
QUEUING = Queuing(64, 6, 50)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def queue_set(limit: int, queuing: Queuing | None = QUEUING) -> tuple[QueueSet, Clock]:
    clock = Clock()
    return QueueSet("test-level", limit, queuing, clock), clock


def flow(name: str) -> int:
    return hash_flow("test-schema", name)


def disjoint_flows(queuing: Queuing, count: int) -> list[str]:
    """Flow names whose hands share no queue, so that the test does not hinge on the hash."""
    dealer = Dealer(queuing.queues, queuing.hand_size)
    names: list[str] = []
    used: set[int] = set()
    i = 0
    while len(names) < count:
        hand = set(dealer.deal(flow(f"flow-{i}")))
        if not hand & used:
            names.append(f"flow-{i}")
            used |= hand
        i += 1
    return names


def start(qs: QueueSet, name: str) -> Request:
    return qs.start(flow(name), METRICS, name)


def serve_in_turn(
    qs: QueueSet, clock: Clock, requests: list[Request], rounds: int, seconds: dict[str, float]
) -> list[str]:
    """`rounds` times, finishes the executing request (of `requests`, every one the test
    started) that started first, after its flow's service time; returns the flows of the
    requests dispatched meanwhile, in order."""
    order: list[str] = []
    for _ in range(rounds):
        executing = [r for r in requests if r.state == EXECUTING]
        done = min(executing, key=lambda r: r.start_time)
        clock.now = max(clock.now, done.start_time + seconds[done.flow])
        qs.finish(done)
        order += [r.flow for r in requests if r.state == EXECUTING and r not in executing]
    return order


def test_two_busy_flows_take_turns() -> None:
    queuing = QUEUING
    a, b = disjoint_flows(queuing, 2)
    qs, clock = queue_set(limit=2, queuing=queuing)
    requests = [start(qs, a) for _ in range(20)] + [start(qs, b) for _ in range(20)]
    assert [r.flow for r in requests if r.state == EXECUTING] == [a, a]  # first, to free seats
    order = serve_in_turn(qs, clock, requests, 30, {a: 0.01, b: 0.01})
    counts = Counter(order)
    assert abs(counts[a] - counts[b]) <= 2, order


def test_shares_are_of_seat_time_not_of_requests() -> None:
    """A flow whose requests take 5x longer gets about a fifth as many dispatched, so that both
    hold the seats for as long."""
    queuing = QUEUING
    slow, fast = disjoint_flows(queuing, 2)
    qs, clock = queue_set(limit=1, queuing=queuing)
    requests = [start(qs, slow) for _ in range(50)] + [start(qs, fast) for _ in range(50)]
    order = serve_in_turn(qs, clock, requests, 60, {slow: 0.05, fast: 0.01})
    counts = Counter(order)
    seat_time = {slow: counts[slow] * 0.05, fast: counts[fast] * 0.01}
    assert counts[fast] > 3 * counts[slow], counts
    assert seat_time[slow] == pytest.approx(seat_time[fast], rel=0.35), seat_time


def test_a_flood_does_not_starve_a_flow_that_sends_rarely() -> None:
    queuing = QUEUING
    flood, lone = disjoint_flows(queuing, 2)
    qs, clock = queue_set(limit=2, queuing=queuing)
    requests = [start(qs, flood) for _ in range(200)]
    assert qs.waiting == 198
    serve_in_turn(qs, clock, requests, 10, {flood: 0.01, lone: 0.01})
    renewal = start(qs, lone)
    requests.append(renewal)
    assert renewal.state == WAITING  # every seat taken
    order = serve_in_turn(qs, clock, requests, 2, {flood: 0.01, lone: 0.01})
    assert lone in order  # the next seat or the one after, not after 190 of the flood's
    assert renewal.state == EXECUTING


def test_a_flow_fills_only_its_hand_of_queues_and_others_still_get_in() -> None:
    queuing = QUEUING
    flood, other = disjoint_flows(queuing, 2)
    qs, _ = queue_set(limit=4, queuing=queuing)
    requests = [start(qs, flood) for _ in range(4 + 6 * 50 + 10)]
    states = Counter(r.state for r in requests)
    assert states == {EXECUTING: 4, WAITING: 6 * 50, REJECTED: 10}
    assert {r.reason for r in requests if r.state == REJECTED} == {QUEUE_FULL}
    assert sum(1 for q in qs.queues if len(q.waiting) == 50) == 6
    assert start(qs, other).state == WAITING  # its own queues have room


def test_requests_are_queued_not_rejected_while_a_seat_is_free() -> None:
    """Kubernetes rejects only when both the seats and the queue are full."""
    queuing = Queuing(1, 1, 1)
    qs, _ = queue_set(limit=3, queuing=queuing)
    states = [start(qs, "a").state for _ in range(5)]
    assert states == [EXECUTING, EXECUTING, EXECUTING, WAITING, REJECTED]


def test_a_waiting_request_times_out_and_its_place_goes_to_the_next() -> None:
    qs, _ = queue_set(limit=1)
    first, second, third = (start(qs, "a") for _ in range(3))
    assert (first.state, second.state, third.state) == (EXECUTING, WAITING, WAITING)
    assert qs.time_out(second)
    assert (second.state, second.reason) == (REJECTED, TIME_OUT)
    assert not qs.time_out(second)  # decided once
    qs.finish(first)
    assert third.state == EXECUTING
    assert not qs.time_out(third)  # dispatched: not taken out
    assert (qs.waiting, qs.executing) == (0, 1)


def test_a_level_without_queues_rejects_at_its_limit() -> None:
    qs, _ = queue_set(limit=2, queuing=None)
    states = [start(qs, "a") for _ in range(3)]
    assert [r.state for r in states] == [EXECUTING, EXECUTING, REJECTED]
    assert states[2].reason == CONCURRENCY_LIMIT
    qs.finish(states[0])
    assert start(qs, "a").state == EXECUTING


def test_more_seats_dispatch_waiting_requests_at_once() -> None:
    qs, _ = queue_set(limit=1)
    requests = [start(qs, f"f{i}") for i in range(4)]
    assert sum(r.state == EXECUTING for r in requests) == 1
    qs.set_limit(3)
    assert sum(r.state == EXECUTING for r in requests) == 3


def test_the_exempt_level_executes_everything() -> None:
    clock = Clock()
    qs = QueueSet("exempt", 0, None, clock, exempt=True)
    assert all(qs.start(0, METRICS).state == EXECUTING for _ in range(100))


def test_seat_demand_is_integrated_over_time() -> None:
    qs, clock = queue_set(limit=1)
    qs.seat_demand.reset(clock.now)
    first = start(qs, "a")
    start(qs, "a")  # demand 2 from now
    clock.now += 10
    qs.finish(first)  # demand 1 from now
    clock.now += 10
    results = qs.seat_demand.reset(clock.now)
    assert results.average == pytest.approx(1.5)
    assert results.max == 2
    assert results.deviation == pytest.approx(0.5)
