"""Static pods on the compose cluster: a manifest dropped into a node's /etc/kubernetes/manifests
runs there without the scheduler, appears in the API as a mirror pod, survives the mirror's
deletion, and stops when the file is removed."""

from __future__ import annotations

import subprocess
from typing import Any

import grpc

from podplane.client.clientset import Client, is_not_found
from tests.e2e.compose_cluster import ROOT, compose, node_containers
from tests.support import eventually

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: {namespace}
spec:
  containers:
    - name: web
      image: busybox
      imagePullPolicy: IfNotPresent
      command: ["sleep", "3600"]
"""
PATH = "/etc/kubernetes/manifests/static-web.yaml"


async def test_a_static_pod_runs_with_a_mirror_that_cannot_stop_it(
    client: Client, namespace: str
) -> None:
    subprocess.run(
        ["docker", "compose", "exec", "-T", "node-1", "sh", "-c", f"cat > {PATH}"],
        input=MANIFEST.format(namespace=namespace),
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    name = "static-web-node-1"
    try:

        async def mirror_running() -> Any:
            try:
                pod = await client.pods.get(name, namespace)
            except Exception as e:
                if is_not_found(e):
                    return None
                raise
            return pod if pod.status.phase == "Running" else None

        mirror = await eventually(mirror_running, 90, interval=1, what="the mirror pod Running")
        assert mirror.spec.node_name == "node-1"
        assert mirror.metadata.annotations["kubernetes.io/config.mirror"]
        label = {"io.kubernetes.pod.name": name}
        containers = node_containers("node-1", label)
        assert containers

        await client.pods.delete(name, namespace)
        recreated = await eventually(mirror_running, 60, interval=1, what="the mirror back")
        assert recreated.metadata.uid != mirror.metadata.uid
        assert node_containers("node-1", label) == containers
    finally:
        compose("exec", "-T", "node-1", "rm", "-f", PATH)

    async def gone() -> bool:
        try:
            await client.pods.get(name, namespace)
            return False
        except grpc.aio.AioRpcError as e:
            return is_not_found(e)

    await eventually(gone, 60, interval=1, what="the mirror pod gone with the file")
    await eventually(
        lambda: _no_containers(label), 60, interval=1, what="the static pod's containers stopped"
    )


async def _no_containers(label: dict[str, str]) -> bool:
    return not node_containers("node-1", label)
