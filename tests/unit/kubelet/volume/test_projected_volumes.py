"""downwardAPI and projected volumes on disk: the pod's fields as Kubernetes formats them,
resources in units of the divisor, a projected volume's token, config map and namespace files (the
service account volume), refreshed tokens and changed labels written at the next setup."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.token.manager import TokenManager
from kubelet.volume.downward_api import downward_api_payload, format_map
from kubelet.volume.pod_volumes import PodVolumes, VolumeError
from kubelet.volume.projection import FileProjection, ProjectionError
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.tokenfakes import START, FakeClock, FakeTokenAPI
from tests.unit.kubelet.volumefakes import Getter, read_tree


def field(path: str, field_path: str, mode: int | None = None) -> core_pb2.DownwardAPIVolumeFile:
    return core_pb2.DownwardAPIVolumeFile(
        path=path,
        field_ref=core_pb2.ObjectFieldSelector(api_version="v1", field_path=field_path),
        mode=mode,
    )


def resource(path: str, name: str, divisor: str = "") -> core_pb2.DownwardAPIVolumeFile:
    return core_pb2.DownwardAPIVolumeFile(
        path=path,
        resource_field_ref=core_pb2.ResourceFieldSelector(
            container_name="main", resource=name, divisor=divisor
        ),
    )


def labelled_pod(*volumes: core_pb2.Volume) -> core_pb2.Pod:
    p = pod(
        container(
            "main",
            resources=core_pb2.ResourceRequirements(
                limits={"cpu": "250m"}, requests={"memory": "64Mi"}
            ),
        ),
        volumes=volumes,
        service_account_name="robot",
    )
    p.metadata.labels.update({"tier": "web", "app": 'say "hi"'})
    p.metadata.annotations["note"] = "x"
    return p


def test_labels_are_key_quoted_value_lines_in_key_order() -> None:
    assert format_map({"tier": "web", "app": 'say "hi"'}) == 'app="say \\"hi\\""\ntier="web"'
    assert format_map({}) == ""


def test_downward_api_files() -> None:
    p = labelled_pod()
    items = [
        field("labels", "metadata.labels"),
        field("annotations", "metadata.annotations", mode=0o600),
        field("meta/name", "metadata.name"),
        field("ns", "metadata.namespace"),
        field("uid", "metadata.uid"),
        field("tier", "metadata.labels['tier']"),
        resource("cpu_limit", "limits.cpu", "1m"),
        resource("cpu_request", "requests.cpu"),
        resource("mem_request", "requests.memory", "1Mi"),
        resource("mem_limit", "limits.memory", "1Gi"),
    ]
    payload = downward_api_payload(p, items, 0o644, {"memory": "4Gi", "cpu": "2"})
    assert {k: v.data.decode() for k, v in payload.items()} == {
        "labels": 'app="say \\"hi\\""\ntier="web"',
        "annotations": 'note="x"',
        "meta/name": "web",
        "ns": "default",
        "uid": "uid-1",
        "tier": "web",
        "cpu_limit": "250",
        "cpu_request": "0",
        "mem_request": "64",
        "mem_limit": "4",  # no limit: the node's allocatable
    }
    assert payload["annotations"].mode == 0o600 and payload["labels"].mode == 0o644


def test_a_resource_of_a_container_the_pod_does_not_have() -> None:
    item = core_pb2.DownwardAPIVolumeFile(
        path="x",
        resource_field_ref=core_pb2.ResourceFieldSelector(
            container_name="nope", resource="limits.cpu"
        ),
    )
    with pytest.raises(ProjectionError, match="container nope not found"):
        downward_api_payload(labelled_pod(), [item], 0o644, {})


def service_account_volume(expiration: int = 3607) -> core_pb2.Volume:
    """What the ServiceAccount admission plugin adds."""
    return core_pb2.Volume(
        name="kube-api-access-abcde",
        projected=core_pb2.ProjectedVolumeSource(
            default_mode=0o644,
            sources=[
                core_pb2.VolumeProjection(
                    service_account_token=core_pb2.ServiceAccountTokenProjection(
                        path="token", expiration_seconds=expiration
                    )
                ),
                core_pb2.VolumeProjection(
                    config_map=core_pb2.ConfigMapProjection(
                        name="kube-root-ca.crt",
                        items=[core_pb2.KeyToPath(key="ca.crt", path="ca.crt")],
                    )
                ),
                core_pb2.VolumeProjection(
                    downward_api=core_pb2.DownwardAPIProjection(
                        items=[field("namespace", "metadata.namespace")]
                    )
                ),
            ],
        ),
    )


async def test_the_service_account_volume(tmp_path: Path) -> None:
    clock = FakeClock()
    api = FakeTokenAPI(clock)
    ca = core_pb2.ConfigMap(data={"ca.crt": "PEM"})
    volumes = PodVolumes(
        str(tmp_path), Getter({"kube-root-ca.crt": ca}, {}), tokens=TokenManager(api, clock)
    )
    p = labelled_pod(service_account_volume(600))
    try:
        path = Path((await volumes.setup(p))["kube-api-access-abcde"])
        assert path.parent.name == "kubernetes.io~projected"
        assert read_tree(path) == {
            "token": (b"token-1", 0o644),
            "ca.crt": (b"PEM", 0o644),
            "namespace": (b"default", 0o644),
        }
        # Bound to the pod, for its account, for the apiserver's own audiences.
        assert api.asked == [("default", "robot", "web", "uid-1", [])]
        mounts = PodVolumes.mounts(
            core_pb2.Container(
                volume_mounts=[
                    core_pb2.VolumeMount(
                        name="kube-api-access-abcde",
                        mount_path="/var/run/secrets/kubernetes.io/serviceaccount",
                    )
                ]
            ),
            {"kube-api-access-abcde": str(path)},
        )
        assert mounts[0].read_only
        clock.now = START + 400
        await volumes.setup(p)
        assert (path / "token").read_bytes() == b"token-1"
        clock.now = START + 481
        await volumes.setup(p)
        assert (path / "token").read_bytes() == b"token-2"
    finally:
        await volumes.teardown("uid-1")


async def test_a_projected_volume_whose_sources_fail(tmp_path: Path) -> None:
    volumes = PodVolumes(str(tmp_path), Getter({}, {}))
    volume = service_account_volume()
    volume.projected.sources.add().secret.name = "optional-one"
    volume.projected.sources[-1].secret.optional = True
    try:
        with pytest.raises(
            VolumeError,
            match=r'volume "kube-api-access-abcde" : \[this kubelet has no token manager, '
            r'configmap "kube-root-ca.crt" not found\]',
        ):
            await volumes.setup(labelled_pod(volume))
    finally:
        await volumes.teardown("uid-1")


async def test_a_downward_api_volume_follows_the_labels(tmp_path: Path) -> None:
    volumes = PodVolumes(str(tmp_path), Getter({}, {}))
    volume = core_pb2.Volume(
        name="info",
        downward_api=core_pb2.DownwardAPIVolumeSource(
            default_mode=0o644, items=[field("labels", "metadata.labels")]
        ),
    )
    p = labelled_pod(volume)
    try:
        path = Path((await volumes.setup(p))["info"])
        assert path.parent.name == "kubernetes.io~downward-api"
        assert (path / "labels").read_text() == 'app="say \\"hi\\""\ntier="web"'
        p.metadata.labels["tier"] = "db"
        await volumes.setup(p)
        assert (path / "labels").read_text() == 'app="say \\"hi\\""\ntier="db"'
        assert read_tree(path)["labels"] == (b'app="say \\"hi\\""\ntier="db"', 0o644)
    finally:
        await volumes.teardown("uid-1")


def test_file_projection_of_an_unset_item_is_empty() -> None:
    item = core_pb2.DownwardAPIVolumeFile(path="x")
    assert downward_api_payload(labelled_pod(), [item], 0o644, {}) == {
        "x": FileProjection(b"", 0o644)
    }
