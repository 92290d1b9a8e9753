"""VolumeBinding over fixed claims, volumes and classes (StaticListers): which nodes a pod with
claims may go to and why not, in Kubernetes' words; what Reserve assumes so that the next pod does
not take the same volume; and PreBind's writes and wait, against an in-memory apiserver."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest, resources
from scheduler.algorithm import SchedulingAlgorithm
from scheduler.framework.handle import StaticListers
from scheduler.framework.runtime import Framework
from scheduler.framework.types import CycleState
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.plugins.volumebinding import VolumeBinding
from scheduler.plugins.volumebinding import plugin as volumebinding
from tests.unit.scheduler.schedtest import node, node_info, pod
from tests.unit.waiting import until

HOSTNAME = "kubernetes.io/hostname"
NODES = [node("node-a"), node("node-b"), node("node-c")]


def claim(
    name: str = "data",
    *,
    cls: str | None = "local",
    size: str = "1Gi",
    volume: str = "",
    annotations: dict[str, str] | None = None,
    phase: str = "Pending",
    deleting: bool = False,
) -> core_pb2.PersistentVolumeClaim:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
        "volumeName": volume,
    }
    if cls is not None:
        spec["storageClassName"] = cls
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "resourceVersion": "5",
                "annotations": annotations or {},
            },
            "spec": spec,
            "status": {"phase": phase},
        },
        core_pb2.PersistentVolumeClaim,
    )
    if deleting:
        obj.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    return obj


def bound(name: str, volume: str) -> core_pb2.PersistentVolumeClaim:
    return claim(
        name,
        volume=volume,
        phase="Bound",
        annotations={"pv.kubernetes.io/bind-completed": "yes"},
    )


def local_pv(name: str, node_name: str, size: str = "1Gi", cls: str = "local") -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "resourceVersion": "3"},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": cls,
                "local": {"path": f"/mnt/{name}"},
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": HOSTNAME, "operator": "In", "values": [node_name]}
                                ]
                            }
                        ]
                    }
                },
            },
            "status": {"phase": "Available"},
        },
        core_pb2.PersistentVolume,
    )


def storage_class(name: str, provisioner: str, mode: str = "WaitForFirstConsumer") -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": name},
            "provisioner": provisioner,
            "volumeBindingMode": mode,
        },
        storage_pb2.StorageClass,
    )


CLASSES = [
    storage_class("local", "kubernetes.io/no-provisioner"),
    storage_class("standard", "rancher.io/local-path"),
    storage_class("now", "kubernetes.io/no-provisioner", "Immediate"),
]


def using(*claims: str, name: str = "p") -> core_pb2.Pod:
    p = pod(name)
    for c in claims:
        p.spec.volumes.add(
            name=c, persistent_volume_claim=core_pb2.PersistentVolumeClaimVolumeSource(claim_name=c)
        )
    return p


def plugin(claims: list[Any], volumes: list[Any], **kw: Any) -> VolumeBinding:
    listers = StaticListers(
        {
            resources.PERSISTENT_VOLUME_CLAIM.plural: claims,
            resources.PERSISTENT_VOLUME.plural: volumes,
            resources.STORAGE_CLASS.plural: CLASSES,
            resources.NODE.plural: NODES,
            **kw,
        }
    )
    return VolumeBinding(listers, bind_timeout=2)


def judge(vb: VolumeBinding, p: core_pb2.Pod) -> dict[str, str]:
    """Each node's verdict: "ok", or the status (and reasons) that rejects it."""
    state = CycleState()
    pre = vb.pre_filter(state, p)
    if pre.is_skip:
        return {n.metadata.name: "skip" for n in NODES}
    if not pre.is_success:
        return {"prefilter": str(pre)}
    out = {}
    for n in NODES:
        status = vb.filter(state, p, node_info(n))
        out[n.metadata.name] = "ok" if status.is_success else str(status)
    return out


NO_VOLUME = "UnschedulableAndUnresolvable: node(s) didn't find available persistent volumes to bind"
CONFLICT = "UnschedulableAndUnresolvable: node(s) had volume node affinity conflict"


