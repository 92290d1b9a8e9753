"""Sidecars through the real apiserver, both doors, and a whole kubelet on the real Docker engine:
the real kubectl (the project's) creates a pod whose init container has restartPolicy Always, the
kubelet runs it, and `kubectl get` counts the sidecar in READY; a restartPolicy anywhere else is
refused with Kubernetes' own line, by kubectl's REST door and by the gRPC client."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import grpc
import pytest

from apiserver.server import APIServer
from kubelet.kubelet import Kubelet
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests import tools
from tests.kubeconfig import write_kubeconfig
from tests.support import eventually, new_namespace

BUSYBOX = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}


async def kubectl(
    apiserver: APIServer, home: Path, namespace: str, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    server = f"http://127.0.0.1:{apiserver.rest_port}"
    config = write_kubeconfig(home / "kubeconfig", server, namespace=namespace)
    proc = await asyncio.create_subprocess_exec(
        tools.kubectl(),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(config)},
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate(stdin.encode())
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def pod_doc(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


async def test_kubectl_runs_a_pod_with_a_sidecar_and_counts_it_ready(
    apiserver: APIServer, client: Client, kubelet: Kubelet, pod_namespace: str, tmp_path: Path
) -> None:
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    doc = pod_doc(
        "with-sidecar",
        {
            "nodeName": kubelet.config.node_name,
            "terminationGracePeriodSeconds": 1,
            "initContainers": [
                {
                    "name": "proxy",
                    **BUSYBOX,
                    "restartPolicy": "Always",
                    "command": ["sleep", "3600"],
                }
            ],
            "containers": [{"name": "app", **BUSYBOX, "command": ["sleep", "3600"]}],
        },
    )
    code, out, err = await kubectl(
        apiserver, tmp_path, pod_namespace, "apply", "-f", "-", stdin=json.dumps(doc)
    )
    assert code == 0, err

    async def ready() -> core_pb2.Pod | None:
        p = await client.pods.get("with-sidecar", pod_namespace)
        done = any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
        return p if done else None

    p = await eventually(ready, timeout=60, what="the pod with a sidecar to be ready")
    assert p.spec.init_containers[0].restart_policy == "Always"
    sidecar = p.status.init_container_statuses[0]
    assert sidecar.started and sidecar.ready and sidecar.state.HasField("running")

    code, out, err = await kubectl(
        apiserver, tmp_path, pod_namespace, "get", "pod", "with-sidecar", "--no-headers"
    )
    assert code == 0, err
    assert out.split()[1:3] == ["2/2", "Running"]
    code, out, err = await kubectl(
        apiserver,
        tmp_path,
        pod_namespace,
        "get",
        "pod",
        "with-sidecar",
        "-o",
        "jsonpath={.spec.initContainers[0].restartPolicy} {.spec.containers[0].restartPolicy}",
    )
    assert (code, out) == (0, "Always "), err
    await client.pods.delete("with-sidecar", pod_namespace)


MISPLACED = [
    (
        pod_doc(
            "app-policy",
            {"containers": [{"name": "app", **BUSYBOX, "restartPolicy": "Always"}]},
        ),
        'The Pod "app-policy" is invalid: spec.containers[0].restartPolicy: Forbidden: '
        "may not be set for non-init containers",
    ),
    (
        pod_doc(
            "init-policy",
            {
                "initContainers": [{"name": "init", **BUSYBOX, "restartPolicy": "OnFailure"}],
                "containers": [{"name": "app", **BUSYBOX}],
            },
        ),
        'The Pod "init-policy" is invalid: spec.initContainers[0].restartPolicy: Unsupported '
        'value: "OnFailure": supported values: "Always"',
    ),
    (
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "initContainers": [
                            {
                                "name": "init",
                                **BUSYBOX,
                                "livenessProbe": {"exec": {"command": ["true"]}},
                            }
                        ],
                        "containers": [{"name": "app", **BUSYBOX}],
                    },
                },
            },
        },
        'The Deployment "web" is invalid: spec.template.spec.initContainers[0].livenessProbe: '
        "Forbidden: may not be set for init containers without restartPolicy=Always",
    ),
]


@pytest.mark.parametrize(("doc", "line"), MISPLACED, ids=["app", "init", "template"])
async def test_kubectl_is_refused_a_misplaced_restart_policy(
    apiserver: APIServer, client: Client, tmp_path: Path, doc: dict[str, Any], line: str
) -> None:
    namespace = await new_namespace(client)
    code, _, err = await kubectl(
        apiserver, tmp_path, namespace, "apply", "-f", "-", stdin=json.dumps(doc)
    )
    assert code != 0 and line in err, err


async def test_the_grpc_door_refuses_it_with_the_same_line(client: Client) -> None:
    namespace = await new_namespace(client)
    doc = MISPLACED[0][0]
    pod = manifest.from_dict({**doc, "metadata": {"name": "app-policy", "namespace": namespace}})
    assert isinstance(pod, core_pb2.Pod)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await client.pods.create(pod)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == (
        'Pod "app-policy" is invalid: spec.containers[0].restartPolicy: Forbidden: '
        "may not be set for non-init containers"
    )
