"""How a claim is matched to a volume, and the small questions every component asks of claims,
volumes and classes (kubernetes k8s.io/component-helpers/storage/volume: pv_helpers.go,
helpers.go; pkg/controller/volume/persistentvolume/index.go). The persistent volume controller
and the scheduler's VolumeBinding plugin choose volumes with the same rules."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import quantity, selectors
from podplane.volume import constants as c

ACCESS_MODE_SHORT = {
    c.READ_WRITE_ONCE: "RWO",
    c.READ_ONLY_MANY: "ROX",
    c.READ_WRITE_MANY: "RWX",
    c.READ_WRITE_ONCE_POD: "RWOP",
}


def claim_key(claim: core_pb2.PersistentVolumeClaim) -> str:
    return f"{claim.metadata.namespace}/{claim.metadata.name}"


def claim_ref_key(ref: core_pb2.ObjectReference) -> str:
    return f"{ref.namespace}/{ref.name}"


def claim_class(claim: core_pb2.PersistentVolumeClaim) -> str:
    """The class a claim asks for (GetPersistentVolumeClaimClass): the beta annotation, else
    spec.storageClassName; "" for none."""
    beta = claim.metadata.annotations.get(c.ANN_BETA_STORAGE_CLASS)
    if beta is not None:
        return beta
    return claim.spec.storage_class_name if claim.spec.HasField("storage_class_name") else ""


def claim_has_class(claim: core_pb2.PersistentVolumeClaim) -> bool:
    """Whether the claim names a class at all, even "" (PersistentVolumeClaimHasClass)."""
    return claim.spec.HasField("storage_class_name") or (
        c.ANN_BETA_STORAGE_CLASS in claim.metadata.annotations
    )


def volume_class(volume: core_pb2.PersistentVolume) -> str:
    """GetPersistentVolumeClass: the beta annotation, else spec.storageClassName."""
    beta = volume.metadata.annotations.get(c.ANN_BETA_STORAGE_CLASS)
    return beta if beta is not None else volume.spec.storage_class_name


def storage_of(resources: Mapping[str, str]) -> Decimal:
    """The `storage` quantity of a capacity or requests map, in bytes; 0 when absent or invalid
    (validation refuses invalid ones)."""
    try:
        return quantity.parse(resources.get(c.STORAGE, "0"))
    except quantity.QuantityError:
        return Decimal(0)


def claim_request(claim: core_pb2.PersistentVolumeClaim) -> Decimal:
    return storage_of(claim.spec.resources.requests)


def volume_capacity(volume: core_pb2.PersistentVolume) -> Decimal:
    return storage_of(volume.spec.capacity)


def is_default_class(storage_class: storage_pb2.StorageClass) -> bool:
    """IsDefaultAnnotation: the class is annotated as the default (or with the beta
    annotation)."""
    annotations = storage_class.metadata.annotations
    return (
        annotations.get(c.ANN_DEFAULT_STORAGE_CLASS) == "true"
        or annotations.get(c.ANN_BETA_DEFAULT_STORAGE_CLASS) == "true"
    )


def default_class(classes: Iterable[storage_pb2.StorageClass]) -> storage_pb2.StorageClass | None:
    """The default class (GetDefaultClass): of several, the newest, then the first by name."""
    defaults = sorted(
        (sc for sc in classes if is_default_class(sc)),
        key=lambda sc: sc.metadata.name,
    )
    # Stable: the newest first, ties keep the name order.
    defaults.sort(key=lambda sc: sc.metadata.creation_timestamp, reverse=True)
    return defaults[0] if defaults else None


def binding_mode(storage_class: storage_pb2.StorageClass) -> str:
    if storage_class.HasField("volume_binding_mode"):
        return storage_class.volume_binding_mode
    return c.IMMEDIATE


def is_delay_binding(
    claim: core_pb2.PersistentVolumeClaim,
    get_class: Callable[[str], storage_pb2.StorageClass | None],
) -> bool:
    """IsDelayBindingMode: the claim's class binds WaitForFirstConsumer. A claim of no class, or
    of a class that does not exist, binds at once."""
    name = claim_class(claim)
    if not name:
        return False
    storage_class = get_class(name)
    return storage_class is not None and binding_mode(storage_class) == c.WAIT_FOR_FIRST_CONSUMER


def is_delay_binding_provisioning(claim: core_pb2.PersistentVolumeClaim) -> bool:
    """The scheduler chose a node for the claim's volume to be provisioned on."""
    return c.ANN_SELECTED_NODE in claim.metadata.annotations


def is_claim_fully_bound(claim: core_pb2.PersistentVolumeClaim) -> bool:
    """The PV controller has finished binding the claim: its volume is named and it is marked
    bind-completed (the scheduler's and the kubelet's test)."""
    return bool(claim.spec.volume_name) and c.ANN_BIND_COMPLETED in claim.metadata.annotations


