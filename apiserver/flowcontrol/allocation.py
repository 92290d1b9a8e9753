"""Dividing the server's seats among the limited priority levels when they borrow from each other
(k8s.io/apiserver/pkg/util/flowcontrol/conc_alloc.go): each level gets its target times one common
"fair proportion", clamped to its bounds, with the proportion chosen so the seats add up to the
required sum."""

from __future__ import annotations

from dataclasses import dataclass

# A target below this counts as this, so that an idle level still has a proportion.
MIN_TARGET = 0.001
EPSILON = 1e-7


@dataclass(frozen=True)
class AllocationItem:
    lower_bound: float
    upper_bound: float
    target: float


def allocate(required: float, items: list[AllocationItem]) -> tuple[list[float], float]:
    """Per item, clamp(p * target, lower, upper), for the p at which they sum to `required`; and
    that p. Raises ValueError when the bounds cannot sum to `required`."""
    if required < 0:
        raise ValueError(f"negative sums are not supported: {required}")
    for i, item in enumerate(items):
        if item.lower_bound < 0 or item.upper_bound < item.lower_bound:
            raise ValueError(f"item {i}: bounds {item.lower_bound}..{item.upper_bound}")
        if item.target < item.lower_bound:
            raise ValueError(f"item {i}: target {item.target} below its lower bound")
    targets = [max(item.target, MIN_TARGET) for item in items]
    low = sum(item.lower_bound for item in items)
    high = sum(item.upper_bound for item in items)
    if low - required > EPSILON:
        raise ValueError(f"lower bounds sum to {low}, more than the required {required}")
    if required - high > EPSILON:
        raise ValueError(f"upper bounds sum to {high}, less than the required {required}")
    if not items or required == 0:
        return [0.0] * len(items), 0.0
    pairs = list(zip(items, targets, strict=True))
    if low - required > -EPSILON:  # no room: every level at its lower bound
        return [i.lower_bound for i in items], min(i.lower_bound / t for i, t in pairs)
    if required - high > -EPSILON:  # no room: every level at its upper bound
        return [i.upper_bound for i in items], max(i.upper_bound / t for i, t in pairs)

    def clamped(p: float) -> list[float]:
        return [min(item.upper_bound, max(item.lower_bound, p * t)) for item, t in pairs]

    # The sum is piecewise linear in p, bending only where some item meets a bound: find the
    # segment that reaches `required` and interpolate in it.
    bends = sorted({i.lower_bound / t for i, t in pairs} | {i.upper_bound / t for i, t in pairs})
    prev_p, prev_sum = 0.0, low
    for p in bends:
        total = sum(clamped(p))
        if total >= required:
            if total == prev_sum:
                return clamped(p), p
            fair = prev_p + (required - prev_sum) * (p - prev_p) / (total - prev_sum)
            return clamped(fair), fair
        prev_p, prev_sum = p, total
    raise AssertionError("the upper bounds sum past the required sum, so some bend reaches it")
