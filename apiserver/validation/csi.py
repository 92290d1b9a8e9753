"""CSIDriver, CSINode, CSIStorageCapacity and VolumeAttachment validation (kubernetes
pkg/apis/storage/validation at 1.31, with the strategies' options: a CSINode's node IDs may be
256 characters long, a v1 VolumeAttachment's attacher is a CSI driver name).

Kubernetes runs some checks twice (a VolumeAttachment's attacher is required by the spec's rule
and by the v1 one); its message lists each error once, and so do these lists."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.csi_sources import csi_driver_name
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import (
    Shown,
    immutable,
    label_selector,
    nonnegative,
    shown,
)
from apiserver.validation.meta import object_meta
from apiserver.validation.storage import persistent_volume_spec
from podplane.api.meta.v1 import meta_pb2
from podplane.api.storage.v1 import csi_pb2
from podplane.apimachinery import quantity
from podplane.volume import csi

MIN_TOKEN_SECONDS = 10 * 60
MAX_TOKEN_SECONDS = 1 << 32
MAX_NODE_ID = 256  # AllowLongNodeID, which the strategy sets since 1.22
MAX_ATTACHMENT_METADATA_BYTES = 256 * 1024
MAX_VOLUME_ERROR_MESSAGE = 1024
_ATTACH_SOURCE = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"


def _once(errs: list[FieldError]) -> list[FieldError]:
    seen: set[str] = set()
    out: list[FieldError] = []
    for e in errs:
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out


def _too_long(path: str, limit: int) -> FieldError:
    return fields.FieldError(path, "Too long", None, f"must have at most {limit} bytes")


# ---------------------------------------------------------------- CSIDriver


def _token_requests(path: str, requests: list[csi_pb2.TokenRequest]) -> list[FieldError]:
    errs: list[FieldError] = []
    audiences: set[str] = set()
    for i, request in enumerate(requests):
        p = f"{path}[{i}]"
        if request.audience in audiences:
            errs.append(fields.duplicate(f"{p}.audience", request.audience))
            continue
        audiences.add(request.audience)
        if not request.HasField("expiration_seconds"):
            continue
        seconds = request.expiration_seconds
        if seconds < MIN_TOKEN_SECONDS:
            errs.append(
                fields.invalid(
                    f"{p}.expirationSeconds",
                    seconds,
                    "may not specify a duration less than 10 minutes",
                )
            )
        if seconds > MAX_TOKEN_SECONDS:
            errs.append(
                fields.invalid(
                    f"{p}.expirationSeconds",
                    seconds,
                    "may not specify a duration larger than 2^32 seconds",
                )
            )
    return errs


def _csi_driver_spec(spec: csi_pb2.CSIDriverSpec) -> list[FieldError]:
    """validateCSIDriverSpec: Kubernetes names attachRequired's path attachedRequired."""
    errs: list[FieldError] = []
    for name, path in (
        ("attach_required", "spec.attachedRequired"),
        ("pod_info_on_mount", "spec.podInfoOnMount"),
        ("storage_capacity", "spec.storageCapacity"),
    ):
        if not spec.HasField(name):
            errs.append(fields.required(path))
    policy = spec.fs_group_policy
    if spec.HasField("fs_group_policy") and policy not in csi.FS_GROUP_POLICIES:
        errs.append(fields.unsupported("spec.fsGroupPolicy", policy, csi.FS_GROUP_POLICIES))
    errs += _token_requests("spec.tokenRequests", list(spec.token_requests))
    for mode in spec.volume_lifecycle_modes:
        if mode not in csi.LIFECYCLE_MODES:
            errs.append(fields.unsupported("spec.volumeLifecycleModes", mode, csi.LIFECYCLE_MODES))
    if not spec.HasField("se_linux_mount"):  # SELinuxMountReadWriteOncePod is on in 1.31
        errs.append(fields.required("spec.seLinuxMount"))
    return errs


def csi_driver(obj: csi_pb2.CSIDriver) -> list[FieldError]:
    """ValidateCSIDriver."""
    return object_meta(obj.metadata, namespaced=False) + _csi_driver_spec(obj.spec)


