"""Which volume a claim gets (podplane.volume.helpers, Kubernetes' FindMatchingVolume and the PV
controller's findBestMatchForClaim): the smallest Available one that is big enough, of the claim's
class, with its access modes (the fewest extra first), matching its selector and volume mode; one
bound to the claim wins; a WaitForFirstConsumer claim gets none from the controller; the
scheduler's path adds the node."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest
from podplane.volume import helpers

CLAIM_UID = "uid-data"


def pv(
    name: str,
    size: str,
    *,
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    phase: str = "Available",
    claim_ref: dict[str, str] | None = None,
    deleting: bool = False,
    **spec: Any,
) -> core_pb2.PersistentVolume:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": spec.pop("labels", {})},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": list(modes),
                "hostPath": {"path": f"/data/{name}"},
                **({"claimRef": claim_ref} if claim_ref else {}),
                **spec,
            },
            "status": {"phase": phase},
        },
        core_pb2.PersistentVolume,
    )
    if deleting:
        obj.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    return obj


def pvc(size: str = "1Gi", *, modes: tuple[str, ...] = ("ReadWriteOnce",), **spec: Any) -> Any:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default", "uid": CLAIM_UID},
            "spec": {
                "accessModes": list(modes),
                "resources": {"requests": {"storage": size}},
                **spec,
            },
        },
        core_pb2.PersistentVolumeClaim,
    )
    return obj


MINE = {"namespace": "default", "name": "data", "uid": CLAIM_UID}
RESERVED = {"namespace": "default", "name": "data"}
OTHERS = {"namespace": "default", "name": "other", "uid": "uid-other"}


@pytest.mark.parametrize(
    ("claim", "volumes", "delay", "expected"),
    [
        # The smallest that is big enough.
        (pvc("3Gi"), [pv("a", "1Gi"), pv("b", "10Gi"), pv("c", "5Gi")], False, "c"),
        (pvc("3Gi"), [pv("a", "1Gi"), pv("b", "2Gi")], False, None),
        (pvc("1Gi"), [pv("a", "1024Mi"), pv("b", "2Gi")], False, "a"),
        # Only Available volumes, of the claim's class, not being deleted.
        (pvc(), [pv("a", "1Gi", phase="Pending"), pv("b", "2Gi")], False, "b"),
        (
            pvc(storageClassName="fast"),
            [pv("a", "1Gi"), pv("b", "2Gi", storageClassName="fast")],
            False,
            "b",
        ),
        (pvc(), [pv("a", "1Gi", storageClassName="fast")], False, None),
        (pvc(), [pv("a", "1Gi", deleting=True), pv("b", "2Gi")], False, "b"),
        # Access modes: all of the claim's; fewer extra modes first, even if bigger.
        (pvc(modes=("ReadWriteMany",)), [pv("a", "1Gi")], False, None),
        (
            pvc(),
            [pv("a", "1Gi", modes=("ReadWriteOnce", "ReadOnlyMany")), pv("b", "5Gi")],
            False,
            "b",
        ),
        # The selector and the volume mode.
        (
            pvc(selector={"matchLabels": {"tier": "gold"}}),
            [pv("a", "1Gi"), pv("b", "5Gi", labels={"tier": "gold"})],
            False,
            "b",
        ),
        (pvc(volumeMode="Block"), [pv("a", "1Gi"), pv("b", "2Gi", volumeMode="Block")], False, "b"),
        # A volume bound or reserved for the claim wins over a smaller one; one taken by another
        # claim is never chosen.
        (pvc(), [pv("a", "1Gi"), pv("b", "5Gi", phase="Bound", claim_ref=MINE)], False, "b"),
        (pvc(), [pv("a", "1Gi", claim_ref=RESERVED)], False, "a"),
        (pvc(), [pv("a", "1Gi", phase="Bound", claim_ref=OTHERS)], False, None),
        # Too small even when reserved for it.
        (pvc("2Gi"), [pv("a", "1Gi", claim_ref=RESERVED)], False, None),
        # WaitForFirstConsumer: the controller binds only a volume bound to the claim already.
        (pvc(), [pv("a", "1Gi")], True, None),
        (pvc(), [pv("a", "1Gi"), pv("b", "1Gi", claim_ref=MINE)], True, "b"),
    ],
)
def test_the_controller_chooses(
    claim: core_pb2.PersistentVolumeClaim,
    volumes: list[core_pb2.PersistentVolume],
    delay: bool,
    expected: str | None,
) -> None:
    found = helpers.find_best_match_for_claim(claim, volumes, delay)
    assert (found.metadata.name if found else None) == expected


def test_the_scheduler_chooses_on_a_node() -> None:
    volumes = [pv("here", "5Gi"), pv("there", "1Gi"), pv("rwx", "1Gi", modes=("ReadWriteMany",))]

    def on(node: str) -> Any:
        return lambda v: v.metadata.name in (node, "rwx")

    found = helpers.find_matching_volume(
        pvc(), volumes, node_matches=on("here"), delay_binding=True
    )
    assert found is not None and found.metadata.name == "here"
    # Chosen for another claim of the same pod already: not again.
    found = helpers.find_matching_volume(
        pvc(), volumes, node_matches=on("here"), excluded={"here"}, delay_binding=True
    )
    assert found is None
    # A volume bound to the claim but not reachable from the node: none on this node.
    mine = [pv("bound", "1Gi", claim_ref=MINE), pv("here", "1Gi")]
    assert helpers.find_matching_volume(pvc(), mine, node_matches=on("here")) is None


def _class(name: str, default: str | None, created: str) -> storage_pb2.StorageClass:
    sc = storage_pb2.StorageClass(provisioner="x")
    sc.metadata.name, sc.metadata.creation_timestamp = name, created
    if default is not None:
        sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] = default
    return sc


def test_the_default_class_is_the_newest_annotated_true() -> None:
    classes = [
        _class("b", "true", "2026-01-01T00:00:00Z"),
        _class("a", "true", "2026-01-01T00:00:00Z"),
        _class("off", "false", "2026-03-01T00:00:00Z"),
    ]
    found = helpers.default_class(classes)
    assert found is not None and found.metadata.name == "a"  # same age: by name
    classes.append(_class("new", "true", "2026-02-01T00:00:00Z"))
    found = helpers.default_class(classes)
    assert found is not None and found.metadata.name == "new"
    assert helpers.default_class([_class("off", None, "x")]) is None


def test_access_modes_print_as_kubectl_does() -> None:
    modes = ["ReadWriteOncePod", "ReadOnlyMany", "ReadWriteOnce", "ReadOnlyMany"]
    assert helpers.access_modes_text(modes) == "RWO,ROX,RWOP"
