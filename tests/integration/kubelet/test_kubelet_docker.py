"""The kubelet's pod logic on the real Docker engine: a pod's containers share the sandbox's network
(localhost, hostname = pod name) and its emptyDir; exit codes become terminated states and phases;
crashed containers restart; removing a pod removes every container it had."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from tests.integration.kubelet_docker import make_pod, remove_labelled
from tests.integration.syncer_node import Node


def state(pod: core_pb2.Pod, container: str) -> core_pb2.ContainerState:
    for s in pod.status.container_statuses:
        if s.name == container:
            return s.state
    raise AssertionError(f"no status for {container}")


async def test_containers_share_localhost_an_empty_dir_and_the_pod_hostname(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    busybox = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}
    pod = make_pod(
        pod_namespace,
        "shared",
        {
            "volumes": [
                {"name": "www", "emptyDir": {}},
                {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
            ],
            "containers": [
                {
                    "name": "server",
                    **busybox,
                    "volumeMounts": [
                        {"name": "www", "mountPath": "/www"},
                        {"name": "mem", "mountPath": "/mem"},
                    ],
                    "command": [
                        "sh",
                        "-c",
                        "hostname > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www",
                    ],
                },
                {
                    "name": "client",
                    **busybox,
                    "volumeMounts": [{"name": "www", "mountPath": "/www", "readOnly": True}],
                    "command": [
                        "sh",
                        "-c",
                        "until wget -qO /tmp/got http://localhost:8080/index.html 2>/dev/null;"
                        " do sleep 0.2; done; echo via-http: $(cat /tmp/got); echo via-volume: "
                        "$(cat /www/index.html); touch /www/x 2>/dev/null && echo writable"
                        " || echo read-only; sleep 3600",
                    ],
                },
            ],
        },
    )
    await node.sync_until(
        pod,
        lambda p: p.status.phase == "Running" and all(s.ready for s in p.status.container_statuses),
        "both containers running",
    )

    sandboxes = await docker_runtime.list_pod_sandboxes(pod.metadata.uid)
    assert len(sandboxes) == 1 and sandboxes[0].ready
    assert pod.status.pod_ip == sandboxes[0].ip != ""

    async def client_output() -> str:
        return await node.logs(pod, "client")

    deadline = time.monotonic() + 20
    while "read-only" not in (output := await client_output()) and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    # Served over the pod's localhost (the hostname is the pod's name), the same emptyDir mounted in
    # both, readOnly: true honoured; the tries before the server listened print nothing.
    assert output == "via-http: shared\nvia-volume: shared\nread-only\n"
    volume = tmp_path / "pods" / pod.metadata.uid / "volumes" / "kubernetes.io~empty-dir" / "www"
    assert (volume / "index.html").read_text() == "shared\n"
    memory = volume.parent / "mem"
    if os.geteuid() == 0:  # medium: Memory is a tmpfs where the kubelet may mount one
        assert os.path.ismount(memory)

    await node.syncer.sync(f"{pod_namespace}/shared", None)  # the pod is deleted
    assert await docker_runtime.list_containers(pod.metadata.uid) == []
    assert await docker_runtime.list_pod_sandboxes(pod.metadata.uid) == []
    assert remove_labelled(pod_namespace) == []  # nothing left behind
    assert not (tmp_path / "pods" / pod.metadata.uid).exists()


async def test_exit_codes_become_terminated_states_and_phases(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    pods = {
        code: make_pod(
            pod_namespace,
            f"exit-{code}",
            {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", f"echo exiting {code}; exit {code}"],
                    }
                ],
            },
        )
        for code in (0, 1)
    }
    for code, phase, reason in ((0, "Succeeded", "Completed"), (1, "Failed", "Error")):
        pod = pods[code]
        await node.sync_until(
            pod, lambda p: p.status.phase in ("Succeeded", "Failed"), f"exit-{code} to finish"
        )
        assert pod.status.phase == phase
        terminated = state(pod, "main").terminated
        assert (terminated.exit_code, terminated.reason) == (code, reason)
        assert terminated.started_at and terminated.finished_at
        assert terminated.container_id.startswith("docker://")
        assert pod.status.pod_ip  # kept after the sandbox stopped
        assert await node.logs(pod, "main") == f"exiting {code}\n"
        sandboxes = await docker_runtime.list_pod_sandboxes(pod.metadata.uid)
        assert [s.ready for s in sandboxes] == [False]  # a finished pod keeps no sandbox running


async def test_a_crashed_container_is_restarted_with_its_last_state(
    docker_runtime: DockerRuntime, pod_namespace: str, tmp_path: Path
) -> None:
    node = Node(docker_runtime, tmp_path)
    pod = make_pod(
        pod_namespace,
        "crash",
        {
            "containers": [
                {
                    "name": "main",
                    "image": "busybox:latest",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", "echo run; sleep 1; exit 3"],
                }
            ]
        },
    )

    def restarted(p: core_pb2.Pod) -> bool:
        s = p.status.container_statuses
        return bool(s) and s[0].restart_count >= 1 and s[0].last_state.HasField("terminated")

    await node.sync_until(pod, restarted, "a restart")
    status = pod.status.container_statuses[0]
    assert status.last_state.terminated.exit_code == 3
    assert pod.status.phase == "Running"
    names = {c.restart_count for c in await docker_runtime.list_containers(pod.metadata.uid)}
    assert names == {0, 1}
