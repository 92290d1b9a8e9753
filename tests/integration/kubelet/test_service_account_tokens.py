"""Service account tokens in pods, end to end on the test host's Docker engine: an apiserver with
ServiceAccount admission, the service account controller and the root CA publisher (as the
controller-manager runs them), and a whole kubelet. A pod gets
/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}, from which the official
Python client's in-cluster configuration reaches the apiserver; the token authenticates as
system:serviceaccount:<ns>:default; the kubelet writes a new token once most of its lifetime has
passed (its clock moved on, the token's 3607 s being too long to wait); a downwardAPI volume
follows the pod's labels; automountServiceAccountToken: false gives no volume."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s
from kubernetes.config import incluster_config

from controller.rootcacertpublisher.controller import RootCACertPublisher
from controller.serviceaccount.controller import ServiceAccountsController
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.types import ContainerState
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.integration.kubelet_docker import running_kubelet
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import EtcdProcess, eventually

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
NODE = "node-1"  # the node the tests' PKI has a client certificate for
BUSYBOX = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    folder = tmp_path_factory.mktemp("pod-tokens")
    async with rest_cluster(etcd, folder, disable_admission_plugins=frozenset()) as c:
        informers = SharedInformerFactory(c.grpc)
        ca = (c.pki / "ca.crt").read_text()
        async with running(
            ServiceAccountsController(c.grpc, informers),
            RootCACertPublisher(c.grpc, informers, ca),
        ):
            yield c


@pytest_asyncio.fixture
async def node(
    cluster: RestCluster, docker_runtime: DockerRuntime, tmp_path: Path
) -> AsyncIterator[Kubelet]:
    """The kubelet of node-1 with node-1's credentials, as on a cluster: the node authorizer and
    NodeRestriction decide what it may read and which tokens it may ask for."""
    address = f"127.0.0.1:{cluster.server.port}"
    kubelet_client = Client(address, timeout=10, credentials=cert_credentials(cluster.pki, NODE))
    async with running_kubelet(
        cluster.server,
        kubelet_client,
        docker_runtime,
        str(tmp_path),
        node_name=NODE,
        admin=cluster.grpc,
    ) as k:
        yield k
    await kubelet_client.close()
    # The pods' projected volumes are tmpfs mounts: taken down as the kubelet does for pods gone.
    for uid in k.volumes.pod_uids_on_disk():
        await k.volumes.teardown(uid)


async def namespace(cluster: RestCluster, name: str) -> str:
    await cluster.kubectl_ok("create", "namespace", name)

    async def ready() -> bool:
        sa = await cluster.kubectl("get", "sa", "default", "-n", name)
        cm = await cluster.kubectl("get", "cm", "kube-root-ca.crt", "-n", name)
        return sa.code == 0 and cm.code == 0

    await eventually(ready, what="the namespace's default account and kube-root-ca.crt")
    return name


def sleeper(node: str, ns: str, name: str, **spec: Any) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 0,
                "containers": [{"name": "main", **BUSYBOX, "command": ["sleep", "3600"]}],
                **spec,
            },
        }
    )


async def main_container(runtime: DockerRuntime, uid: str) -> str:
    async def running_id() -> str | None:
        for c in await runtime.list_containers(uid):
            if c.name == "main" and c.state == ContainerState.RUNNING:
                return c.id
        return None

    return await eventually(running_id, timeout=90, what="the pod's container to run")


async def read(runtime: DockerRuntime, cid: str, path: str) -> str:
    code, out = await runtime.exec_in_container(cid, ["cat", path], 10)
    assert code == 0, out
    return out


async def whoami(cluster: RestCluster, token: str) -> str:
    """Who the apiserver takes the token's bearer for: the user its refusal names (an account
    may not list secrets)."""
    ran = await cluster.kubectl("--token", token, "get", "secrets", context="viewer")
    assert ran.code == 1, ran.err
    found = re.search(r'User "([^"]+)" cannot list resource "secrets"', ran.err)
    assert found is not None, ran.err
    return found.group(1)


async def in_cluster_list_pods(
    cluster: RestCluster, node: Kubelet, pod: core_pb2.Pod
) -> tuple[int, str]:
    """config.load_incluster_config() as in the pod, with its token and CA files and the
    kubernetes Service's variables pointing at the apiserver; then list the pod's namespace."""
    volume = next(v.name for v in pod.spec.volumes if v.name.startswith("kube-api-access-"))
    files = node.volumes.pod_dir(pod.metadata.uid) / "volumes" / "kubernetes.io~projected" / volume
    environ = {
        incluster_config.SERVICE_HOST_ENV_NAME: "127.0.0.1",
        incluster_config.SERVICE_PORT_ENV_NAME: str(cluster.rest_port),
    }
    configuration = k8s.Configuration()
    loader_type: Any = incluster_config.InClusterConfigLoader  # untyped in the client
    loader = loader_type(
        token_filename=str(files / "token"), cert_filename=str(files / "ca.crt"), environ=environ
    )
    loader.load_and_set(configuration)
    api = k8s.CoreV1Api(k8s.ApiClient(configuration))
    try:
        await in_thread(api.list_namespaced_pod, pod.metadata.namespace)
    except k8s.ApiException as e:
        return e.status, json.loads(e.body or "{}").get("message", "")
    return 200, ""


async def test_a_pod_gets_a_token_the_ca_and_its_namespace_and_the_token_is_refreshed(
    cluster: RestCluster, node: Kubelet, docker_runtime: DockerRuntime, pod_namespace: str
) -> None:
    ns = await namespace(cluster, pod_namespace)
    pod = sleeper(
        node.config.node_name,
        ns,
        "web",
        volumes=[
            {
                "name": "podinfo",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            }
        ],
    )
    pod.spec.containers[0].volume_mounts.add(name="podinfo", mount_path="/etc/podinfo")
    created = await cluster.grpc.pods.create(pod)
    assert created.spec.service_account_name == "default"
    cid = await main_container(docker_runtime, created.metadata.uid)

    token = await read(docker_runtime, cid, f"{MOUNT}/token")
    assert await read(docker_runtime, cid, f"{MOUNT}/namespace") == ns
    assert (
        await read(docker_runtime, cid, f"{MOUNT}/ca.crt") == (cluster.pki / "ca.crt").read_text()
    )
    assert await whoami(cluster, token) == f"system:serviceaccount:{ns}:default"
    # Mounted read-only.
    code, _ = await docker_runtime.exec_in_container(cid, ["touch", f"{MOUNT}/x"], 10)
    assert code != 0
    # The official client's in-cluster configuration from these files (the node's side of the
    # bind mount) reaches the apiserver as the account, which may not list pods yet.
    assert await in_cluster_list_pods(cluster, node, created) == (
        403,
        f'pods is forbidden: User "system:serviceaccount:{ns}:default" cannot list resource '
        f'"pods" in API group "" in the namespace "{ns}"',
    )

    # The downwardAPI volume follows the labels.
    assert await read(docker_runtime, cid, "/etc/podinfo/labels") == 'app="web"'
    await cluster.kubectl_ok("label", "pod", "web", "-n", ns, "tier=front")

    async def relabelled() -> bool:
        labels = await read(docker_runtime, cid, "/etc/podinfo/labels")
        return labels == 'app="web"\ntier="front"'

    await eventually(relabelled, timeout=60, what="the labels file to be rewritten")

    # Past 80 % of the token's 3607 s: the kubelet asks for a new token and writes it.
    node.tokens.clock = lambda: time.time() + 2900
    await cluster.kubectl_ok("label", "pod", "web", "-n", ns, "refresh=now")  # a sync, now

    async def new_token() -> str | None:
        current = await read(docker_runtime, cid, f"{MOUNT}/token")
        return current if current != token else None

    refreshed = await eventually(new_token, timeout=60, what="a new token in the pod")
    node.tokens.clock = time.time
    assert await whoami(cluster, refreshed) == f"system:serviceaccount:{ns}:default"


async def test_no_token_when_the_pod_or_its_account_says_so(
    cluster: RestCluster, node: Kubelet, pod_namespace: str
) -> None:
    ns = await namespace(cluster, pod_namespace)
    kept_out = await cluster.grpc.pods.create(
        sleeper(node.config.node_name, ns, "no-token", automountServiceAccountToken=False)
    )
    assert list(kept_out.spec.volumes) == []
    assert list(kept_out.spec.containers[0].volume_mounts) == []
    await cluster.grpc.serviceaccounts.create(
        core_pb2.ServiceAccount(
            metadata=meta_pb2.ObjectMeta(name="quiet", namespace=ns),
            automount_service_account_token=False,
        )
    )
    quiet = await cluster.grpc.pods.create(
        sleeper(node.config.node_name, ns, "quiet", serviceAccountName="quiet")
    )
    assert list(quiet.spec.volumes) == []
    ran = await cluster.kubectl(
        "run",
        "orphan",
        "-n",
        ns,
        "--image=busybox",
        "--overrides",
        json.dumps({"spec": {"serviceAccountName": "nosuch"}}),
    )
    assert ran.code == 1
    assert ran.err == (
        f'Error from server (Forbidden): pods "orphan" is forbidden: error looking up service '
        f'account {ns}/nosuch: serviceaccount "nosuch" not found\n'
    )


async def test_a_pod_waits_a_moment_for_the_default_account(cluster: RestCluster) -> None:
    """The apiserver does not make `default`, the controller does: a pod created just after the
    account was deleted waits for the controller to make it again, as Kubernetes' plugin looks it
    up again for a while."""
    ns = f"bare-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", ns)

    async def has_default() -> bool:
        return (await cluster.kubectl("get", "sa", "default", "-n", ns)).code == 0

    await eventually(has_default, what="the default account")
    await cluster.kubectl_ok("delete", "sa", "default", "-n", ns)
    ran = await cluster.kubectl("run", "web", "-n", ns, "--image=busybox")
    assert ran.code == 0, ran.err
    created = await cluster.grpc.pods.get("web", ns)
    assert created.spec.service_account_name == "default"
    assert created.spec.volumes[0].name.startswith("kube-api-access-")
