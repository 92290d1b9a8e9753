"""`apply`, `get` and their outputs for controllers, config maps and secrets, against an in-memory
apiserver: the names kubectl accepts and the lines it prints."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from podctl.__main__ import run
from podplane.apimachinery import manifest, resources
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient

HELLO_WORLD_JOB = """\
kind: Job
apiVersion: batch/v1
metadata:
  name: hello-world
spec:
  template:
    spec:
      containers:
        - name: hello-world
          image: busybox
          command: ["sh", "-c", 'echo "Hello world from a Kubernetes Job" && sleep 30']
      restartPolicy: OnFailure
"""

MANIFESTS = (
    HELLO_WORLD_JOB
    + """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-5d8f}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {theme: dark}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: czNjcjN0}
"""
)


class WorkloadCluster(FakeClient):
    """The fake apiserver with the workload and config kinds too."""

    def __init__(self) -> None:
        super().__init__()
        revisions = itertools.count(1000)
        self.replicationcontrollers = FakeResourceClient(
            resources.REPLICATION_CONTROLLER, revisions
        )
        self.replicasets = FakeResourceClient(resources.REPLICA_SET, revisions)
        self.deployments = FakeResourceClient(resources.DEPLOYMENT, revisions)
        self.jobs = FakeResourceClient(resources.JOB, revisions)
        self.configmaps = FakeResourceClient(resources.CONFIG_MAP, revisions)
        self.secrets = FakeResourceClient(resources.SECRET, revisions)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WorkloadCluster:
    monkeypatch.chdir(tmp_path)
    Path("all.yaml").write_text(MANIFESTS)
    return WorkloadCluster()


def podctl(cluster: FakeClient, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


def test_apply_every_kind_then_unchanged(
    cluster: WorkloadCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert podctl(cluster, "apply", "-f", "all.yaml") == 0
    assert capsys.readouterr().out == (
        "job.batch/hello-world created\ndeployment.apps/web created\n"
        "replicaset.apps/web-5d8f created\nreplicationcontroller/legacy created\n"
        "configmap/settings created\nsecret/creds created\n"
    )
    assert podctl(cluster, "apply", "-f", "all.yaml") == 0
    assert capsys.readouterr().out.split("\n")[:-1] == [
        "job.batch/hello-world unchanged",
        "deployment.apps/web unchanged",
        "replicaset.apps/web-5d8f unchanged",
        "replicationcontroller/legacy unchanged",
        "configmap/settings unchanged",
        "secret/creds unchanged",
    ]
    job = cluster.jobs.store[("default", "hello-world")]
    assert job.spec.template.spec.restart_policy == "OnFailure"
    assert cluster.secrets.store[("default", "creds")].data["password"] == b"s3cr3t"


@pytest.mark.parametrize(
    ("argv", "header"),
    [
        (("get", "rc"), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]),
        (("get", "rs"), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]),
        (("get", "deploy"), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        (("get", "deployments.apps"), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        (("get", "jobs"), ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]),
        (("get", "cm"), ["NAME", "DATA", "AGE"]),
        (("get", "secrets"), ["NAME", "TYPE", "DATA", "AGE"]),
    ],
)
def test_get_tables_by_kubectl_names(
    cluster: WorkloadCluster,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    header: list[str],
) -> None:
    podctl(cluster, "apply", "-f", "all.yaml")
    capsys.readouterr()
    assert podctl(cluster, *argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == header
    assert len(lines) == 2


def test_get_job_as_yaml(cluster: WorkloadCluster, capsys: pytest.CaptureFixture[str]) -> None:
    podctl(cluster, "apply", "-f", "all.yaml")
    capsys.readouterr()
    assert podctl(cluster, "get", "job", "hello-world", "-o", "yaml") == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert (document["apiVersion"], document["kind"]) == ("batch/v1", "Job")
    container = document["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][2] == 'echo "Hello world from a Kubernetes Job" && sleep 30'
    assert podctl(cluster, "get", "jobs", "-o", "name") == 0
    assert capsys.readouterr().out == "job.batch/hello-world\n"


def test_secret_data_is_base64_in_json_and_yaml(
    cluster: WorkloadCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "all.yaml")
    capsys.readouterr()
    assert podctl(cluster, "get", "secret", "creds", "-o", "json") == 0
    assert json.loads(capsys.readouterr().out)["data"] == {"password": "czNjcjN0"}
    assert podctl(cluster, "get", "secrets", "creds", "-o", "yaml") == 0
    assert yaml.safe_load(capsys.readouterr().out)["data"] == {"password": "czNjcjN0"}


def test_wrong_api_version_names_the_expected_one(
    cluster: WorkloadCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("old.yaml").write_text(
        MANIFESTS.split("---\n")[1].replace("apps/v1", "extensions/v1beta1")
    )
    assert podctl(cluster, "apply", "-f", "old.yaml") == 1
    assert (
        'no matches for kind "Deployment" in version "extensions/v1beta1" (expected apiVersion '
        '"apps/v1")'
    ) in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("rc", resources.REPLICATION_CONTROLLER),
        ("replicationcontrollers", resources.REPLICATION_CONTROLLER),
        ("rs", resources.REPLICA_SET),
        ("replicaset.apps", resources.REPLICA_SET),
        ("deploy", resources.DEPLOYMENT),
        ("Deployment", resources.DEPLOYMENT),
        ("jobs", resources.JOB),
        ("job.batch", resources.JOB),
        ("cm", resources.CONFIG_MAP),
        ("configmaps", resources.CONFIG_MAP),
        ("secret", resources.SECRET),
        ("secrets", resources.SECRET),
        ("po", resources.POD),
        ("lease.coordination.k8s.io", resources.LEASE),
        ("pv", resources.PERSISTENT_VOLUME),
        ("persistentvolumes", resources.PERSISTENT_VOLUME),
        ("pvc", resources.PERSISTENT_VOLUME_CLAIM),
        ("PersistentVolumeClaim", resources.PERSISTENT_VOLUME_CLAIM),
        ("sc", resources.STORAGE_CLASS),
        ("storageclass.storage.k8s.io", resources.STORAGE_CLASS),
    ],
)
def test_resource_names(name: str, resource: resources.Resource) -> None:
    assert resources.by_name(name) is resource


@pytest.mark.parametrize(
    ("kind", "api_version", "resource"),
    [
        ("ReplicationController", "v1", resources.REPLICATION_CONTROLLER),
        ("ReplicaSet", "apps/v1", resources.REPLICA_SET),
        ("Deployment", "apps/v1", resources.DEPLOYMENT),
        ("Job", "batch/v1", resources.JOB),
        ("ConfigMap", "v1", resources.CONFIG_MAP),
        ("Secret", "v1", resources.SECRET),
        ("PersistentVolume", "v1", resources.PERSISTENT_VOLUME),
        ("PersistentVolumeClaim", "v1", resources.PERSISTENT_VOLUME_CLAIM),
        ("StorageClass", "storage.k8s.io/v1", resources.STORAGE_CLASS),
        ("ServiceAccount", "v1", resources.SERVICE_ACCOUNT),
    ],
)
def test_manifest_kinds(kind: str, api_version: str, resource: resources.Resource) -> None:
    assert resources.by_kind(kind, api_version) is resource
    decoded = manifest.from_dict(
        {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    )
    assert isinstance(decoded, resource.message)


def test_existing_kinds_come_first_in_their_order() -> None:
    assert [r.kind for r in resources.ALL] == [
        "Pod",
        "Node",
        "Namespace",
        "Event",
        "Lease",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "Job",
        "ConfigMap",
        "Secret",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
        "Service",
        "Endpoints",
        "EndpointSlice",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ServiceAccount",
        "DaemonSet",
        "StatefulSet",
        "ControllerRevision",
        "CronJob",
        "PodDisruptionBudget",
        "PriorityClass",
        "RuntimeClass",
        "CustomResourceDefinition",
        "CertificateSigningRequest",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "PodTemplate",
        "LimitRange",
        "ResourceQuota",
        "HorizontalPodAutoscaler",
        "Ingress",
        "IngressClass",
        "NetworkPolicy",
        "CSIDriver",
        "CSINode",
        "CSIStorageCapacity",
        "VolumeAttachment",
        "FlowSchema",
        "PriorityLevelConfiguration",
    ]
