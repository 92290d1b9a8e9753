"""configMap and secret volumes on disk: one file per key or the listed items, their modes, the
optional flag, and updates that swap the whole set of files at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelet.container.env import ConfigObjects
from kubelet.volume.pod_volumes import PodVolumes, VolumeError
from kubelet.volume.projection import (
    DATA_DIR,
    FileProjection,
    ProjectionError,
    make_payload,
    write_atomically,
)
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit.kubelet.podbuild import optional_field, pod
from tests.unit.kubelet.volumefakes import Getter, read_tree

DATA = {"a.conf": b"A", "b.conf": b"B"}


def item(key: str, path: str, mode: int | None = None) -> core_pb2.KeyToPath:
    return core_pb2.KeyToPath(key=key, path=path, mode=mode)


def test_every_key_is_a_file_with_the_default_mode() -> None:
    assert make_payload([], None, DATA, "configmap", False) == {
        "a.conf": FileProjection(b"A", 0o644),
        "b.conf": FileProjection(b"B", 0o644),
    }
    assert make_payload([], 0o400, DATA, "secret", False)["a.conf"].mode == 0o400


def test_items_pick_keys_paths_and_modes() -> None:
    payload = make_payload(
        [item("a.conf", "etc/app.conf", 0o600), item("b.conf", "b")],
        0o440,
        DATA,
        "configmap",
        False,
    )
    assert payload == {
        "etc/app.conf": FileProjection(b"A", 0o600),
        "b": FileProjection(b"B", 0o440),
    }


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("configmap", "configmap references non-existent config key: nope"),
        ("secret", "secret references non-existent secret key: nope"),
    ],
)
def test_an_item_naming_a_missing_key(kind: str, message: str) -> None:
    with pytest.raises(ProjectionError, match=message):
        make_payload([item("nope", "x")], None, DATA, kind, False)
    assert make_payload([item("nope", "x")], None, DATA, kind, True) == {}


@pytest.mark.parametrize("path", ["/abs", "../up", "a/../../b", "..hidden", ""])
def test_item_paths_stay_inside_the_volume(path: str) -> None:
    with pytest.raises(ProjectionError, match="invalid path"):
        make_payload([item("a.conf", path)], None, DATA, "configmap", False)


def test_files_appear_through_the_data_link_and_updates_swap_them(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    assert write_atomically(
        target, {"a": FileProjection(b"1", 0o644), "dir/b": FileProjection(b"2", 0o600)}
    )
    assert read_tree(target) == {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)}
    assert os.readlink(target / "a") == f"{DATA_DIR}/a"
    first = os.readlink(target / DATA_DIR)

    assert not write_atomically(
        target, {"a": FileProjection(b"1", 0o644), "dir/b": FileProjection(b"2", 0o600)}
    )
    assert os.readlink(target / DATA_DIR) == first  # unchanged: nothing rewritten

    assert write_atomically(target, {"a": FileProjection(b"new", 0o644)})
    assert read_tree(target) == {"a": (b"new", 0o644)}
    assert not (target / first).exists()  # the old payload is gone
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["a", DATA_DIR, os.readlink(target / DATA_DIR)]
    )


def cm_volume(
    name: str, cm: str, optional: bool | None = None, items: tuple[core_pb2.KeyToPath, ...] = ()
) -> core_pb2.Volume:
    return core_pb2.Volume(
        name=name,
        config_map=core_pb2.ConfigMapVolumeSource(
            name=cm, **optional_field(optional), items=list(items)
        ),
    )


async def test_pod_volumes_write_config_maps_and_secrets_under_the_pod(tmp_path: Path) -> None:
    cm = core_pb2.ConfigMap(
        metadata=meta_pb2.ObjectMeta(name="cfg"), data={"k": "v"}, binary_data={"bin": b"\x00\x01"}
    )
    secret = core_pb2.Secret(data={"token": b"t0k"})
    volumes = PodVolumes(str(tmp_path), Getter({"cfg": cm}, {"tok": secret}))
    p = pod(
        "a",
        volumes=(
            cm_volume("config", "cfg"),
            core_pb2.Volume(
                name="token",
                secret=core_pb2.SecretVolumeSource(secret_name="tok", default_mode=0o400),
            ),
            cm_volume("maybe", "nosuch", optional=True),
        ),
    )
    try:
        await check_written(volumes, p, tmp_path)
    finally:
        await volumes.teardown("uid-1")  # the secret volume may be a tmpfs mount
    assert not (tmp_path / "pods" / "uid-1").exists()


async def check_written(volumes: PodVolumes, p: core_pb2.Pod, tmp_path: Path) -> None:
    paths = await volumes.setup(p)
    volumes_dir = tmp_path / "pods" / "uid-1" / "volumes"
    assert paths == {
        "config": str(volumes_dir / "kubernetes.io~configmap" / "config"),
        "token": str(volumes_dir / "kubernetes.io~secret" / "token"),
        "maybe": str(volumes_dir / "kubernetes.io~configmap" / "maybe"),
    }
    assert read_tree(Path(paths["config"])) == {"k": (b"v", 0o644), "bin": (b"\x00\x01", 0o644)}
    assert read_tree(Path(paths["token"])) == {"token": (b"t0k", 0o400)}
    assert read_tree(Path(paths["maybe"])) == {}


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        (cm_volume("config", "nosuch"), 'volume "config" : configmap "nosuch" not found'),
        (
            core_pb2.Volume(name="s", secret=core_pb2.SecretVolumeSource(secret_name="nosuch")),
            'volume "s" : secret "nosuch" not found',
        ),
        (
            cm_volume("config", "cfg", items=(item("nope", "x"),)),
            "configmap references non-existent config key: nope",
        ),
    ],
    ids=["configmap", "secret", "key"],
)
async def test_a_missing_required_object_fails_the_volume(
    tmp_path: Path, volume: core_pb2.Volume, message: str
) -> None:
    volumes = PodVolumes(str(tmp_path), Getter({"cfg": core_pb2.ConfigMap(data={"k": "v"})}, {}))
    try:
        with pytest.raises(VolumeError, match=message):
            await volumes.setup(pod("a", volumes=(volume,)))
    finally:
        await volumes.teardown("uid-1")


async def test_a_changed_config_map_is_written_at_the_next_setup(tmp_path: Path) -> None:
    getter = Getter({"cfg": core_pb2.ConfigMap(data={"k": "v1"})}, {})
    volumes = PodVolumes(str(tmp_path), getter)
    p = pod("a", volumes=(cm_volume("config", "cfg"),))
    path = Path((await volumes.setup(p))["config"])
    getter.objects = ConfigObjects(config_maps={"cfg": core_pb2.ConfigMap(data={"k": "v2"})})
    await volumes.setup(p)
    assert (path / "k").read_text() == "v2"


def host_path(path: str, type_: str) -> core_pb2.Volume:
    return core_pb2.Volume(name="h", host_path=core_pb2.HostPathVolumeSource(path=path, type=type_))


async def test_host_path_types(tmp_path: Path) -> None:
    volumes = PodVolumes(str(tmp_path / "root"))
    made_dir, made_file = tmp_path / "made" / "dir", tmp_path / "made2" / "file"
    await volumes.setup(pod("a", volumes=(host_path(str(made_dir), "DirectoryOrCreate"),)))
    await volumes.setup(pod("a", volumes=(host_path(str(made_file), "FileOrCreate"),)))
    assert made_dir.is_dir() and made_file.is_file()
    await volumes.setup(pod("a", volumes=(host_path(str(made_dir), "Directory"),)))
    await volumes.setup(pod("a", volumes=(host_path(str(made_file), "File"),)))
    await volumes.setup(pod("a", volumes=(host_path(str(tmp_path / "whatever"), ""),)))
    for path, type_, message in [
        (made_file, "Directory", "is not a Directory"),
        (made_dir, "File", "is not a File"),
        (tmp_path / "nosuch", "Directory", "does not exist"),
    ]:
        with pytest.raises(VolumeError, match=message):
            await volumes.setup(pod("a", volumes=(host_path(str(path), type_),)))


def test_read_only_mounts_and_sub_paths(tmp_path: Path) -> None:
    c = core_pb2.Container(
        name="a",
        volume_mounts=[
            core_pb2.VolumeMount(name="config", mount_path="/etc/app", read_only=True),
            core_pb2.VolumeMount(name="data", mount_path="/data", sub_path="sub"),
            core_pb2.VolumeMount(name="cm", mount_path="/etc/cm"),
        ],
    )
    cm_path = "/v/kubernetes.io~configmap/cm"
    mounts = PodVolumes.mounts(c, {"config": "/v/config", "data": str(tmp_path), "cm": cm_path})
    assert [(m.host_path, m.container_path, m.read_only) for m in mounts] == [
        ("/v/config", "/etc/app", True),
        (str(tmp_path / "sub"), "/data", False),
        (cm_path, "/etc/cm", True),
    ]  # configMap and secret volumes: always read-only
