"""Every kind podplane serves, as real clients see it through the REST door of the real apiserver
over real etcd: kubectl creates a valid object of each with --validate=strict, and the official
Python client (`kubernetes`, whose generated models refuse an object missing a field Kubernetes
always sends) reads each back with its typed list and get calls; the create-only reviews come
back from its typed create calls."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s

from podplane.apimachinery import resources
from podplane.apimachinery.resources import CreateOnlyResource, Resource
from tests.fuzz import samples
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess

# The official client's API class of each group.
_API_CLASSES = {
    "": "CoreV1Api",
    "apps": "AppsV1Api",
    "autoscaling": "AutoscalingV2Api",
    "batch": "BatchV1Api",
    "policy": "PolicyV1Api",
    "coordination.k8s.io": "CoordinationV1Api",
    "discovery.k8s.io": "DiscoveryV1Api",
    "networking.k8s.io": "NetworkingV1Api",
    "storage.k8s.io": "StorageV1Api",
    "rbac.authorization.k8s.io": "RbacAuthorizationV1Api",
    "scheduling.k8s.io": "SchedulingV1Api",
    "certificates.k8s.io": "CertificatesV1Api",
    "node.k8s.io": "NodeV1Api",
    "authorization.k8s.io": "AuthorizationV1Api",
    "authentication.k8s.io": "AuthenticationV1Api",
    "apiextensions.k8s.io": "ApiextensionsV1Api",
    "apiregistration.k8s.io": "ApiregistrationV1Api",
    "admissionregistration.k8s.io": "AdmissionregistrationV1Api",
    "flowcontrol.apiserver.k8s.io": "FlowcontrolApiserverV1Api",
}


def snake(kind: str) -> str:
    """The official client's spelling of a kind in its method names (api_service for
    APIService)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", kind).lower()


def typed_api(api: k8s.ApiClient, r: Resource | CreateOnlyResource) -> Any:
    group = r.api_version.rpartition("/")[0]
    return getattr(k8s, _API_CLASSES[group])(api)


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("every-kind")) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def namespace(cluster: RestCluster) -> str:
    name = f"kinds-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    return name


@pytest.mark.parametrize("r", resources.ALL, ids=[r.plural for r in resources.ALL])
async def test_kubectl_creates_it_strictly_and_the_python_client_reads_it_back(
    cluster: RestCluster, namespace: str, r: Resource
) -> None:
    name = f"{r.singular}-{uuid.uuid4().hex[:6]}"
    obj = samples.sample(r, name, namespace)
    name = obj["metadata"]["name"]  # a definition's is <plural>.<group>
    if r.plural == "namespaces":
        obj["metadata"].pop("namespace", None)
    await cluster.kubectl_ok(
        "create", "--validate=strict", "-n", namespace, "-f", "-", stdin=json.dumps(obj)
    )
    api = typed_api(cluster.api_client(), r)
    scope = "namespaced_" if r.namespaced else ""
    args = (name, namespace) if r.namespaced else (name,)
    read = await in_thread(getattr(api, f"read_{scope}{snake(r.kind)}"), *args)
    assert read.metadata.name == name
    assert read.metadata.uid
    listed = await in_thread(
        getattr(api, f"list_{scope}{snake(r.kind)}"), *((namespace,) if r.namespaced else ())
    )
    assert name in [item.metadata.name for item in listed.items]
    # kubectl reads it back too, as JSON that decodes to the same object.
    got = json.loads(await cluster.kubectl_ok("get", "-n", namespace, r.plural, name, "-o", "json"))
    assert got["metadata"]["uid"] == read.metadata.uid
    if r.plural == "apiservices":
        # Its Service does not exist: its group is unavailable, and every client's discovery
        # (kubectl's, the following modules' on this etcd) would say so, as with Kubernetes.
        await cluster.kubectl_ok("delete", "apiservice", name)


@pytest.mark.parametrize("r", resources.CREATE_ONLY, ids=[r.plural for r in resources.CREATE_ONLY])
async def test_the_python_client_reads_the_answer_of_each_review(
    cluster: RestCluster, namespace: str, r: CreateOnlyResource
) -> None:
    body = samples.sample(r, "", namespace)
    body["metadata"].pop("name")
    if "resourceAttributes" in body.get("spec", {}):
        body["spec"]["resourceAttributes"]["namespace"] = namespace
    api = typed_api(cluster.api_client(), r)
    scope = "namespaced_" if r.namespaced else ""
    args = (namespace, body) if r.namespaced else (body,)
    answer = await in_thread(getattr(api, f"create_{scope}{snake(r.kind)}"), *args)
    assert answer.status is not None
