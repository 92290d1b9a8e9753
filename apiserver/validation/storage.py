"""PersistentVolume, PersistentVolumeClaim and StorageClass validation (kubernetes
pkg/apis/core/validation: ValidatePersistentVolume, ValidatePersistentVolumeClaim and their
updates; pkg/apis/storage/validation: ValidateStorageClass)."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from decimal import Decimal

from apiserver.validation import affinity, fields
from apiserver.validation.claim_data_source import data_sources
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable, label_selector, shown
from apiserver.validation.meta import object_meta
from apiserver.validation.persistent_volume_sources import persistent_volume_source, source_of
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import quantity
from podplane.volume import constants as c

RECLAIM_POLICIES = (c.RECLAIM_DELETE, c.RECLAIM_RECYCLE, c.RECLAIM_RETAIN)
CLASS_RECLAIM_POLICIES = (c.RECLAIM_DELETE, c.RECLAIM_RETAIN)
MAX_PARAMETERS = 512
MAX_PARAMETERS_BYTES = 256 * 1024
INLINE_FORBIDDEN = "may not be specified in the context of inline volumes"
SPEC_IMMUTABLE = (
    "spec is immutable after creation except resources.requests and "
    "volumeAttributesClassName for bound claims"
)


def _access_modes(path: str, modes: Sequence[str], detail: str = "") -> list[FieldError]:
    if not modes:
        return [fields.required(path, detail)]
    errs: list[FieldError] = []
    for mode in modes:
        if mode not in c.ACCESS_MODES:
            errs.append(fields.unsupported(path, mode, c.ACCESS_MODES))
    known = [m for m in modes if m in c.ACCESS_MODES]
    if c.READ_WRITE_ONCE_POD in known and any(m != c.READ_WRITE_ONCE_POD for m in known):
        errs.append(fields.forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def _positive_quantity(path: str, value: str) -> list[FieldError]:
    """validateBasicResource and ValidatePositiveQuantityValue."""
    try:
        q = quantity.parse(value)
    except quantity.QuantityError as e:
        return [fields.invalid(path, value, str(e))]
    if q <= 0:
        return [fields.invalid(path, value, "must be greater than zero")]
    return []


def _class_name(path: str, value: str) -> list[FieldError]:
    return fields.dns1123_subdomain(path, value) if value else []


def _volume_mode(
    path: str, spec: core_pb2.PersistentVolumeSpec | core_pb2.PersistentVolumeClaimSpec
) -> list[FieldError]:
    if spec.HasField("volume_mode") and spec.volume_mode not in c.VOLUME_MODES:
        return [fields.unsupported(path, spec.volume_mode, c.VOLUME_MODES)]
    return []


def _inline(spec: core_pb2.PersistentVolumeSpec, path: str) -> list[FieldError]:
    """What an inline spec (a VolumeAttachment's, translated from a pod's volume) may not have
    and must: no claim reference or capacity, a CSI source."""
    errs: list[FieldError] = []
    if spec.HasField("claim_ref"):
        errs.append(fields.forbidden(f"{path}.claimRef", INLINE_FORBIDDEN))
    if spec.capacity:
        errs.append(fields.forbidden(f"{path}.capacity", INLINE_FORBIDDEN))
    if not spec.HasField("csi"):
        errs.append(
            fields.required(f"{path}.csi", "has to be specified in the context of inline volumes")
        )
    return errs


def persistent_volume_spec(
    spec: core_pb2.PersistentVolumeSpec, path: str = "spec", name: str = "", inline: bool = False
) -> list[FieldError]:
    """ValidatePersistentVolumeSpec: a volume's, or (inline) a VolumeAttachment's."""
    errs = _inline(spec, path) if inline else []
    errs += _access_modes(f"{path}.accessModes", spec.access_modes)
    capacity = dict(spec.capacity)
    if not inline:
        if not capacity:
            errs.append(fields.required(f"{path}.capacity"))
        if c.STORAGE not in capacity or len(capacity) > 1:
            errs.append(fields.unsupported(f"{path}.capacity", shown(capacity), (c.STORAGE,)))
        for key, value in sorted(capacity.items()):
            errs += _positive_quantity(f"{path}.capacity[{key}]", value)
    policy = spec.persistent_volume_reclaim_policy
    if policy and policy not in RECLAIM_POLICIES:
        errs.append(
            fields.unsupported(f"{path}.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES)
        )
    affinity_set = spec.HasField("node_affinity")
    if affinity_set:
        p = f"{path}.nodeAffinity"
        if spec.node_affinity.HasField("required"):
            errs += affinity.node_selector(f"{p}.required", spec.node_affinity.required)
        else:
            errs.append(fields.required(f"{p}.required", "must specify required node constraints"))
    errs += persistent_volume_source(spec, path, name, affinity_set)
    if (
        spec.HasField("host_path")
        and posixpath.normpath(spec.host_path.path or ".") == "/"
        and policy == c.RECLAIM_RECYCLE
    ):
        errs.append(
            fields.forbidden(
                f"{path}.persistentVolumeReclaimPolicy",
                "may not be 'recycle' for a hostPath mount of '/'",
            )
        )
    errs += _class_name(f"{path}.storageClassName", spec.storage_class_name)
    errs += _volume_mode(f"{path}.volumeMode", spec)
    if spec.HasField("volume_attributes_class_name"):
        name = spec.volume_attributes_class_name
        if not name:
            errs.append(
                fields.required(
                    f"{path}.volumeAttributesClassName", "an empty string is disallowed"
                )
            )
        else:
            errs += _class_name(f"{path}.volumeAttributesClassName", name)
    return errs


def persistent_volume(obj: core_pb2.PersistentVolume) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=False) + persistent_volume_spec(
        obj.spec, name=obj.metadata.name
    )


def persistent_volume_update(
    new: core_pb2.PersistentVolume, old: core_pb2.PersistentVolume
) -> list[FieldError]:
    """ValidatePersistentVolumeUpdate: the volume's source, its mode and (once set) its node
    affinity do not change."""
    errs = persistent_volume(new)
    new_source, old_source = source_of(new.spec), source_of(old.spec)
    if (
        old_source.HasField("csi")
        and not old_source.csi.HasField("controller_expand_secret_ref")
        and new_source.HasField("csi")
    ):
        new_source.csi.ClearField("controller_expand_secret_ref")  # may be set once, later
    if new_source != old_source:
        errs.append(
            fields.forbidden(
                "spec.persistentvolumesource",
                "spec.persistentvolumesource is immutable after creation",
            )
        )
    errs += immutable(
        "volumeMode",
        new.spec.volume_mode if new.spec.HasField("volume_mode") else None,
        old.spec.volume_mode if old.spec.HasField("volume_mode") else None,
    )
    if old.spec.HasField("node_affinity") and new.spec.node_affinity != old.spec.node_affinity:
        errs.append(
            fields.invalid("nodeAffinity", shown(new.spec.node_affinity), "field is immutable")
        )
    if old.spec.HasField("volume_attributes_class_name") and not new.spec.HasField(
        "volume_attributes_class_name"
    ):
        errs.append(
            fields.forbidden(
                "spec.volumeAttributesClassName", "update from non-nil value to nil is forbidden"
            )
        )
    return errs


def persistent_volume_claim_spec(
    spec: core_pb2.PersistentVolumeClaimSpec, path: str = "spec"
) -> list[FieldError]:
    """ValidatePersistentVolumeClaimSpec."""
    errs = _access_modes(
        f"{path}.accessModes", spec.access_modes, "at least 1 access mode is required"
    )
    if spec.HasField("selector"):
        errs += label_selector(f"{path}.selector", spec.selector)
    requests = spec.resources.requests
    storage_path = f"{path}.resources[{c.STORAGE}]"
    if c.STORAGE not in requests:
        errs.append(fields.required(storage_path))
    else:
        errs += _positive_quantity(storage_path, requests[c.STORAGE])
    if spec.HasField("storage_class_name"):
        errs += _class_name(f"{path}.storageClassName", spec.storage_class_name)
    errs += _volume_mode(f"{path}.volumeMode", spec)
    errs += data_sources(spec, path)
    if spec.HasField("volume_attributes_class_name"):
        errs += _class_name(f"{path}.volumeAttributesClassName", spec.volume_attributes_class_name)
    return errs


def persistent_volume_claim(obj: core_pb2.PersistentVolumeClaim) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + persistent_volume_claim_spec(obj.spec)


def _storage(requests: Mapping[str, str]) -> Decimal | None:
    try:
        return quantity.parse(requests[c.STORAGE])
    except (KeyError, quantity.QuantityError):
        return None


def persistent_volume_claim_update(
    new: core_pb2.PersistentVolumeClaim, old: core_pb2.PersistentVolumeClaim
) -> list[FieldError]:
    """ValidatePersistentVolumeClaimUpdate: the spec is immutable but for volumeName (set once, by
    the binder), storageClassName (set once, from nil) and the storage request of a bound claim
    (which may only grow)."""
    errs = persistent_volume_claim(new)
    probe_new, probe_old = type(new.spec)(), type(old.spec)()
    probe_new.CopyFrom(new.spec)
    probe_old.CopyFrom(old.spec)
    if not old.spec.volume_name:
        probe_old.volume_name = probe_new.volume_name
    if not old.spec.HasField("storage_class_name") and new.spec.HasField("storage_class_name"):
        beta = old.metadata.annotations.get(c.ANN_BETA_STORAGE_CLASS)
        if beta is None or beta == new.spec.storage_class_name:
            probe_old.storage_class_name = probe_new.storage_class_name
    errs += immutable(
        f"metadata.annotations[{c.ANN_BETA_STORAGE_CLASS}]",
        new.metadata.annotations.get(c.ANN_BETA_STORAGE_CLASS, ""),
        old.metadata.annotations.get(c.ANN_BETA_STORAGE_CLASS, ""),
    )
    if new.status.phase == c.CLAIM_BOUND and c.STORAGE in probe_old.resources.requests:
        probe_new.resources.requests[c.STORAGE] = probe_old.resources.requests[c.STORAGE]
    if new.spec.HasField("volume_attributes_class_name") or old.spec.HasField(
        "volume_attributes_class_name"
    ):
        probe_new.ClearField("volume_attributes_class_name")
        probe_old.ClearField("volume_attributes_class_name")
    if probe_new != probe_old:
        errs.append(fields.forbidden("spec", SPEC_IMMUTABLE))
    new_size, old_size = (
        _storage(new.spec.resources.requests),
        _storage(old.spec.resources.requests),
    )
    if new_size is not None and old_size is not None and new_size < old_size:
        errs.append(
            fields.forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        )
    errs += immutable(
        "volumeMode",
        new.spec.volume_mode if new.spec.HasField("volume_mode") else None,
        old.spec.volume_mode if old.spec.HasField("volume_mode") else None,
    )
    for name, value in sorted(new.status.capacity.items()):
        try:
            quantity.parse(value)
        except quantity.QuantityError as e:
            errs.append(fields.invalid(f"status.capacity[{name}]", value, str(e)))
    return errs


# ---------------------------------------------------------------- storage classes


def _topology_term(
    path: str, term: core_pb2.TopologySelectorTerm
) -> tuple[object, list[FieldError]]:
    """ValidateTopologySelectorTerm; also the term as a comparable value, to find duplicates."""
    errs: list[FieldError] = []
    seen: dict[str, frozenset[str]] = {}
    for i, req in enumerate(term.match_label_expressions):
        p = f"{path}.matchLabelExpressions[{i}]"
        if not req.values:
            errs.append(fields.required(f"{p}.values"))
        values: set[str] = set()
        for j, value in enumerate(req.values):
            if value in values:
                errs.append(fields.duplicate(f"{p}.values[{j}]", value))
            values.add(value)
        errs += fields.qualified_name(f"{p}.key", req.key)
        if req.key in seen:
            errs.append(fields.duplicate(f"{p}.key", req.key))
        seen[req.key] = frozenset(values)
    return frozenset(seen.items()), errs


def storage_class(obj: storage_pb2.StorageClass) -> list[FieldError]:
    """ValidateStorageClass."""
    errs = object_meta(obj.metadata, namespaced=False)
    if not obj.provisioner:
        errs.append(fields.required("provisioner"))
    else:
        errs += fields.qualified_name("provisioner", obj.provisioner.lower())
    params = dict(obj.parameters)
    if len(params) > MAX_PARAMETERS:
        errs.append(
            fields.FieldError(
                "parameters", "Too long", None, f"must have at most {MAX_PARAMETERS} bytes"
            )
        )
    else:
        for key in sorted(params):
            if not key:
                errs.append(fields.invalid("parameters", key, "field can not be empty."))
        if sum(len(k) + len(v) for k, v in params.items()) > MAX_PARAMETERS_BYTES:
            errs.append(
                fields.FieldError(
                    "parameters",
                    "Too long",
                    None,
                    f"must have at most {MAX_PARAMETERS_BYTES} bytes",
                )
            )
    if obj.HasField("reclaim_policy") and obj.reclaim_policy:
        if obj.reclaim_policy not in CLASS_RECLAIM_POLICIES:
            errs.append(
                fields.unsupported("reclaimPolicy", obj.reclaim_policy, CLASS_RECLAIM_POLICIES)
            )
    if not obj.HasField("volume_binding_mode"):
        errs.append(fields.required("volumeBindingMode"))
    elif obj.volume_binding_mode not in c.VOLUME_BINDING_MODES:
        errs.append(
            fields.unsupported("volumeBindingMode", obj.volume_binding_mode, c.VOLUME_BINDING_MODES)
        )
    terms: list[object] = []
    for i, term in enumerate(obj.allowed_topologies):
        value, term_errs = _topology_term(f"allowedTopologies[{i}]", term)
        errs += term_errs
        if value in terms:
            errs.append(fields.duplicate(f"allowedTopologies[{i}].matchLabelExpressions", ""))
        terms.append(value)
    return errs


def storage_class_update(
    new: storage_pb2.StorageClass, old: storage_pb2.StorageClass
) -> list[FieldError]:
    """ValidateStorageClassUpdate: provisioner, parameters, reclaim policy and binding mode are
    fixed at creation."""
    errs = storage_class(new)
    if dict(new.parameters) != dict(old.parameters):
        errs.append(fields.forbidden("parameters", "updates to parameters are forbidden."))
    if new.provisioner != old.provisioner:
        errs.append(fields.forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.reclaim_policy != old.reclaim_policy:
        errs.append(fields.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    errs += immutable(
        "volumeBindingMode",
        new.volume_binding_mode if new.HasField("volume_binding_mode") else None,
        old.volume_binding_mode if old.HasField("volume_binding_mode") else None,
    )
    return errs