def is_volume_bound_to_claim(
    volume: core_pb2.PersistentVolume, claim: core_pb2.PersistentVolumeClaim
) -> bool:
    """The volume's claimRef names the claim (a claimRef without uid names any claim of that
    name, as a reservation does)."""
    if not volume.spec.HasField("claim_ref"):
        return False
    ref = volume.spec.claim_ref
    return (
        ref.name == claim.metadata.name
        and ref.namespace == claim.metadata.namespace
        and (not ref.uid or ref.uid == claim.metadata.uid)
    )


def contains_access_modes(have: Sequence[str], want: Sequence[str]) -> bool:
    return all(mode in have for mode in want)


def volume_mode_mismatch(
    claim_spec: core_pb2.PersistentVolumeClaimSpec, volume_spec: core_pb2.PersistentVolumeSpec
) -> bool:
    """CheckVolumeModeMismatches: unset modes are Filesystem."""
    wanted = claim_spec.volume_mode if claim_spec.HasField("volume_mode") else c.FILESYSTEM
    have = volume_spec.volume_mode if volume_spec.HasField("volume_mode") else c.FILESYSTEM
    return wanted != have


def access_modes_text(modes: Sequence[str]) -> str:
    """The short form kubectl prints (GetAccessModesAsString): RWO,ROX,RWX,RWOP, in that order,
    each once."""
    return ",".join(short for mode, short in ACCESS_MODE_SHORT.items() if mode in modes)


def find_matching_volume(
    claim: core_pb2.PersistentVolumeClaim,
    volumes: Iterable[core_pb2.PersistentVolume],
    *,
    node_matches: Callable[[core_pb2.PersistentVolume], bool] | None = None,
    excluded: Collection[str] = (),
    delay_binding: bool = False,
) -> core_pb2.PersistentVolume | None:
    """FindMatchingVolume: a volume bound to the claim already (by the user or a provisioner)
    if there is one, else the smallest Available volume of the claim's class that is big enough
    and matches its selector and volume mode. With `node_matches` (the scheduler's path, for one
    node), the volume must also be reachable from the node and have the claim's access modes;
    without it (the PV controller's path) a claim that waits for its first consumer gets no
    volume but one bound to it."""
    requested = claim_request(claim)
    wanted_class = claim_class(claim)
    selector = None
    if claim.spec.HasField("selector"):
        try:
            selector = selectors.from_label_selector_message(claim.spec.selector)
        except selectors.SelectorError:
            return None
    smallest: core_pb2.PersistentVolume | None = None
    smallest_size = Decimal(0)
    for volume in volumes:
        if volume.metadata.name in excluded:
            continue
        if volume.spec.HasField("claim_ref") and not is_volume_bound_to_claim(volume, claim):
            continue
        size = volume_capacity(volume)
        if size < requested:
            continue
        if volume_mode_mismatch(claim.spec, volume.spec):
            continue
        if volume.metadata.deletion_timestamp:
            continue
        reachable = node_matches is None or node_matches(volume)
        if is_volume_bound_to_claim(volume, claim):
            # Made for this claim, or reserved for it: this one or none on this node.
            return volume if reachable else None
        if node_matches is None and delay_binding:
            continue  # the scheduler binds it, on the pod's node
        if volume.status.phase != c.VOLUME_AVAILABLE:
            continue  # binding it now would likely conflict with whoever makes it Available
        if selector is not None and not selector.matches(volume.metadata.labels):
            continue
        if volume_class(volume) != wanted_class:
            continue
        if not reachable:
            continue
        if node_matches is not None and not contains_access_modes(
            volume.spec.access_modes, claim.spec.access_modes
        ):
            continue
        if smallest is None or size < smallest_size:
            smallest, smallest_size = volume, size
    return smallest


def find_best_match_for_claim(
    claim: core_pb2.PersistentVolumeClaim,
    volumes: Iterable[core_pb2.PersistentVolume],
    delay_binding: bool,
) -> core_pb2.PersistentVolume | None:
    """The PV controller's choice (persistentVolumeOrderedIndex.findBestMatchForClaim): among
    the volumes whose access modes include all of the claim's, those with the fewest modes are
    tried first, and within them find_matching_volume's choice."""
    groups: dict[tuple[str, ...], list[core_pb2.PersistentVolume]] = {}
    for volume in volumes:
        modes = tuple(sorted(set(volume.spec.access_modes)))
        if contains_access_modes(modes, claim.spec.access_modes):
            groups.setdefault(modes, []).append(volume)
    for modes in sorted(groups, key=lambda m: (len(m), m)):
        found = find_matching_volume(claim, groups[modes], delay_binding=delay_binding)
        if found is not None:
            return found
    return None