@pytest.mark.parametrize(
    ("claims", "volumes", "pod_claims", "expected"),
    [
        # No claims: nothing to say.
        ([], [], (), {"node-a": "skip", "node-b": "skip", "node-c": "skip"}),
        # PreFilter refusals, whatever the node.
        (
            [],
            [],
            ("data",),
            {"prefilter": 'UnschedulableAndUnresolvable: persistentvolumeclaim "data" not found'},
        ),
        (
            [claim(deleting=True)],
            [],
            ("data",),
            {
                "prefilter": 'UnschedulableAndUnresolvable: persistentvolumeclaim "data" is '
                "being deleted"
            },
        ),
        (
            [claim(cls="now")],
            [],
            ("data",),
            {
                "prefilter": "UnschedulableAndUnresolvable: pod has unbound immediate "
                "PersistentVolumeClaims"
            },
        ),
        (
            [claim(phase="Lost", volume="gone")],
            [],
            ("data",),
            {
                "prefilter": 'UnschedulableAndUnresolvable: persistentvolumeclaim "data" bound '
                'to non-existent persistentvolume "gone"'
            },
        ),
        # A bound claim: only its volume's node.
        (
            [bound("data", "pv-b")],
            [local_pv("pv-b", "node-b")],
            ("data",),
            {"node-a": CONFLICT, "node-b": "ok", "node-c": CONFLICT},
        ),
        (
            [bound("data", "missing")],
            [],
            ("data",),
            {
                n: "UnschedulableAndUnresolvable: node(s) unavailable due to one or more pvc(s) "
                "bound to non-existent pv(s)"
                for n in ("node-a", "node-b", "node-c")
            },
        ),
        # Unbound, WaitForFirstConsumer, no provisioner: a local volume of the node.
        (
            [claim()],
            [local_pv("pv-c", "node-c")],
            ("data",),
            {"node-a": NO_VOLUME, "node-b": NO_VOLUME, "node-c": "ok"},
        ),
        (
            [claim(size="5Gi")],
            [local_pv("pv-c", "node-c")],
            ("data",),
            {"node-a": NO_VOLUME, "node-b": NO_VOLUME, "node-c": NO_VOLUME},
        ),
        # Two claims, one volume per node: both need a node with two.
        (
            [claim("one"), claim("two")],
            [local_pv("a1", "node-a"), local_pv("b1", "node-b"), local_pv("b2", "node-b")],
            ("one", "two"),
            {"node-a": NO_VOLUME, "node-b": "ok", "node-c": NO_VOLUME},
        ),
        # Unbound with a provisioner: any node; once a node was selected, that one.
        (
            [claim(cls="standard")],
            [],
            ("data",),
            {"node-a": "ok", "node-b": "ok", "node-c": "ok"},
        ),
        (
            [claim(cls="standard", annotations={"volume.kubernetes.io/selected-node": "node-a"})],
            [],
            ("data",),
            {"node-a": "ok", "node-b": NO_VOLUME, "node-c": NO_VOLUME},
        ),
    ],
)
def test_where_a_pod_with_claims_may_go(
    claims: list[Any], volumes: list[Any], pod_claims: tuple[str, ...], expected: dict[str, str]
) -> None:
    assert judge(plugin(claims, volumes), using(*pod_claims)) == expected


def test_the_smallest_volume_of_the_node_is_chosen_and_reserved() -> None:
    vb = plugin(
        [claim("one"), claim("two")],
        [local_pv("big", "node-a", "10Gi"), local_pv("small", "node-a", "2Gi")],
    )
    first, second = using("one", name="first"), using("two", name="second")
    state = CycleState()
    assert vb.pre_filter(state, first).is_success
    assert vb.filter(state, first, node_info(NODES[0])).is_success
    assert vb.reserve(state, first, "node-a").is_success
    assumed = vb.volumes.get("small")
    assert assumed is not None and assumed.spec.claim_ref.name == "one"
    # The next pod sees the small volume taken and gets the big one.
    state2 = CycleState()
    assert vb.pre_filter(state2, second).is_success
    assert vb.filter(state2, second, node_info(NODES[0])).is_success
    assert vb.reserve(state2, second, "node-a").is_success
    taken = vb.volumes.get("big")
    assert taken is not None and taken.spec.claim_ref.name == "two"
    # A failed binding gives the volume back.
    vb.unreserve(state, first, "node-a")
    restored = vb.volumes.get("small")
    assert restored is not None and not restored.spec.HasField("claim_ref")


def test_the_framework_says_why_no_node_fits() -> None:
    listers = StaticListers(
        {
            resources.PERSISTENT_VOLUME_CLAIM.plural: [bound("data", "pv-b")],
            resources.PERSISTENT_VOLUME.plural: [local_pv("pv-b", "node-b")],
            resources.STORAGE_CLASS.plural: CLASSES,
        }
    )
    algorithm = SchedulingAlgorithm(
        Framework(in_tree_registry(), default_profile(), handle=listers), random.Random(1)
    )
    p = using("data")
    p.spec.node_selector["kubernetes.io/hostname"] = "node-a"
    result = algorithm.schedule(p, [node_info(n) for n in NODES])
    assert result.status.is_rejected
    assert result.status.message == (
        "0/3 nodes are available: 1 node(s) had volume node affinity conflict, "
        "2 node(s) didn't match Pod's node affinity/selector."
    )
    assert result.diagnosis.unschedulable_plugins == {"NodeAffinity", "VolumeBinding"}
    ok = algorithm.schedule(using("data"), [node_info(n) for n in NODES])
    assert ok.node_name == "node-b"


class FakeApi:
    """The claims and volumes the plugin writes, as an apiserver would return them."""

    def __init__(self) -> None:
        self.updated: list[Any] = []

    async def update(self, obj: Any) -> Any:
        stored = type(obj)()
        stored.CopyFrom(obj)
        stored.metadata.resource_version = str(int(obj.metadata.resource_version or "0") + 1)
        self.updated.append(stored)
        return stored


class FakeClient:
    def __init__(self) -> None:
        self.persistentvolumes = FakeApi()
        self.persistentvolumeclaims = FakeApi()


