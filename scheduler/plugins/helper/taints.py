"""Whether tolerations tolerate taints (kubernetes pkg/apis/core/v1/helper ToleratesTaint,
FindMatchingUntoleratedTaint)."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import tolerations as _tolerations
from podplane.apimachinery.tolerations import tolerates

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
# The effects the filter enforces; PreferNoSchedule only lowers a node's score.
DO_NOT_SCHEDULE = frozenset({NO_SCHEDULE, NO_EXECUTE})
__all__ = ["first_untolerated", "tolerated", "tolerates"]


def tolerated(
    tolerations: Iterable[core_pb2.Toleration], key: str, value: str = "", effect: str = NO_SCHEDULE
) -> bool:
    return any(tolerates(t, key, value, effect) for t in tolerations)


def first_untolerated(
    taints: Iterable[core_pb2.Taint],
    tolerations: Iterable[core_pb2.Toleration],
    effects: frozenset[str] = DO_NOT_SCHEDULE,
) -> core_pb2.Taint | None:
    """The first taint with one of `effects` that no toleration tolerates, or None."""
    return _tolerations.first_untolerated(taints, tolerations, effects)
