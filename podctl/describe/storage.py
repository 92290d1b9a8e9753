"""`describe pv`, `describe pvc` and `describe storageclass`: kubectl's
describePersistentVolume, describePersistentVolumeClaim and describeStorageClass layouts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from podctl.describe.common import age, format_time, write_annotations, write_events, write_labels
from podctl.describe.writer import LEVEL_0, LEVEL_1, LEVEL_2, PrefixWriter
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.printers.labels import format_labels
from podplane.volume import constants, helpers


def _finalizers(finalizers: Sequence[str]) -> str:
    """Go's %v of a []string: [a b]."""
    return "[" + " ".join(finalizers) + "]"


def _status(obj: core_pb2.PersistentVolume | core_pb2.PersistentVolumeClaim, now: datetime) -> str:
    if obj.metadata.deletion_timestamp:
        return f"Terminating (lasts {age(obj.metadata.deletion_timestamp, now)})"
    return str(obj.status.phase)


def _write_node_affinity(w: PrefixWriter, pv: core_pb2.PersistentVolume) -> None:
    w.write(LEVEL_0, "Node Affinity:\t")
    affinity = pv.spec.node_affinity
    if not pv.spec.HasField("node_affinity") or not affinity.HasField("required"):
        w.write_line("<none>")
        return
    w.write_line("")
    w.write(LEVEL_1, "Required Terms:\t")
    terms = affinity.required.node_selector_terms
    if not terms:
        w.write_line("<none>")
        return
    w.write_line("")
    for i, term in enumerate(terms):
        w.write(LEVEL_2, f"Term {i}:\t")
        if not term.match_expressions:
            w.write_line("<none>")
            continue
        for j, req in enumerate(term.match_expressions):
            if j:
                w.write(LEVEL_2, "\t")
            text = f"{req.key} {req.operator.lower()}"
            if req.values:
                text += f" [{', '.join(req.values)}]"
            w.write(LEVEL_0, f"{text}\n")


def _write_source(w: PrefixWriter, pv: core_pb2.PersistentVolume) -> None:
    w.write(LEVEL_0, "Source:\n")
    if pv.spec.HasField("host_path"):
        w.write(
            LEVEL_2,
            "Type:\tHostPath (bare host directory volume)\n"
            f"    Path:\t{pv.spec.host_path.path}\n"
            f"    HostPathType:\t{pv.spec.host_path.type}\n",
        )
    elif pv.spec.HasField("local"):
        w.write(
            LEVEL_2,
            "Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n"
            f"    Path:\t{pv.spec.local.path}\n",
        )


def describe_persistent_volume(
    pv: core_pb2.PersistentVolume, events: list[core_pb2.Event] | None, now: datetime
) -> str:
    w = PrefixWriter()
    spec = pv.spec
    w.write(LEVEL_0, f"Name:\t{pv.metadata.name}\n")
    write_labels(w, "Labels", pv.metadata.labels)
    write_annotations(w, "Annotations", pv.metadata.annotations)
    w.write(LEVEL_0, f"Finalizers:\t{_finalizers(pv.metadata.finalizers)}\n")
    w.write(LEVEL_0, f"StorageClass:\t{helpers.volume_class(pv)}\n")
    w.write(LEVEL_0, f"Status:\t{_status(pv, now)}\n")
    claim = (
        f"{spec.claim_ref.namespace}/{spec.claim_ref.name}" if spec.HasField("claim_ref") else ""
    )
    w.write(LEVEL_0, f"Claim:\t{claim}\n")
    w.write(LEVEL_0, f"Reclaim Policy:\t{spec.persistent_volume_reclaim_policy}\n")
    w.write(LEVEL_0, f"Access Modes:\t{helpers.access_modes_text(spec.access_modes)}\n")
    if spec.HasField("volume_mode"):
        w.write(LEVEL_0, f"VolumeMode:\t{spec.volume_mode}\n")
    w.write(LEVEL_0, f"Capacity:\t{spec.capacity.get(constants.STORAGE, '0')}\n")
    _write_node_affinity(w, pv)
    w.write(LEVEL_0, f"Message:\t{pv.status.message}\n")
    _write_source(w, pv)
    if events is not None:
        write_events(w, events, now)
    return w.text()


