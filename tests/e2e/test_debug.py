"""`podctl debug` on the compose cluster, as a user runs it: an ephemeral container added to a
running pod sees the target container's processes and the pod's network, its stdio comes back
through -i, and get -o yaml, describe and logs show it afterwards."""

from __future__ import annotations

import re
from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.ephemeral_containers import status_of
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import podctl
from tests.support import eventually

APP_COMMAND = (
    "mkdir -p /www && echo hello-from-app > /www/index.html && "
    "httpd -p 8080 -h /www && exec sleep 3600"
)
DEBUG_SCRIPT = (
    "ps; echo IP=$(ip -4 -o addr show eth0 | awk '{print $4}'); "
    "wget -qO- http://127.0.0.1:8080/; exit 7\n"
)


async def start_web(client: Client, namespace: str) -> Any:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", APP_COMMAND],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await client.pods.create(pod)

    async def running() -> Any:
        p = await client.pods.get("web", namespace)
        s = p.status.container_statuses
        return p if s and s[0].state.HasField("running") and p.status.pod_ip else None

    return await eventually(running, timeout=60, what="pod web running")


async def test_debug_attaches_to_an_ephemeral_container_sharing_the_target(
    client: Client, namespace: str
) -> None:
    web = await start_web(client, namespace)
    result = podctl(
        "-n",
        namespace,
        "debug",
        "web",
        "-i",
        "--image",
        "busybox",
        "--image-pull-policy",
        "IfNotPresent",
        "--target",
        "app",
        "-c",
        "debugger",
        "--",
        "sh",
        stdin=DEBUG_SCRIPT,
        check=False,
    )
    assert result.returncode == 7, result.stderr
    assert "sleep 3600" in result.stdout  # the target's process
    assert f"IP={web.status.pod_ip}/" in result.stdout  # the pod's IP
    assert "hello-from-app" in result.stdout  # localhost reaches the app

    async def terminated() -> Any:
        pod = await client.pods.get("web", namespace)
        s = status_of(pod.status, "debugger")
        return s if s is not None and s.state.HasField("terminated") else None

    status = await eventually(terminated, timeout=30, what="the debugger terminated")
    assert status.state.terminated.exit_code == 7

    shown = podctl("-n", namespace, "get", "pod", "web", "-o", "yaml").stdout
    assert "ephemeralContainers:" in shown and "targetContainerName: app" in shown
    assert "ephemeralContainerStatuses:" in shown
    described = podctl("-n", namespace, "describe", "pod", "web").stdout
    section = described[described.index("Ephemeral Containers:") :]
    assert "debugger:" in section and "Terminated" in section and "Exit Code:" in section
    assert "hello-from-app" in podctl("-n", namespace, "logs", "web", "-c", "debugger").stdout
    # The app kept running all along, unrestarted.
    pod = await client.pods.get("web", namespace)
    assert pod.status.phase == "Running" and pod.status.container_statuses[0].restart_count == 0


async def test_debug_without_stdin_names_the_container_and_leaves_it_running(
    client: Client, namespace: str
) -> None:
    await start_web(client, namespace)
    result = podctl(
        "-n",
        namespace,
        "debug",
        "web",
        "--image",
        "busybox",
        "--image-pull-policy",
        "IfNotPresent",
        "--",
        "sleep",
        "3600",
    )
    found = re.search(r"Defaulting debug container name to (debugger-[a-z0-9]{5})\.", result.stderr)
    assert found, result.stderr
    name = found.group(1)
    pod = await client.pods.get("web", namespace)
    status = status_of(pod.status, name)
    assert status is not None and status.state.HasField("running")
    # A bad second one is refused with its field named, and the first is untouched.
    refused = podctl("-n", namespace, "debug", "web", "--image", "busybox", "-c", name, check=False)
    assert refused.returncode == 1
    assert f'spec.ephemeralContainers[1].name: Duplicate value: "{name}"' in refused.stderr
