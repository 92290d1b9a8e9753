"""The small parts of API Priority and Fairness: shuffle sharding deals each flow the same hand of
distinct queues; the seat allocation honours targets and bounds and adds up; the retry hint backs
off like TCP while a level keeps rejecting and comes down when it stops."""

from __future__ import annotations

import pytest

from apiserver.flowcontrol.allocation import AllocationItem, allocate
from apiserver.flowcontrol.dropped_requests import MAX_RETRY_AFTER, DroppedRequests
from apiserver.flowcontrol.shufflesharding import Dealer, hash_flow


def test_a_hand_is_distinct_queues_the_same_for_the_same_flow() -> None:
    dealer = Dealer(128, 6)
    for i in range(200):
        hand = dealer.deal(hash_flow("global-default", f"user-{i}"))
        assert len(set(hand)) == 6 and all(0 <= q < 128 for q in hand)
        assert hand == dealer.deal(hash_flow("global-default", f"user-{i}"))


def test_hands_spread_over_the_deck() -> None:
    dealer = Dealer(64, 6)
    seen = {q for i in range(300) for q in dealer.deal(hash_flow("s", str(i)))}
    assert seen == set(range(64))


@pytest.mark.parametrize(
    "deck, hand", [(0, 1), (4, 5), (1 << 20, 15)], ids=["empty", "hand>deck", "too-much-entropy"]
)
def test_impossible_deals_are_refused(deck: int, hand: int) -> None:
    with pytest.raises(ValueError):
        Dealer(deck, hand)


def test_allocation_in_proportion_when_no_bound_binds() -> None:
    items = [AllocationItem(0, 100, 10), AllocationItem(0, 100, 30)]
    allocations, fair = allocate(20, items)
    assert allocations == pytest.approx([5, 15])
    assert fair == pytest.approx(0.5)


def test_allocation_clamps_to_bounds_and_adds_up() -> None:
    items = [
        AllocationItem(7, 7, 7),  # lends and borrows nothing
        AllocationItem(6, 212, 6),  # idle, may lend most
        AllocationItem(12, 175, 400),  # busy
    ]
    allocations, _ = allocate(155, items)
    assert allocations[0] == 7 and allocations[1] == pytest.approx(6)
    assert sum(allocations) == pytest.approx(155)


def test_allocation_refuses_impossible_bounds() -> None:
    with pytest.raises(ValueError):
        allocate(10, [AllocationItem(20, 30, 20)])


def test_retry_hint_doubles_under_sustained_rejections_and_comes_back_down() -> None:
    dropped = DroppedRequests()
    second = 100
    hints = []
    for _ in range(40):  # 50 rejections a second
        for _ in range(50):
            dropped.record("workload-high", second)
        hints.append(dropped.retry_after("workload-high"))
        second += 1
    assert hints[0] == 1
    assert max(hints) == MAX_RETRY_AFTER
    assert hints == sorted(hints)
    for _ in range(40):  # then one rejection every few seconds
        dropped.record("workload-high", second)
        second += 3
    assert dropped.retry_after("workload-high") < MAX_RETRY_AFTER / 2
    assert dropped.retry_after("leader-election") == 1  # per level
