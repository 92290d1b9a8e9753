"""`podctl scale` against an in-memory apiserver: the names kubectl accepts, its `scaled` lines
and error lines, the --current-replicas and --resource-version preconditions, and a conflicting
write answered by reading again."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from podctl.__main__ import run
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient


def rc(name: str, replicas: int) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        core_pb2.ReplicationController,
    )


def rs(name: str, replicas: int, kind: str = "ReplicaSet") -> Any:
    message = apps_pb2.ReplicaSet if kind == "ReplicaSet" else apps_pb2.Deployment
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        message,
    )


class RacingResourceClient(FakeResourceClient):
    """Someone else writes the object just before each of the first `races` updates."""

    def __init__(self, resource: resources.Resource, revisions: itertools.count[int]) -> None:
        super().__init__(resource, revisions)
        self.races = 0
        self.updates = 0

    async def update(self, o: Any) -> Any:
        self.updates += 1
        if self.races:
            self.races -= 1
            key = self._key(o.metadata.name, o.metadata.namespace)
            self.store[key] = self._stored(self.store[key])
        return await super().update(o)


class ScalableCluster(FakeClient):
    def __init__(self) -> None:
        super().__init__()
        revisions = itertools.count(1000)
        self.replicationcontrollers = RacingResourceClient(
            resources.REPLICATION_CONTROLLER, revisions
        )
        self.replicasets = RacingResourceClient(resources.REPLICA_SET, revisions)
        self.deployments = RacingResourceClient(resources.DEPLOYMENT, revisions)
        self.jobs = FakeResourceClient(resources.JOB, revisions)

    async def seed(self) -> None:
        for name, replicas in (("web", 3), ("api", 1)):
            await self.replicationcontrollers.create(with_namespace(rc(name, replicas)))
        await self.replicasets.create(with_namespace(rs("frontend", 2)))
        await self.deployments.create(with_namespace(rs("nginx", 3, "Deployment")))

    def replicas(self, api: FakeResourceClient, name: str) -> int:
        replicas: int = api.store[("default", name)].spec.replicas
        return replicas


def with_namespace(obj: Any) -> Any:
    obj.metadata.namespace = "default"
    return obj


@pytest.fixture
def cluster() -> ScalableCluster:
    c = ScalableCluster()
    asyncio.run(c.seed())
    return c


def podctl(cluster: FakeClient, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (("scale", "rc/web", "--replicas=5"), ["replicationcontroller/web scaled"]),
        (
            ("scale", "--replicas", "5", "replicationcontroller", "web"),
            ["replicationcontroller/web scaled"],
        ),
        (("scale", "rs/frontend", "--replicas=5"), ["replicaset.apps/frontend scaled"]),
        (("scale", "deploy/nginx", "--replicas=5"), ["deployment.apps/nginx scaled"]),
        (("scale", "deployments.apps", "nginx", "--replicas=5"), ["deployment.apps/nginx scaled"]),
        (
            ("scale", "rc", "web", "api", "--replicas=5"),
            ["replicationcontroller/web scaled", "replicationcontroller/api scaled"],
        ),
        (
            ("scale", "rc/web", "rs/frontend", "--replicas=5"),
            ["replicationcontroller/web scaled", "replicaset.apps/frontend scaled"],
        ),
        (
            ("scale", "rc", "--all", "--replicas=5"),
            ["replicationcontroller/api scaled", "replicationcontroller/web scaled"],
        ),
    ],
)
def test_scaled_lines(
    cluster: ScalableCluster,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    printed: list[str],
) -> None:
    assert podctl(cluster, *argv) == 0
    assert capsys.readouterr().out.splitlines() == printed
    scaled = {line.split()[0] for line in printed}
    for qualified, api in (
        ("replicationcontroller", cluster.replicationcontrollers),
        ("replicaset.apps", cluster.replicasets),
        ("deployment.apps", cluster.deployments),
    ):
        for name in [n for q, _, n in (s.partition("/") for s in scaled) if q == qualified]:
            assert cluster.replicas(api, name) == 5


def test_scale_to_zero_keeps_the_rest_of_the_object(cluster: ScalableCluster) -> None:
    before = cluster.replicationcontrollers.store[("default", "web")]
    assert podctl(cluster, "scale", "rc/web", "--replicas=0") == 0
    after = cluster.replicationcontrollers.store[("default", "web")]
    assert after.spec.replicas == 0
    assert after.spec.template == before.spec.template
    assert int(after.metadata.resource_version) > int(before.metadata.resource_version)


def test_current_replicas_precondition(
    cluster: ScalableCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert podctl(cluster, "scale", "--current-replicas=2", "--replicas=3", "rc/web") == 1
    assert capsys.readouterr().err == "error: Expected replicas to be 2, was 3\n"
    assert cluster.replicas(cluster.replicationcontrollers, "web") == 3
    assert podctl(cluster, "scale", "--current-replicas=3", "--replicas=4", "rc/web") == 0
    assert cluster.replicas(cluster.replicationcontrollers, "web") == 4


def test_resource_version_precondition(
    cluster: ScalableCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    rv = cluster.replicasets.store[("default", "frontend")].metadata.resource_version
    assert podctl(cluster, "scale", "rs/frontend", "--replicas=4", "--resource-version=1") == 1
    assert capsys.readouterr().err == (f"error: Expected resource version to be 1, was {rv}\n")
    assert podctl(cluster, "scale", "rs/frontend", "--replicas=4", f"--resource-version={rv}") == 0
    assert cluster.replicas(cluster.replicasets, "frontend") == 4
    assert podctl(cluster, "scale", "rc", "web", "api", "--replicas=1", "--resource-version=5") == 1
    assert capsys.readouterr().err == (
        "error: cannot use --resource-version with multiple resources\n"
    )


def test_a_conflicting_write_is_answered_by_reading_again(
    cluster: ScalableCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.deployments.races = 2
    assert podctl(cluster, "scale", "deploy/nginx", "--replicas=7") == 0
    assert cluster.deployments.updates == 3
    assert cluster.replicas(cluster.deployments, "nginx") == 7
    assert capsys.readouterr().out == "deployment.apps/nginx scaled\n"


def test_a_conflict_that_never_ends_is_reported(
    cluster: ScalableCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.deployments.races = 100
    assert podctl(cluster, "scale", "deploy/nginx", "--replicas=7") == 1
    assert capsys.readouterr().err.startswith("Error from server (Conflict): ")


def test_scale_from_a_manifest(
    cluster: ScalableCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: web}\n"
        "spec:\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: c, image: nginx}]}\n"
    )
    assert podctl(cluster, "scale", "-f", str(path), "--replicas=2") == 0
    assert capsys.readouterr().out == "replicationcontroller/web scaled\n"
    assert cluster.replicas(cluster.replicationcontrollers, "web") == 2


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("scale", "rc/web"), 'error: required flag(s) "replicas" not set'),
        (
            ("scale", "rc/web", "--replicas=-1"),
            "error: The --replicas=COUNT flag is required, and "
            "COUNT must be greater than or equal to 0",
        ),
        (
            ("scale", "rc/web", "--replicas=1", "--current-replicas=-2"),
            "error: The --current-replicas must specify an integer of -1 or greater",
        ),
        (
            ("scale", "--replicas=1"),
            "error: You must provide one or more resources by argument or filename.",
        ),
        (
            ("scale", "rc", "--replicas=1"),
            "error: resource(s) were provided, but no name was specified",
        ),
        (
            ("scale", "rc/nope", "--replicas=1"),
            'Error from server (NotFound): replicationcontrollers "nope" not found',
        ),
        (
            ("scale", "widgets/x", "--replicas=1"),
            'error: the server doesn\'t have a resource type "widgets"',
        ),
        (("scale", "job", "--all", "--replicas=1"), "error: no objects passed to scale"),
    ],
)
def test_error_lines(
    cluster: ScalableCluster, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], error: str
) -> None:
    assert podctl(cluster, *argv) == 1
    assert capsys.readouterr().err.splitlines()[0] == error


def test_a_kind_without_replicas_cannot_be_scaled(
    cluster: ScalableCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(
        cluster.pods.create(
            manifest.from_dict(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "jumpod", "namespace": "default"},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
                core_pb2.Pod,
            )
        )
    )
    assert podctl(cluster, "scale", "pod/jumpod", "--replicas=2") == 1
    assert capsys.readouterr().err == (
        "Error from server (NotFound): the server could not find the requested resource\n"
    )
