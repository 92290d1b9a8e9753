"""What the local-path provisioner makes: a volume for a claim, a directory of the node the
scheduler chose, and the helper pod that removes the directory (rancher/local-path-provisioner's
provisioner.go and its helper pod)."""

from __future__ import annotations

import posixpath

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.volume import constants as c

DEFAULT_PROVISIONER = "rancher.io/local-path"
DEFAULT_BASE_DIR = "/var/local-path-provisioner"
DEFAULT_HELPER_IMAGE = "busybox"
# A class parameter that overrides the base directory for its volumes.
NODE_PATH_PARAMETER = "nodePath"
HOSTNAME_LABEL = "kubernetes.io/hostname"
SUPPORTED_ACCESS_MODES = (c.READ_WRITE_ONCE, c.READ_WRITE_ONCE_POD)
# Pod names are DNS labels of at most 63 characters.
MAX_NAME = 63


def volume_name(claim: core_pb2.PersistentVolumeClaim) -> str:
    """pvc-<claim uid>, as every external provisioner names its volumes."""
    return f"pvc-{claim.metadata.uid}"


def volume_dir(base_dir: str, claim: core_pb2.PersistentVolumeClaim) -> str:
    """<base>/pvc-<uid>_<namespace>_<name>."""
    meta = claim.metadata
    return posixpath.join(base_dir, f"{volume_name(claim)}_{meta.namespace}_{meta.name}")


def new_volume(
    claim: core_pb2.PersistentVolumeClaim,
    storage_class: storage_pb2.StorageClass,
    node: str,
    path: str,
    provisioner: str,
) -> core_pb2.PersistentVolume:
    """A volume bound to the claim (claimRef with its uid), of the claim's class, size and access
    modes, reachable from `node` only, its directory made by the kubelet on first mount."""
    meta = claim.metadata
    pv = core_pb2.PersistentVolume(
        metadata=meta_pb2.ObjectMeta(
            name=volume_name(claim),
            annotations={c.ANN_DYNAMICALLY_PROVISIONED: provisioner},
        )
    )
    spec = pv.spec
    spec.claim_ref.CopyFrom(
        core_pb2.ObjectReference(
            kind="PersistentVolumeClaim",
            api_version="v1",
            namespace=meta.namespace,
            name=meta.name,
            uid=meta.uid,
            resource_version=meta.resource_version,
        )
    )
    spec.persistent_volume_reclaim_policy = (
        storage_class.reclaim_policy
        if storage_class.HasField("reclaim_policy")
        else c.RECLAIM_DELETE
    )
    spec.storage_class_name = storage_class.metadata.name
    spec.access_modes.extend(claim.spec.access_modes)
    spec.volume_mode = c.FILESYSTEM
    spec.capacity[c.STORAGE] = claim.spec.resources.requests[c.STORAGE]
    spec.mount_options.extend(storage_class.mount_options)
    spec.host_path.path = path
    spec.host_path.type = "DirectoryOrCreate"
    term = spec.node_affinity.required.node_selector_terms.add()
    term.match_expressions.add(key=HOSTNAME_LABEL, operator="In", values=[node])
    return pv


def volume_node(pv: core_pb2.PersistentVolume) -> str | None:
    """The node a volume this provisioner made lives on (its node affinity's hostname)."""
    for term in pv.spec.node_affinity.required.node_selector_terms:
        for req in term.match_expressions:
            if req.key == HOSTNAME_LABEL and req.operator == "In" and len(req.values) == 1:
                return str(req.values[0])
    return None


def volume_path(pv: core_pb2.PersistentVolume) -> str:
    if pv.spec.HasField("host_path"):
        return str(pv.spec.host_path.path)
    return str(pv.spec.local.path)


def helper_pod_name(pv: core_pb2.PersistentVolume) -> str:
    return f"helper-pod-delete-{pv.metadata.name}"[:MAX_NAME].rstrip("-")


def delete_helper_pod(
    pv: core_pb2.PersistentVolume, node: str, namespace: str, image: str
) -> core_pb2.Pod:
    """A pod on the volume's node that removes its directory: the parent directory mounted from
    the node, `rm -rf` of the volume's own (rancher's teardown script)."""
    path = volume_path(pv)
    parent = posixpath.dirname(path.rstrip("/")) or "/"
    pod = core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(
            name=helper_pod_name(pv),
            namespace=namespace,
            labels={
                "app": "local-path-provisioner",
                "local-path-provisioner/volume": pv.metadata.name,
            },
        )
    )
    spec = pod.spec
    spec.node_name = node
    spec.restart_policy = "Never"
    spec.termination_grace_period_seconds = 0
    spec.tolerations.add(operator="Exists")
    spec.volumes.add(
        name="data", host_path=core_pb2.HostPathVolumeSource(path=parent, type="DirectoryOrCreate")
    )
    container = spec.containers.add(
        name="helper-pod",
        image=image,
        image_pull_policy="IfNotPresent",
        command=["sh", "-c", 'rm -rf "$VOL_DIR"'],
    )
    container.env.add(name="VOL_DIR", value=path)
    container.volume_mounts.add(name="data", mount_path=parent)
    return pod


def default_class(name: str, provisioner: str) -> storage_pb2.StorageClass:
    """The cluster's default class, as kind's manifest makes it: WaitForFirstConsumer, so that a
    volume is made on the node of the first pod that uses it."""
    return storage_pb2.StorageClass(
        metadata=meta_pb2.ObjectMeta(name=name, annotations={c.ANN_DEFAULT_STORAGE_CLASS: "true"}),
        provisioner=provisioner,
        reclaim_policy=c.RECLAIM_DELETE,
        volume_binding_mode=c.WAIT_FOR_FIRST_CONSUMER,
    )
