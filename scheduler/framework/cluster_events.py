"""The cluster events the scheduler tells its queue about, by the names plugins register for
(kubernetes framework.ClusterEvent: a resource and an action). Events that free room or add nodes
retry every unschedulable pod; the others retry only the pods rejected by a plugin that registered
for them, so that the steady stream of pods being bound wakes up nothing but pods waiting on
inter-pod affinity or topology spread."""

from __future__ import annotations

# A pod was bound to a node (or is seen bound for the first time).
ASSIGNED_POD_ADD = "AssignedPodAdd"
# A bound pod's labels changed.
ASSIGNED_POD_UPDATE = "AssignedPodUpdate"
# A bound pod was deleted or finished: its resources, ports and place in a domain are free.
ASSIGNED_POD_DELETE = "AssignedPodDelete"
NODE_ADD = "NodeAdd"
# A node's labels, taints, conditions, allocatable or unschedulable flag changed.
NODE_UPDATE = "NodeUpdate"
NODE_DELETE = "NodeDelete"
# The storage objects VolumeBinding reads: a claim bound or annotated, a volume made or
# released, a class added.
PVC_ADD = "PersistentVolumeClaimAdd"
PVC_UPDATE = "PersistentVolumeClaimUpdate"
PV_ADD = "PersistentVolumeAdd"
PV_UPDATE = "PersistentVolumeUpdate"
STORAGE_CLASS_ADD = "StorageClassAdd"
STORAGE_CLASS_UPDATE = "StorageClassUpdate"


def of(kind: str, action: str) -> str:
    """The event of a kind's object being added, updated or deleted ("Add", "Update",
    "Delete"): PersistentVolumeClaimAdd."""
    return f"{kind}{action}"