def csi_driver_update(new: csi_pb2.CSIDriver, old: csi_pb2.CSIDriver) -> list[FieldError]:
    """ValidateCSIDriverUpdate: attachRequired and volumeLifecycleModes are fixed at creation
    (podInfoOnMount, fsGroupPolicy, storageCapacity, tokenRequests, requiresRepublish and
    seLinuxMount may change since 1.29)."""
    errs = csi_driver(new)
    errs += immutable(
        "spec.attachedRequired",
        new.spec.attach_required if new.spec.HasField("attach_required") else None,
        old.spec.attach_required if old.spec.HasField("attach_required") else None,
    )
    modes = list(new.spec.volume_lifecycle_modes)
    if modes != list(old.spec.volume_lifecycle_modes):
        # As Go's %#v shows the slice.
        value = Shown("[]storage.VolumeLifecycleMode{" + ", ".join(f'"{m}"' for m in modes) + "}")
        errs.append(fields.invalid("spec.volumeLifecycleModes", value, "field is immutable"))
    return _once(errs)


# ---------------------------------------------------------------- CSINode


def _csi_node_driver(path: str, driver: csi_pb2.CSINodeDriver, names: set[str]) -> list[FieldError]:
    errs = csi_driver_name(f"{path}.name", driver.name)
    if not driver.node_id:
        errs.append(fields.required(f"{path}.nodeID"))
    if len(driver.node_id) > MAX_NODE_ID:
        errs.append(
            fields.invalid(
                f"{path}.nodeID", driver.node_id, f"must be {MAX_NODE_ID} characters or less"
            )
        )
    if driver.allocatable.HasField("count"):
        errs += nonnegative(f"{path}.allocatable.count", driver.allocatable.count)
    if driver.name in names:
        errs.append(fields.duplicate(f"{path}.name", driver.name))
    names.add(driver.name)
    keys: set[str] = set()
    # Kubernetes reports a topology key's problems at the driver's path, not the key's.
    for key in driver.topology_keys:
        if not key:
            errs.append(fields.required(path))
        if key in keys:
            errs.append(fields.duplicate(path, key))
        keys.add(key)
        errs += fields.qualified_name(path, key)
    return errs


def csi_node(obj: csi_pb2.CSINode) -> list[FieldError]:
    """ValidateCSINode (the node's name rule is a DNS subdomain's)."""
    errs = object_meta(obj.metadata, namespaced=False)
    names: set[str] = set()
    for i, driver in enumerate(obj.spec.drivers):
        errs += _csi_node_driver(f"spec.drivers[{i}]", driver, names)
    return errs


def csi_node_update(new: csi_pb2.CSINode, old: csi_pb2.CSINode) -> list[FieldError]:
    """ValidateCSINodeUpdate: drivers may come and go, but a registered driver's entry does not
    change."""
    errs = csi_node(new)
    for old_driver in old.spec.drivers:
        for new_driver in new.spec.drivers:
            if old_driver.name == new_driver.name:
                errs += immutable("spec.drivers", new_driver, old_driver)
    return errs


# ---------------------------------------------------------------- CSIStorageCapacity


def csi_storage_capacity(obj: csi_pb2.CSIStorageCapacity) -> list[FieldError]:
    """ValidateCSIStorageCapacity."""
    errs = object_meta(obj.metadata, namespaced=True)
    if obj.HasField("node_topology"):
        errs += label_selector("nodeTopology", obj.node_topology)
    errs += fields.dns1123_subdomain("storageClassName", obj.storage_class_name)
    if obj.HasField("capacity"):
        try:
            if quantity.parse(obj.capacity) < 0:
                errs.append(
                    fields.invalid(
                        "capacity",
                        quantity.canonical_text(obj.capacity),
                        "must be greater than or equal to 0",
                    )
                )
        except quantity.QuantityError as e:
            errs.append(fields.invalid("capacity", obj.capacity, str(e)))
    return errs


def _topology(obj: csi_pb2.CSIStorageCapacity) -> meta_pb2.LabelSelector | None:
    return obj.node_topology if obj.HasField("node_topology") else None


