"""grpcurl works against the apiserver: services are listed and called through reflection alone."""

from __future__ import annotations

import asyncio

from apiserver.server import APIServer
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests import reflection_client
from tests.support import new_namespace


async def test_reflection_lists_api_services(apiserver: APIServer) -> None:
    services = await asyncio.to_thread(
        reflection_client.list_services, f"127.0.0.1:{apiserver.port}"
    )
    for name in (
        "podplane.core.v1.Pods",
        "podplane.core.v1.Nodes",
        "podplane.core.v1.Namespaces",
        "podplane.core.v1.Events",
        "podplane.coordination.v1.Leases",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ):
        assert name in services


async def test_reflection_gets_a_pod_as_json(apiserver: APIServer, client: Client) -> None:
    ns = await new_namespace(client, "r-")
    await client.pods.create(
        manifest.from_dict(
            {  # type: ignore[arg-type]
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "jumpod", "namespace": ns},
                "spec": {
                    "containers": [
                        {"name": "busybox", "image": "busybox", "imagePullPolicy": "IfNotPresent"}
                    ]
                },
            }
        )
    )
    got = await asyncio.to_thread(
        reflection_client.call,
        f"127.0.0.1:{apiserver.port}",
        "podplane.core.v1.Pods/Get",
        {"namespace": ns, "name": "jumpod"},
    )
    assert got["metadata"]["name"] == "jumpod"
    assert got["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert got["status"]["phase"] == "Pending"
