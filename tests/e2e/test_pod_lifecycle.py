"""The kubelet's Pod lifecycle on the compose cluster, as a user sees it: init containers in order,
CrashLoopBackOff with a growing delay, liveness and readiness probes, OOMKilled, configMap and
secret content, graceful termination, and `podctl exec`. Each test stays under about a minute."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import podctl
from tests.support import eventually

BUSYBOX = {"image": "busybox", "imagePullPolicy": "IfNotPresent"}


async def create_pod(client: Client, namespace: str, name: str, spec: dict[str, Any]) -> Any:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return await client.pods.create(pod)


def container(pod: Any, name: str = "main") -> Any:
    return next((s for s in pod.status.container_statuses if s.name == name), None)


def condition(pod: Any, kind: str) -> str:
    return next((c.status for c in pod.status.conditions if c.type == kind), "")


async def wait_for(
    client: Client,
    namespace: str,
    name: str,
    test: Any,
    what: str,
    timeout: float = 45,
    interval: float = 0.5,
) -> Any:
    async def check() -> Any:
        pod = await client.pods.get(name, namespace)
        return pod if test(pod) else None

    return await eventually(check, timeout, interval=interval, what=f"pod {name}: {what}")


def running(pod: Any) -> bool:
    s = container(pod)
    return s is not None and s.state.HasField("running")


async def test_init_containers_run_in_order_before_the_app(client: Client, namespace: str) -> None:
    shared = [{"name": "work", "mountPath": "/work"}]
    await create_pod(
        client,
        namespace,
        "inits",
        {
            "volumes": [{"name": "work", "emptyDir": {}}],
            "initContainers": [
                {
                    "name": f"init-{i}",
                    **BUSYBOX,
                    "volumeMounts": shared,
                    "command": ["sh", "-c", f"sleep 1; echo init-{i} >> /work/order"],
                }
                for i in (1, 2)
            ],
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "volumeMounts": shared,
                    "command": [
                        "sh",
                        "-c",
                        "echo app >> /work/order; cat /work/order; exec sleep 3600",
                    ],
                }
            ],
        },
    )
    pod = await wait_for(client, namespace, "inits", running, "app container running")
    assert condition(pod, "Initialized") == "True"
    inits = {s.name: s.state.terminated for s in pod.status.init_container_statuses}
    assert {n: (t.exit_code, t.reason) for n, t in inits.items()} == {
        "init-1": (0, "Completed"),
        "init-2": (0, "Completed"),
    }
    assert inits["init-1"].finished_at <= inits["init-2"].started_at

    async def logged() -> str:
        return podctl("logs", "inits", "-n", namespace).stdout

    assert await eventually(logged, 20, what="the app's log") == "init-1\ninit-2\napp\n"


async def test_a_crashing_container_backs_off_longer_each_time(
    client: Client, namespace: str
) -> None:
    await create_pod(
        client,
        namespace,
        "crasher",
        {"containers": [{"name": "main", **BUSYBOX, "command": ["sh", "-c", "sleep 1; exit 1"]}]},
    )
    starts: set[str] = set()
    reasons: set[str] = set()

    async def three_starts() -> Any:
        pod = await client.pods.get("crasher", namespace)
        s = container(pod)
        if s is None:
            return None
        for state in (s.state, s.last_state):
            for started in (state.running.started_at, state.terminated.started_at):
                if started:
                    starts.add(started)
        if s.state.HasField("waiting"):
            reasons.add(s.state.waiting.reason)
        return pod if len(starts) >= 3 else None

    pod = await eventually(three_starts, 60, interval=0.5, what="a third start of the container")
    assert "CrashLoopBackOff" in reasons
    assert container(pod).restart_count >= 2
    # Second-precision RFC 3339 times; the back-off doubles (10 s, then 20 s).
    t1, t2, t3 = sorted(
        time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) for s in sorted(starts)[:3]
    )
    assert t3 - t2 > t2 - t1, (t1, t2, t3)


async def test_a_failing_liveness_probe_restarts_the_container(
    client: Client, namespace: str
) -> None:
    await create_pod(
        client,
        namespace,
        "liveness",
        {
            "terminationGracePeriodSeconds": 2,
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "command": ["sh", "-c", "touch /tmp/healthy; exec sleep 3600"],
                    "livenessProbe": {
                        "exec": {"command": ["cat", "/tmp/healthy"]},
                        "periodSeconds": 1,
                        "failureThreshold": 2,
                    },
                }
            ],
        },
    )
    await wait_for(client, namespace, "liveness", running, "running")
    podctl("exec", "liveness", "-n", namespace, "--", "rm", "/tmp/healthy")
    pod = await wait_for(
        client,
        namespace,
        "liveness",
        lambda p: container(p).restart_count >= 1 and running(p),
        "restarted after the liveness probe failed",
    )
    assert container(pod).last_state.terminated.exit_code == 137
    assert pod.status.phase == "Running"


async def test_an_http_readiness_probe_toggles_ready(client: Client, namespace: str) -> None:
    await create_pod(
        client,
        namespace,
        "readiness",
        {
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "command": [
                        "sh",
                        "-c",
                        "mkdir -p /www && echo ok > /www/index.html && "
                        "exec httpd -f -p 8080 -h /www",
                    ],
                    "readinessProbe": {
                        "httpGet": {"path": "/index.html", "port": "http"},
                        "periodSeconds": 1,
                        "failureThreshold": 1,
                    },
                }
            ]
        },
    )
    await wait_for(
        client, namespace, "readiness", lambda p: condition(p, "Ready") == "True", "Ready"
    )
    podctl("exec", "readiness", "-n", namespace, "--", "rm", "/www/index.html")
    pod = await wait_for(
        client,
        namespace,
        "readiness",
        lambda p: condition(p, "Ready") == "False",
        "not Ready without the file",
    )
    assert pod.status.phase == "Running" and not container(pod).ready
    assert "0/1" in podctl("get", "pod", "readiness", "-n", namespace).stdout
    podctl("exec", "readiness", "-n", namespace, "--", "sh", "-c", "echo ok > /www/index.html")
    pod = await wait_for(
        client,
        namespace,
        "readiness",
        lambda p: condition(p, "Ready") == "True",
        "Ready again once the file is back",
    )
    assert container(pod).restart_count == 0


async def test_a_container_over_its_memory_limit_is_oom_killed(
    client: Client, namespace: str
) -> None:
    await create_pod(
        client,
        namespace,
        "hog",
        {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "command": ["sh", "-c", "x=a; while true; do x=$x$x; done"],
                    "resources": {"limits": {"memory": "16Mi"}},
                }
            ],
        },
    )
    pod = await wait_for(client, namespace, "hog", lambda p: p.status.phase == "Failed", "Failed")
    terminated = container(pod).state.terminated
    # Killed by the kernel (128 + SIGKILL): nothing else kills it. The reason is containerd's: it
    # says OOMKilled once it has handled the shim's OOM event, and that event can come after the
    # exit or not at all, when it says Error (containerd#8180, #8893): Kubernetes' own node e2e
    # test checks the reason only when it is OOMKilled (kubernetes#119600).
    assert terminated.exit_code == 137
    assert terminated.reason in ("OOMKilled", "Error"), terminated.reason
    assert terminated.reason in podctl("get", "pod", "hog", "-n", namespace).stdout


async def test_config_map_and_secret_as_files_and_env(client: Client, namespace: str) -> None:
    config = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": namespace},
            "data": {"greeting": "hello from a configmap"},
        }
    )
    secret = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": namespace},
            "stringData": {"password": "s3cr3t"},
        }
    )
    assert isinstance(config, core_pb2.ConfigMap) and isinstance(secret, core_pb2.Secret)
    await client.configmaps.create(config)
    await client.secrets.create(secret)
    await create_pod(
        client,
        namespace,
        "reader",
        {
            "restartPolicy": "Never",
            "volumes": [
                {"name": "cfg", "configMap": {"name": "settings"}},
                {"name": "sec", "secret": {"secretName": "creds"}},
            ],
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "command": [
                        "sh",
                        "-c",
                        'echo "file=$(cat /etc/cfg/greeting)"; '
                        'echo "file=$(cat /etc/sec/password)"; '
                        'echo "env=$GREETING"; echo "env=$PASSWORD"',
                    ],
                    "env": [
                        {
                            "name": "GREETING",
                            "valueFrom": {
                                "configMapKeyRef": {"name": "settings", "key": "greeting"}
                            },
                        },
                        {
                            "name": "PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
                        },
                    ],
                    "volumeMounts": [
                        {"name": "cfg", "mountPath": "/etc/cfg"},
                        {"name": "sec", "mountPath": "/etc/sec", "readOnly": True},
                    ],
                }
            ],
        },
    )
    pod = await wait_for(
        client,
        namespace,
        "reader",
        lambda p: p.status.phase != "Pending" and p.status.phase != "Running",
        "finished",
    )
    assert pod.status.phase == "Succeeded"
    assert podctl("logs", "reader", "-n", namespace).stdout == (
        "file=hello from a configmap\nfile=s3cr3t\nenv=hello from a configmap\nenv=s3cr3t\n"
    )


async def test_graceful_termination_runs_the_sigterm_trap(client: Client, namespace: str) -> None:
    await create_pod(
        client,
        namespace,
        "graceful",
        {
            "terminationGracePeriodSeconds": 5,
            "containers": [
                {
                    "name": "main",
                    **BUSYBOX,
                    "command": [
                        "sh",
                        "-c",
                        "trap 'echo got SIGTERM; sleep 2; echo bye; exit 0' TERM; echo started; "
                        "while true; do sleep 0.2; done",
                    ],
                }
            ],
        },
    )
    await wait_for(client, namespace, "graceful", running, "running")

    chunks: list[bytes] = []

    async def follow() -> None:
        try:
            async for chunk in client.pod_logs(namespace, "graceful", follow=True):
                chunks.append(chunk.data)
        except grpc.aio.AioRpcError:
            pass  # the container went away with its pod: what was read is what counts

    async def streaming() -> bool:
        return bool(chunks)

    follower = asyncio.create_task(follow())
    # The log stream is open before the signal: it has sent the line written at the start.
    await eventually(streaming, 30, interval=0.05, what="the followed log's first line")
    t0 = time.monotonic()
    await asyncio.to_thread(podctl, "delete", "pod", "graceful", "-n", namespace)
    elapsed = time.monotonic() - t0
    assert 1 <= elapsed <= 10, f"podctl delete took {elapsed:.1f}s"
    async with asyncio.timeout(10):
        await follower
    assert b"".join(chunks) == b"started\ngot SIGTERM\nbye\n"


async def test_exec_in_a_running_pod(client: Client, namespace: str) -> None:
    await create_pod(
        client,
        namespace,
        "shell",
        {"containers": [{"name": "main", **BUSYBOX, "command": ["sleep", "3600"]}]},
    )
    await wait_for(client, namespace, "shell", running, "running")
    hi = podctl("exec", "shell", "-n", namespace, "--", "echo", "hi")
    assert (hi.returncode, hi.stdout, hi.stderr) == (0, "hi\n", "")
    assert podctl("exec", "shell", "-n", namespace, "--", "hostname").stdout == "shell\n"
    piped = podctl("exec", "-i", "shell", "-n", namespace, "--", "cat", stdin="piped\n")
    assert piped.stdout == "piped\n"
    failing = podctl(
        "exec",
        "shell",
        "-n",
        namespace,
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
        check=False,
    )
    assert failing.returncode == 3 and failing.stdout == "out\n"
    assert failing.stderr == "err\ncommand terminated with exit code 3\n"
    missing = podctl("exec", "shell", "-n", namespace, "-c", "nope", "--", "true", check=False)
    assert (missing.returncode, missing.stderr) == (
        1,
        "error: container nope is not valid for pod shell\n",
    )
