"""Mirror pods: the API's copy of each static pod, owned by the Node and kept while the static pod
exists (made again if deleted, replaced if the manifest changed, removed once it is gone); the
static pod's status lands on it. The apiserver's side: a mirror pod's spec cannot be changed and
its deletion is immediate."""

from __future__ import annotations

from pathlib import Path

import grpc

from apiserver.registry.generic import deletion
from apiserver.validation import pod_update as pod_update_validation
from kubelet.staticpod.manifests import read_manifest_dir
from kubelet.staticpod.mirror import (
    CONFIG_MIRROR_ANNOTATION,
    MirrorPods,
    build_mirror_pod,
    is_mirror_pod,
    mirror_is_current,
)
from kubelet.status.manager import StatusManager
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from tests.unit.kubelet.podbuild import WEB
from tests.unit.kubelet.synctest import FakePods

KEY = "default/web-n"


def _rpc_error(code: grpc.StatusCode) -> Exception:
    error: Exception = grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name
    )
    return error


class FakeAPI:
    """Pods by key, as the apiserver would keep them."""

    def __init__(self) -> None:
        self.pods: dict[str, core_pb2.Pod] = {}
        self.deleted: list[tuple[str, str]] = []
        self.next_uid = 0

    def get(self, key: str) -> core_pb2.Pod | None:
        return self.pods.get(key)

    async def create(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        if key in self.pods:
            raise _rpc_error(grpc.StatusCode.ALREADY_EXISTS)
        stored = core_pb2.Pod()
        stored.CopyFrom(pod)
        self.next_uid += 1
        stored.metadata.uid = f"mirror-{self.next_uid}"
        self.pods[key] = stored
        return stored

    async def delete(
        self,
        name: str,
        namespace: str = "",
        *,
        grace_period_seconds: int | None = None,
        uid: str = "",
    ) -> core_pb2.Pod:
        key = f"{namespace}/{name}"
        if key not in self.pods:
            raise _rpc_error(grpc.StatusCode.NOT_FOUND)
        assert grace_period_seconds == 0 and uid == self.pods[key].metadata.uid
        self.deleted.append((key, uid))
        return self.pods.pop(key)


def static_web(tmp_path: Path, command: str = "3600") -> core_pb2.Pod:
    (tmp_path / "web.yaml").write_text(WEB.replace("3600", command))
    return read_manifest_dir(tmp_path, "n")[KEY]


def manager(api: FakeAPI, static: dict[str, core_pb2.Pod]) -> MirrorPods:
    return MirrorPods(
        api,  # type: ignore[arg-type]
        "n",
        node_uid=lambda: "node-uid",
        static_pod=static.get,
        api_pod=api.get,
        static_keys=lambda: list(static),
    )


def test_mirror_pod_is_the_static_pod_owned_by_the_node(tmp_path: Path) -> None:
    static = static_web(tmp_path)
    mirror = build_mirror_pod(static, "n", "node-uid")
    assert (mirror.metadata.name, mirror.metadata.namespace) == ("web-n", "default")
    assert mirror.spec == static.spec and not mirror.metadata.uid
    assert mirror.metadata.annotations[CONFIG_MIRROR_ANNOTATION] == static.metadata.uid
    [owner] = mirror.metadata.owner_references
    assert (owner.api_version, owner.kind, owner.name, owner.uid, owner.controller) == (
        "v1",
        "Node",
        "n",
        "node-uid",
        True,
    )
    assert is_mirror_pod(mirror) and not is_mirror_pod(static)
    assert mirror_is_current(static, mirror, "node-uid")
    assert not mirror_is_current(static, mirror, "another-node-uid")
    assert not mirror_is_current(static_web(tmp_path, "60"), mirror, "node-uid")


async def test_mirror_is_made_and_made_again_after_a_deletion(tmp_path: Path) -> None:
    api, static = FakeAPI(), {KEY: static_web(tmp_path)}
    mirrors = manager(api, static)
    await mirrors.reconcile(KEY)
    first = api.pods[KEY].metadata.uid
    await mirrors.reconcile(KEY)  # current: left alone
    assert api.pods[KEY].metadata.uid == first and api.deleted == []
    del api.pods[KEY]  # a user deleted it
    await mirrors.reconcile(KEY)
    assert api.pods[KEY].metadata.uid != first


async def test_changed_manifest_replaces_the_mirror(tmp_path: Path) -> None:
    api, static = FakeAPI(), {KEY: static_web(tmp_path)}
    mirrors = manager(api, static)
    await mirrors.reconcile(KEY)
    old_uid = api.pods[KEY].metadata.uid
    static[KEY] = static_web(tmp_path, "60")
    await mirrors.reconcile(KEY)
    assert api.deleted == [(KEY, old_uid)]
    assert api.pods[KEY].metadata.annotations[CONFIG_MIRROR_ANNOTATION] == static[KEY].metadata.uid


async def test_orphaned_mirror_goes_and_other_pods_stay(tmp_path: Path) -> None:
    api, static = FakeAPI(), {KEY: static_web(tmp_path)}
    mirrors = manager(api, static)
    await mirrors.reconcile(KEY)
    uid = api.pods[KEY].metadata.uid
    del static[KEY]  # the file was removed
    await mirrors.reconcile(KEY)
    assert KEY not in api.pods and api.deleted == [(KEY, uid)]
    plain = core_pb2.Pod()
    plain.metadata.name, plain.metadata.namespace = "web-n", "default"
    api.pods[KEY] = plain  # an ordinary pod of that name is never touched
    await mirrors.reconcile(KEY)
    assert api.pods[KEY] is plain


async def test_static_pod_status_goes_onto_its_mirror(tmp_path: Path) -> None:
    pods, static = FakePods(), static_web(tmp_path)
    mirror: list[core_pb2.Pod] = []
    status = StatusManager(pods, mirror_of=lambda p: mirror[0] if mirror else None)  # type: ignore[arg-type]
    running = core_pb2.PodStatus(phase="Running")
    assert not await status.set_status(static, running)  # no mirror yet: kept, not written
    assert status.static_status(static.metadata.uid) == running
    mirror.append(build_mirror_pod(static, "n", "node-uid"))
    mirror[0].metadata.uid = "mirror-uid"
    assert await status.set_status(static, running)
    assert [(w.metadata.uid, w.status.phase) for w in pods.written] == [("mirror-uid", "Running")]
    status.forget(static.metadata.uid)
    assert status.static_status(static.metadata.uid) is None


def _mirror_in_api(tmp_path: Path) -> core_pb2.Pod:
    mirror = build_mirror_pod(static_web(tmp_path), "n", "node-uid")
    mirror.metadata.uid = "mirror-uid"
    return mirror


def test_apiserver_refuses_to_change_a_mirror_pods_spec(tmp_path: Path) -> None:
    old = _mirror_in_api(tmp_path)
    new = core_pb2.Pod()
    new.CopyFrom(old)
    new.spec.containers[0].image = "busybox:1.36"  # allowed for other pods
    assert [str(e) for e in pod_update_validation.pod_update(new, old)] == [
        "spec: Forbidden: the spec of a mirror pod may not be changed: it mirrors a static pod; "
        "edit its manifest on the node instead"
    ]
    unmarked = core_pb2.Pod()
    unmarked.CopyFrom(old)
    del unmarked.metadata.annotations[CONFIG_MIRROR_ANNOTATION]
    assert any(
        CONFIG_MIRROR_ANNOTATION in str(e) for e in pod_update_validation.pod_update(unmarked, old)
    )
    labelled = core_pb2.Pod()
    labelled.CopyFrom(old)
    labelled.metadata.labels["tier"] = "web"
    assert pod_update_validation.pod_update(labelled, old) == []


def test_apiserver_deletes_a_mirror_pod_at_once(tmp_path: Path) -> None:
    mirror = _mirror_in_api(tmp_path)
    assert deletion.grace_period(resources.POD, mirror, None) == 0
    assert deletion.decide(resources.POD, mirror, None).delete_now
    plain = core_pb2.Pod()
    plain.CopyFrom(mirror)
    del plain.metadata.annotations[CONFIG_MIRROR_ANNOTATION]
    assert deletion.grace_period(resources.POD, plain, None) == 30
