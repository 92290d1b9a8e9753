"""The HPA controller against the real apiserver over real etcd, both doors served with TLS, as
the controller-manager (its certificate, so its RBAC): through the REST door it reads a
Deployment's /scale and writes it, and through the gRPC door the autoscaler's status, with
Kubernetes' conditions and events. A Deployment below minReplicas is raised to it; one within
its bounds, with no metrics API served in this cluster, keeps its size and the autoscaler says
FailedGetResourceMetric. (Scaling on measured usage needs the metrics add-on scraping real
kubelets: that is the compose cluster's, not this fixture's.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from controller.podautoscaler.controller import HorizontalController
from podplane.api.apps.v1 import apps_pb2
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.rest import RestClient
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import EtcdProcess, eventually, new_namespace


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("hpa")) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def controller_client(cluster: RestCluster) -> AsyncIterator[Client]:
    client = Client(
        f"127.0.0.1:{cluster.server.port}",
        timeout=10,
        credentials=cert_credentials(cluster.pki, "controller-manager"),
    )
    yield client
    await client.close()


@pytest_asyncio.fixture(scope="module")
async def running_controller(
    cluster: RestCluster, controller_client: Client
) -> AsyncIterator[HorizontalController]:
    rest = RestClient(cluster.rest_address, cert_credentials(cluster.pki, "controller-manager"))
    factory = SharedInformerFactory(controller_client)
    hc = HorizontalController(controller_client, factory, rest, sync_period=0.5)
    task = asyncio.create_task(hc.run())
    yield hc
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def deployment(namespace: str, replicas: int) -> apps_pb2.Deployment:
    obj = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "busybox",
                                "resources": {"requests": {"cpu": "100m"}},
                            }
                        ]
                    },
                },
            },
        }
    )
    assert isinstance(obj, apps_pb2.Deployment)
    return obj


def autoscaler(namespace: str, **spec: Any) -> autoscaling_pb2.HorizontalPodAutoscaler:
    obj = manifest.from_dict(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 5,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50},
                        },
                    }
                ],
                **spec,
            },
        }
    )
    assert isinstance(obj, autoscaling_pb2.HorizontalPodAutoscaler)
    return obj


async def test_a_deployment_below_min_replicas_is_scaled_up(
    cluster: RestCluster, running_controller: HorizontalController
) -> None:
    client = cluster.grpc
    namespace = await new_namespace(client, "hpa-")
    await client.deployments.create(deployment(namespace, 1))
    hpas = client.for_resource(resources.HORIZONTAL_POD_AUTOSCALER)
    await hpas.create(autoscaler(namespace, minReplicas=3))

    async def scaled() -> bool:
        d = await client.deployments.get("web", namespace)
        return d.spec.replicas == 3

    await eventually(scaled, timeout=30)

    async def status_written() -> bool:
        h = await hpas.get("web", namespace)
        return h.status.desired_replicas == 3 and bool(h.status.last_scale_time)

    await eventually(status_written, timeout=30)
    got = await hpas.get("web", namespace)
    able = next(c for c in got.status.conditions if c.type == "AbleToScale")
    assert (able.status, able.reason) == ("True", "SucceededRescale")

    async def rescale_event() -> bool:
        events, _ = await client.events.list_all(namespace)
        return any(
            e.reason == "SuccessfulRescale"
            and e.message
            == "New size: 3; reason: Current number of replicas below Spec.MinReplicas"
            and e.source.component == "horizontal-pod-autoscaler"
            for e in events
        )

    await eventually(rescale_event, timeout=30)


async def test_without_a_metrics_api_the_size_is_kept_and_said(
    cluster: RestCluster, running_controller: HorizontalController
) -> None:
    client = cluster.grpc
    namespace = await new_namespace(client, "hpa-")
    await client.deployments.create(deployment(namespace, 2))
    hpas = client.for_resource(resources.HORIZONTAL_POD_AUTOSCALER)
    await hpas.create(autoscaler(namespace, minReplicas=1))

    async def said() -> bool:
        h = await hpas.get("web", namespace)
        return any(
            c.type == "ScalingActive"
            and c.status == "False"
            and c.reason == "FailedGetResourceMetric"
            for c in h.status.conditions
        )

    await eventually(said, timeout=30)
    d = await client.deployments.get("web", namespace)
    assert d.spec.replicas == 2


POD_TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "app", "image": "busybox"}]},
}
SELECTOR = {"matchLabels": {"app": "web"}}
# Each kind with a scale subresource, as a user writes it: (apiVersion, kind, spec).
TARGETS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "replicaset": ("apps/v1", "ReplicaSet", {"selector": SELECTOR, "template": POD_TEMPLATE}),
    "statefulset": (
        "apps/v1",
        "StatefulSet",
        {"selector": SELECTOR, "serviceName": "web", "template": POD_TEMPLATE},
    ),
    "replicationcontroller": (
        "v1",
        "ReplicationController",
        {"selector": {"app": "web"}, "template": POD_TEMPLATE},
    ),
    "crontab": ("hpa.example.com/v1", "CronTab", {}),
}
CRONTABS = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.hpa.example.com"},
    "spec": {
        "group": "hpa.example.com",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
                "subresources": {
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                    }
                },
            }
        ],
    },
}


@pytest.mark.parametrize("target", sorted(TARGETS))
async def test_every_kind_with_a_scale_subresource_is_kept_within_bounds(
    cluster: RestCluster, running_controller: HorizontalController, target: str
) -> None:
    """Through its /scale: raised to minReplicas, then lowered to maxReplicas."""
    api_version, kind, spec = TARGETS[target]
    if target == "crontab":
        await cluster.kubectl_ok("apply", "-f", "-", stdin=json.dumps(CRONTABS))
        await cluster.kubectl_ok(
            "wait", "--for=condition=Established", "crd/crontabs.hpa.example.com"
        )
    namespace = await new_namespace(cluster.grpc, "hpa-")
    workload = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {**spec, "replicas": 1},
    }
    await cluster.kubectl_ok("apply", "-f", "-", stdin=json.dumps(workload))
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 3,
        },
    }
    await cluster.kubectl_ok("apply", "-f", "-", stdin=json.dumps(hpa))

    # Fully qualified: other modules' definitions of a CronTab kind share this etcd.
    resource = "crontabs.hpa.example.com" if target == "crontab" else target

    async def replicas() -> str:
        return await cluster.kubectl_ok(
            "get", resource, "web", "-n", namespace, "-o", "jsonpath={.spec.replicas}"
        )

    async def is_(wanted: str) -> bool:
        return await replicas() == wanted

    await eventually(lambda: is_("2"), timeout=30)
    await cluster.kubectl_ok("scale", resource, "web", "-n", namespace, "--replicas=5")
    await eventually(lambda: is_("3"), timeout=30)

    # The controller records each SuccessfulRescale after its scale write, and events are written
    # on their own (podplane/client/events.py): the second may follow the scale it reports.
    async def both_recorded() -> list[str] | None:
        events = await cluster.kubectl_ok(
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector",
            "reason=SuccessfulRescale",
            "-o",
            "jsonpath={range .items[*]}{.message}{'\\n'}{end}",
        )
        messages = sorted(events.splitlines())
        return messages if len(messages) >= 2 else None

    assert await eventually(both_recorded, timeout=30, what="both SuccessfulRescale events") == [
        "New size: 2; reason: Current number of replicas below Spec.MinReplicas",
        "New size: 3; reason: Current number of replicas above Spec.MaxReplicas",
    ]
