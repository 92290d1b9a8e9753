"""What the controller remembers of each autoscaler between syncs, in memory as Kubernetes
does (HorizontalController.recommendations, scaleUpEvents, scaleDownEvents): its recent
unstabilized recommendations, for the stabilization windows, and its recent scale-ups and
scale-downs, for the scaling policies' periods. Lists reuse an expired slot rather than grow."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.podautoscaler.rules import Behavior, longest_policy_period


@dataclass
class Recommendation:
    replicas: int
    timestamp: float


@dataclass
class ScaleEvent:
    replica_change: int  # its size, never negative
    timestamp: float
    outdated: bool = False


@dataclass
class ScalingHistory:
    recommendations: dict[str, list[Recommendation]] = field(default_factory=dict)
    scale_up_events: dict[str, list[ScaleEvent]] = field(default_factory=dict)
    scale_down_events: dict[str, list[ScaleEvent]] = field(default_factory=dict)

    def forget(self, key: str) -> None:
        """The autoscaler is gone."""
        self.recommendations.pop(key, None)
        self.scale_up_events.pop(key, None)
        self.scale_down_events.pop(key, None)

    def record_initial_recommendation(self, key: str, current_replicas: int, now: float) -> None:
        """recordInitialRecommendation: a new autoscaler starts from the target's size."""
        if not self.recommendations.get(key):
            self.recommendations[key] = [Recommendation(current_replicas, now)]

    def store_scale_event(
        self, behavior: Behavior | None, key: str, prev: int, new: int, now: float
    ) -> None:
        """storeScaleEvent: only an autoscaler with a behavior reads its scale events. The
        events older than the direction's longest policy period are marked outdated, and the
        new one takes the last outdated slot."""
        if behavior is None:
            return
        if new > prev:
            events = self.scale_up_events.setdefault(key, [])
            period = longest_policy_period(behavior.scale_up) if behavior.scale_up else 0
        else:
            events = self.scale_down_events.setdefault(key, [])
            period = longest_policy_period(behavior.scale_down) if behavior.scale_down else 0
        mark_outdated(events, period, now)
        event = ScaleEvent(abs(new - prev), now)
        slot = next((i for i in reversed(range(len(events))) if events[i].outdated), None)
        if slot is None:
            events.append(event)
        else:
            events[slot] = event


def mark_outdated(events: list[ScaleEvent], longest_period: int, now: float) -> None:
    cutoff = now - longest_period
    for event in events:
        if event.timestamp < cutoff:
            event.outdated = True


def replicas_change_per_period(period_seconds: int, events: list[ScaleEvent], now: float) -> int:
    """getReplicasChangePerPeriod: the replicas added (or removed) in the last period."""
    cutoff = now - period_seconds
    return sum(e.replica_change for e in events if e.timestamp > cutoff)
