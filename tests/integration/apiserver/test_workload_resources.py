"""ReplicationController, ReplicaSet, Deployment and Job through the real apiserver over a real
etcd: Kubernetes manifests apply unchanged and read back the way kube-apiserver returns them
(ConfigMap and Secret: test_config_resources.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from apiserver.server import APIServer
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from tests import reflection_client
from tests.integration.api_objects import decode, invalid
from tests.support import new_namespace

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

NGINX_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
"""

FRONTEND_REPLICA_SET = """\
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels:
    app: guestbook
    tier: frontend
spec:
  replicas: 3
  selector:
    matchLabels:
      tier: frontend
  template:
    metadata:
      labels:
        tier: frontend
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
"""

NGINX_RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector:
    app: nginx
  template:
    metadata:
      name: nginx
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
"""

# ---------------------------------------------------------------- Job


async def test_hello_world_job_is_accepted_unchanged_with_a_generated_selector(
    client: Client,
) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.jobs.create(decode(HELLO_WORLD_JOB, ns))
    uid = created.metadata.uid
    assert (created.api_version, created.kind) == ("batch/v1", "Job")
    spec = created.spec
    assert (spec.parallelism, spec.completions, spec.backoff_limit) == (1, 1, 6)
    assert (spec.completion_mode, spec.suspend) == ("NonIndexed", False)
    assert dict(spec.selector.match_labels) == {"batch.kubernetes.io/controller-uid": uid}
    expected_labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "hello-world",
        "controller-uid": uid,
        "job-name": "hello-world",
    }
    assert dict(spec.template.metadata.labels) == expected_labels
    assert dict(created.metadata.labels) == expected_labels
    pod_spec = spec.template.spec
    assert pod_spec.restart_policy == "OnFailure"
    assert pod_spec.termination_grace_period_seconds == 30
    assert pod_spec.containers[0].image_pull_policy == "Always"
    assert list(pod_spec.containers[0].command) == [
        "sh",
        "-c",
        'echo "Hello world from a Kubernetes Job" && sleep 30',
    ]
    assert created.status == batch_pb2.JobStatus()
    assert await client.jobs.get("hello-world", ns) == created


async def test_job_selector_and_template_are_immutable(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    job = await client.jobs.create(decode(HELLO_WORLD_JOB, ns))
    changed = batch_pb2.Job()
    changed.CopyFrom(job)
    changed.spec.template.spec.containers[0].image = "busybox:1.36"
    changed.spec.selector.match_labels["extra"] = "x"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.jobs.update(changed)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = str(err.value.details())
    assert "spec.selector: Invalid value: " in details and "field is immutable" in details
    assert "spec.template: Invalid value: field is immutable" in details


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda j: setattr(j.spec.template.spec, "restart_policy", "Always"),
            'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
            '"OnFailure", "Never"',
        ),
        (
            lambda j: setattr(j.spec, "backoff_limit", -1),
            "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            lambda j: j.spec.selector.match_labels.update({"app": "other"}),
            "spec.selector: Invalid value: ",
        ),
    ],
    ids=["restartPolicy", "backoffLimit", "selector without manualSelector"],
)
async def test_invalid_job_names_the_field(client: Client, edit: Any, expected: str) -> None:
    ns = await new_namespace(client, "wl-")
    job = decode(HELLO_WORLD_JOB, ns)
    edit(job)
    assert expected in await invalid(client.jobs, job)


async def test_job_update_status_leaves_spec_alone(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    job = await client.jobs.create(decode(HELLO_WORLD_JOB, ns))
    report = batch_pb2.Job()
    report.CopyFrom(job)
    report.spec.parallelism = 5  # ignored: UpdateStatus writes status only
    report.status.active = 1
    report.status.start_time = "2026-01-01T00:00:00Z"
    updated = await client.jobs.update_status(report)
    assert updated.status.active == 1 and updated.status.start_time == "2026-01-01T00:00:00Z"
    assert updated.spec == job.spec
    assert updated.metadata.generation == job.metadata.generation


# ---------------------------------------------------------------- Deployment, ReplicaSet, RC


async def test_deployment_defaults_and_generation(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.deployments.create(decode(NGINX_DEPLOYMENT, ns))
    spec = created.spec
    assert (created.api_version, created.kind) == ("apps/v1", "Deployment")
    assert spec.replicas == 3
    assert spec.strategy.type == "RollingUpdate"
    assert (
        spec.strategy.rolling_update.max_unavailable,
        spec.strategy.rolling_update.max_surge,
    ) == ("25%", "25%")
    assert (spec.revision_history_limit, spec.progress_deadline_seconds) == (10, 600)
    assert spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert spec.template.spec.containers[0].ports[0].protocol == "TCP"
    assert created.metadata.generation == 1

    relabeled = apps_pb2.Deployment()
    relabeled.CopyFrom(created)
    relabeled.metadata.labels["team"] = "web"
    relabeled.status.replicas = 3  # ignored: Update never writes status
    after_labels = await client.deployments.update(relabeled)
    assert after_labels.metadata.generation == 1
    assert after_labels.metadata.labels["team"] == "web"
    assert after_labels.status == apps_pb2.DeploymentStatus()

    scaled = apps_pb2.Deployment()
    scaled.CopyFrom(after_labels)
    scaled.spec.replicas = 5
    after_scale = await client.deployments.update(scaled)
    assert (after_scale.metadata.generation, after_scale.spec.replicas) == (2, 5)


async def test_deployment_update_status_leaves_spec_alone(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.deployments.create(decode(NGINX_DEPLOYMENT, ns))
    report = apps_pb2.Deployment()
    report.CopyFrom(created)
    report.spec.replicas = 9
    report.status.replicas = report.status.ready_replicas = report.status.available_replicas = 3
    report.status.observed_generation = 1
    updated = await client.deployments.update_status(report)
    assert updated.spec == created.spec and updated.metadata.generation == 1
    assert (updated.status.replicas, updated.status.available_replicas) == (3, 3)

    impossible = apps_pb2.Deployment()
    impossible.CopyFrom(updated)
    impossible.status.available_replicas = 4
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.deployments.update_status(impossible)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        "status.availableReplicas: Invalid value: 4: cannot be greater than status.replicas"
        in str(err.value.details())
    )


async def test_selector_that_misses_the_template_is_refused(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    deployment = decode(NGINX_DEPLOYMENT, ns)
    deployment.spec.selector.match_labels["app"] = "apache"
    details = await invalid(client.deployments, deployment)
    assert details.endswith(
        '"nginx-deployment" is invalid: spec.template.metadata.labels: Invalid '
        'value: {"app":"nginx"}: `selector` does not match template `labels`'
    )


async def test_deployment_selector_is_immutable(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.deployments.create(decode(NGINX_DEPLOYMENT, ns))
    changed = apps_pb2.Deployment()
    changed.CopyFrom(created)
    changed.spec.selector.match_labels["tier"] = "web"
    changed.spec.template.metadata.labels["tier"] = "web"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.deployments.update(changed)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        'spec.selector: Invalid value: {"matchLabels":{"app":"nginx","tier":"web"}}: field is '
        "immutable" in str(err.value.details())
    )


async def test_replica_set_from_the_kubernetes_docs(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.replicasets.create(decode(FRONTEND_REPLICA_SET, ns))
    assert (created.api_version, created.kind, created.spec.replicas) == (
        "apps/v1",
        "ReplicaSet",
        3,
    )
    assert created.spec.template.spec.restart_policy == "Always"
    listed = await client.replicasets.list(ns, field_selector="status.replicas=0")
    assert [rs.metadata.name for rs in listed.items] == ["frontend"]

    negative = decode(FRONTEND_REPLICA_SET, ns)
    negative.metadata.name = "negative"
    negative.spec.replicas = -1
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in await invalid(
        client.replicasets, negative
    )
    unselected = decode(FRONTEND_REPLICA_SET, ns)
    unselected.spec.ClearField("selector")
    assert "spec.selector: Required value" in await invalid(client.replicasets, unselected)


async def test_replication_controller_selector_and_labels_default_to_the_template(
    client: Client,
) -> None:
    ns = await new_namespace(client, "wl-")
    rc = decode(NGINX_RC, ns)
    rc.spec.ClearField("selector")
    rc.spec.ClearField("replicas")
    created = await client.replicationcontrollers.create(rc)
    assert (created.api_version, created.kind) == ("v1", "ReplicationController")
    assert dict(created.spec.selector) == {"app": "nginx"}
    assert dict(created.metadata.labels) == {"app": "nginx"}
    assert created.spec.replicas == 1
    report = core_pb2.ReplicationController()
    report.CopyFrom(created)
    report.status.replicas = report.status.ready_replicas = 1
    updated = await client.replicationcontrollers.update_status(report)
    assert updated.spec == created.spec and updated.status.ready_replicas == 1

    onfailure = decode(NGINX_RC, ns)
    onfailure.metadata.name = "onfailure"
    onfailure.spec.template.spec.restart_policy = "OnFailure"
    assert (
        'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: '
        '"Always"'
    ) in await invalid(client.replicationcontrollers, onfailure)


# ---------------------------------------------------------------- grpcurl


async def test_new_services_are_reflected(apiserver: APIServer, client: Client) -> None:
    target = f"127.0.0.1:{apiserver.port}"
    services = await asyncio.to_thread(reflection_client.list_services, target)
    for name in (
        "podplane.core.v1.ReplicationControllers",
        "podplane.core.v1.ConfigMaps",
        "podplane.core.v1.Secrets",
        "podplane.apps.v1.ReplicaSets",
        "podplane.apps.v1.Deployments",
        "podplane.batch.v1.Jobs",
    ):
        assert name in services
    ns = await new_namespace(client, "wl-")
    await client.jobs.create(decode(HELLO_WORLD_JOB, ns))
    got = await asyncio.to_thread(
        reflection_client.call,
        target,
        "podplane.batch.v1.Jobs/Get",
        {"namespace": ns, "name": "hello-world"},
    )
    assert got["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert got["spec"]["backoffLimit"] == 6
