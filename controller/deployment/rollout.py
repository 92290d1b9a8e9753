"""The arithmetic of a Deployment's rollout (kubernetes pkg/controller/deployment/util/
deployment_util.go, rolling.go, sync.go): maxSurge and maxUnavailable resolved against replicas,
how far the new ReplicaSet may grow and the old ones shrink in one step, and proportional scaling
when the Deployment's replicas change. Pure functions over cached objects; the controller applies
what they decide."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from podplane.api.apps.v1 import apps_pb2

DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"

_PERCENT = re.compile(r"^([0-9]+)%$")


# ---------------------------------------------------------------- maxSurge, maxUnavailable


def scaled_value(value: str, total: int, round_up: bool) -> int:
    """An int-or-percent against `total` (GetScaledValueFromIntOrPercent): "2" is 2; "25%" of 10
    is 3 rounded up, 2 rounded down."""
    if re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    m = _PERCENT.match(value)
    if not m:
        raise ValueError(
            f"invalid value for IntOrString: invalid value {value!r}: must be an "
            "integer or percentage (e.g. '5%')"
        )
    scaled = int(m.group(1)) * total
    return -(-scaled // 100) if round_up else scaled // 100


def resolve_fenceposts(max_surge: str, max_unavailable: str, desired: int) -> tuple[int, int]:
    """(surge, unavailable): surge rounds up, unavailable down; both 0 would deadlock a rollout,
    so unavailable becomes 1."""
    surge = scaled_value(max_surge or "0", desired, True)
    unavailable = scaled_value(max_unavailable or "0", desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def desired_replicas(d: apps_pb2.Deployment) -> int:
    return int(d.spec.replicas)


def is_rolling_update(d: apps_pb2.Deployment) -> bool:
    return bool(d.spec.strategy.type == "RollingUpdate")


def max_surge(d: apps_pb2.Deployment) -> int:
    if not is_rolling_update(d):
        return 0
    rolling = d.spec.strategy.rolling_update
    return resolve_fenceposts(rolling.max_surge, rolling.max_unavailable, desired_replicas(d))[0]


def max_unavailable(d: apps_pb2.Deployment) -> int:
    replicas = desired_replicas(d)
    if not is_rolling_update(d) or replicas == 0:
        return 0
    rolling = d.spec.strategy.rolling_update
    unavailable = resolve_fenceposts(rolling.max_surge, rolling.max_unavailable, replicas)[1]
    return min(unavailable, replicas)


def min_available(d: apps_pb2.Deployment) -> int:
    return desired_replicas(d) - max_unavailable(d)


# ---------------------------------------------------------------- counting replica sets


def size(rs: apps_pb2.ReplicaSet) -> int:
    return int(rs.spec.replicas)


def total_size(rss: Iterable[apps_pb2.ReplicaSet | None]) -> int:
    return sum(size(rs) for rs in rss if rs is not None)


def total_status(rss: Iterable[apps_pb2.ReplicaSet | None], field: str) -> int:
    return sum(int(getattr(rs.status, field)) for rs in rss if rs is not None)


def active(rss: Iterable[apps_pb2.ReplicaSet | None]) -> list[apps_pb2.ReplicaSet]:
    """The replica sets that want pods (FilterActiveReplicaSets)."""
    return [rs for rs in rss if rs is not None and size(rs) > 0]


def by_creation(rss: Iterable[apps_pb2.ReplicaSet]) -> list[apps_pb2.ReplicaSet]:
    """Oldest first, ties by name (ReplicaSetsByCreationTimestamp)."""
    return sorted(rss, key=lambda rs: (rs.metadata.creation_timestamp, rs.metadata.name))


# ---------------------------------------------------------------- one rolling step


def new_rs_new_replicas(
    d: apps_pb2.Deployment, all_rss: Sequence[apps_pb2.ReplicaSet], new_rs: apps_pb2.ReplicaSet
) -> int:
    """How big the new replica set may be now (NewRSNewReplicas): under RollingUpdate, as big as
    keeps every replica set's pods within replicas + maxSurge; under Recreate, replicas."""
    replicas = desired_replicas(d)
    if not is_rolling_update(d):
        return replicas
    current = total_size(all_rss)
    most = replicas + max_surge(d)
    if current >= most:
        return size(new_rs)
    return size(new_rs) + min(most - current, replicas - size(new_rs))


def old_rs_sizes(
    d: apps_pb2.Deployment,
    new_rs: apps_pb2.ReplicaSet | None,
    old_rss: Sequence[apps_pb2.ReplicaSet],
) -> dict[str, int]:
    """How small the old replica sets may become now (reconcileOldReplicaSets): first the pods
    that are not available anyway (cleanupUnhealthyReplicas), then available ones as long as
    replicas - maxUnavailable pods stay available (scaleDownOldReplicaSetsForRollingUpdate).
    Returns the new sizes of those that shrink, by name.

    A replica set's availability counts at most its size: its status may not show yet that it
    was just scaled down, and counting the pods it is deleting as available would let a second
    step take away pods the first already did (Kubernetes counts status.availableReplicas)."""
    old_rss = active(old_rss)
    if not old_rss:
        return {}
    sizes = {rs.metadata.name: size(rs) for rs in old_rss}

    def available(rs: apps_pb2.ReplicaSet) -> int:
        return min(int(rs.status.available_replicas), sizes.get(rs.metadata.name, size(rs)))

    new_available = available(new_rs) if new_rs is not None else 0
    new_unavailable = size(new_rs) - new_available if new_rs is not None else 0
    budget = total_size([*old_rss, new_rs]) - min_available(d) - new_unavailable
    if budget <= 0:
        return {}

    cleaned = 0
    for rs in by_creation(old_rss):
        name = rs.metadata.name
        if cleaned >= budget:
            break
        unhealthy = sizes[name] - available(rs)
        if sizes[name] == 0 or unhealthy <= 0:
            continue
        step = min(budget - cleaned, unhealthy)
        sizes[name] -= step
        cleaned += step

    excess = sum(available(rs) for rs in old_rss) + new_available - min_available(d)
    for rs in by_creation(old_rss):
        name = rs.metadata.name
        if excess <= 0:
            break
        step = min(sizes[name], excess)
        sizes[name] -= step
        excess -= step
    return {
        rs.metadata.name: sizes[rs.metadata.name]
        for rs in old_rss
        if sizes[rs.metadata.name] != size(rs)
    }


