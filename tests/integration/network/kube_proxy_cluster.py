"""The apiserver kube-proxy's integration tests run against: over TLS on a real etcd, with the
kube-proxy add-on's service account and ClusterRoleBinding applied (docker/addons/kube-proxy.yaml)
and a client as that account, with a token read from a file on the token port; and the objects
and probes the tests share."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiserver.server import APIServer
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from podplane.componentbase import pki
from podplane.iptables.runner import ExecIptables
from proxy.iptables.rules import RulesConfig
from tests.integration.control_plane import TEST_DISABLED_ADMISSION_PLUGINS
from tests.integration.netns import Netns
from tests.integration.network.addon_identity import apply_addon_identity, wait_until_allowed
from tests.pki_support import cert_credentials, secure_serving
from tests.support import EtcdProcess

CLUSTER_CIDR = "10.244.0.0/16"
ADDON = Path(__file__).parents[3] / "docker" / "addons" / "kube-proxy.yaml"


@dataclass
class Cluster:
    admin: Client
    proxy: Client  # system:serviceaccount:kube-system:kube-proxy, over the token port


@contextlib.asynccontextmanager
async def kube_proxy_cluster(etcd: EtcdProcess, certs: Path, node: str) -> AsyncIterator[Cluster]:
    pki.build(certs, [node])
    server = APIServer(
        [etcd.endpoint],
        "127.0.0.1:0",
        security=secure_serving(certs),
        disable_admission_plugins=TEST_DISABLED_ADMISSION_PLUGINS,
    )
    await server.start(etcd_timeout=20)
    admin = Client(
        f"127.0.0.1:{server.port}", timeout=10, credentials=cert_credentials(certs, "admin")
    )
    await apply_addon_identity(admin, ADDON)
    issued = await admin.create_token(
        token_request_pb2.TokenRequest(
            metadata=meta_pb2.ObjectMeta(name="kube-proxy", namespace="kube-system")
        )
    )
    # Where the kubelet would project it; read again whenever it changes.
    token_file = certs / "kube-proxy.token"
    token_file.write_text(issued.status.token)
    proxy = Client(
        f"127.0.0.1:{server.token_port}",
        timeout=10,
        credentials=Credentials(str(certs / "ca.crt"), token_file=str(token_file)),
    )
    try:
        await wait_until_allowed(
            lambda: proxy.services.list(""), "kubeadm:node-proxier to take effect"
        )
        yield Cluster(admin, proxy)
    finally:
        await admin.close()
        await proxy.close()
        await server.stop(0)


def service(name: str, namespace: str, **spec: Any) -> service_pb2.Service:
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": 8080}])
    labels = spec.pop("labels", {})
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": spec,
        },
        service_pb2.Service,
    )


async def put_slice(client: Client, es: discovery_pb2.EndpointSlice) -> None:
    try:
        current = await client.endpointslices.get(es.metadata.name, es.metadata.namespace)
    except Exception:  # noqa: BLE001 - not there yet
        await client.endpointslices.create(es)
        return
    es.metadata.resource_version = current.metadata.resource_version
    await client.endpointslices.update(es)


def rules_config(iptables: ExecIptables) -> RulesConfig:
    return RulesConfig(
        cluster_cidr=CLUSTER_CIDR,
        masquerade_mark="0x004000",
        localhost_nodeports=False,
        random_fully=iptables.random_fully,
    )


def fetch(client: Netns, url: str) -> subprocess.CompletedProcess[str]:
    return client.run("busybox", "wget", "-qO-", url, check=False, timeout=10)
