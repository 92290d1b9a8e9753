"""Whether tolerations tolerate taints (kubernetes pkg/apis/core/v1/helper ToleratesTaint,
FindMatchingUntoleratedTaint)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
# The effects the filter enforces; PreferNoSchedule only lowers a node's score.
DO_NOT_SCHEDULE = frozenset({NO_SCHEDULE, NO_EXECUTE})


def tolerates(toleration: Any, key: str, value: str, effect: str) -> bool:
    """An empty effect or key in the toleration matches any; operator "" means Equal."""
    if toleration.effect and toleration.effect != effect:
        return False
    if toleration.key and toleration.key != key:
        return False
    if toleration.operator in ("", "Equal"):
        return bool(toleration.value == value)
    return bool(toleration.operator == "Exists")


def tolerated(tolerations: Iterable[Any], key: str, value: str = "",
              effect: str = NO_SCHEDULE) -> bool:
    return any(tolerates(t, key, value, effect) for t in tolerations)


def first_untolerated(taints: Iterable[Any], tolerations: Iterable[Any],
                      effects: frozenset[str] = DO_NOT_SCHEDULE) -> Any | None:
    """The first taint with one of `effects` that no toleration tolerates, or None."""
    tolerations = list(tolerations)
    for taint in taints:
        if taint.effect in effects and not tolerated(tolerations, taint.key, taint.value,
                                                     taint.effect):
            return taint
    return None