# ---------------------------------------------------------------- scaling (replicas changed)


def replicas_annotation(rs: apps_pb2.ReplicaSet, name: str) -> int | None:
    try:
        return int(rs.metadata.annotations[name])
    except (KeyError, ValueError):
        return None


def replicas_annotations_need_update(rs: apps_pb2.ReplicaSet, d: apps_pb2.Deployment) -> bool:
    annotations = rs.metadata.annotations
    return bool(
        annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(desired_replicas(d))
        or annotations.get(MAX_REPLICAS_ANNOTATION) != str(desired_replicas(d) + max_surge(d))
    )


def set_replicas_annotations(rs: apps_pb2.ReplicaSet, d: apps_pb2.Deployment) -> bool:
    changed = replicas_annotations_need_update(rs, d)
    rs.metadata.annotations[DESIRED_REPLICAS_ANNOTATION] = str(desired_replicas(d))
    rs.metadata.annotations[MAX_REPLICAS_ANNOTATION] = str(desired_replicas(d) + max_surge(d))
    return changed


def is_scaling_event(d: apps_pb2.Deployment, rss: Iterable[apps_pb2.ReplicaSet | None]) -> bool:
    """The deployment's replicas changed since its active replica sets were last sized."""
    for rs in active(rss):
        desired = replicas_annotation(rs, DESIRED_REPLICAS_ANNOTATION)
        if desired is not None and desired != desired_replicas(d):
            return True
    return False


def is_saturated(d: apps_pb2.Deployment, rs: apps_pb2.ReplicaSet | None) -> bool:
    """The replica set is the whole deployment: sized, annotated and all available."""
    if rs is None:
        return False
    replicas = desired_replicas(d)
    return (
        size(rs) == replicas
        and replicas_annotation(rs, DESIRED_REPLICAS_ANNOTATION) == replicas
        and rs.status.available_replicas == replicas
    )


def find_active_or_latest(
    new_rs: apps_pb2.ReplicaSet | None, old_rss: Sequence[apps_pb2.ReplicaSet]
) -> apps_pb2.ReplicaSet | None:
    """The one replica set to give all replicas when at most one is active; None otherwise."""
    if new_rs is None and not old_rss:
        return None
    newest_first = by_creation(old_rss)[::-1]
    running = active([*newest_first, new_rs])
    if not running:
        return new_rs if new_rs is not None else newest_first[0]
    return running[0] if len(running) == 1 else None


def _go_round(x: float) -> int:
    """math.Round: halves away from zero."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def proportion(rs: apps_pb2.ReplicaSet, d: apps_pb2.Deployment, to_add: int, added: int) -> int:
    """The replica set's share of `to_add` (GetProportion), from its size relative to the
    deployment's size before the change (its max-replicas annotation)."""
    if size(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    if desired_replicas(d) == 0:
        fraction = -size(rs)
    else:
        most = desired_replicas(d) + max_surge(d)
        before = replicas_annotation(rs, MAX_REPLICAS_ANNOTATION) or int(d.status.replicas)
        fraction = _go_round(size(rs) * most / before) - size(rs) if before else 0
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def scale_sizes(
    d: apps_pb2.Deployment,
    new_rs: apps_pb2.ReplicaSet | None,
    old_rss: Sequence[apps_pb2.ReplicaSet],
) -> dict[str, int]:
    """New sizes after the deployment's replicas changed (the controller's scale()): all to the
    one active replica set; old ones to 0 when the new one is saturated; otherwise the change
    spread over the active ones in proportion to their sizes, the rest to the largest."""
    if (only := find_active_or_latest(new_rs, old_rss)) is not None:
        return {only.metadata.name: desired_replicas(d)}
    if is_saturated(d, new_rs):
        return {rs.metadata.name: 0 for rs in active(old_rss)}
    if not is_rolling_update(d):
        return {}
    rss = active([*old_rss, new_rs])
    allowed = desired_replicas(d) + max_surge(d) if desired_replicas(d) > 0 else 0
    to_add = allowed - total_size(rss)
    # Largest first; among equals, newer first when growing and older first when shrinking.
    rss = by_creation(rss)
    if to_add > 0:
        rss = sorted(rss[::-1], key=lambda rs: -size(rs))
    elif to_add < 0:
        rss = sorted(rss, key=lambda rs: -size(rs))
    sizes: dict[str, int] = {}
    added = 0
    for rs in rss:
        share = proportion(rs, d, to_add, added) if to_add else 0
        sizes[rs.metadata.name] = size(rs) + share
        added += share
    if rss and to_add:
        first = rss[0].metadata.name
        sizes[first] = max(0, sizes[first] + to_add - added)
    return sizes
