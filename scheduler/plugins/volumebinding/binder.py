"""The decisions of the VolumeBinding plugin (kubernetes volumebinding/binder.go), given what the
listers and the assume caches hold: which of a pod's claims are bound, wait for their first
consumer, or should have been bound already (PreFilter); whether a node can have them (Filter):
bound ones through their volume's node affinity, the others by an Available volume reachable
from the node (the smallest that fits, as the PV controller chooses) or by provisioning there
(the class's provisioner and allowed topologies)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.volume import constants as c
from podplane.volume import ephemeral, helpers
from scheduler.plugins.nodeaffinity import term_matches
from scheduler.plugins.volumebinding.assume_cache import AssumeCache

ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_REASON_PV_NOT_EXIST = (
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
)
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"


class ClaimError(Exception):
    """A claim the pod cannot be scheduled with whatever the node (missing, being deleted,
    lost): PreFilter's UnschedulableAndUnresolvable."""


class BindError(Exception):
    """Something is wrong that no node changes (a claim of no class to provision, a class that
    does not exist): an error, retried with back-off."""


@dataclass
class PodVolumeClaims:
    """A pod's claims: bound by the PV controller, and unbound of a WaitForFirstConsumer class
    (the scheduler's to bind or have provisioned)."""

    bound: list[core_pb2.PersistentVolumeClaim] = field(default_factory=list)
    to_bind: list[core_pb2.PersistentVolumeClaim] = field(default_factory=list)


@dataclass
class PodVolumes:
    """What a node needs for the pod: claims to bind to existing volumes, claims to provision."""

    static_bindings: list[tuple[core_pb2.PersistentVolume, core_pb2.PersistentVolumeClaim]] = field(
        default_factory=list
    )
    dynamic_provisions: list[core_pb2.PersistentVolumeClaim] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.static_bindings and not self.dynamic_provisions


def claim_names(pod: core_pb2.Pod) -> list[str]:
    """The claims of the pod's persistentVolumeClaim and ephemeral volumes
    (<pod>-<volume>, ephemeral.VolumeClaimName)."""
    return list(ephemeral.pod_claim_names(pod))


def volume_reachable(
    volume: core_pb2.PersistentVolume, labels: Mapping[str, str], node_name: str
) -> bool:
    """CheckNodeAffinity: no node affinity, or one of its required terms matches the node."""
    if not volume.spec.HasField("node_affinity") or not volume.spec.node_affinity.HasField(
        "required"
    ):
        return True
    terms = volume.spec.node_affinity.required.node_selector_terms
    return any(term_matches(t, labels, node_name) for t in terms)


def topology_allows(storage_class: storage_pb2.StorageClass, labels: Mapping[str, str]) -> bool:
    """MatchTopologySelectorTerms: no terms, or a term whose every requirement the node's labels
    meet."""
    terms = storage_class.allowed_topologies
    if not terms:
        return True
    return any(
        all(labels.get(r.key) in r.values for r in term.match_label_expressions) for term in terms
    )


