"""ReplicationController, ReplicaSet, Deployment, Job, ConfigMap and Secret through the real apiserver
over a real etcd: Kubernetes manifests apply unchanged and read back the way kube-apiserver returns
them."""
from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from apiserver.server import APIServer
from podplane import manifest
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client import Client, ResourceClient
from tests import reflection_client

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

GAME_CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: game-demo
data:
  player_initial_lives: "3"
  ui_properties_file_name: "user-interface.properties"
  game.properties: |
    enemy.types=aliens,monsters
    player.maximum-lives=5
binaryData:
  logo.bin: AAECAw==
"""

BASIC_AUTH_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: secret-basic-auth
type: kubernetes.io/basic-auth
data:
  username: YWRtaW4=
stringData:
  password: t0p-Secret
"""


async def namespace(client: Client) -> str:
    name = "wl-" + uuid.uuid4().hex[:8]
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name)))
    return name


def decode(text: str, namespace: str) -> Any:
    """The manifest decoded as podctl decodes it, in `namespace`."""
    (obj,) = manifest.load_objects(text)
    typed: Any = obj
    typed.metadata.namespace = namespace
    return typed


async def invalid(api: ResourceClient[Any], obj: Message) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.create(obj)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    return str(err.value.details())


# ---------------------------------------------------------------- Job

async def test_hello_world_job_is_accepted_unchanged_with_a_generated_selector(
        client: Client) -> None:
    ns = await namespace(client)
    created = await client.jobs.create(decode(HELLO_WORLD_JOB, ns))
    uid = created.metadata.uid
    assert (created.api_version, created.kind) == ("batch/v1", "Job")
    spec = created.spec
    assert (spec.parallelism, spec.completions, spec.backoff_limit) == (1, 1, 6)
    assert (spec.completion_mode, spec.suspend) == ("NonIndexed", False)
    assert dict(spec.selector.match_labels) == {"batch.kubernetes.io/controller-uid": uid}
    expected_labels = {"batch.kubernetes.io/controller-uid": uid,
                       "batch.kubernetes.io/job-name": "hello-world",
                       "controller-uid": uid, "job-name": "hello-world"}
    assert dict(spec.template.metadata.labels) == expected_labels
    assert dict(created.metadata.labels) == expected_labels
    pod_spec = spec.template.spec
    assert pod_spec.restart_policy == "OnFailure"
    assert pod_spec.termination_grace_period_seconds == 30
    assert pod_spec.containers[0].image_pull_policy == "Always"
    assert list(pod_spec.containers[0].command) == [
        "sh", "-c", 'echo "Hello world from a Kubernetes Job" && sleep 30']
    assert created.status == batch_pb2.JobStatus()
    assert await client.jobs.get("hello-world", ns) == created


async def test_job_selector_and_template_are_immutable(client: Client) -> None:
    ns = await namespace(client)
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


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda j: setattr(j.spec.template.spec, "restart_policy", "Always"),
     'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
     '"OnFailure", "Never"'),
    (lambda j: setattr(j.spec, "backoff_limit", -1),
     "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"),
    (lambda j: j.spec.selector.match_labels.update({"app": "other"}),
     "spec.selector: Invalid value: "),
], ids=["restartPolicy", "backoffLimit", "selector without manualSelector"])
async def test_invalid_job_names_the_field(client: Client, edit: Any, expected: str) -> None:
    ns = await namespace(client)
    job = decode(HELLO_WORLD_JOB, ns)
    edit(job)
    assert expected in await invalid(client.jobs, job)


async def test_job_update_status_leaves_spec_alone(client: Client) -> None:
    ns = await namespace(client)
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
    ns = await namespace(client)
    created = await client.deployments.create(decode(NGINX_DEPLOYMENT, ns))
    spec = created.spec
    assert (created.api_version, created.kind) == ("apps/v1", "Deployment")
    assert spec.replicas == 3
    assert spec.strategy.type == "RollingUpdate"
    assert (spec.strategy.rolling_update.max_unavailable,
            spec.strategy.rolling_update.max_surge) == ("25%", "25%")
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
    ns = await namespace(client)
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
    assert ("status.availableReplicas: Invalid value: 4: cannot be greater than status.replicas"
            in str(err.value.details()))


async def test_selector_that_misses_the_template_is_refused(client: Client) -> None:
    ns = await namespace(client)
    deployment = decode(NGINX_DEPLOYMENT, ns)
    deployment.spec.selector.match_labels["app"] = "apache"
    details = await invalid(client.deployments, deployment)
    assert details.endswith('"nginx-deployment" is invalid: spec.template.metadata.labels: Invalid '
                            'value: {"app":"nginx"}: `selector` does not match template `labels`')


async def test_deployment_selector_is_immutable(client: Client) -> None:
    ns = await namespace(client)
    created = await client.deployments.create(decode(NGINX_DEPLOYMENT, ns))
    changed = apps_pb2.Deployment()
    changed.CopyFrom(created)
    changed.spec.selector.match_labels["tier"] = "web"
    changed.spec.template.metadata.labels["tier"] = "web"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.deployments.update(changed)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert ('spec.selector: Invalid value: {"matchLabels":{"app":"nginx","tier":"web"}}: field is '
            'immutable' in str(err.value.details()))


