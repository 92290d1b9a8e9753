"""PriorityClass defaults (kubernetes pkg/apis/scheduling/v1 defaults.go)."""

from __future__ import annotations

from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import priority


def priority_class(obj: scheduling_pb2.PriorityClass) -> None:
    """A class that does not say whether its pods preempt lower ones does."""
    if not obj.HasField("preemption_policy"):
        obj.preemption_policy = priority.PREEMPT_LOWER_PRIORITY