class Cluster(StaticListers):
    """Fixed objects, and a client to write with."""

    def __init__(self, objects: dict[str, list[Any]], client: FakeClient) -> None:
        super().__init__(objects)
        self.fake_client = client

    @property
    def client(self) -> Any:
        return self.fake_client


async def test_pre_bind_annotates_the_claim_and_waits_for_it_to_be_bound() -> None:
    the_pod = using("data")
    the_pod.metadata.name = "p"
    client = FakeClient()
    listers = Cluster(
        {
            resources.PERSISTENT_VOLUME_CLAIM.plural: [claim(cls="standard")],
            resources.STORAGE_CLASS.plural: CLASSES,
            resources.NODE.plural: NODES,
            resources.POD.plural: [the_pod],
        },
        client,
    )
    vb = VolumeBinding(listers, bind_timeout=5)
    state = CycleState()
    assert vb.pre_filter(state, the_pod).is_success
    assert vb.filter(state, the_pod, node_info(NODES[1])).is_success
    assert vb.reserve(state, the_pod, "node-b").is_success
    task = asyncio.create_task(vb.pre_bind(state, the_pod, "node-b"))
    await until(lambda: client.persistentvolumeclaims.updated, "the claim annotated")
    [written] = client.persistentvolumeclaims.updated
    assert written.metadata.annotations["volume.kubernetes.io/selected-node"] == "node-b"
    assert not task.done()  # waiting for the PV controller
    # The provisioner and the PV controller do their part; the informer shows it.
    pv = local_pv("pvc-uid-data", "node-b", cls="standard")
    done = bound("data", "pvc-uid-data")
    done.metadata.annotations["volume.kubernetes.io/selected-node"] = "node-b"
    done.metadata.resource_version = "9"
    listers.lister(resources.PERSISTENT_VOLUME).objects["pvc-uid-data"] = pv
    listers.lister(resources.PERSISTENT_VOLUME_CLAIM).objects["default/data"] = done
    async with asyncio.timeout(2):
        status = await task
    assert status.is_success


async def test_pre_bind_fails_when_the_provisioner_gives_the_node_up() -> None:
    the_pod = using("data")
    client = FakeClient()
    listers = Cluster(
        {
            resources.PERSISTENT_VOLUME_CLAIM.plural: [claim(cls="standard")],
            resources.STORAGE_CLASS.plural: CLASSES,
            resources.NODE.plural: NODES,
            resources.POD.plural: [the_pod],
        },
        client,
    )
    vb = VolumeBinding(listers, bind_timeout=5)
    state = CycleState()
    vb.pre_filter(state, the_pod)
    vb.filter(state, the_pod, node_info(NODES[0]))
    vb.reserve(state, the_pod, "node-a")
    task = asyncio.create_task(vb.pre_bind(state, the_pod, "node-a"))
    await until(lambda: client.persistentvolumeclaims.updated, "the claim annotated")
    failed = claim(cls="standard")  # the annotation removed: provisioning failed there
    failed.metadata.resource_version = "9"
    listers.lister(resources.PERSISTENT_VOLUME_CLAIM).objects["default/data"] = failed
    async with asyncio.timeout(2):
        status = await task
    assert status.is_error
    assert status.message == 'binding volumes: provisioning failed for PVC "data"'
    # Nothing stays assumed.
    assert not vb.claims.is_assumed("default/data")


def test_bind_timeout_comes_from_the_plugin_args() -> None:
    vb = volumebinding._new({"bindTimeoutSeconds": 30}, StaticListers())
    assert vb.bind_timeout == 30
    with pytest.raises(ValueError, match="bindTimeoutSeconds"):
        volumebinding._new({"bindTimeoutSeconds": -1}, StaticListers())


def with_ephemeral(name: str = "web", uid: str = "uid-web") -> core_pb2.Pod:
    p = pod(name)
    p.metadata.uid = uid
    p.spec.volumes.add(name="scratch", ephemeral=core_pb2.EphemeralVolumeSource())
    return p


def owned(c: core_pb2.PersistentVolumeClaim, owner: core_pb2.Pod) -> core_pb2.PersistentVolumeClaim:
    c.metadata.owner_references.add(
        kind="Pod", name=owner.metadata.name, uid=owner.metadata.uid, controller=True
    )
    return c


def test_an_ephemeral_volume_waits_for_its_claim_then_binds_like_any_other() -> None:
    p = with_ephemeral()
    assert judge(plugin([], []), p) == {
        "prefilter": "UnschedulableAndUnresolvable: waiting for ephemeral volume controller to "
        'create the persistentvolumeclaim "web-scratch"'
    }
    made = owned(claim("web-scratch", cls="standard"), p)
    # The local-path class provisions on any node.
    assert judge(plugin([made], []), p) == {"node-a": "ok", "node-b": "ok", "node-c": "ok"}


def test_an_ephemeral_claim_the_pod_does_not_own_is_refused() -> None:
    p = with_ephemeral()
    assert judge(plugin([claim("web-scratch", cls="standard")], []), p) == {
        "prefilter": "UnschedulableAndUnresolvable: PVC default/web-scratch was not created for "
        "pod default/web (pod is not owner)"
    }
