"""The names persistent volume components exchange through the API (Kubernetes' annotations,
finalizers and enumerations; k8s.io/component-helpers/storage/volume and k8s.io/api/core/v1)."""

from __future__ import annotations

# Claims: set by the PV controller once it has bound the claim (the scheduler and the kubelet
# take a claim as bound only with it).
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
# Claims and volumes: the binding was made by the controller, not asked for by the user.
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
# Volumes: the provisioner that made the volume (and deletes it).
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"
# Claims: the provisioner asked to make a volume for the claim (both spellings are set).
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
# Claims of WaitForFirstConsumer classes: the node the scheduler chose for the first pod using
# the claim, where the volume is to be provisioned.
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
# Storage classes: given to claims that name no class.
ANN_DEFAULT_STORAGE_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_DEFAULT_STORAGE_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
# Claims and volumes (before storageClassName existed): the class, as an annotation.
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"

# Finalizers the storage object in use protection adds: a claim used by a pod, and a bound
# volume, are not removed until they are no longer used.
PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection"

# A storage class whose volumes are made by hand, never provisioned.
NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"

READ_WRITE_ONCE = "ReadWriteOnce"
READ_ONLY_MANY = "ReadOnlyMany"
READ_WRITE_MANY = "ReadWriteMany"
READ_WRITE_ONCE_POD = "ReadWriteOncePod"
ACCESS_MODES = (READ_ONLY_MANY, READ_WRITE_MANY, READ_WRITE_ONCE, READ_WRITE_ONCE_POD)

RECLAIM_DELETE = "Delete"
RECLAIM_RECYCLE = "Recycle"
RECLAIM_RETAIN = "Retain"

FILESYSTEM = "Filesystem"
BLOCK = "Block"
VOLUME_MODES = (BLOCK, FILESYSTEM)

IMMEDIATE = "Immediate"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
VOLUME_BINDING_MODES = (IMMEDIATE, WAIT_FOR_FIRST_CONSUMER)

# Phases of a volume.
VOLUME_PENDING = "Pending"
VOLUME_AVAILABLE = "Available"
VOLUME_BOUND = "Bound"
VOLUME_RELEASED = "Released"
VOLUME_FAILED = "Failed"
# Phases of a claim.
CLAIM_PENDING = "Pending"
CLAIM_BOUND = "Bound"
CLAIM_LOST = "Lost"

STORAGE = "storage"
