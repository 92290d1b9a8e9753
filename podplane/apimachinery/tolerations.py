"""Whether a toleration tolerates a taint (kubernetes pkg/apis/core/v1 Toleration.ToleratesTaint),
shared by the scheduler's TaintToleration plugin, the controller-manager's NoExecute eviction and
the DaemonSet controller's choice of nodes."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from podplane.api.core.v1 import core_pb2


def tolerates(toleration: core_pb2.Toleration, key: str, value: str, effect: str) -> bool:
    """An empty effect or key in the toleration matches any; operator "" means Equal."""
    if toleration.effect and toleration.effect != effect:
        return False
    if toleration.key and toleration.key != key:
        return False
    if toleration.operator in ("", "Equal"):
        return bool(toleration.value == value)
    return bool(toleration.operator == "Exists")


def first_untolerated(
    taints: Iterable[core_pb2.Taint],
    tolerations: Iterable[core_pb2.Toleration],
    effects: Collection[str],
) -> core_pb2.Taint | None:
    """The first taint with one of `effects` that no toleration tolerates, or None
    (v1helper.FindMatchingUntoleratedTaint with an effect filter)."""
    tolerations = list(tolerations)
    for taint in taints:
        if taint.effect in effects and not any(
            tolerates(t, taint.key, taint.value, taint.effect) for t in tolerations
        ):
            return taint
    return None
