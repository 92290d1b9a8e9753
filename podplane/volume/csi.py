"""storage.k8s.io/v1's CSI enumerations (k8s.io/api/storage/v1): a CSIDriver's volume lifecycle
modes and fsGroup policies, in the order Kubernetes lists them in its "supported values"."""

from __future__ import annotations

LIFECYCLE_PERSISTENT = "Persistent"
LIFECYCLE_EPHEMERAL = "Ephemeral"
LIFECYCLE_MODES = (LIFECYCLE_PERSISTENT, LIFECYCLE_EPHEMERAL)

FS_GROUP_READ_WRITE_ONCE_WITH_FS_TYPE = "ReadWriteOnceWithFSType"
FS_GROUP_FILE = "File"
FS_GROUP_NONE = "None"
# Sorted, as sets.NewString(...).List() gives them.
FS_GROUP_POLICIES = (FS_GROUP_FILE, FS_GROUP_NONE, FS_GROUP_READ_WRITE_ONCE_WITH_FS_TYPE)
