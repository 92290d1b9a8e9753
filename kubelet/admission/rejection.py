"""Why the node refuses a pod (lifecycle.PodAdmitResult): the pod's status reason and the
message after "Pod was rejected: "."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rejection:
    # The pod's status reason and the event's: OutOfcpu, SysctlForbidden, AppArmor, ...
    reason: str
    # Node didn't have enough resource: cpu, requested: 600, used: 800, capacity: 1000
    message: str
