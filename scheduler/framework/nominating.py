"""What a PostFilter answers besides its status: the node the pod is nominated to, where room is
being made for it (kubernetes framework.PostFilterResult and NominatingInfo)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from scheduler.framework.status import Status


class NominatingMode(enum.Enum):
    # Keep whatever the pod's status.nominatedNodeName says.
    NOOP = "Noop"
    # Nominate the pod to nominated_node_name; "" clears its nomination.
    OVERRIDE = "Override"


@dataclass(frozen=True)
class NominatingInfo:
    nominated_node_name: str = ""
    mode: NominatingMode = NominatingMode.NOOP

    @property
    def overrides(self) -> bool:
        return self.mode is NominatingMode.OVERRIDE


# What a scheduling error or a failed bind does to a nomination (kubernetes clearNominatedNode).
CLEAR_NOMINATED_NODE = NominatingInfo("", NominatingMode.OVERRIDE)


# The API writes a PostFilter's decision waits on (the victims' DisruptionTarget condition and
# deletion), run by the scheduler outside the scheduling cycle; answers their status.
PendingWrites = Callable[[], Awaitable[Status]]


@dataclass(frozen=True)
class PostFilterResult:
    nominating_info: NominatingInfo | None = None
    # The writes that make the room (kube-scheduler 1.31 makes them inside its scheduling cycle;
    # here the cycle never awaits, so the scheduler runs them in the background and keeps the
    # pod in flight until they are done, as 1.32's asynchronous preemption does).
    pending: PendingWrites | None = None

    @classmethod
    def nominated(cls, node_name: str, pending: PendingWrites | None = None) -> PostFilterResult:
        return cls(NominatingInfo(node_name, NominatingMode.OVERRIDE), pending)