def csi_storage_capacity_update(
    new: csi_pb2.CSIStorageCapacity, old: csi_pb2.CSIStorageCapacity
) -> list[FieldError]:
    """ValidateCSIStorageCapacityUpdate: the inputs of the CSI GetCapacity call (the topology
    and the class) are fixed at creation."""
    errs = csi_storage_capacity(new)
    new_topology, old_topology = _topology(new), _topology(old)
    if new_topology != old_topology:
        value = shown(new_topology) if new_topology is not None else Shown("null")
        errs.append(fields.invalid("nodeTopology", value, "field is immutable"))
    if new.storage_class_name != old.storage_class_name:
        errs.append(
            fields.invalid("storageClassName", new.storage_class_name, "field is immutable")
        )
    return errs


# ---------------------------------------------------------------- VolumeAttachment


def _attachment_source(source: csi_pb2.VolumeAttachmentSource) -> list[FieldError]:
    inline, named = source.HasField("inline_volume_spec"), source.HasField("persistent_volume_name")
    if not inline and not named:
        return [fields.required("spec.source", _ATTACH_SOURCE)]
    if inline and named:
        return [fields.forbidden("spec.source", _ATTACH_SOURCE)]
    if named:
        if not source.persistent_volume_name:
            return [
                fields.required(
                    "spec.source.persistentVolumeName",
                    "must specify non empty persistentVolumeName",
                )
            ]
        return []
    return persistent_volume_spec(
        source.inline_volume_spec, "spec.source.inlineVolumeSpec", inline=True
    )


def _volume_error(path: str, error: csi_pb2.VolumeError) -> list[FieldError]:
    # Kubernetes names the metadata's limit, not the message's, in this error.
    if len(error.message.encode()) > MAX_VOLUME_ERROR_MESSAGE:
        return [_too_long(f"{path}.message", MAX_ATTACHMENT_METADATA_BYTES)]
    return []


def _attachment_status(status: csi_pb2.VolumeAttachmentStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    size = sum(len(k.encode()) + len(v.encode()) for k, v in status.attachment_metadata.items())
    if size > MAX_ATTACHMENT_METADATA_BYTES:
        errs.append(_too_long("status.attachmentMetadata", MAX_ATTACHMENT_METADATA_BYTES))
    if status.HasField("attach_error"):
        errs += _volume_error("status.attachError", status.attach_error)
    if status.HasField("detach_error"):
        errs += _volume_error("status.detachError", status.detach_error)
    return errs


def _volume_attachment(obj: csi_pb2.VolumeAttachment) -> list[FieldError]:
    """ValidateVolumeAttachment."""
    errs = object_meta(obj.metadata, namespaced=False)
    if not obj.spec.attacher:
        errs.append(fields.required("spec.attacher"))
    errs += _attachment_source(obj.spec.source)
    errs += fields.dns1123_subdomain("spec.nodeName", obj.spec.node_name)
    errs += _attachment_status(obj.status)
    return errs


def volume_attachment(obj: csi_pb2.VolumeAttachment) -> list[FieldError]:
    """ValidateVolumeAttachment and ValidateVolumeAttachmentV1 (on create): the attacher is a
    CSI driver's name, a named volume's name a DNS subdomain."""
    errs = _volume_attachment(obj)
    errs += csi_driver_name("spec.attacher", obj.spec.attacher)
    source = obj.spec.source
    if source.HasField("persistent_volume_name"):
        errs += fields.dns1123_subdomain(
            "spec.source.persistentVolumeName", source.persistent_volume_name
        )
    return _once(errs)


def volume_attachment_update(
    new: csi_pb2.VolumeAttachment, old: csi_pb2.VolumeAttachment
) -> list[FieldError]:
    """ValidateVolumeAttachmentUpdate: the spec is read-only (a status write keeps it)."""
    errs = _volume_attachment(new)
    if new.spec != old.spec:
        errs.append(fields.invalid("spec", shown(new.spec), "field is immutable"))
    return errs