class Binder:
    def __init__(
        self,
        claims: AssumeCache[core_pb2.PersistentVolumeClaim],
        volumes: AssumeCache[core_pb2.PersistentVolume],
        classes: Callable[[str], storage_pb2.StorageClass | None],
    ) -> None:
        self.claims = claims
        self.volumes = volumes
        self.classes = classes

    def pod_claims(self, pod: core_pb2.Pod) -> PodVolumeClaims:
        """PreFilter's podHasPVCs and GetPodVolumeClaims; ClaimError names what is wrong."""
        out = PodVolumeClaims()
        immediate = False
        for volume in pod.spec.volumes:
            name = ephemeral.claim_name(pod, volume)
            if name is None:
                continue
            claim = self.claims.get(f"{pod.metadata.namespace}/{name}")
            if claim is None and volume.HasField("ephemeral"):
                # Normal right after the pod's creation: the ephemeral volume controller has
                # not made the claim yet.
                raise ClaimError(
                    f"waiting for ephemeral volume controller to create the "
                    f'persistentvolumeclaim "{name}"'
                )
            if claim is None:
                raise ClaimError(f'persistentvolumeclaim "{name}" not found')
            if claim.status.phase == c.CLAIM_LOST:
                raise ClaimError(
                    f'persistentvolumeclaim "{name}" bound to non-existent persistentvolume '
                    f'"{claim.spec.volume_name}"'
                )
            if claim.metadata.deletion_timestamp:
                raise ClaimError(f'persistentvolumeclaim "{name}" is being deleted')
            if volume.HasField("ephemeral"):
                not_for_pod = ephemeral.volume_is_for_pod(pod, claim)
                if not_for_pod is not None:
                    raise ClaimError(not_for_pod)
            if helpers.is_claim_fully_bound(claim):
                out.bound.append(claim)
            elif helpers.is_delay_binding(claim, self.classes) and not claim.spec.volume_name:
                out.to_bind.append(claim)
            else:
                immediate = True  # the PV controller binds these (or a pre-bound one) first
        if immediate:
            raise ClaimError(ERR_UNBOUND_IMMEDIATE)
        return out

    def find_pod_volumes(
        self, claims: PodVolumeClaims, labels: Mapping[str, str], node_name: str
    ) -> tuple[PodVolumes, list[str]]:
        """FindPodVolumes: what the node needs, and why it cannot have the pod (reasons; none
        when it can)."""
        volumes = PodVolumes()
        reasons: list[str] = []
        for claim in claims.bound:
            volume = self.volumes.get(claim.spec.volume_name)
            if volume is None:
                reasons.append(ERR_REASON_PV_NOT_EXIST)
                break
            if not volume_reachable(volume, labels, node_name):
                reasons.append(ERR_REASON_NODE_CONFLICT)
                break
        if not claims.to_bind:
            return volumes, reasons
        to_match: list[core_pb2.PersistentVolumeClaim] = []
        to_provision: list[core_pb2.PersistentVolumeClaim] = []
        for claim in claims.to_bind:
            selected = claim.metadata.annotations.get(c.ANN_SELECTED_NODE)
            if selected is None:
                to_match.append(claim)
            elif selected != node_name:
                # Provisioning was asked for on another node already.
                return volumes, [*reasons, ERR_REASON_BIND_CONFLICT]
            else:
                to_provision.append(claim)
        chosen: set[str] = set()
        for claim in sorted(to_match, key=helpers.claim_request):
            wanted_class = helpers.claim_class(claim)
            found = helpers.find_matching_volume(
                claim,
                [v for v in self.volumes.list() if helpers.volume_class(v) == wanted_class],
                node_matches=lambda v: volume_reachable(v, labels, node_name),
                excluded=chosen,
                delay_binding=True,
            )
            if found is None:
                to_provision.append(claim)
            else:
                chosen.add(found.metadata.name)
                volumes.static_bindings.append((found, claim))
        for claim in to_provision:
            if not self._can_provision(claim, labels):
                return volumes, [*reasons, ERR_REASON_BIND_CONFLICT]
            volumes.dynamic_provisions.append(claim)
        return volumes, reasons

    def _can_provision(
        self, claim: core_pb2.PersistentVolumeClaim, labels: Mapping[str, str]
    ) -> bool:
        """checkVolumeProvisions: the claim's class has a provisioner that may make a volume for
        this node."""
        name = helpers.claim_class(claim)
        if not name:
            raise BindError(f'no class for claim "{helpers.claim_key(claim)}"')
        storage_class = self.classes(name)
        if storage_class is None:
            raise BindError(f'failed to find storage class "{name}"')
        if storage_class.provisioner in ("", c.NOT_SUPPORTED_PROVISIONER):
            return False
        return topology_allows(storage_class, labels)