async def test_replica_set_from_the_kubernetes_docs(client: Client) -> None:
    ns = await namespace(client)
    created = await client.replicasets.create(decode(FRONTEND_REPLICA_SET, ns))
    assert (created.api_version, created.kind, created.spec.replicas) == ("apps/v1", "ReplicaSet", 3)
    assert created.spec.template.spec.restart_policy == "Always"
    listed = await client.replicasets.list(ns, field_selector="status.replicas=0")
    assert [rs.metadata.name for rs in listed.items] == ["frontend"]

    negative = decode(FRONTEND_REPLICA_SET, ns)
    negative.metadata.name = "negative"
    negative.spec.replicas = -1
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in await invalid(
        client.replicasets, negative)
    unselected = decode(FRONTEND_REPLICA_SET, ns)
    unselected.spec.ClearField("selector")
    assert "spec.selector: Required value" in await invalid(client.replicasets, unselected)


async def test_replication_controller_selector_and_labels_default_to_the_template(
        client: Client) -> None:
    ns = await namespace(client)
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
    assert ('spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: '
            '"Always"') in await invalid(client.replicationcontrollers, onfailure)


# ---------------------------------------------------------------- ConfigMap, Secret

async def test_config_map_from_the_kubernetes_docs(client: Client) -> None:
    ns = await namespace(client)
    created = await client.configmaps.create(decode(GAME_CONFIG_MAP, ns))
    assert (created.api_version, created.kind) == ("v1", "ConfigMap")
    assert created.data["player_initial_lives"] == "3"
    assert created.data["game.properties"].startswith("enemy.types=aliens,monsters\n")
    assert created.binary_data["logo.bin"] == b"\x00\x01\x02\x03"
    assert manifest.to_dict(created)["binaryData"] == {"logo.bin": "AAECAw=="}

    bad_key = decode(GAME_CONFIG_MAP, ns)
    bad_key.metadata.name = "bad-key"
    bad_key.data["a b"] = "x"
    assert ('data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric '
            "characters, '-', '_' or '.'") in await invalid(client.configmaps, bad_key)
    too_big = decode(GAME_CONFIG_MAP, ns)
    too_big.metadata.name = "too-big"
    too_big.data["big"] = "x" * (1024 * 1024)
    assert "data: Too long: must have at most 1048576 bytes" in await invalid(
        client.configmaps, too_big)


async def test_immutable_config_map_data_cannot_change(client: Client) -> None:
    ns = await namespace(client)
    cm = decode(GAME_CONFIG_MAP, ns)
    cm.immutable = True
    created = await client.configmaps.create(cm)
    changed = core_pb2.ConfigMap()
    changed.CopyFrom(created)
    changed.data["player_initial_lives"] = "4"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.configmaps.update(changed)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "data: Forbidden: field is immutable when `immutable` is set" in str(err.value.details())
    relabeled = core_pb2.ConfigMap()
    relabeled.CopyFrom(created)
    relabeled.metadata.labels["ok"] = "yes"  # metadata stays mutable
    assert (await client.configmaps.update(relabeled)).metadata.labels["ok"] == "yes"


async def test_secret_string_data_is_merged_into_data_and_never_stored(client: Client) -> None:
    ns = await namespace(client)
    created = await client.secrets.create(decode(BASIC_AUTH_SECRET, ns))
    assert (created.api_version, created.kind) == ("v1", "Secret")
    assert created.type == "kubernetes.io/basic-auth"
    assert dict(created.data) == {"username": b"admin", "password": b"t0p-Secret"}
    assert not created.string_data
    got = await client.secrets.get("secret-basic-auth", ns)
    assert got == created
    assert manifest.to_dict(got)["data"] == {
        "password": base64.b64encode(b"t0p-Secret").decode(), "username": "YWRtaW4="}

    rotated = core_pb2.Secret()
    rotated.CopyFrom(got)
    rotated.string_data["password"] = "n3w"
    updated = await client.secrets.update(rotated)
    assert dict(updated.data) == {"username": b"admin", "password": b"n3w"}
    assert not updated.string_data
    assert not (await client.secrets.get("secret-basic-auth", ns)).string_data


async def test_secret_defaults_and_rules(client: Client) -> None:
    ns = await namespace(client)
    opaque = await client.secrets.create(core_pb2.Secret(
        metadata=meta_pb2.ObjectMeta(name="opaque", namespace=ns), data={"k": b"v"}))
    assert opaque.type == "Opaque"
    assert [s.metadata.name for s in (await client.secrets.list(
        ns, field_selector="type=Opaque")).items] == ["opaque"]

    retyped = core_pb2.Secret()
    retyped.CopyFrom(opaque)
    retyped.type = "kubernetes.io/tls"
    retyped.data["tls.crt"] = retyped.data["tls.key"] = b"x"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.secrets.update(retyped)
    assert 'type: Invalid value: "kubernetes.io/tls": field is immutable' in str(err.value.details())

    tls = core_pb2.Secret(metadata=meta_pb2.ObjectMeta(name="tls", namespace=ns),
                          type="kubernetes.io/tls", data={"tls.crt": b"x"})
    assert "data[tls.key]: Required value" in await invalid(client.secrets, tls)


# ---------------------------------------------------------------- grpcurl

async def test_new_services_are_reflected(apiserver: APIServer, client: Client) -> None:
    target = f"127.0.0.1:{apiserver.port}"
    services = await asyncio.to_thread(reflection_client.list_services, target)
    for name in ("podplane.core.v1.ReplicationControllers", "podplane.core.v1.ConfigMaps",
                 "podplane.core.v1.Secrets", "podplane.apps.v1.ReplicaSets",
                 "podplane.apps.v1.Deployments", "podplane.batch.v1.Jobs"):
        assert name in services
    ns = await namespace(client)
    await client.jobs.create(decode(HELLO_WORLD_JOB, ns))
    got = await asyncio.to_thread(reflection_client.call, target, "podplane.batch.v1.Jobs/Get",
                                  {"namespace": ns, "name": "hello-world"})
    assert got["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert got["spec"]["backoffLimit"] == 6
