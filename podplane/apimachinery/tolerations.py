"""Whether a toleration tolerates a taint (kubernetes pkg/apis/core/v1 Toleration.ToleratesTaint),
shared by the scheduler's TaintToleration plugin and the controller-manager's NoExecute eviction."""

from __future__ import annotations

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
