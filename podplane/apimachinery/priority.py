"""Pod priority's constants and the system priority classes (kubernetes pkg/apis/scheduling's
types.go and scheduling/v1/helpers.go): what the apiserver creates at start and protects, its
validation reserves, and the scheduler and kubelet read as "critical"."""

from __future__ import annotations

from podplane.api.meta.v1 import meta_pb2
from podplane.api.scheduling.v1 import scheduling_pb2

# The highest value a user's PriorityClass may have; above it, only the system classes.
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
# The start of the system-critical range (system-cluster-critical's value).
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
# A pod with no priorityClassName gets this when no class is the global default.
DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS = 0

SYSTEM_PRIORITY_CLASS_PREFIX = "system-"
SYSTEM_NODE_CRITICAL = "system-node-critical"
SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical"

PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"
PREEMPT_NEVER = "Never"
PREEMPTION_POLICIES = (PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER)

_SYSTEM_CLASSES = (
    (
        SYSTEM_NODE_CRITICAL,
        SYSTEM_CRITICAL_PRIORITY + 1000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        SYSTEM_CLUSTER_CRITICAL,
        SYSTEM_CRITICAL_PRIORITY,
        "Used for system critical pods that must run in the cluster, but can be moved to another "
        "node if necessary.",
    ),
)
SYSTEM_PRIORITY_CLASS_NAMES = tuple(name for name, _, _ in _SYSTEM_CLASSES)


def system_priority_classes() -> list[scheduling_pb2.PriorityClass]:
    """New copies of the classes every cluster has (neither is the global default)."""
    return [
        scheduling_pb2.PriorityClass(
            metadata=meta_pb2.ObjectMeta(name=name), value=value, description=description
        )
        for name, value, description in _SYSTEM_CLASSES
    ]


def known_system_class_mismatch(name: str, value: int, global_default: bool) -> str | None:
    """None if `name` is a system class with exactly this value and globalDefault, else why not
    (IsKnownSystemPriorityClass's error)."""
    for known in system_priority_classes():
        if known.metadata.name != name:
            continue
        if known.value != value:
            return f"value of {name} PriorityClass must be {known.value}"
        if known.global_default != global_default:
            wanted = "true" if known.global_default else "false"
            return f"globalDefault of {name} PriorityClass must be {wanted}"
        return None
    return f"{name} is not a known system priority class"