def describe_persistent_volume_claim(
    pvc: core_pb2.PersistentVolumeClaim,
    pods: Sequence[core_pb2.Pod],
    events: list[core_pb2.Event] | None,
    now: datetime,
) -> str:
    w = PrefixWriter()
    spec = pvc.spec
    w.write(LEVEL_0, f"Name:\t{pvc.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{pvc.metadata.namespace}\n")
    w.write(LEVEL_0, f"StorageClass:\t{helpers.claim_class(pvc)}\n")
    w.write(LEVEL_0, f"Status:\t{_status(pvc, now)}\n")
    w.write(LEVEL_0, f"Volume:\t{spec.volume_name}\n")
    write_labels(w, "Labels", pvc.metadata.labels)
    write_annotations(w, "Annotations", pvc.metadata.annotations)
    w.write(LEVEL_0, f"Finalizers:\t{_finalizers(pvc.metadata.finalizers)}\n")
    capacity = access_modes = ""
    if spec.volume_name:
        capacity = pvc.status.capacity.get(constants.STORAGE, "0")
        access_modes = helpers.access_modes_text(pvc.status.access_modes)
    w.write(LEVEL_0, f"Capacity:\t{capacity}\n")
    w.write(LEVEL_0, f"Access Modes:\t{access_modes}\n")
    if spec.HasField("volume_mode"):
        w.write(LEVEL_0, f"VolumeMode:\t{spec.volume_mode}\n")
    w.write(LEVEL_0, "Used By:\t")
    names = sorted(p.metadata.name for p in pods)
    if not names:
        w.write_line("<none>")
    for i, name in enumerate(names):
        if i:
            w.write(LEVEL_0, "\t")
        w.write(LEVEL_0, f"{name}\n")
    if pvc.status.conditions:
        w.write(LEVEL_0, "Conditions:\n")
        w.write(LEVEL_1, "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(LEVEL_1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for cond in pvc.status.conditions:
            w.write(
                LEVEL_1,
                f"{cond.type} \t{cond.status} \t{format_time(cond.last_probe_time)} \t"
                f"{format_time(cond.last_transition_time)} \t{cond.reason} \t{cond.message}\n",
            )
    if events is not None:
        write_events(w, events, now)
    return w.text()


def claim_users(pods: Sequence[core_pb2.Pod], claim_name: str) -> list[core_pb2.Pod]:
    """The pods (of the claim's namespace) whose volumes name the claim (kubectl's
    getPodsForPVC)."""
    return [
        p
        for p in pods
        if any(
            v.HasField("persistent_volume_claim")
            and v.persistent_volume_claim.claim_name == claim_name
            for v in p.spec.volumes
        )
    ]


def _bool_pointer(value: bool, present: bool) -> str:
    if not present:
        return "<unset>"
    return "True" if value else "False"


def describe_storage_class(
    sc: storage_pb2.StorageClass, events: list[core_pb2.Event] | None, now: datetime
) -> str:
    w = PrefixWriter()
    w.write(LEVEL_0, f"Name:\t{sc.metadata.name}\n")
    w.write(LEVEL_0, f"IsDefaultClass:\t{'Yes' if helpers.is_default_class(sc) else 'No'}\n")
    w.write(LEVEL_0, f"Annotations:\t{format_labels(sc.metadata.annotations)}\n")
    w.write(LEVEL_0, f"Provisioner:\t{sc.provisioner}\n")
    w.write(LEVEL_0, f"Parameters:\t{format_labels(sc.parameters)}\n")
    expansion = _bool_pointer(sc.allow_volume_expansion, sc.HasField("allow_volume_expansion"))
    w.write(LEVEL_0, f"AllowVolumeExpansion:\t{expansion}\n")
    if not sc.mount_options:
        w.write(LEVEL_0, "MountOptions:\t<none>\n")
    else:
        w.write(LEVEL_0, "MountOptions:\n")
        for option in sc.mount_options:
            w.write(LEVEL_1, f"{option}\n")
    if sc.HasField("reclaim_policy"):
        w.write(LEVEL_0, f"ReclaimPolicy:\t{sc.reclaim_policy}\n")
    if sc.HasField("volume_binding_mode"):
        w.write(LEVEL_0, f"VolumeBindingMode:\t{sc.volume_binding_mode}\n")
    if sc.allowed_topologies:
        w.write(LEVEL_0, "AllowedTopologies:\t")
        w.write_line("")
        for i, term in enumerate(sc.allowed_topologies):
            w.write(LEVEL_1, f"Term {i}:\t")
            if not term.match_label_expressions:
                w.write_line("<none>")
                continue
            for j, req in enumerate(term.match_label_expressions):
                if j:
                    w.write(LEVEL_1, "\t")
                text = f"{req.key} in"
                if req.values:
                    text += f" [{', '.join(req.values)}]"
                w.write(LEVEL_0, f"{text}\n")
    if events is not None:
        write_events(w, events, now)
    return w.text()
