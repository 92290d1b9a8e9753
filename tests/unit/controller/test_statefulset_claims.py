"""The claims of a StatefulSet's pods under its persistentVolumeClaimRetentionPolicy: the owner
references each policy asks for (table), set by the controller when it makes a pod and before it
scales one down, so that the garbage collector deletes what the policy deletes; a claim left by an
earlier pod of the same name holds back the new pod while claims are deleted on scale-down."""

from __future__ import annotations

import pytest

from controller.statefulset import retention
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit.controller.statefulset_support import Cluster, running, statefulset

SET_UID, POD_UID = "uid-set", "uid-pod"


def policy_set(when_deleted: str, when_scaled: str, replicas: int = 2) -> apps_pb2.StatefulSet:
    sts = statefulset(
        replicas,
        persistentVolumeClaimRetentionPolicy={
            "whenDeleted": when_deleted,
            "whenScaled": when_scaled,
        },
    )
    sts.metadata.uid = SET_UID
    return sts


def pod(ordinal: int) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name = f"web-{ordinal}"
    p.metadata.uid = POD_UID
    return p


def owners(claim: core_pb2.PersistentVolumeClaim) -> list[str]:
    return sorted(f"{r.kind}/{r.name}" for r in claim.metadata.owner_references)


# (whenDeleted, whenScaled, ordinal of the pod (1: in range, 2: scaled down), owners wanted)
POLICIES = [
    ("Retain", "Retain", 1, []),
    ("Retain", "Retain", 2, []),
    ("Delete", "Retain", 1, ["StatefulSet/web"]),
    ("Delete", "Retain", 2, ["StatefulSet/web"]),
    ("Retain", "Delete", 1, []),
    ("Retain", "Delete", 2, ["Pod/web-2"]),
    ("Delete", "Delete", 1, ["StatefulSet/web"]),
    ("Delete", "Delete", 2, ["Pod/web-2"]),
]


@pytest.mark.parametrize(("when_deleted", "when_scaled", "ordinal", "wanted"), POLICIES)
def test_each_policy_asks_for_its_owners(
    when_deleted: str, when_scaled: str, ordinal: int, wanted: list[str]
) -> None:
    sts, p = policy_set(when_deleted, when_scaled), pod(ordinal)
    claim = core_pb2.PersistentVolumeClaim()
    # Whatever owners it had (both), the update leaves the ones wanted.
    claim.metadata.owner_references.add(
        api_version="apps/v1", kind="StatefulSet", name="web", uid=SET_UID
    )
    claim.metadata.owner_references.add(
        api_version="v1", kind="Pod", name=p.metadata.name, uid=POD_UID
    )
    retention.update_claim_owners(claim, sts, p)
    assert owners(claim) == wanted
    assert retention.claim_owners_match(claim, sts, p)
    # Plain owners, not controllers (Kubernetes 1.31).
    assert not any(r.HasField("controller") for r in claim.metadata.owner_references)
    # Nothing more to do.
    assert not retention.update_claim_owners(claim, sts, p)


def test_a_claim_of_another_owner_keeps_that_owner() -> None:
    sts, p = policy_set("Delete", "Retain"), pod(1)
    claim = core_pb2.PersistentVolumeClaim()
    claim.metadata.owner_references.add(api_version="v1", kind="ConfigMap", name="x", uid="u")
    assert not retention.claim_owners_match(claim, sts, p)
    assert retention.update_claim_owners(claim, sts, p)
    assert owners(claim) == ["ConfigMap/x", "StatefulSet/web"]


def test_a_reference_to_an_earlier_owner_of_the_name_is_stale() -> None:
    claim = core_pb2.PersistentVolumeClaim()
    claim.metadata.owner_references.append(
        meta_pb2.OwnerReference(api_version="v1", kind="Pod", name="web-1", uid="uid-old")
    )
    assert retention.has_stale_owner_ref(claim, pod(1))
    assert not retention.has_stale_owner_ref(claim, pod(2))


async def test_when_deleted_delete_gives_every_claim_the_set_as_owner() -> None:
    cluster = Cluster()
    sts = await cluster.api.statefulsets.create(policy_set("Delete", "Retain"))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.ready_replicas == 2, "2 ready")
        await cluster.until(
            lambda: all(
                owners(c) == ["StatefulSet/web"]
                for c in cluster.api.persistentvolumeclaims.store.values()
            ),
            "owned claims",
        )
    for claim in cluster.api.persistentvolumeclaims.store.values():
        [ref] = claim.metadata.owner_references
        assert ref.uid == sts.metadata.uid


async def test_when_scaled_delete_gives_a_condemned_pods_claim_the_pod_as_owner() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(policy_set("Retain", "Delete", replicas=3))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.ready_replicas == 3, "3 ready")
        doomed = cluster.pod("web-2")
        assert doomed is not None
        await cluster.update_set(lambda s: setattr(s.spec, "replicas", 2))
        await cluster.until(lambda: "web-2" in cluster.api.pods.deleted, "web-2 deleted")
    claim = cluster.claim("www-web-2")
    assert claim is not None
    [ref] = claim.metadata.owner_references
    assert (ref.kind, ref.name, ref.uid) == ("Pod", "web-2", doomed.metadata.uid)
    # The claims of the pods that stay have no owner.
    for name in ("www-web-0", "www-web-1"):
        kept = cluster.claim(name)
        assert kept is not None and list(kept.metadata.owner_references) == []


async def test_a_stale_claim_holds_back_the_pod_until_it_is_gone() -> None:
    cluster = Cluster()
    stale = core_pb2.PersistentVolumeClaim()
    stale.metadata.name, stale.metadata.namespace = "www-web-0", "default"
    stale.metadata.owner_references.add(api_version="v1", kind="Pod", name="web-0", uid="uid-gone")
    await cluster.api.persistentvolumeclaims.create(stale)
    await cluster.api.statefulsets.create(policy_set("Retain", "Delete", replicas=1))
    async with running(cluster):
        await cluster.settle()
        assert cluster.pod_names() == []
        # The garbage collector deletes it (its owner is gone); the pod gets a new claim.
        await cluster.api.persistentvolumeclaims.delete("www-web-0", "default")
        await cluster.until(lambda: cluster.pod_names() == ["web-0"], "web-0")
    claim = cluster.claim("www-web-0")
    assert claim is not None and list(claim.metadata.owner_references) == []
